/* SPDX-License-Identifier: MIT */
/*
 * SMP: starting the APs (plain mode: INIT then SIPI through the x2APIC ICR;
 * the AP starts in 64-bit mode at SIPI vector << 12 = 0x8000, docs/guest-abi.md),
 * running a function on another vCPU, and a barrier.
 *
 * After its setup an AP calls ap_main(index). The SDK's weak default is
 * sdk_ap_idle(): halt with interrupts enabled and run whatever sdk_on_cpu()
 * posts, woken by an IPI on SDK_WAKE_VECTOR. A guest that wants its APs to do
 * something else defines its own ap_main().
 */
#ifndef SDK_SMP_H
#define SDK_SMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sdk/percpu.h>

#define SDK_SIPI_VECTOR   0x08      /* AP entry at 0x8000 (link.ld .ap_entry) */
#define SDK_WAKE_VECTOR   0xF0      /* sdk_on_cpu() kick; its handler only EOIs */
#define SDK_AP_TIMEOUT_US 100000    /* how long an AP may take to report in */

/* The guest's AP code; weak default = sdk_ap_idle(). Runs with IF=0. */
void ap_main(unsigned cpu);
void sdk_ap_idle(void) __attribute__((noreturn));

/* INIT + SIPI to every AP in the boot info, then waits for all (exits 3 on timeout). */
void sdk_start_aps(void);
/* INIT + SIPI to one AP and wait until it enters the SDK again; false on timeout. */
bool sdk_start_ap(unsigned cpu);
static inline uint32_t sdk_ap_boot_count(unsigned cpu) { return sdk_percpu[cpu].boot_count; }
unsigned sdk_cpus_online(void);

/*
 * Runs fn(arg) on cpu (directly if cpu is this vCPU) and waits until it
 * returned. The target must be in sdk_ap_idle(); fn runs there with IF=1.
 */
void sdk_on_cpu(unsigned cpu, void (*fn)(void *), void *arg);
/* Posts fn(arg) to cpu without waiting; sdk_on_cpu_wait() waits for it. */
void sdk_on_cpu_async(unsigned cpu, void (*fn)(void *), void *arg);
void sdk_on_cpu_wait(unsigned cpu);
/* Runs fn(arg) on every online vCPU in parallel, this one included; waits for all. */
void sdk_on_each_cpu(void (*fn)(void *), void *arg);

/* Sense-reversing barrier for n participants. Zero-initialise. */
struct sdk_barrier {
    volatile uint32_t count;
    volatile uint32_t sense;
};
void sdk_barrier_wait(struct sdk_barrier *b, unsigned n);

#endif
