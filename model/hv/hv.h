/* SPDX-License-Identifier: MIT */
/*
 * The reference hypervisor (docs/guest-abi.md, docs/config.md): how it
 * answers the exits of a plain-mode vCPU (hv.c) and the services its SEV-ES
 * and SNP side (sev.c, ghcb.c, nae.c) shares with it: MSR emulation and the
 * CPUID table. The SEV side is sev.h; EVENTINJ at VMRUN is eventinj.h; the
 * hostile policy is hostile.h.
 */
#ifndef SNPREF_HV_H
#define SNPREF_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "machine.h"

/* The exit of a plain-mode vCPU, as the hypervisor handles it. */
enum vcpu_action hv_intercept(struct slot *s, struct vcpu_exit *e);
/* Whether a halted vCPU would wake now (an event it can take is pending). */
bool hv_can_wake(struct slot *s);
/* An MSR access as the hypervisor emulates it; false = #GP. */
bool hv_msr_access(struct slot *s, uint32_t msr, bool write, uint64_t *val);
/* The value a WRMSR writes (EDX:EAX). */
uint64_t hv_msr_value(struct slot *s);
/* Completes an RDMSR/WRMSR: #GP unless ok, else a read's val into EDX:EAX. */
enum vcpu_action hv_msr_done(struct slot *s, struct vcpu_exit *e, bool ok, bool write,
                             uint64_t val);
bool hv_cpuid_lookup(const struct system *sys, unsigned vcpu, uint32_t leaf, uint32_t subleaf,
                     uint32_t out[4]);
/* MOV to/from CR8 (e->data: CR8), answered from the fabric's TPR. */
enum vcpu_action hv_cr8(struct slot *s, struct vcpu_exit *e);

/* RMPUPDATE / PSMASH of a plain guest granted psp.hardware_isolation (hv.c). */
enum vcpu_action hv_host_rmp(struct slot *s, struct vcpu_exit *e);

#endif
