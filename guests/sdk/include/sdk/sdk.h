/* SPDX-License-Identifier: MIT */
/*
 * The snpref guest SDK in one include. A guest defines `int main(void)`, run on
 * vCPU 0 after the SDK has set up its GDT/TSS/IDT, per-CPU data and an enabled
 * x2APIC; main's return value is the exit status. APs run only once the guest
 * calls sdk_start_aps() (smp.h).
 */
#ifndef SDK_SDK_H
#define SDK_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <snpref/abi.h>
#include <sdk/x86.h>
#include <sdk/atomic.h>
#include <sdk/percpu.h>
#include <sdk/console.h>
#include <sdk/test.h>
#include <sdk/idt.h>
#include <sdk/x2apic.h>
#include <sdk/savic.h>
#include <sdk/timer.h>
#include <sdk/smp.h>
#include <sdk/irqdev.h>
#include <sdk/string.h>
#include <sdk/sev.h>

int main(void);

#endif
