/* SPDX-License-Identifier: MIT */
/*
 * `savic-xipi`: a Secure AVIC variant whose hardware also delivers fixed IPIs
 * to other vCPUs, the example of docs/fabric-plugins.md "A Secure AVIC
 * variant". It is a what-if, not a product: Secure AVIC as published
 * completes only self IPIs and raises #VC AVIC_INCOMPLETE_IPI (0x401) for
 * every other ICR write, so the guest sets the vector in each target's backing
 * page and forwards the ICR to the hypervisor, which rings the doorbells
 * (docs/sev-snp-facts.md 7.4, 7.5; Linux x2apic_savic.c). AVIC (AMD APM vol. 2
 * 15.29.2.4) already accelerates IPIs to running vCPUs through its physical
 * APIC ID table; this variant asks what the same for Secure AVIC would buy.
 *
 * Everything is savic's (SAVIC_OPS) except two decisions (fab_savic.h hooks):
 *  - icr_accelerated: an ICR also completes in hardware when it is a fixed,
 *    edge-triggered IPI by physical destination or by the all/others
 *    shorthand whose every target has Secure AVIC on. Anything else (lowest
 *    priority, NMI, INIT/SIPI, logical destinations, level trigger, a target
 *    without Secure AVIC) stays #VC 0x401, and the guest's driver does it
 *    as under savic.
 *  - icr_send: the hardware carries the vector to each target
 *    (FAB_SRC_HW_IPI, the IPI wire latency of the cost model); at arrival
 *    savic's hardware sets it in the target's page IRR and evaluates the page.
 *    XXX(model): a halted target wakes at arrival, where real hardware
 *    without a running target would need the hypervisor (AVIC's "target not
 *    running" incomplete IPI); the model charges it the usual HLT wake-up.
 * Each accelerated cross-vCPU ICR is traced as fabric_hook (where the
 * variant departs from savic) and ipi, never as avic_incomplete_ipi.
 */
#include "fab_savic.h"
#include "snpref/abi.h"
#include "snpref/base.h"
#include "trace.h"

extern const struct fabric_ops savic_xipi_fabric;

/* The destinations the hardware can reach without the hypervisor: fixed,
 * edge, physical or all/others, every target's page live. */
static bool xipi_hw_reachable(struct savic *s, int vcpu, const struct apic_icr *d)
{
    if (d->mode != APIC_DM_FIXED || d->trigger_level || d->vector < 16)
        return false;
    if (d->shorthand == APIC_SH_NONE && d->logical)
        return false;
    int targets[SNP_MAX_VCPUS];
    unsigned n = savic_targets(s, vcpu, d, targets);
    for (unsigned i = 0; i < n; i++)
        if (!savic_vcpu_on(s, targets[i]))
            return false;
    return n > 0;
}

static bool xipi_icr_accelerated(struct savic *s, int vcpu, const struct apic_icr *d, bool listed)
{
    if (savic_default_hooks.icr_accelerated(s, vcpu, d, listed))
        return true; /* self IPIs, as savic */
    if (!listed || d->shorthand == APIC_SH_SELF || !xipi_hw_reachable(s, vcpu, d))
        return false;
    savic_trace_hook(s, vcpu, "icr_accelerated", "accelerated", apic_icr_encode(d));
    return true;
}

static void xipi_icr_send(struct savic *s, int vcpu, uint64_t icr, const struct apic_icr *d)
{
    const struct fab_host *h = savic_host(s);
    int targets[SNP_MAX_VCPUS];
    unsigned n = savic_targets(s, vcpu, d, targets);
    TRC(h->trace, ipi, h->now(h->ctx, vcpu), vcpu, icr, d->vector, apic_dm_name(d->mode),
        "physical", apic_sh_name(d->shorthand), d->dest, n);
    struct fab_msg m = {FAB_SRC_HW_IPI, vcpu, d->vector, APIC_DM_FIXED, false};
    for (unsigned i = 0; i < n; i++)
        h->send(h->ctx, targets[i], &m);
}

static const struct savic_hooks xipi_hooks = {
    .icr_accelerated = xipi_icr_accelerated,
    .icr_send = xipi_icr_send,
};

static struct fabric *xipi_create(const struct fab_params *p, const struct fab_host *host,
                                  char *err, size_t errlen)
{
    return savic_create(p, host, &savic_xipi_fabric, &xipi_hooks, err, errlen);
}

const struct fabric_ops savic_xipi_fabric = {
    .name = "savic-xipi",
    .doc = "Secure AVIC whose hardware also delivers fixed IPIs to other vCPUs (a what-if)",
    .caps = SAVIC_CAPS | FAB_CAP_ACCEL_XIPI,
    .create = xipi_create,
    SAVIC_OPS,
};
