/* SPDX-License-Identifier: MIT */
/*
 * How the model wires an interrupt fabric to its configuration: the fabric's
 * parameters (APIC IDs, LAPIC timer input clock, TSC ratio) and the time a
 * message spends on the wire (docs/cost-model.md, "Costs"). One definition for
 * every user of the fabric: the execution-driven system and the trace-driven
 * replay (model/replay/replay.c) must agree on both, or a replayed trace could not
 * reproduce a recorded one.
 */
#ifndef SNPREF_WIRES_H
#define SNPREF_WIRES_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "fabric.h"

struct mem;

/* Physical address bits of the model's vCPUs: CPUID 0x80000008 EAX[7:0]
 * (hv.c) and the fabric's reserved-bit check of IA32_APIC_BASE. */
#define HV_MAXPHYADDR 48u

/* Cycles message m spends between its sender and the APIC of vCPU dst:
 * ipi_wire (self_ipi to itself), device_msi for devices and the PSP, nothing
 * for the LAPIC's own timer and LVT messages and for hypervisor injections. */
uint64_t wire_latency(const struct cost_model *c, int dst, const struct fab_msg *m);

/* Whether a guest MSR access goes to the fabric: the x2APIC MSRs 0x800-0x8FF,
 * IA32_APIC_BASE (0x1B) and IA32_TSC_DEADLINE (0x6E0) (docs/fabric-plugins.md). */
bool wire_fabric_msr(uint32_t msr);

/* MOV from (write false) or to CR8 of vCPU, *val being CR8, through the
 * fabric's TPR (fabric.h ops->cr8). Returns false, changing nothing, for a
 * write with a reserved bit 63:4 set: #GP(0) (SDM "MOV-Move to/from Control
 * Registers"). */
bool wire_cr8(struct fabric *f, int vcpu, bool write, uint64_t *val);

/*
 * The fabric parameters config c implies. apic_ids (c->vcpus entries) receives
 * the APIC IDs (vCPU i has APIC ID i) and is referenced by *out; mem may be
 * NULL for a fabric whose state does not live in guest RAM.
 */
void wire_fab_params(const struct snp_config *c, uint32_t *apic_ids, struct mem *mem,
                     struct fab_params *out);

#endif
