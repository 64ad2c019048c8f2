/* SPDX-License-Identifier: MIT */
/*
 * The emulated fabric as a building block. A fabric whose hypervisor still
 * emulates part of the APIC (Secure AVIC: the LAPIC timer, the LVTs, INIT and
 * SIPI, and the "software IRR" it hands over through REQUESTED_IRR, as KVM
 * keeps its lapic.c state for such a guest) creates an emulated fabric inside
 * itself through emulated_fabric's ops and reaches that state here.
 */
#ifndef SNPREF_FAB_EMULATED_H
#define SNPREF_FAB_EMULATED_H

#include "apic.h"

extern const struct fabric_ops emulated_fabric;

/* The hypervisor's APIC of vCPU in an emulated fabric (f->ops must be
 * &emulated_fabric). Changing IRR/ISR behind the fabric's back is allowed:
 * reset highest_isr_cache to -1 after touching ISR. */
struct apic *emu_fabric_apic(struct fabric *f, int vcpu);

#endif
