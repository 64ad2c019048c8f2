/* SPDX-License-Identifier: MIT */
/*
 * Fabric parameters and wire latencies from the config (see wires.h). The
 * values are the cost model's (docs/cost-model.md): an IPI takes ipi_wire
 * cycles from the ICR write to IRR set at another APIC and self_ipi to its own,
 * a device message device_msi; a doorbell (no payload: the hypervisor telling
 * a vCPU its guest-owned APIC state changed) travels like an IPI; the LAPIC
 * timer and LVT interrupts and the hypervisor's injections do not leave the
 * APIC.
 */
#include "wires.h"

#include <string.h>

uint64_t wire_latency(const struct cost_model *c, int dst, const struct fab_msg *m)
{
    switch (m->src_kind) {
    case FAB_SRC_IPI:
    case FAB_SRC_DOORBELL:
    case FAB_SRC_HW_IPI: return m->src_vcpu == dst ? c->self_ipi : c->ipi_wire;
    case FAB_SRC_DEVICE:
    case FAB_SRC_PSP: return c->device_msi;
    case FAB_SRC_TIMER:
    case FAB_SRC_LVT:
    case FAB_SRC_HV: return 0;
    }
    return 0;
}

bool wire_fabric_msr(uint32_t msr)
{
    return msr == 0x1Bu || msr == 0x6E0u || (msr >= 0x800u && msr <= 0x8FFu);
}

bool wire_cr8(struct fabric *f, int vcpu, bool write, uint64_t *val)
{
    if (write && (*val >> 4))
        return false;
    if (f->ops->cr8)
        f->ops->cr8(f, vcpu, write, val);
    else if (!write)
        *val = 0;
    return true;
}

void wire_fab_params(const struct snp_config *c, uint32_t *apic_ids, struct mem *mem,
                     struct fab_params *out)
{
    for (unsigned i = 0; i < c->vcpus; i++)
        apic_ids[i] = i;
    uint64_t per_tick = c->apic_timer_hz ? c->core_hz / c->apic_timer_hz : 0;
    memset(out, 0, sizeof(*out));
    out->nvcpus = c->vcpus;
    out->apic_ids = apic_ids;
    out->timer_cycles_per_tick = per_tick ? per_tick : 1; /* a timer clock above core_hz ticks every cycle */
    out->tsc_cycles_num = c->tsc_hz;
    out->tsc_cycles_den = c->core_hz;
    out->mem = mem;
    out->asid = strcmp(c->mode, "plain") ? c->sev.asid : 0;
    out->knobs = config_fabric_knobs(c, c->apic);
    out->power_on_xapic = c->apic_xapic;
    out->maxphyaddr = HV_MAXPHYADDR;
}
