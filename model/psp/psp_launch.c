/* SPDX-License-Identifier: MIT */
/*
 * SNP_LAUNCH_UPDATE (docs/sev-snp-facts.md 8.1, 8.2): the firmware takes one page (or a
 * 2 MiB page as 512 4 KiB pages in ascending GPA) that the hypervisor has put
 * in the Pre-Guest state, gives it its page type's effect (ZERO: zeroed,
 * SECRETS: filled by the firmware, CPUID: checked), extends the launch digest,
 * and leaves the page validated in the RMP.
 *
 * Launch digest, per 4 KiB page: LD = SHA-384(PAGE_INFO) with PAGE_INFO =
 * {LD, CONTENTS, 0x70, PAGE_TYPE, IMI 0, VMPL3/2/1 perms, 0, GPA}; CONTENTS is
 * SHA-384 of the page for NORMAL and VMSA, 48 zero bytes for the others; a
 * VMSA is measured at GPA SNP_VMSA_MEASURE_GPA. This is virtee/sev-snp-measure
 * sevsnpmeasure/gctx.py (GCTX._update and the update_* methods, @ 8a85fa4a),
 * which cites SNP ABI 8.17.2 table 67; the VMPL permissions hashed are the
 * command's (0 in QEMU/KVM launches, which is what gctx.py assumes).
 *
 * KVM's side (arch/x86/kvm/svm/sev.c sev_gmem_post_populate): one 4 KiB page
 * per command after rmp_make_private(pfn, gpa, 4K, asid, immutable = true); a
 * malformed CPUID page fails with SEV_RET_INVALID_PARAM.
 */
#include "psp_int.h"

#include <string.h>

#include "mem.h"
#include "rmp.h"
#include "snpref/base.h"
#include "snpref/sev.h"
#include "trace.h"

#define PAGE_4K 4096ull
#define PAGE_2M (2ull << 20)

static const char *const type_names[] = {
    [SNP_PAGE_TYPE_NORMAL] = "normal",         [SNP_PAGE_TYPE_VMSA] = "vmsa",
    [SNP_PAGE_TYPE_ZERO] = "zero",             [SNP_PAGE_TYPE_UNMEASURED] = "unmeasured",
    [SNP_PAGE_TYPE_SECRETS] = "secrets",       [SNP_PAGE_TYPE_CPUID] = "cpuid",
};

const char *psp_page_type_name(unsigned type)
{
    return type < ARRAY_SIZE(type_names) ? type_names[type] : NULL;
}

/* One LAUNCH_UPDATE command, decoded. */
struct update {
    unsigned type;
    bool is_2m;
    uint8_t perms[4];         /* [1..3]: VMPL1-3 masks; [0] unused */
    uint64_t spa;
};

static bool single_page_type(unsigned type)
{
    return type == SNP_PAGE_TYPE_VMSA || type == SNP_PAGE_TYPE_SECRETS ||
           type == SNP_PAGE_TYPE_CPUID;
}

/* UNCERTAIN: the firmware's checks of reserved fields; the model is strict. */
static uint32_t decode(struct psp *p, const struct psp_snp_launch_update *c, struct update *u)
{
    if ((c->flags & PSP_UPDATE_FLAGS_RSVD) || c->reserved_0xc || c->reserved_0x1c ||
        (c->perms & 0xFFu))
        return psp_fail(p, SEV_RET_INVALID_PARAM, "a reserved field of LAUNCH_UPDATE is set");
    u->type = PSP_UPDATE_TYPE_OF(c->flags);
    if (!psp_page_type_name(u->type))
        return psp_fail(p, SEV_RET_INVALID_PARAM, "invalid page type");
    if (c->flags & PSP_UPDATE_IMI)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "IMI page in a launch that is not an IMI one");
    for (unsigned v = 1; v < 4; v++) {
        u->perms[v] = PSP_UPDATE_PERM_OF(c->perms, v);
        if (u->perms[v] & ~RMP_PERM_ALL)
            return psp_fail(p, SEV_RET_INVALID_PARAM, "VMPL permission mask has undefined bits");
    }
    u->is_2m = c->flags & PSP_UPDATE_PAGE_2M;
    if (u->is_2m && single_page_type(u->type))
        return psp_fail(p, SEV_RET_INVALID_PARAM, "VMSA, secrets and CPUID pages are 4 KiB");
    u->spa = c->address;
    uint64_t size = u->is_2m ? PAGE_2M : PAGE_4K;
    if (u->spa % size)
        return psp_fail(p, SEV_RET_INVALID_ADDRESS, "address is not aligned to the page size");
    if (!mem_ptr(p->mem, u->spa, size))
        return psp_fail(p, SEV_RET_INVALID_ADDRESS, "page lies outside RAM");
    return SEV_RET_SUCCESS;
}

/*
 * The page must be Pre-Guest: assigned to this guest's ASID, at its own GPA
 * (SPA = GPA in the model; a VMSA may sit at SNP_VMSA_MEASURE_GPA, where KVM
 * assigns it), with the command's page size, immutable and not yet validated.
 * UNCERTAIN: INVALID_PAGE_OWNER for another ASID, INVALID_PAGE_STATE for the
 * other state mismatches (the ABI's exact assignment was not available).
 */
static uint32_t check_rmp(struct psp *p, const struct psp_gctx *g, const struct update *u,
                          struct rmp_entry *e)
{
    if (!rmp_lookup(p->rmp, u->spa, e))
        return psp_fail(p, SEV_RET_INVALID_ADDRESS, "page has no RMP entry");
    if (!e->assigned)
        return psp_fail(p, SEV_RET_INVALID_PAGE_STATE, "page is not assigned (RMPUPDATE it first)");
    if (e->asid != g->asid)
        return psp_fail(p, SEV_RET_INVALID_PAGE_OWNER, "page is assigned to another ASID");
    if ((e->size == RMP_2M) != u->is_2m)
        return psp_fail(p, SEV_RET_INVALID_PAGE_SIZE, "RMP page size differs from the command's");
    bool vmsa_gpa = u->type == SNP_PAGE_TYPE_VMSA && e->gpa == SNP_VMSA_MEASURE_GPA;
    if (e->gpa != u->spa && !vmsa_gpa)
        return psp_fail(p, SEV_RET_INVALID_PAGE_STATE, "page is assigned at another GPA");
    if (!e->immutable || e->validated || e->vmsa)
        return psp_fail(p, SEV_RET_INVALID_PAGE_STATE,
                        "page is not Pre-Guest (assigned, immutable, not validated)");
    return SEV_RET_SUCCESS;
}

/* ---- CPUID page ------------------------------------------------------------------------ */

static bool same_cpuid_input(const struct psp_cpuid_fn *a, const struct psp_cpuid_fn *b)
{
    return a->eax_in == b->eax_in && a->ecx_in == b->ecx_in && a->xcr0_in == b->xcr0_in &&
           a->xss_in == b->xss_in;
}

/*
 * The firmware's checks of a CPUID page: at most 64 entries, reserved fields
 * zero, no two entries for the same input. An entry's input is (leaf, subleaf,
 * XCR0, XSS): leaf 0xD may appear once per XCR0/XSS value (Linux
 * snp_cpuid_table has both fields for that reason).
 * XXX(model): real firmware also checks each entry's outputs against what the
 * platform supports and, on failure, writes the values it would accept back
 * into the page; the model checks only the format and leaves the page as is.
 */
static uint32_t check_cpuid_page(struct psp *p, const struct psp_cpuid_page *t)
{
    if (t->count > PSP_CPUID_COUNT_MAX)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "CPUID page has more than 64 entries");
    if (t->reserved_0x4 || t->reserved_0x8)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "CPUID page header reserved field is set");
    for (uint32_t i = 0; i < t->count; i++) {
        if (t->fn[i].reserved)
            return psp_fail(p, SEV_RET_INVALID_PARAM, "CPUID entry reserved field is set");
        for (uint32_t j = 0; j < i; j++)
            if (same_cpuid_input(&t->fn[i], &t->fn[j]))
                return psp_fail(p, SEV_RET_INVALID_PARAM, "CPUID page repeats a leaf/subleaf");
    }
    return SEV_RET_SUCCESS;
}

/* ---- Per-page effects and measurement -------------------------------------------------- */

/*
 * The secrets page (Linux struct snp_secrets_page): version, FMS, the guest's
 * GOSVW and VMPCK0-3; the OS area is the guest's and starts zeroed.
 * XXX(model): no VMSA register protection (tweak bitmap 0), no SVSM fields, no
 * Secure TSC (tsc_factor 0), no IMI launches (imien 0).
 */
static void fill_secrets(const struct psp *p, const struct psp_gctx *g, void *page)
{
    struct snp_secrets_page *s = page;
    memset(s, 0, sizeof(*s));
    s->version = PSP_SECRETS_VERSION;
    s->fms = p->cfg.fms;
    memcpy(s->gosvw, g->gosvw, sizeof(s->gosvw));
    memcpy(s->vmpck, g->vmpck, sizeof(s->vmpck));
}

/* Gives the page its type's effect and returns its CONTENTS field. */
static void page_contents(const struct psp *p, const struct psp_gctx *g, unsigned type,
                          void *page, uint8_t contents[PSP_DIGEST_SIZE])
{
    memset(contents, 0, PSP_DIGEST_SIZE);
    switch (type) {
    case SNP_PAGE_TYPE_NORMAL:
    case SNP_PAGE_TYPE_VMSA: /* XXX(model): the VMSA's contents are not checked */
        psp_sha384(page, PAGE_4K, contents);
        break;
    case SNP_PAGE_TYPE_ZERO:
        memset(page, 0, PAGE_4K);
        break;
    case SNP_PAGE_TYPE_SECRETS:
        fill_secrets(p, g, page);
        break;
    default: /* UNMEASURED keeps its bytes; CPUID was checked before */
        break;
    }
}

/* LD = SHA-384(PAGE_INFO) (docs/sev-snp-facts.md 8.2). */
static void extend_digest(struct psp_gctx *g, const struct update *u,
                          const uint8_t contents[PSP_DIGEST_SIZE], uint64_t gpa)
{
    struct psp_page_info pi;
    memset(&pi, 0, sizeof(pi));
    memcpy(pi.digest_cur, g->ld, PSP_DIGEST_SIZE);
    memcpy(pi.contents, contents, PSP_DIGEST_SIZE);
    pi.length = sizeof(pi);
    pi.page_type = (uint8_t)u->type;
    pi.imi_page = 0;
    pi.vmpl3_perms = u->perms[3];
    pi.vmpl2_perms = u->perms[2];
    pi.vmpl1_perms = u->perms[1];
    pi.gpa = gpa;
    psp_sha384(&pi, sizeof(pi), g->ld);
}

static void measure_page(struct psp *p, struct psp_gctx *g, const struct update *u,
                         uint64_t spa, uint64_t gpa, uint64_t now)
{
    uint8_t contents[PSP_DIGEST_SIZE];
    page_contents(p, g, u->type, mem_ptr(p->mem, spa, PAGE_4K), contents);
    extend_digest(g, u, contents, gpa);
    g->pages++;
    if (p->trace) {
        char c_hex[PSP_DIGEST_HEX_SIZE], d_hex[PSP_DIGEST_HEX_SIZE];
        psp_digest_hex(contents, c_hex);
        psp_digest_hex(g->ld, d_hex);
        TRC(p->trace, launch_update, now, -1, gpa, type_names[u->type], c_hex, d_hex);
    }
}

/* Pre-Guest -> validated, mutable, VMSA bit for a VMSA, the command's VMPL1-3 rights. */
static void set_rmp(struct psp *p, const struct update *u, const struct rmp_entry *old)
{
    struct rmp_entry e = *old;
    e.immutable = false;
    e.validated = true;
    e.vmsa = u->type == SNP_PAGE_TYPE_VMSA;
    e.perms[0] = RMP_PERM_ALL;
    for (unsigned v = 1; v < 4; v++)
        e.perms[v] = u->perms[v];
    rmp_fw_set(p->rmp, u->spa, &e);
}

uint32_t psp_launch_update(struct psp *p, struct psp_gctx *g,
                           const struct psp_snp_launch_update *c, uint64_t now)
{
    struct update u;
    struct rmp_entry e;
    uint32_t rc = decode(p, c, &u);
    if (rc == SEV_RET_SUCCESS)
        rc = check_rmp(p, g, &u, &e);
    if (rc == SEV_RET_SUCCESS && u.type == SNP_PAGE_TYPE_CPUID)
        rc = check_cpuid_page(p, mem_ptr(p->mem, u.spa, PAGE_4K));
    if (rc != SEV_RET_SUCCESS)
        return rc;
    uint64_t n = u.is_2m ? PAGE_2M / PAGE_4K : 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t gpa = u.type == SNP_PAGE_TYPE_VMSA ? SNP_VMSA_MEASURE_GPA : e.gpa + i * PAGE_4K;
        measure_page(p, g, &u, u.spa + i * PAGE_4K, gpa, now);
    }
    set_rmp(p, &u, &e);
    return SEV_RET_SUCCESS;
}
