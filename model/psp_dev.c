/* SPDX-License-Identifier: MIT */
/*
 * The composition of the PSP device (config section "psp"; docs/psp.md):
 * which PSP model is behind the mailbox (the SNP launch's own in mode snp, so
 * that the hypervisor's launch and the guest's commands share one firmware
 * state, else one of its own on an RMP of its own), the ACPI tables with the
 * ASPT that describe it, the MMIO page in the devices' dispatch, and its
 * completion interrupt on the fabric as a device message (an MSI-like edge
 * that no interrupt remapping sees, as the ACPI PSP patches describe it).
 */
#include "psp_dev.h"

#include <stdlib.h>

#include "acpi.h"
#include "psp.h"
#include "psp_mbox.h"
#include "rmp.h"
#include "sev.h"
#include "snpref/base.h"

static uint64_t mbox_now(void *ctx, int vcpu)
{
    struct system *sys = ctx;
    return vcpu >= 0 ? sys_now(&sys->slots[vcpu]) : tm_now(sys->tk);
}

static void mbox_raise(void *ctx, const struct psp_mbox_irq *irq)
{
    struct system *sys = ctx;
    struct fab_msg m = {
        .src_kind = FAB_SRC_DEVICE,
        .src_vcpu = -1,
        .vector = irq->vector,
        .mode = irq->lowest ? APIC_DM_LOWEST : APIC_DM_FIXED,
        .level = false,
    };
    sys->fab->ops->route(sys->fab, irq->dest, irq->logical, &m);
}

static uint32_t mbox_read(void *ctx, int vcpu, uint64_t off, unsigned size)
{
    return psp_mbox_read(ctx, vcpu, off, size);
}

static void mbox_write(void *ctx, int vcpu, uint64_t off, unsigned size, uint32_t val)
{
    psp_mbox_write(ctx, vcpu, off, size, val);
}

void psp_dev_aspt(const struct snp_config *c, struct acpi_aspt *a)
{
    uint64_t b = c->psp.base;
    *a = (struct acpi_aspt){
        .feature = b + PSP_REG_FEATURE,
        .irq_en = b + PSP_REG_INTEN,
        .irq_st = b + PSP_REG_INTSTS,
        .mbox_irq_id = (uint8_t)c->psp.mbox_irq_id,
        .cmd_resp = b + PSP_REG_CMDRESP,
        .cmd_buf_lo = b + PSP_REG_CMDBUFF_LO,
        .cmd_buf_hi = b + PSP_REG_CMDBUFF_HI,
        .acpi_cmd_resp = b + PSP_REG_ACPI_CMDRESP,
    };
}

/* Does an image segment overlap the ACPI area? */
struct overlap {
    bool hit;
};
static void seg_overlap(void *ctx, uint64_t start, uint64_t end)
{
    struct overlap *o = ctx;
    if (start < ACPI_AREA_BASE + ACPI_AREA_SIZE && end > ACPI_AREA_BASE)
        o->hit = true;
}

int psp_dev_install_acpi(struct system *sys, const struct guest_image *img, char *err,
                         size_t errlen)
{
    if (!sys->cfg.psp.enable)
        return 0;
    struct overlap o = {false};
    loader_for_each_segment(img, seg_overlap, &o);
    if (o.hit) {
        snprintf(err, errlen, "%s: a segment overlaps the ACPI area 0xe0000-0xfffff that "
                 "psp.enable needs for its ASPT", img->name ? img->name : "guest image");
        return -1;
    }
    struct acpi_aspt a;
    psp_dev_aspt(&sys->cfg, &a);
    struct acpi_platform ap = {sys->n, sys->apic_ids, &a};
    sys->bootinfo.acpi_rsdp = acpi_install(&sys->mem, &ap);
    return 0;
}

static struct psp *own_psp(struct system *sys)
{
    struct psp_config pc;
    psp_config_default(&pc);
    pc.seed = sys->cfg.sev.key_seed;
    pc.smt_enabled = sys->cfg.sev.policy & SNP_POLICY_SMT;
    pc.cert_dir = sys->cfg.attestation.cert_dir;
    sys->psp_rmp = rmp_create(sys->mem.size);
    SNP_ASSERT(sys->psp_rmp);
    sys->psp_own = psp_create(&sys->mem, sys->psp_rmp, sys->trace, &pc);
    SNP_ASSERT(sys->psp_own);
    return sys->psp_own;
}

struct rmp *psp_dev_rmp(struct system *sys)
{
    if (sys->sev && sys->sev->rmp)
        return sys->sev->rmp;
    return sys->psp_rmp;
}

void psp_dev_setup(struct system *sys)
{
    if (!sys->cfg.psp.enable)
        return;
    struct psp *psp = sys->sev && sys->sev->psp ? sys->sev->psp : own_psp(sys);
    sys->psp_mbox = calloc(1, sizeof(*sys->psp_mbox));
    SNP_ASSERT(sys->psp_mbox);
    const struct psp_mbox_host h = {sys, mbox_now, mbox_raise};
    psp_mbox_init(sys->psp_mbox, psp, sys->cfg.psp.base, (uint8_t)sys->cfg.psp.mbox_irq_id, &h,
                  sys->trace);
    const struct dev_mmio_region r = {sys->cfg.psp.base, PSP_MBOX_SIZE, sys->psp_mbox, mbox_read,
                                      mbox_write};
    dev_add_mmio(&sys->dev, &r);
}

void psp_dev_set_trace(struct system *sys, struct trc *trace)
{
    if (sys->psp_mbox)
        sys->psp_mbox->trace = trace;
}

void psp_dev_teardown(struct system *sys)
{
    free(sys->psp_mbox);
    sys->psp_mbox = NULL;
    psp_destroy(sys->psp_own);
    sys->psp_own = NULL;
    rmp_destroy(sys->psp_rmp);
    sys->psp_rmp = NULL;
}
