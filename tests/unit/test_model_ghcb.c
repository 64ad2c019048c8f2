/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the reference hypervisor's GHCB answers under both readings
 * of `hv.validation` (docs/ghcb-validation.md):
 * one table row per rule, each naming the request, the guest type, and the
 * answer KVM gives (Linux arch/x86/kvm/svm/sev.c: sev_es_validate_vmgexit,
 * sev_handle_vmgexit, sev_handle_vmgexit_msr_protocol, setup_vmgexit_scratch,
 * snp_begin_psc, snp_complete_psc) next to the spec-valid strict one. The
 * expected values are written here from those sources, not taken from the
 * model. A system is built with the demo guest (never run); the test plays
 * the guest: it writes the GHCB page (or the GHCB MSR value), calls the
 * hypervisor's VMGEXIT entry and reads back the page, the MSR, the RMP and
 * whether the run ended.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "machine.h"
#include "rmp.h"
#include "sev.h"
#include "snpref/sev.h"
#include "ck_run.h"

#define PAGE 4096ull
#define MB2 (2ull << 20)

struct env {
    struct snpref_system *h;
    struct system *sys;
    struct slot *s;
    uint64_t ghcb;          /* vCPU 0's GHCB page */
    struct ghcb g;          /* what the guest writes */
    uint64_t free2m;        /* a 2 MiB-aligned free region (guest RAM, unassigned) */
};

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f, "cannot open %s (build the guests first)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ck_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void env_init(struct env *e, const char *mode, bool strict, const char *apic)
{
    struct snp_config cfg;
    config_defaults(&cfg);
    cfg.vcpus = 1;
    snprintf(cfg.mode, sizeof(cfg.mode), "%s", mode);
    snprintf(cfg.apic, sizeof(cfg.apic), "%s", apic);
    cfg.hv.validation = strict ? HV_VALIDATION_STRICT : HV_VALIDATION_KVM;
    size_t len;
    uint8_t *elf = read_file(SNPREF_GUEST_DIR "/demo.elf", &len);
    struct guest_image img = {elf, len, "demo.elf", NULL};
    char err[256];
    int status;
    memset(e, 0, sizeof(*e));
    ck_assert_msg(snpref_create(&e->h, &cfg, &img, NULL, &status, err, sizeof(err)) == 0, "%s", err);
    free(elf);
    e->sys = (struct system *)e->h;
    e->s = &e->sys->slots[0];
    e->ghcb = e->sys->layout.ghcb_base;
    e->s->sev.ghcb_registered = e->ghcb;
    e->free2m = 16ull << 20; /* above the demo image, below the loader's region */
    ck_assert(e->free2m + MB2 <= e->sys->layout.free_end);
    e->g.protocol_version = GHCB_PROTOCOL_MAX;
}

static void env_free(struct env *e) { snpref_destroy(e->h); }

static void set(struct ghcb *g, unsigned bit, uint64_t v)
{
    memcpy((uint8_t *)&g->save + bit * 8, &v, 8);
    g->save.valid_bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* The guest's VMGEXIT with its GHCB page: returns SW_EXITINFO1/2 as written back. */
static void vmgexit(struct env *e, uint64_t code, uint64_t i1, uint64_t i2, uint64_t out[2])
{
    set(&e->g, GHCB_BIT(sw_exit_code), code);
    set(&e->g, GHCB_BIT(sw_exit_info_1), i1);
    set(&e->g, GHCB_BIT(sw_exit_info_2), i2);
    uint64_t pf;
    ck_assert(mem_hv_write(&e->sys->mem, e->ghcb, &e->g, sizeof(e->g), &pf));
    e->s->sev.ghcb_msr = e->ghcb;
    ghcb_vmgexit(e->s);
    ck_assert(mem_hv_read(&e->sys->mem, e->ghcb, &e->g, sizeof(e->g)));
    out[0] = e->g.save.sw_exit_info_1;
    out[1] = e->g.save.sw_exit_info_2;
}

static uint64_t msr_protocol(struct env *e, uint64_t req)
{
    e->s->sev.ghcb_msr = req;
    ghcb_vmgexit(e->s);
    return e->s->sev.ghcb_msr;
}

/* A PSC buffer in the shared buffer: header then the entries. */
static void psc(struct env *e, uint16_t cur, uint16_t end, const uint64_t *ent, unsigned n,
                uint64_t out[2])
{
    struct psc_hdr h = {cur, end, 0};
    memcpy(e->g.shared_buffer, &h, sizeof(h));
    memcpy(e->g.shared_buffer + sizeof(h), ent, 8ull * n);
    set(&e->g, GHCB_BIT(sw_scratch), e->ghcb + offsetof(struct ghcb, shared_buffer));
    vmgexit(e, SVM_VMGEXIT_PSC, 0, 0, out);
}

static uint64_t psc_entry_out(const struct env *e, unsigned i)
{
    uint64_t v;
    memcpy(&v, e->g.shared_buffer + sizeof(struct psc_hdr) + 8ull * i, 8);
    return v;
}

static uint16_t psc_cur_out(const struct env *e)
{
    struct psc_hdr h;
    memcpy(&h, e->g.shared_buffer, sizeof(h));
    return h.cur_entry;
}

static bool ended(const struct env *e, const char *why)
{
    return e->sys->done && strstr(e->sys->res.reason, why);
}

/* ---- The table ----------------------------------------------------------------------- */

/* What a row expects in one mode. */
struct want {
    bool ends;              /* the run ends, with this text in the reason */
    const char *why;
    uint64_t info1, info2;  /* otherwise the GHCB answer (or msr: the GHCB MSR value) */
};

struct row {
    const char *rule;       /* docs/ghcb-validation.md's name for it */
    const char *mode;       /* guest type */
    void (*run)(struct env *e, uint64_t out[2]);
    struct want kvm, strict;
};

static void r_unregistered(struct env *e, uint64_t out[2])
{
    e->s->sev.ghcb_registered = e->ghcb + PAGE;
    set(&e->g, GHCB_BIT(rax), 0);
    set(&e->g, GHCB_BIT(rcx), 0);
    vmgexit(e, SVM_EXIT_CPUID, 0, 0, out);
}

static void r_psc_cur_past_end(struct env *e, uint64_t out[2])
{
    uint64_t ent[2] = {PSC_ENTRY(e->free2m >> 12, PSC_OP_PRIVATE, 0),
                       PSC_ENTRY((e->free2m >> 12) + 1, PSC_OP_PRIVATE, 0)};
    psc(e, 2, 1, ent, 2, out);
    struct rmp_entry r;
    ck_assert(rmp_lookup(e->sys->sev->rmp, e->free2m, &r) && !r.assigned); /* nothing done */
}

static void r_psc_op(struct env *e, uint64_t out[2], unsigned op)
{
    uint64_t ent = PSC_ENTRY(e->free2m >> 12, op, 0);
    psc(e, 0, 0, &ent, 1, out);
    struct rmp_entry r;
    ck_assert(rmp_lookup(e->sys->sev->rmp, e->free2m, &r) && !r.assigned);
    if (out[1] == 0) { /* completed: cur_page and cur_entry say so (KVM __snp_complete_one_psc) */
        ck_assert_uint_eq(PSC_ENTRY_CUR_PAGE(psc_entry_out(e, 0)), 1);
        ck_assert_uint_eq(psc_cur_out(e), 1);
    }
}
static void r_psc_op0(struct env *e, uint64_t out[2]) { r_psc_op(e, out, 0); }
static void r_psc_op5(struct env *e, uint64_t out[2]) { r_psc_op(e, out, 5); }
static void r_psc_op15(struct env *e, uint64_t out[2]) { r_psc_op(e, out, 15); }

static void assign_2m(struct env *e)
{
    struct rmp_state st = {e->free2m, true, RMP_2M, false, e->sys->sev->asid};
    ck_assert_int_eq(rmp_update(e->sys->sev->rmp, e->free2m, &st), RMP_OK);
}

/* PSMASH requested: out[0] carries whether the 2 MiB entry is still 2 MiB. */
static void r_psc_psmash(struct env *e, uint64_t out[2])
{
    assign_2m(e);
    uint64_t ent = PSC_ENTRY(e->free2m >> 12, PSC_OP_PSMASH, 1);
    psc(e, 0, 0, &ent, 1, out);
    struct rmp_entry r;
    ck_assert(rmp_lookup(e->sys->sev->rmp, e->free2m + PAGE, &r) && r.assigned);
    ck_assert_uint_eq(out[0], 0);
    out[0] = r.size == RMP_2M ? 0x2 : 0x4; /* 2M kept (KVM: no-op) or split (strict) */
}

/* cur_page 510 of a 2 MiB entry: only pages 510 and 511 change. */
static void r_psc_cur_page(struct env *e, uint64_t out[2])
{
    uint64_t ent = PSC_ENTRY(e->free2m >> 12, PSC_OP_PRIVATE, 1) | 510;
    psc(e, 0, 0, &ent, 1, out);
    struct rmp_entry r;
    ck_assert(rmp_lookup(e->sys->sev->rmp, e->free2m + 509 * PAGE, &r) && !r.assigned);
    for (unsigned p = 510; p < 512; p++) {
        ck_assert(rmp_lookup(e->sys->sev->rmp, e->free2m + p * PAGE, &r));
        ck_assert(r.assigned && r.size == RMP_4K && r.gpa == e->free2m + p * PAGE);
    }
    ck_assert_uint_eq(PSC_ENTRY_CUR_PAGE(psc_entry_out(e, 0)), 512);
}

static void r_psc_cur_page_too_big(struct env *e, uint64_t out[2])
{
    uint64_t ent = PSC_ENTRY(e->free2m >> 12, PSC_OP_PRIVATE, 0) | 2;
    psc(e, 0, 0, &ent, 1, out);
}

/* An RMPUPDATE that fails (the page is a VMSA in use: FAIL_INUSE, 3). */
static void r_psc_generic(struct env *e, uint64_t out[2])
{
    uint64_t vmsa = loader_vmsa_gpa(&e->sys->layout, 0);
    rmp_set_vmsa_in_use(e->sys->sev->rmp, vmsa, true);
    uint64_t ent = PSC_ENTRY(vmsa >> 12, PSC_OP_SHARED, 0);
    psc(e, 0, 0, &ent, 1, out);
}

static void r_msr_psc_error(struct env *e, uint64_t out[2])
{
    uint64_t vmsa = loader_vmsa_gpa(&e->sys->layout, 0);
    rmp_set_vmsa_in_use(e->sys->sev->rmp, vmsa, true);
    out[0] = msr_protocol(e, (uint64_t)GHCB_MSR_PSC_OP_SHARED << 52 | (vmsa >> 12) << 12 |
                                 GHCB_MSR_PSC_REQ);
    out[1] = 0;
}

static void r_psc_not_snp(struct env *e, uint64_t out[2])
{
    uint64_t ent = PSC_ENTRY(e->free2m >> 12, PSC_OP_PRIVATE, 0);
    psc(e, 0, 0, &ent, 1, out);
}

static void r_ap_creation_not_snp(struct env *e, uint64_t out[2])
{
    set(&e->g, GHCB_BIT(rax), 0);
    vmgexit(e, SVM_VMGEXIT_AP_CREATION, SVM_VMGEXIT_AP_CREATE, 0x1000, out);
}

static void r_savic_not_savic(struct env *e, uint64_t out[2])
{
    set(&e->g, GHCB_BIT(rax), SVM_VMGEXIT_SAVIC_SELF);
    set(&e->g, GHCB_BIT(rbx), 0x1000);
    vmgexit(e, SVM_VMGEXIT_SAVIC, SVM_VMGEXIT_SAVIC_REGISTER, 0, out);
}

static void r_unsupported(struct env *e, uint64_t out[2])
{
    vmgexit(e, SVM_VMGEXIT_UNSUPPORTED, 0x1234, 0, out);
}

static void r_hv_features(struct env *e, uint64_t out[2])
{
    vmgexit(e, SVM_VMGEXIT_HV_FEATURES, 0, 0, out);
}

static void r_msr_hv_features(struct env *e, uint64_t out[2])
{
    out[0] = msr_protocol(e, GHCB_MSR_HV_FT_REQ);
    out[1] = 0;
}

static void r_msr_pref_gpa(struct env *e, uint64_t out[2])
{
    out[0] = msr_protocol(e, GHCB_MSR_PREF_GPA_REQ);
    out[1] = 0;
}

static void r_scratch_zero(struct env *e, uint64_t out[2])
{
    set(&e->g, GHCB_BIT(sw_scratch), 0);
    vmgexit(e, SVM_VMGEXIT_MMIO_READ, SNP_MMIODEV_BASE, 8, out);
}

static void r_msr_info1_2(struct env *e, uint64_t out[2])
{
    set(&e->g, GHCB_BIT(rcx), 0xC0000103); /* TSC_AUX */
    set(&e->g, GHCB_BIT(rax), 5);
    set(&e->g, GHCB_BIT(rdx), 0);
    vmgexit(e, SVM_EXIT_MSR, 2, 0, out);
    uint64_t aux = 0;
    vcpu_msr_get(e->s->cpu, 0xC0000103, &aux);
    if (out[0] == 0)
        ck_assert_uint_eq(aux, 5); /* KVM: it was a write */
}

static void r_psc_beyond_ram(struct env *e, uint64_t out[2])
{
    uint64_t ent = PSC_ENTRY(e->sys->mem.size >> 12, PSC_OP_PRIVATE, 0);
    psc(e, 0, 0, &ent, 1, out);
}

static void r_guest_request_same_gpa(struct env *e, uint64_t out[2])
{
    vmgexit(e, SVM_VMGEXIT_GUEST_REQUEST, e->free2m, e->free2m, out);
}

static void r_guest_request_unaligned(struct env *e, uint64_t out[2])
{
    vmgexit(e, SVM_VMGEXIT_GUEST_REQUEST, e->free2m + 8, e->free2m + PAGE, out);
}

static void r_term_request(struct env *e, uint64_t out[2])
{
    vmgexit(e, SVM_VMGEXIT_TERM_REQUEST, 0x23u << 4 | 1, 0x99, out);
}

#define ANSWER(a, b) {false, NULL, (a), (b)}
#define ENDS(w) {true, (w), 0, 0}
#define ERR(r) ANSWER(2, (r))

static const struct row rows[] = {
    {"unregistered-ghcb", "snp", r_unregistered, ENDS("not the registered"),
     ERR(GHCB_ERR_NOT_REGISTERED)},
    {"psc-cur-past-end", "snp", r_psc_cur_past_end, ANSWER(0, 0), ANSWER(0, PSC_ERR_INVALID_HDR)},
    {"psc-undefined-op", "snp", r_psc_op0, ANSWER(0, 0), ANSWER(0, PSC_ERR_INVALID_ENTRY)},
    {"psc-undefined-op", "snp", r_psc_op5, ANSWER(0, 0), ANSWER(0, PSC_ERR_INVALID_ENTRY)},
    {"psc-undefined-op", "snp", r_psc_op15, ANSWER(0, 0), ANSWER(0, PSC_ERR_INVALID_ENTRY)},
    {"psc-psmash", "snp", r_psc_psmash, ANSWER(0x2, 0), ANSWER(0x4, 0)},
    {"psc-cur-page", "snp", r_psc_cur_page, ANSWER(0, 0), ANSWER(0, 0)},
    {"psc-cur-page", "snp", r_psc_cur_page_too_big, ANSWER(0, PSC_ERR_INVALID_ENTRY),
     ANSWER(0, PSC_ERR_INVALID_ENTRY)},
    {"psc-generic-error", "snp", r_psc_generic, ANSWER(0, PSC_ERR_GENERIC),
     ANSWER(0, PSC_ERR_GENERIC | RMP_FAIL_INUSE)},
    {"psc-generic-error", "snp", r_msr_psc_error, ANSWER(GHCB_MSR_PSC_RESP_ERROR | GHCB_MSR_PSC_RESP, 0),
     ANSWER(GHCB_MSR_PSC_RESP_ERROR | (uint64_t)RMP_FAIL_INUSE << 32 | GHCB_MSR_PSC_RESP, 0)},
    {"wrong-guest-type", "sev-es", r_psc_not_snp, ERR(GHCB_ERR_MISSING_INPUT),
     ERR(GHCB_ERR_INVALID_EVENT)},
    {"wrong-guest-type", "sev-es", r_ap_creation_not_snp, ERR(GHCB_ERR_MISSING_INPUT),
     ERR(GHCB_ERR_INVALID_EVENT)},
    {"wrong-guest-type", "snp", r_savic_not_savic, ERR(GHCB_ERR_MISSING_INPUT),
     ERR(GHCB_ERR_INVALID_EVENT)},
    {"unsupported-event", "snp", r_unsupported, ENDS("unsupported event"),
     ERR(GHCB_ERR_INVALID_EVENT)},
    {"hv-features", "sev-es", r_hv_features, ANSWER(0, GHCB_HV_FT_SNP | GHCB_HV_FT_SNP_AP_CREATION),
     ANSWER(0, 0)},
    {"hv-features", "snp", r_hv_features, ANSWER(0, GHCB_HV_FT_SNP | GHCB_HV_FT_SNP_AP_CREATION),
     ANSWER(0, GHCB_HV_FT_SNP | GHCB_HV_FT_SNP_AP_CREATION)},
    {"hv-features", "sev-es", r_msr_hv_features, ANSWER(3ull << 12 | GHCB_MSR_HV_FT_RESP, 0),
     ANSWER(GHCB_MSR_HV_FT_RESP, 0)},
    {"pref-gpa-not-snp", "sev-es", r_msr_pref_gpa, ENDS("termination"),
     ANSWER(GHCB_MSR_PREF_GPA_NONE << 12 | GHCB_MSR_PREF_GPA_RESP, 0)},
    {"scratch-gpa-zero", "sev-es", r_scratch_zero, ERR(GHCB_ERR_INVALID_SCRATCH_AREA), ANSWER(0, 0)},
    {"msr-exit-info-1", "snp", r_msr_info1_2, ANSWER(0, 0), ERR(GHCB_ERR_INVALID_INPUT)},
    {"psc-beyond-ram", "snp", r_psc_beyond_ram, ANSWER(0, PSC_ERR_GENERIC),
     ANSWER(0, PSC_ERR_INVALID_ENTRY)},
    {"guest-request-gpas", "snp", r_guest_request_same_gpa, ERR(GHCB_ERR_MISSING_INPUT),
     ERR(GHCB_ERR_INVALID_INPUT)},
    {"guest-request-gpas", "snp", r_guest_request_unaligned, ERR(GHCB_ERR_MISSING_INPUT),
     ERR(GHCB_ERR_INVALID_INPUT)},
    {"term-request-fields", "snp", r_term_request, ENDS("reason set 1, code 35"),
     ENDS("reason set 1, code 35")},
};

START_TEST(each_ghcb_rule_answers_as_kvm_under_kvm_and_the_strict_reading_under_strict)
{
    const struct row *r = &rows[_i / 2];
    bool strict = _i % 2;
    const struct want *w = strict ? &r->strict : &r->kvm;
    struct env e;
    env_init(&e, r->mode, strict, "emulated");
    uint64_t out[2] = {0, 0};
    r->run(&e, out);
    const char *m = strict ? "strict" : "kvm";
    if (w->ends) {
        ck_assert_msg(ended(&e, w->why), "%s (%s, %s): want the run to end with \"%s\", got %s%s",
                      r->rule, r->mode, m, w->why, e.sys->done ? "" : "no end; answer ",
                      e.sys->done ? e.sys->res.reason : "");
    } else {
        ck_assert_msg(!e.sys->done, "%s (%s, %s): the run ended: %s", r->rule, r->mode, m,
                      e.sys->res.reason);
        ck_assert_msg(out[0] == w->info1 && out[1] == w->info2,
                      "%s (%s, %s): got %#llx/%#llx, want %#llx/%#llx", r->rule, r->mode, m,
                      (unsigned long long)out[0], (unsigned long long)out[1],
                      (unsigned long long)w->info1, (unsigned long long)w->info2);
    }
    env_free(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_ghcb");
    TCase *tc = tcase_create("validation");
    tcase_add_loop_test(tc, each_ghcb_rule_answers_as_kvm_under_kvm_and_the_strict_reading_under_strict,
                        0, (int)(2 * sizeof(rows) / sizeof(rows[0])));
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
