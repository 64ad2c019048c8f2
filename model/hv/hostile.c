/* SPDX-License-Identifier: MIT */
/*
 * The hostile hypervisor (see hostile.h). It behaves as the reference
 * hypervisor in everything else; what it adds is what a malicious host can do
 * at each world switch: write the shared GHCB and set EVENTINJ.
 *
 * The attacks it covers (docs/attacks.md): Heckler (B. Schlueter et al.,
 * USENIX Security 2024) injects `int 0x80` and exceptions (vectors 0-31)
 * through EVENTINJ, so the guest runs a handler at a point of the host's
 * choosing; WeSee (B. Schlueter et al., IEEE S&P 2024) injects #VC (vector 29)
 * with an exit code of its choosing, VMMCALL (0x81) or MMIO (0x400), and
 * prepares the GHCB so that the guest's #VC handler acts on values the host
 * chose. Whether anything reaches the guest is the hardware's decision at
 * VMRUN (eventinj.c), not the policy's.
 */
#include "hostile.h"

#include <string.h>

#include "eventinj.h"
#include "hv.h"

void hostile_marker(struct slot *s, uint64_t value)
{
    const struct hostile_options *h = &s->sys->cfg.hostile;
    for (unsigned i = 0; i < h->n; i++) {
        if (h->inj[i].marker != (value & 0xFF))
            continue;
        s->sev.hostile_armed = i + 1;
        TRC(s->sys->trace, hostile_arm, sys_now(s), (int)s->idx, h->inj[i].marker,
            h->inj[i].eventinj & SVM_EVTINJ_VEC_MASK, eventinj_type_name(h->inj[i].eventinj));
        return;
    }
}

/* The GHCB the hypervisor knows for this vCPU: the registered one under SNP,
 * the GPA in the GHCB MSR under SEV-ES (docs/sev-snp-facts.md 4.2). */
static uint64_t known_ghcb(const struct slot *s)
{
    const struct sev_vcpu *v = &s->sev;
    if (s->sys->sev->snp)
        return v->ghcb_registered;
    return (v->ghcb_msr & 0xFFF) == 0 && v->ghcb_msr ? v->ghcb_msr : SEV_NONE;
}

static void set_field(struct ghcb *g, unsigned bit, uint64_t val)
{
    memcpy((uint8_t *)&g->save + bit * 8, &val, 8);
    g->save.valid_bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* WeSee: the chosen fields, each with its valid bit, through the hypervisor's
 * own view of memory (the GHCB is shared: an RMP-protected page refuses). */
static void craft_ghcb(struct slot *s, const struct hostile_injection *in)
{
    struct system *sys = s->sys;
    uint64_t gpa = known_ghcb(s), pf = 0;
    struct ghcb g;
    memset(&g, 0, sizeof(g));
    const char *result = "written";
    if (gpa == SEV_NONE || !mem_hv_read(&sys->mem, gpa, &g, sizeof(g))) {
        result = "no GHCB";
    } else {
        if (in->ghcb_fields & HG_EXIT_CODE)
            set_field(&g, GHCB_BIT(sw_exit_code), in->ghcb_exit_code);
        if (in->ghcb_fields & HG_INFO1)
            set_field(&g, GHCB_BIT(sw_exit_info_1), in->ghcb_info1);
        if (in->ghcb_fields & HG_INFO2)
            set_field(&g, GHCB_BIT(sw_exit_info_2), in->ghcb_info2);
        if (in->ghcb_fields & HG_RAX)
            set_field(&g, GHCB_BIT(rax), in->ghcb_rax);
        if (!mem_hv_write(&sys->mem, gpa, &g, sizeof(g), &pf)) {
            result = "refused by the RMP";
            TRC(sys->trace, rmp_fault, sys_now(s), (int)s->idx, "hypervisor", "write", gpa, pf,
                "hypervisor write to a page assigned to the guest");
        }
    }
    TRC(sys->trace, hostile_ghcb, sys_now(s), (int)s->idx, gpa, g.save.sw_exit_code,
        g.save.sw_exit_info_1, g.save.sw_exit_info_2, g.save.rax, result);
}

void hostile_before_vmrun(struct slot *s)
{
    unsigned armed = s->sev.hostile_armed;
    if (!armed)
        return;
    s->sev.hostile_armed = 0;
    const struct hostile_injection *in = &s->sys->cfg.hostile.inj[armed - 1];
    if (in->ghcb_fields)
        craft_ghcb(s, in);
    s->sev.eventinj = in->eventinj;
}
