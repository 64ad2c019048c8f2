/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the PSP model (model/psp.c, psp_launch.c; fact sheet 8):
 * every command's success and failure codes (order of commands, guest policy,
 * ASIDs, the Pre-Guest RMP state LAUNCH_UPDATE needs, addresses, reserved
 * fields, malformed CPUID pages, the ID block), what each page type does to the
 * page and to its RMP entry, and the launch digest three ways: a pinned
 * known-answer value for a fixed page sequence covering every page type, a
 * recomputation written here straight from fact sheet 8.2 (PAGE_INFO built byte
 * by byte, OpenSSL's one-shot SHA384(), not psp.c's EVP path), and a
 * recomputation from the launch_update trace events alone.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "mem.h"
#include "psp.h"
#include "rmp.h"
#include "snpref/sev.h"
#include "trace.h"

#define MIB    (1ull << 20)
#define RAM    (8 * MIB)
#define PG     4096ull
#define ASID   5u
#define POLICY 0x30000ull /* SMT allowed + bit 17 */
#define NOW    1234u

static struct mem ram;
static struct rmp *rmp;
static struct psp *psp;
static struct trc *trc;

/* ---- Trace sink ---------------------------------------------------------------------------- */

struct upd_ev {
    uint64_t gpa;
    char type[16], contents[PSP_DIGEST_HEX_SIZE], digest[PSP_DIGEST_HEX_SIZE];
    uint64_t t;
};
#define MAX_EV 2048
static struct upd_ev evs[MAX_EV];
static unsigned nev, nfinish;
static char finish_digest[PSP_DIGEST_HEX_SIZE];
static uint64_t finish_policy;

static void sink(void *ctx, const struct trc_rec *r)
{
    (void)ctx;
    if (r->ev == TRC_EV_launch_update) {
        ck_assert_uint_lt(nev, MAX_EV);
        struct upd_ev *e = &evs[nev++];
        e->gpa = r->v[0].u;
        e->t = r->t;
        snprintf(e->type, sizeof(e->type), "%s", r->v[1].s);
        snprintf(e->contents, sizeof(e->contents), "%s", r->v[2].s);
        snprintf(e->digest, sizeof(e->digest), "%s", r->v[3].s);
    } else if (r->ev == TRC_EV_launch_finish) {
        nfinish++;
        snprintf(finish_digest, sizeof(finish_digest), "%s", r->v[0].s);
        finish_policy = r->v[1].u;
    }
}

static void flush_trace(void) { trc_advance(trc, UINT64_MAX); }

/* ---- Fixture --------------------------------------------------------------------------------- */

static void make_psp(const struct psp_config *cfg)
{
    psp_destroy(psp);
    psp = psp_create(&ram, rmp, trc, cfg);
    ck_assert_ptr_nonnull(psp);
}

static void setup(void)
{
    char err[160];
    ck_assert_int_eq(mem_init(&ram, RAM, err, sizeof(err)), 0);
    rmp = rmp_create(RAM);
    ck_assert_ptr_nonnull(rmp);
    struct trc_header h = {"snpref test", "snp", 1, "emulated", 1000, "{}"};
    trc = trc_open(NULL, &h, err, sizeof(err));
    ck_assert_msg(trc != NULL, "%s", err);
    trc_set_sink(trc, sink, NULL);
    nev = nfinish = 0;
    finish_digest[0] = '\0';
    psp = NULL;
    struct psp_config cfg;
    psp_config_default(&cfg);
    make_psp(&cfg);
}

static void teardown(void)
{
    char err[160];
    psp_destroy(psp);
    psp = NULL;
    trc_close(trc, false, err, sizeof(err));
    rmp_destroy(rmp);
    mem_destroy(&ram);
}

/* ---- Command helpers ----------------------------------------------------------------------- */

static uint64_t create(void)
{
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, NOW), SEV_RET_SUCCESS);
    return a.gctx_paddr;
}

static uint32_t start(uint64_t h, uint64_t policy)
{
    struct psp_snp_launch_start c = {.gctx_paddr = h, .policy = policy};
    return psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, NOW);
}

static uint32_t activate(uint64_t h, uint32_t asid)
{
    struct psp_snp_activate c = {.gctx_paddr = h, .asid = asid};
    return psp_command(psp, SEV_CMD_SNP_ACTIVATE, &c, NOW);
}

static uint32_t update_p(uint64_t h, uint64_t spa, unsigned type, bool is_2m, uint32_t perms)
{
    struct psp_snp_launch_update c = {
        .gctx_paddr = h,
        .flags = PSP_UPDATE_TYPE(type) | (is_2m ? PSP_UPDATE_PAGE_2M : 0),
        .address = spa,
        .perms = perms,
    };
    return psp_command(psp, SEV_CMD_SNP_LAUNCH_UPDATE, &c, NOW);
}

static uint32_t update(uint64_t h, uint64_t spa, unsigned type)
{
    return update_p(h, spa, type, false, 0);
}

static uint32_t finish(uint64_t h, uint64_t flags, uint64_t blk, uint64_t auth)
{
    struct psp_snp_launch_finish c = {
        .gctx_paddr = h, .id_block_paddr = blk, .id_auth_paddr = auth, .flags = flags};
    memset(c.host_data, 0xAB, sizeof(c.host_data));
    return psp_command(psp, SEV_CMD_SNP_LAUNCH_FINISH, &c, NOW + 1);
}

static uint32_t decommission(uint64_t h)
{
    struct psp_snp_addr a = {.gctx_paddr = h};
    return psp_command(psp, SEV_CMD_SNP_DECOMMISSION, &a, NOW);
}

/* GCTX_CREATE + LAUNCH_START + ACTIVATE, in KVM's order. */
static uint64_t launched(uint32_t asid)
{
    uint64_t h = create();
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, asid), SEV_RET_SUCCESS);
    return h;
}

static struct psp_guest_info info(uint64_t h)
{
    struct psp_guest_info gi;
    ck_assert(psp_guest(psp, h, &gi));
    return gi;
}

/* What KVM's rmp_make_private(pfn, gpa, level, asid, immutable = true) leaves. */
static void pre_guest_sized(uint64_t spa, uint32_t asid, uint64_t gpa, enum rmp_size size)
{
    struct rmp_state st = {
        .gpa = gpa, .assigned = true, .size = size, .immutable = true, .asid = asid};
    ck_assert_int_eq(rmp_update(rmp, spa, &st), RMP_OK);
}

static void pre_guest(uint64_t spa, uint32_t asid) { pre_guest_sized(spa, asid, spa, RMP_4K); }

static struct rmp_entry entry(uint64_t spa)
{
    struct rmp_entry e;
    ck_assert(rmp_lookup(rmp, spa, &e));
    return e;
}

static void expect_pre_guest_untouched(uint64_t spa)
{
    struct rmp_entry e = entry(spa);
    ck_assert(e.immutable);
    ck_assert(!e.validated);
    ck_assert(!e.vmsa);
}

/* ---- Deterministic page contents ----------------------------------------------------------- */

/* xorshift64 bytes seeded by the address: the pinned digest depends on them. */
static void gen_page(uint64_t spa, uint8_t *out)
{
    uint64_t x = spa * 0x9E3779B97F4A7C15ull + 1;
    for (unsigned i = 0; i < PG; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (uint8_t)(x >> 32);
    }
}

static void fill_page(uint64_t spa) { gen_page(spa, mem_ptr(&ram, spa, PG)); }

static struct vmcb_seg seg(uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
    return (struct vmcb_seg){.selector = sel, .attrib = attr, .limit = limit, .base = base};
}

/* The reset-state VMSA of fact sheet 2 (sev-snp-measure's QEMU flavour). */
static void build_vmsa(uint8_t *page, unsigned vcpu)
{
    memset(page, 0, PG);
    struct sev_vmsa *v = (struct sev_vmsa *)page;
    v->es = seg(0, 0x93, 0xFFFF, 0);
    v->cs = seg(0xF000, 0x9B, 0xFFFF, 0xFFFF0000);
    v->ss = seg(0, 0x93, 0xFFFF, 0);
    v->ds = seg(0, 0x93, 0xFFFF, 0);
    v->fs = seg(0, 0x93, 0xFFFF, 0);
    v->gs = seg(0, 0x93, 0xFFFF, 0);
    v->gdtr = seg(0, 0, 0xFFFF, 0);
    v->ldtr = seg(0, 0x82, 0xFFFF, 0);
    v->idtr = seg(0, 0, 0xFFFF, 0);
    v->tr = seg(0, 0x8B, 0xFFFF, 0);
    v->efer = 0x1000;
    v->cr4 = 0x40;
    v->cr0 = 0x10;
    v->dr7 = 0x400;
    v->dr6 = 0xFFFF0FF0;
    v->rflags = 0x2;
    v->rip = 0xFFF0;
    v->g_pat = 0x0007040600070406ull;
    v->rdx = 0x00A00F11;
    v->rsi = vcpu;
    v->xcr0 = 1;
    v->mxcsr = 0x1F80;
    v->x87_fcw = 0x37F;
    v->sev_features = SEV_FEAT_SNP_ACTIVE;
}

static void build_cpuid(struct psp_cpuid_page *t)
{
    memset(t, 0, sizeof(*t));
    t->count = 3;
    t->fn[0] = (struct psp_cpuid_fn){.eax_in = 0, .eax = 0x10, .ebx = 0x68747541};
    t->fn[1] = (struct psp_cpuid_fn){.eax_in = 0xD, .ecx_in = 0, .xcr0_in = 1, .eax = 1};
    /* same leaf/subleaf, another XCR0: a different input, allowed */
    t->fn[2] = (struct psp_cpuid_fn){.eax_in = 0xD, .ecx_in = 0, .xcr0_in = 7, .eax = 7};
}

/* ---- Reference digest, written from fact sheet 8.2 alone ------------------------------------ */

static void ref_extend(uint8_t ld[48], uint8_t type, const uint8_t contents[48], uint64_t gpa,
                       uint8_t vmpl1, uint8_t vmpl2, uint8_t vmpl3)
{
    uint8_t pi[0x70] = {0};
    memcpy(pi + 0x00, ld, 48);
    memcpy(pi + 0x30, contents, 48);
    pi[0x60] = 0x70; /* LENGTH, LE16 */
    pi[0x61] = 0x00;
    pi[0x62] = type;
    pi[0x63] = 0; /* IMI_PAGE */
    pi[0x64] = vmpl3;
    pi[0x65] = vmpl2;
    pi[0x66] = vmpl1;
    pi[0x67] = 0;
    for (unsigned i = 0; i < 8; i++)
        pi[0x68 + i] = (uint8_t)(gpa >> (8 * i));
    SHA384(pi, sizeof(pi), ld);
}

static void hex(const uint8_t *d, char *out)
{
    for (unsigned i = 0; i < 48; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void unhex(const char *s, uint8_t *out)
{
    ck_assert_uint_eq(strlen(s), 96);
    for (unsigned i = 0; i < 48; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* ---- The fixed launch ---------------------------------------------------------------------- */

static const struct kat_page {
    uint64_t spa;
    unsigned type;
    bool is_2m;
    uint64_t rmp_gpa; /* where the hypervisor assigns it */
} kat[] = {
    {0x10000, SNP_PAGE_TYPE_NORMAL, false, 0x10000},
    {0x11000, SNP_PAGE_TYPE_NORMAL, false, 0x11000},
    {0x12000, SNP_PAGE_TYPE_ZERO, false, 0x12000},
    {0x13000, SNP_PAGE_TYPE_UNMEASURED, false, 0x13000},
    {0x14000, SNP_PAGE_TYPE_SECRETS, false, 0x14000},
    {0x15000, SNP_PAGE_TYPE_CPUID, false, 0x15000},
    {0x200000, SNP_PAGE_TYPE_NORMAL, true, 0x200000},
    {0x16000, SNP_PAGE_TYPE_ZERO, false, 0x16000},
    {0x17000, SNP_PAGE_TYPE_VMSA, false, SNP_VMSA_MEASURE_GPA}, /* BSP, as KVM assigns it */
    {0x18000, SNP_PAGE_TYPE_VMSA, false, 0x18000},              /* AP, at its own GPA */
};
#define KAT_PAGES (9u + 512u)

/* Fills the pages, puts them in Pre-Guest and launches them; returns the handle. */
static uint64_t fixed_launch(void)
{
    uint64_t h = launched(ASID);
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        const struct kat_page *k = &kat[i];
        uint64_t n = k->is_2m ? 512 : 1;
        for (uint64_t j = 0; j < n; j++)
            fill_page(k->spa + j * PG);
        if (k->type == SNP_PAGE_TYPE_CPUID)
            build_cpuid(mem_ptr(&ram, k->spa, PG));
        if (k->type == SNP_PAGE_TYPE_VMSA)
            build_vmsa(mem_ptr(&ram, k->spa, PG), (unsigned)i);
        pre_guest_sized(k->spa, ASID, k->rmp_gpa, k->is_2m ? RMP_2M : RMP_4K);
        ck_assert_uint_eq(update_p(h, k->spa, k->type, k->is_2m, 0), SEV_RET_SUCCESS);
    }
    return h;
}

/* The same sequence, digested here from the page bytes this file generates. */
static void reference_digest(uint8_t ld[48])
{
    static const uint8_t zeros[48];
    uint8_t page[PG], contents[48];
    memset(ld, 0, 48);
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        const struct kat_page *k = &kat[i];
        for (uint64_t j = 0; j < (k->is_2m ? 512u : 1u); j++) {
            uint64_t gpa = k->spa + j * PG;
            const uint8_t *c = zeros;
            if (k->type == SNP_PAGE_TYPE_NORMAL) {
                gen_page(gpa, page);
                SHA384(page, PG, contents);
                c = contents;
            } else if (k->type == SNP_PAGE_TYPE_VMSA) {
                build_vmsa(page, (unsigned)i);
                SHA384(page, PG, contents);
                c = contents;
                gpa = 0xFFFFFFFFF000ull;
            }
            ref_extend(ld, (uint8_t)k->type, c, gpa, 0, 0, 0);
        }
    }
}

/*
 * The pinned value. It was checked, besides the recomputation in this file,
 * against a Python transcription of virtee/sev-snp-measure gctx.py GCTX fed the
 * same page bytes. Changing it means the launch digest changed.
 */
static const char *const kat_digest = "2eefe7788ad2f684678880c76d424ac0558ade35cfa0b654"
                                      "3c38ff47b82e384605909b84bb5fb191037f25c3c62a9a9e";

START_TEST(the_fixed_launch_has_the_pinned_digest)
{
    uint64_t h = fixed_launch();
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    char got[PSP_DIGEST_HEX_SIZE];
    psp_digest_hex(info(h).digest, got);
    ck_assert_str_eq(got, kat_digest);
    ck_assert_uint_eq(info(h).pages_measured, KAT_PAGES);
}
END_TEST

START_TEST(the_digest_equals_an_independent_recomputation_from_the_fact_sheet)
{
    uint64_t h = fixed_launch();
    uint8_t want[48];
    reference_digest(want);
    ck_assert_mem_eq(info(h).digest, want, 48);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    ck_assert_mem_eq(info(h).digest, want, 48);
}
END_TEST

static unsigned type_number(const char *name)
{
    for (unsigned t = 1; t <= 6; t++)
        if (strcmp(psp_page_type_name(t), name) == 0)
            return t;
    ck_abort_msg("unknown page type %s", name);
    return 0;
}

START_TEST(the_trace_events_alone_let_an_outside_tool_recompute_the_digest)
{
    uint64_t h = fixed_launch();
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    flush_trace();
    ck_assert_uint_eq(nev, KAT_PAGES);
    ck_assert_uint_eq(nfinish, 1);
    ck_assert_uint_eq(finish_policy, POLICY);
    uint8_t ld[48] = {0}, contents[48], after[48];
    for (unsigned i = 0; i < nev; i++) {
        unhex(evs[i].contents, contents);
        ref_extend(ld, (uint8_t)type_number(evs[i].type), contents, evs[i].gpa, 0, 0, 0);
        unhex(evs[i].digest, after);
        ck_assert_msg(memcmp(ld, after, 48) == 0, "event %u: digest after differs", i);
        ck_assert_uint_eq(evs[i].t, NOW);
    }
    char got[PSP_DIGEST_HEX_SIZE];
    hex(ld, got);
    ck_assert_str_eq(got, finish_digest);
    ck_assert_str_eq(got, kat_digest);
}
END_TEST

START_TEST(trace_events_carry_the_gpa_type_and_contents_of_each_page_in_order)
{
    fixed_launch();
    flush_trace();
    static const char zeros[] = "000000000000000000000000000000000000000000000000"
                                "000000000000000000000000000000000000000000000000";
    uint8_t page[PG], c[48];
    char want[PSP_DIGEST_HEX_SIZE];
    /* first NORMAL page */
    ck_assert_uint_eq(evs[0].gpa, 0x10000);
    ck_assert_str_eq(evs[0].type, "normal");
    gen_page(0x10000, page);
    SHA384(page, PG, c);
    hex(c, want);
    ck_assert_str_eq(evs[0].contents, want);
    /* ZERO, UNMEASURED, SECRETS, CPUID: zeros at their GPA */
    const char *types[] = {"zero", "unmeasured", "secrets", "cpuid"};
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_eq(evs[2 + i].gpa, 0x12000 + i * PG);
        ck_assert_str_eq(evs[2 + i].type, types[i]);
        ck_assert_str_eq(evs[2 + i].contents, zeros);
    }
    /* the 2 MiB page: 512 events in ascending GPA */
    for (unsigned j = 0; j < 512; j++) {
        ck_assert_uint_eq(evs[6 + j].gpa, 0x200000 + j * PG);
        ck_assert_str_eq(evs[6 + j].type, "normal");
    }
    /* both VMSAs are measured at SNP_VMSA_MEASURE_GPA, wherever they were assigned */
    ck_assert_str_eq(evs[KAT_PAGES - 2].type, "vmsa");
    ck_assert_uint_eq(evs[KAT_PAGES - 2].gpa, 0xFFFFFFFFF000ull);
    ck_assert_uint_eq(evs[KAT_PAGES - 1].gpa, 0xFFFFFFFFF000ull);
    build_vmsa(page, 9);
    SHA384(page, PG, c);
    hex(c, want);
    ck_assert_str_eq(evs[KAT_PAGES - 1].contents, want);
}
END_TEST

START_TEST(a_launch_without_pages_finishes_with_48_zero_bytes)
{
    uint64_t h = launched(ASID);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    static const uint8_t zeros[48];
    ck_assert_mem_eq(info(h).digest, zeros, 48);
    flush_trace();
    ck_assert_uint_eq(nev, 0);
    ck_assert_str_eq(finish_digest, "000000000000000000000000000000000000000000000000"
                                    "000000000000000000000000000000000000000000000000");
}
END_TEST

START_TEST(vmpl_permissions_of_the_command_are_measured_and_land_in_the_rmp)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    uint32_t perms = PSP_UPDATE_PERMS(RMP_PERM_R | RMP_PERM_W, RMP_PERM_R, RMP_PERM_XS);
    ck_assert_uint_eq(update_p(h, 0x10000, SNP_PAGE_TYPE_NORMAL, false, perms), SEV_RET_SUCCESS);
    uint8_t page[PG], c[48], ld[48] = {0};
    gen_page(0x10000, page);
    SHA384(page, PG, c);
    ref_extend(ld, 1, c, 0x10000, RMP_PERM_R | RMP_PERM_W, RMP_PERM_R, RMP_PERM_XS);
    ck_assert_mem_eq(info(h).digest, ld, 48);
    struct rmp_entry e = entry(0x10000);
    ck_assert_uint_eq(e.perms[0], RMP_PERM_ALL);
    ck_assert_uint_eq(e.perms[1], RMP_PERM_R | RMP_PERM_W);
    ck_assert_uint_eq(e.perms[2], RMP_PERM_R);
    ck_assert_uint_eq(e.perms[3], RMP_PERM_XS);
}
END_TEST

START_TEST(the_digest_follows_the_order_of_the_commands_not_of_the_addresses)
{
    uint64_t h = launched(ASID);
    uint8_t page[PG], c0[48], c1[48], in_order[48] = {0}, by_address[48] = {0};
    for (uint64_t spa = 0x10000; spa <= 0x11000; spa += PG) {
        fill_page(spa);
        pre_guest(spa, ASID);
    }
    ck_assert_uint_eq(update(h, 0x11000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    gen_page(0x10000, page);
    SHA384(page, PG, c0);
    gen_page(0x11000, page);
    SHA384(page, PG, c1);
    ref_extend(in_order, 1, c1, 0x11000, 0, 0, 0);
    ref_extend(in_order, 1, c0, 0x10000, 0, 0, 0);
    ref_extend(by_address, 1, c0, 0x10000, 0, 0, 0);
    ref_extend(by_address, 1, c1, 0x11000, 0, 0, 0);
    ck_assert_mem_eq(info(h).digest, in_order, 48);
    ck_assert_mem_ne(info(h).digest, by_address, 48);
}
END_TEST

START_TEST(digest_hex_is_96_lowercase_characters)
{
    uint8_t d[48];
    for (unsigned i = 0; i < 48; i++)
        d[i] = (uint8_t)(i * 11 + 0xA0);
    char out[PSP_DIGEST_HEX_SIZE];
    psp_digest_hex(d, out);
    ck_assert_uint_eq(strlen(out), 96);
    ck_assert(strncmp(out, "a0abb6c1", 8) == 0);
    char want[PSP_DIGEST_HEX_SIZE];
    hex(d, want);
    ck_assert_str_eq(out, want);
}
END_TEST

/* ---- Command order and handles ------------------------------------------------------------- */

START_TEST(gctx_create_hands_out_distinct_handles_in_the_init_state)
{
    uint64_t a = create(), b = create();
    ck_assert_uint_ne(a, 0);
    ck_assert_uint_ne(a, b);
    ck_assert_int_eq(info(a).state, PSP_GSTATE_INIT);
    ck_assert_uint_eq(info(a).asid, 0);
    ck_assert_uint_eq(decommission(a), SEV_RET_SUCCESS);
    ck_assert_uint_ne(create(), a); /* handles are not reused */
}
END_TEST

START_TEST(every_command_on_an_unknown_or_decommissioned_handle_is_invalid_guest)
{
    uint64_t h = launched(ASID);
    ck_assert_uint_eq(decommission(h), SEV_RET_SUCCESS);
    uint64_t bad[] = {h, 0, 999};
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(start(bad[i], POLICY), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(activate(bad[i], ASID), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(update(bad[i], 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(finish(bad[i], 0, 0, 0), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(decommission(bad[i]), SEV_RET_INVALID_GUEST);
    }
    ck_assert_str_eq(psp_status_name(SEV_RET_INVALID_GUEST), "INVALID_GUEST");
}
END_TEST

START_TEST(an_unknown_command_or_a_missing_buffer_is_refused)
{
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(psp_command(psp, 0x081 /* SNP_INIT */, &a, 0), SEV_RET_INVALID_COMMAND);
    ck_assert_str_ne(psp_why(psp), "");
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, NULL, 0), SEV_RET_INVALID_PARAM);
    create();
    ck_assert_str_eq(psp_why(psp), "");
}
END_TEST

START_TEST(launch_start_twice_is_invalid_guest_state)
{
    uint64_t h = create();
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_LAUNCH);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_INVALID_GUEST_STATE);
}
END_TEST

START_TEST(activate_needs_a_started_launch_and_happens_once)
{
    uint64_t h = create();
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    ck_assert_uint_eq(info(h).asid, ASID);
    ck_assert_uint_eq(activate(h, ASID + 1), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(info(h).asid, ASID);
}
END_TEST

START_TEST(activate_refuses_asid_zero_asids_past_the_limit_and_asids_in_use)
{
    uint64_t a = launched(ASID), b = create();
    ck_assert_uint_eq(start(b, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(b, 0), SEV_RET_INVALID_ASID);
    ck_assert_uint_eq(activate(b, 1024), SEV_RET_INVALID_ASID);
    ck_assert_uint_eq(activate(b, ASID), SEV_RET_ASID_OWNED);
    ck_assert_uint_eq(info(b).asid, 0);
    ck_assert_uint_eq(decommission(a), SEV_RET_SUCCESS); /* frees the ASID */
    ck_assert_uint_eq(activate(b, ASID), SEV_RET_SUCCESS);
    uint64_t c = create();
    ck_assert_uint_eq(start(c, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(c, 1023), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(launch_update_needs_a_started_activated_unfinished_launch)
{
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    uint64_t h = create();
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INACTIVE);
    expect_pre_guest_untouched(0x10000);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_RUNNING);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_GUEST_STATE);
    expect_pre_guest_untouched(0x10000);
    ck_assert_uint_eq(info(h).pages_measured, 0);
}
END_TEST

START_TEST(launch_finish_needs_a_started_activated_launch_and_happens_once)
{
    uint64_t h = create();
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_INACTIVE);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_INVALID_GUEST_STATE);
    flush_trace();
    ck_assert_uint_eq(nfinish, 1);
}
END_TEST

START_TEST(the_psp_holds_64_contexts_and_a_decommission_frees_one)
{
    uint64_t first = create();
    for (unsigned i = 1; i < 64; i++)
        create();
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, 0), SEV_RET_RESOURCE_LIMIT);
    ck_assert_uint_eq(decommission(first), SEV_RET_SUCCESS);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, 0), SEV_RET_SUCCESS);
}
END_TEST

/* ---- Policy ------------------------------------------------------------------------------------ */

START_TEST(launch_start_refuses_each_must_be_zero_policy_bit)
{
    uint64_t h = create();
    unsigned bit = 26 + (unsigned)_i;
    ck_assert_uint_eq(start(h, POLICY | (1ull << bit)), SEV_RET_POLICY_FAILURE);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_INIT);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS); /* the failure changed nothing */
}
END_TEST

static const struct policy_case {
    uint64_t policy;
    bool smt, rapl_dis, ct_hiding, aes256;
    uint32_t want;
} policy_cases[] = {
    {0x30000, false, false, false, true, SEV_RET_SUCCESS},
    {0xB0000, false, false, false, true, SEV_RET_SUCCESS},   /* + DEBUG (QEMU example) */
    {0x20000, false, false, false, true, SEV_RET_SUCCESS},   /* no SMT, platform without SMT */
    {0x10000, false, false, false, true, SEV_RET_POLICY_FAILURE}, /* bit 17 clear */
    {0x00000, false, false, false, true, SEV_RET_POLICY_FAILURE},
    {0x20000, true, false, false, true, SEV_RET_POLICY_FAILURE},  /* SMT on, not allowed */
    {0x30000, true, false, false, true, SEV_RET_SUCCESS},
    {0x30000 | 0x0137, false, false, false, true, SEV_RET_SUCCESS},  /* ABI 1.55 = firmware */
    {0x30000 | 0x0138, false, false, false, true, SEV_RET_POLICY_FAILURE}, /* ABI 1.56 */
    {0x30000 | 0x0200, false, false, false, true, SEV_RET_POLICY_FAILURE}, /* ABI 2.0 */
    {0x30000 | SNP_POLICY_RAPL_DIS, false, false, false, true, SEV_RET_POLICY_FAILURE},
    {0x30000 | SNP_POLICY_RAPL_DIS, false, true, false, true, SEV_RET_SUCCESS},
    {0x30000 | SNP_POLICY_CIPHERTEXT_HIDING, false, false, false, true, SEV_RET_POLICY_FAILURE},
    {0x30000 | SNP_POLICY_CIPHERTEXT_HIDING, false, false, true, true, SEV_RET_SUCCESS},
    {0x30000 | SNP_POLICY_MEM_AES_256_XTS, false, false, false, false, SEV_RET_POLICY_FAILURE},
    {0x30000 | SNP_POLICY_MEM_AES_256_XTS, false, false, false, true, SEV_RET_SUCCESS},
    {0x30000 | SNP_POLICY_MIGRATE_MA | SNP_POLICY_SINGLE_SOCKET | SNP_POLICY_CXL_ALLOW |
         SNP_POLICY_PAGE_SWAP_DISABLE,
     false, false, false, true, SEV_RET_SUCCESS},
};

START_TEST(launch_start_checks_each_policy_field_against_the_platform)
{
    const struct policy_case *pc = &policy_cases[_i];
    struct psp_config cfg;
    psp_config_default(&cfg);
    cfg.smt_enabled = pc->smt;
    cfg.rapl_disabled = pc->rapl_dis;
    cfg.ciphertext_hiding = pc->ct_hiding;
    cfg.aes_256_xts = pc->aes256;
    make_psp(&cfg);
    uint64_t h = create();
    ck_assert_msg(start(h, pc->policy) == pc->want, "policy 0x%llx: %s (%s)",
                  (unsigned long long)pc->policy, psp_status_name(start(h, pc->policy)),
                  psp_why(psp));
    if (pc->want == SEV_RET_SUCCESS)
        ck_assert_uint_eq(info(h).policy, pc->policy);
}
END_TEST

START_TEST(launch_start_refuses_reserved_flags_and_migration_agents)
{
    uint64_t h = create();
    struct psp_snp_launch_start c = {.gctx_paddr = h, .policy = POLICY, .flags = 1u << 2};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, 0), SEV_RET_INVALID_PARAM);
    c.flags = PSP_LAUNCH_START_MA_EN;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, 0), SEV_RET_UNSUPPORTED);
    c.flags = PSP_LAUNCH_START_IMI_EN;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, 0), SEV_RET_UNSUPPORTED);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_INIT);
}
END_TEST

/* ---- LAUNCH_UPDATE: the page and its RMP entry ---------------------------------------------- */

/* A failed update leaves digest, count, page bytes and RMP entry as they were. */
static void expect_refused(uint64_t h, uint64_t spa, uint32_t rc, uint32_t want)
{
    ck_assert_msg(rc == want, "%s, want %s (%s)", psp_status_name(rc), psp_status_name(want),
                  psp_why(psp));
    ck_assert_str_ne(psp_why(psp), "");
    static const uint8_t zeros[48];
    ck_assert_mem_eq(info(h).digest, zeros, 48);
    ck_assert_uint_eq(info(h).pages_measured, 0);
    if (mem_contains(&ram, spa, PG)) {
        uint8_t want_page[PG];
        gen_page(spa, want_page);
        ck_assert_mem_eq(mem_ptr(&ram, spa, PG), want_page, PG);
    }
    flush_trace();
    ck_assert_uint_eq(nev, 0);
}

START_TEST(update_of_an_unassigned_page_is_invalid_page_state)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    ck_assert(!entry(0x10000).assigned);
}
END_TEST

START_TEST(update_of_a_page_assigned_at_another_gpa_is_invalid_page_state)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest_sized(0x10000, ASID, 0x20000, RMP_4K);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    expect_pre_guest_untouched(0x10000);
}
END_TEST

START_TEST(only_a_vmsa_may_be_assigned_at_the_vmsa_measurement_gpa)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest_sized(0x10000, ASID, SNP_VMSA_MEASURE_GPA, RMP_4K);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_VMSA), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(update_of_a_page_of_another_asid_is_invalid_page_owner)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID + 1);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_OWNER);
    expect_pre_guest_untouched(0x10000);
}
END_TEST

START_TEST(update_of_a_mutable_or_already_validated_page_is_invalid_page_state)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    struct rmp_state st = {.gpa = 0x10000, .assigned = true, .size = RMP_4K, .asid = ASID};
    ck_assert_int_eq(rmp_update(rmp, 0x10000, &st), RMP_OK); /* not immutable */
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    fill_page(0x11000);
    pre_guest(0x11000, ASID);
    ck_assert_uint_eq(update(h, 0x11000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(h, 0x11000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_PAGE_STATE);
    ck_assert_uint_eq(info(h).pages_measured, 1);
}
END_TEST

START_TEST(update_outside_ram_or_off_alignment_is_invalid_address)
{
    uint64_t h = launched(ASID);
    expect_refused(h, RAM, update(h, RAM, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_ADDRESS);
    expect_refused(h, ~0ull & ~0xFFFull, update(h, ~0ull & ~0xFFFull, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_ADDRESS);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    expect_refused(h, 0x10000, update(h, 0x10800, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_ADDRESS);
    expect_refused(h, 0x10000, update_p(h, 0x10000, SNP_PAGE_TYPE_NORMAL, true, 0),
                   SEV_RET_INVALID_ADDRESS); /* not 2 MiB aligned */
    expect_refused(h, RAM, update_p(h, RAM, SNP_PAGE_TYPE_NORMAL, true, 0),
                   SEV_RET_INVALID_ADDRESS);
}
END_TEST

START_TEST(a_page_size_that_differs_from_the_rmp_entry_is_invalid_page_size)
{
    uint64_t h = launched(ASID);
    for (unsigned j = 0; j < 512; j++)
        fill_page(2 * MIB + j * PG);
    pre_guest_sized(2 * MIB, ASID, 2 * MIB, RMP_2M);
    expect_refused(h, 2 * MIB, update(h, 2 * MIB, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_SIZE);
    expect_refused(h, 2 * MIB + PG, update(h, 2 * MIB + PG, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_SIZE);
    for (unsigned j = 0; j < 512; j++)
        fill_page(4 * MIB + j * PG);
    pre_guest(4 * MIB, ASID); /* 4 KiB entries under a 2 MiB command */
    expect_refused(h, 4 * MIB, update_p(h, 4 * MIB, SNP_PAGE_TYPE_NORMAL, true, 0),
                   SEV_RET_INVALID_PAGE_SIZE);
}
END_TEST

static const struct {
    uint32_t flags, reserved_0xc, perms, reserved_0x1c;
} bad_params[] = {
    {PSP_UPDATE_TYPE(0), 0, 0, 0},                          /* no type */
    {PSP_UPDATE_TYPE(7), 0, 0, 0},                          /* undefined type */
    {PSP_UPDATE_TYPE(1) | PSP_UPDATE_IMI, 0, 0, 0},         /* IMI page */
    {PSP_UPDATE_TYPE(1) | (1u << 5), 0, 0, 0},              /* reserved flag */
    {PSP_UPDATE_TYPE(1) | (1u << 31), 0, 0, 0},
    {PSP_UPDATE_TYPE(1), 1, 0, 0},                          /* reserved dword */
    {PSP_UPDATE_TYPE(1), 0, 0, 1},
    {PSP_UPDATE_TYPE(1), 0, 0x01, 0},                       /* perms [7:0] reserved */
    {PSP_UPDATE_TYPE(1), 0, PSP_UPDATE_PERMS(0x10, 0, 0), 0}, /* undefined perm bits */
    {PSP_UPDATE_TYPE(1), 0, PSP_UPDATE_PERMS(0, 0, 0x80), 0},
    {PSP_UPDATE_TYPE(2) | PSP_UPDATE_PAGE_2M, 0, 0, 0},     /* 2 MiB VMSA */
    {PSP_UPDATE_TYPE(5) | PSP_UPDATE_PAGE_2M, 0, 0, 0},     /* 2 MiB secrets */
    {PSP_UPDATE_TYPE(6) | PSP_UPDATE_PAGE_2M, 0, 0, 0},     /* 2 MiB CPUID */
};

START_TEST(malformed_launch_update_buffers_are_invalid_param)
{
    uint64_t h = launched(ASID);
    uint64_t spa = bad_params[_i].flags & PSP_UPDATE_PAGE_2M ? 2 * MIB : 0x10000;
    fill_page(spa);
    pre_guest_sized(spa, ASID, spa, spa == 0x10000 ? RMP_4K : RMP_2M);
    struct psp_snp_launch_update c = {
        .gctx_paddr = h,
        .flags = bad_params[_i].flags,
        .reserved_0xc = bad_params[_i].reserved_0xc,
        .address = spa,
        .perms = bad_params[_i].perms,
        .reserved_0x1c = bad_params[_i].reserved_0x1c,
    };
    expect_refused(h, spa, psp_command(psp, SEV_CMD_SNP_LAUNCH_UPDATE, &c, 0),
                   SEV_RET_INVALID_PARAM);
    expect_pre_guest_untouched(spa);
}
END_TEST

/* ---- LAUNCH_UPDATE: what each page type does -------------------------------------------- */

static void expect_guest_valid(uint64_t spa, bool vmsa)
{
    struct rmp_entry e = entry(spa);
    ck_assert(e.assigned);
    ck_assert(e.validated);
    ck_assert(!e.immutable);
    ck_assert_int_eq(e.vmsa, vmsa);
    ck_assert_uint_eq(e.asid, ASID);
}

START_TEST(a_normal_page_keeps_its_bytes_and_becomes_validated)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    uint8_t want[PG];
    gen_page(0x10000, want);
    ck_assert_mem_eq(mem_ptr(&ram, 0x10000, PG), want, PG);
    expect_guest_valid(0x10000, false);
    ck_assert_uint_eq(entry(0x10000).gpa, 0x10000);
    ck_assert_uint_eq(entry(0x10000).perms[1], 0);
}
END_TEST

START_TEST(a_zero_page_is_zeroed_by_the_firmware)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_ZERO), SEV_RET_SUCCESS);
    static const uint8_t zeros[PG];
    ck_assert_mem_eq(mem_ptr(&ram, 0x10000, PG), zeros, PG);
    expect_guest_valid(0x10000, false);
}
END_TEST

START_TEST(an_unmeasured_page_keeps_its_bytes_which_do_not_enter_the_digest)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_UNMEASURED), SEV_RET_SUCCESS);
    uint8_t want[PG];
    gen_page(0x10000, want);
    ck_assert_mem_eq(mem_ptr(&ram, 0x10000, PG), want, PG);
    expect_guest_valid(0x10000, false);
    static const uint8_t zeros[48];
    uint8_t ld[48] = {0};
    ref_extend(ld, SNP_PAGE_TYPE_UNMEASURED, zeros, 0x10000, 0, 0, 0);
    ck_assert_mem_eq(info(h).digest, ld, 48);
}
END_TEST

START_TEST(the_secrets_page_is_filled_with_version_fms_gosvw_and_four_vmpcks)
{
    uint64_t h = create();
    struct psp_snp_launch_start s = {.gctx_paddr = h, .policy = POLICY};
    for (unsigned i = 0; i < 16; i++)
        s.gosvw[i] = (uint8_t)(0xC0 + i);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &s, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    fill_page(0x14000);
    pre_guest(0x14000, ASID);
    ck_assert_uint_eq(update(h, 0x14000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    const struct psp_secrets_page *sp = mem_ptr(&ram, 0x14000, PG);
    ck_assert_uint_eq(sp->version, PSP_SECRETS_VERSION);
    ck_assert_uint_eq(sp->imien, 0);
    ck_assert_uint_eq(sp->fms, 0x00A00F11);
    ck_assert_mem_eq(sp->gosvw, s.gosvw, 16);
    static const uint8_t zeros[PG];
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_mem_ne(sp->vmpck[i], zeros, PSP_VMPCK_SIZE);
        for (unsigned j = 0; j < i; j++)
            ck_assert_mem_ne(sp->vmpck[i], sp->vmpck[j], PSP_VMPCK_SIZE);
    }
    ck_assert_mem_eq(&sp->os_area, zeros, sizeof(sp->os_area));
    ck_assert_mem_eq(sp->vmsa_tweak_bitmap, zeros, sizeof(sp->vmsa_tweak_bitmap));
    ck_assert_mem_eq(sp->reserved_0x164, zeros, sizeof(sp->reserved_0x164));
    expect_guest_valid(0x14000, false);
}
END_TEST

/* The secrets page of a fresh PSP with this seed, first guest. */
static void secrets_with_seed(uint64_t seed, uint8_t out[4][PSP_VMPCK_SIZE])
{
    struct psp_config cfg;
    psp_config_default(&cfg);
    cfg.seed = seed;
    make_psp(&cfg);
    struct rmp_state none = {.size = RMP_4K};
    ck_assert_int_eq(rmp_update(rmp, 0x14000, &none), RMP_OK);
    uint64_t h = launched(ASID);
    pre_guest(0x14000, ASID);
    ck_assert_uint_eq(update(h, 0x14000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    memcpy(out, ((struct psp_secrets_page *)mem_ptr(&ram, 0x14000, PG))->vmpck,
           4 * PSP_VMPCK_SIZE);
    ck_assert_uint_eq(decommission(h), SEV_RET_SUCCESS);
    /* the firmware-validated page goes back to the hypervisor for the next round */
    struct rmp_entry e = entry(0x14000);
    memset(&e, 0, sizeof(e));
    rmp_fw_set(rmp, 0x14000, &e);
}

START_TEST(vmpcks_are_reproducible_from_the_seed_and_differ_across_seeds)
{
    uint8_t a[4][PSP_VMPCK_SIZE], b[4][PSP_VMPCK_SIZE], c[4][PSP_VMPCK_SIZE];
    secrets_with_seed(7, a);
    secrets_with_seed(7, b);
    secrets_with_seed(8, c);
    ck_assert_mem_eq(a, b, sizeof(a));
    ck_assert_mem_ne(a, c, sizeof(a));
}
END_TEST

START_TEST(two_guests_of_one_psp_get_different_vmpcks)
{
    uint64_t a = launched(ASID), b = launched(ASID + 1);
    pre_guest(0x14000, ASID);
    pre_guest(0x19000, ASID + 1);
    ck_assert_uint_eq(update(a, 0x14000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(b, 0x19000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    const struct psp_secrets_page *sa = mem_ptr(&ram, 0x14000, PG);
    const struct psp_secrets_page *sb = mem_ptr(&ram, 0x19000, PG);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_mem_ne(sa->vmpck[i], sb->vmpck[i], PSP_VMPCK_SIZE);
}
END_TEST

START_TEST(a_well_formed_cpuid_page_is_kept_and_validated)
{
    uint64_t h = launched(ASID);
    build_cpuid(mem_ptr(&ram, 0x15000, PG));
    struct psp_cpuid_page want;
    build_cpuid(&want);
    pre_guest(0x15000, ASID);
    ck_assert_uint_eq(update(h, 0x15000, SNP_PAGE_TYPE_CPUID), SEV_RET_SUCCESS);
    ck_assert_mem_eq(mem_ptr(&ram, 0x15000, PG), &want, PG);
    expect_guest_valid(0x15000, false);
}
END_TEST

START_TEST(a_cpuid_page_with_64_entries_is_accepted)
{
    uint64_t h = launched(ASID);
    struct psp_cpuid_page *t = mem_ptr(&ram, 0x15000, PG);
    memset(t, 0, PG);
    t->count = 64;
    for (unsigned i = 0; i < 64; i++)
        t->fn[i].eax_in = 0x80000000u + i;
    pre_guest(0x15000, ASID);
    ck_assert_uint_eq(update(h, 0x15000, SNP_PAGE_TYPE_CPUID), SEV_RET_SUCCESS);
}
END_TEST

static void break_count(struct psp_cpuid_page *t) { t->count = 65; }
static void break_hdr_rsvd1(struct psp_cpuid_page *t) { t->reserved_0x4 = 1; }
static void break_hdr_rsvd2(struct psp_cpuid_page *t) { t->reserved_0x8 = 1ull << 63; }
static void break_fn_rsvd(struct psp_cpuid_page *t) { t->fn[2].reserved = 1; }
static void break_duplicate(struct psp_cpuid_page *t) { t->fn[2].xcr0_in = 1; }

static void (*const cpuid_breakers[])(struct psp_cpuid_page *) = {
    break_count, break_hdr_rsvd1, break_hdr_rsvd2, break_fn_rsvd, break_duplicate,
};

START_TEST(a_malformed_cpuid_page_fails_the_command_and_stays_pre_guest)
{
    uint64_t h = launched(ASID);
    struct psp_cpuid_page *t = mem_ptr(&ram, 0x15000, PG);
    build_cpuid(t);
    cpuid_breakers[_i](t);
    struct psp_cpuid_page before = *t;
    pre_guest(0x15000, ASID);
    uint32_t rc = update(h, 0x15000, SNP_PAGE_TYPE_CPUID);
    ck_assert_msg(rc == SEV_RET_INVALID_PARAM, "%s", psp_status_name(rc));
    ck_assert_mem_eq(t, &before, PG);
    expect_pre_guest_untouched(0x15000);
    ck_assert_uint_eq(info(h).pages_measured, 0);
}
END_TEST

START_TEST(a_vmsa_page_gets_the_rmp_vmsa_bit_and_keeps_its_assigned_gpa)
{
    uint64_t h = launched(ASID);
    build_vmsa(mem_ptr(&ram, 0x17000, PG), 0);
    build_vmsa(mem_ptr(&ram, 0x18000, PG), 1);
    pre_guest_sized(0x17000, ASID, SNP_VMSA_MEASURE_GPA, RMP_4K);
    pre_guest(0x18000, ASID);
    ck_assert_uint_eq(update(h, 0x17000, SNP_PAGE_TYPE_VMSA), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(h, 0x18000, SNP_PAGE_TYPE_VMSA), SEV_RET_SUCCESS);
    expect_guest_valid(0x17000, true);
    expect_guest_valid(0x18000, true);
    ck_assert_uint_eq(entry(0x17000).gpa, SNP_VMSA_MEASURE_GPA);
    ck_assert_uint_eq(entry(0x18000).gpa, 0x18000);
    uint8_t want[PG]; /* the firmware measures a VMSA, it does not change it */
    build_vmsa(want, 1);
    ck_assert_mem_eq(mem_ptr(&ram, 0x18000, PG), want, PG);
}
END_TEST

START_TEST(a_2mib_page_is_measured_as_512_pages_and_stays_one_2mib_rmp_entry)
{
    uint64_t h = launched(ASID);
    for (unsigned j = 0; j < 512; j++)
        fill_page(2 * MIB + j * PG);
    pre_guest_sized(2 * MIB, ASID, 2 * MIB, RMP_2M);
    ck_assert_uint_eq(update_p(h, 2 * MIB, SNP_PAGE_TYPE_ZERO, true, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(info(h).pages_measured, 512);
    struct rmp_entry e = entry(2 * MIB + 511 * PG);
    ck_assert_int_eq(e.size, RMP_2M);
    expect_guest_valid(2 * MIB, false);
    static const uint8_t zeros[PG];
    for (unsigned j = 0; j < 512; j++)
        ck_assert_mem_eq(mem_ptr(&ram, 2 * MIB + j * PG, PG), zeros, PG);
    uint8_t ld[48] = {0};
    for (unsigned j = 0; j < 512; j++)
        ref_extend(ld, SNP_PAGE_TYPE_ZERO, zeros, 2 * MIB + j * PG, 0, 0, 0);
    ck_assert_mem_eq(info(h).digest, ld, 48);
}
END_TEST

/* ---- LAUNCH_FINISH and the ID block ------------------------------------------------------ */

#define BLK  0x30000ull
#define AUTH 0x31000ull

static void write_id_block(uint64_t h, uint32_t version, uint64_t policy, bool good_ld)
{
    struct psp_id_block *b = mem_ptr(&ram, BLK, sizeof(*b));
    memset(b, 0, sizeof(*b));
    memcpy(b->ld, info(h).digest, 48);
    if (!good_ld)
        b->ld[47] ^= 1;
    memset(b->family_id, 0x11, 16);
    memset(b->image_id, 0x22, 16);
    b->version = version;
    b->guest_svn = 3;
    b->policy = policy;
    struct psp_id_auth *a = mem_ptr(&ram, AUTH, sizeof(*a));
    memset(a, 0, sizeof(*a));
    a->id_key_algo = PSP_ID_ALGO_ECDSA_P384_SHA384;
    a->auth_key_algo = PSP_ID_ALGO_ECDSA_P384_SHA384;
}

static uint64_t launched_with_a_page(void)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    return h;
}

START_TEST(finish_accepts_an_id_block_with_the_launch_digest_and_policy)
{
    uint64_t h = launched_with_a_page();
    write_id_block(h, 1, POLICY, true);
    ck_assert_uint_eq(finish(h, PSP_FINISH_ID_BLOCK_EN | PSP_FINISH_AUTH_KEY_EN, BLK, AUTH),
                      SEV_RET_SUCCESS);
    struct psp_guest_info gi = info(h);
    ck_assert_int_eq(gi.state, PSP_GSTATE_RUNNING);
    ck_assert(gi.id_block_en);
    ck_assert_uint_eq(gi.id_block.guest_svn, 3);
    ck_assert_uint_eq(gi.id_block.family_id[0], 0x11);
    ck_assert_uint_eq(gi.host_data[31], 0xAB);
    flush_trace();
    char d[PSP_DIGEST_HEX_SIZE];
    psp_digest_hex(gi.digest, d);
    ck_assert_str_eq(finish_digest, d);
}
END_TEST

static const struct {
    uint32_t version;
    uint64_t policy;
    bool good_ld;
    uint32_t id_key_algo, auth_key_algo;
    uint64_t flags, blk, auth;
    uint32_t want;
} bad_finish[] = {
    {1, POLICY, false, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH, SEV_RET_BAD_MEASUREMENT},
    {1, POLICY | SNP_POLICY_DEBUG, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH,
     SEV_RET_POLICY_FAILURE},
    {2, POLICY, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 2, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 0, PSP_FINISH_ID_BLOCK_EN | PSP_FINISH_AUTH_KEY_EN, BLK, AUTH,
     SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, RAM - 16, AUTH, SEV_RET_INVALID_ADDRESS},
    {1, POLICY, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, RAM - PG + 8, SEV_RET_INVALID_ADDRESS},
    {1, POLICY, true, 1, 1, PSP_FINISH_AUTH_KEY_EN, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 1, 1ull << 3, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 1, 1ull << 63, BLK, AUTH, SEV_RET_INVALID_PARAM},
};

START_TEST(finish_refuses_a_wrong_id_block_and_stays_in_the_launch)
{
    uint64_t h = launched_with_a_page();
    write_id_block(h, bad_finish[_i].version, bad_finish[_i].policy, bad_finish[_i].good_ld);
    struct psp_id_auth *a = mem_ptr(&ram, AUTH, sizeof(*a));
    a->id_key_algo = bad_finish[_i].id_key_algo;
    a->auth_key_algo = bad_finish[_i].auth_key_algo;
    uint32_t rc = finish(h, bad_finish[_i].flags, bad_finish[_i].blk, bad_finish[_i].auth);
    ck_assert_msg(rc == bad_finish[_i].want, "%s (%s)", psp_status_name(rc), psp_why(psp));
    ck_assert_int_eq(info(h).state, PSP_GSTATE_LAUNCH);
    flush_trace();
    ck_assert_uint_eq(nfinish, 0);
    /* the hypervisor may retry with a right one */
    write_id_block(h, 1, POLICY, true);
    ck_assert_uint_eq(finish(h, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(finish_without_an_id_block_ignores_the_id_addresses)
{
    uint64_t h = launched_with_a_page();
    ck_assert_uint_eq(finish(h, PSP_FINISH_VCEK_DISABLED, ~0ull, ~0ull), SEV_RET_SUCCESS);
    ck_assert(!info(h).id_block_en);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *psp_suite(void)
{
    Suite *s = suite_create("psp");
    TCase *tc = tcase(s, "digest");
    tcase_add_test(tc, the_fixed_launch_has_the_pinned_digest);
    tcase_add_test(tc, the_digest_equals_an_independent_recomputation_from_the_fact_sheet);
    tcase_add_test(tc, the_trace_events_alone_let_an_outside_tool_recompute_the_digest);
    tcase_add_test(tc, trace_events_carry_the_gpa_type_and_contents_of_each_page_in_order);
    tcase_add_test(tc, a_launch_without_pages_finishes_with_48_zero_bytes);
    tcase_add_test(tc, vmpl_permissions_of_the_command_are_measured_and_land_in_the_rmp);
    tcase_add_test(tc, the_digest_follows_the_order_of_the_commands_not_of_the_addresses);
    tcase_add_test(tc, digest_hex_is_96_lowercase_characters);

    tc = tcase(s, "order");
    tcase_add_test(tc, gctx_create_hands_out_distinct_handles_in_the_init_state);
    tcase_add_test(tc, every_command_on_an_unknown_or_decommissioned_handle_is_invalid_guest);
    tcase_add_test(tc, an_unknown_command_or_a_missing_buffer_is_refused);
    tcase_add_test(tc, launch_start_twice_is_invalid_guest_state);
    tcase_add_test(tc, activate_needs_a_started_launch_and_happens_once);
    tcase_add_test(tc, activate_refuses_asid_zero_asids_past_the_limit_and_asids_in_use);
    tcase_add_test(tc, launch_update_needs_a_started_activated_unfinished_launch);
    tcase_add_test(tc, launch_finish_needs_a_started_activated_launch_and_happens_once);
    tcase_add_test(tc, the_psp_holds_64_contexts_and_a_decommission_frees_one);

    tc = tcase(s, "policy");
    tcase_add_loop_test(tc, launch_start_refuses_each_must_be_zero_policy_bit, 0, 64 - 26);
    tcase_add_loop_test(tc, launch_start_checks_each_policy_field_against_the_platform, 0,
                        N(policy_cases));
    tcase_add_test(tc, launch_start_refuses_reserved_flags_and_migration_agents);

    tc = tcase(s, "update checks");
    tcase_add_test(tc, update_of_an_unassigned_page_is_invalid_page_state);
    tcase_add_test(tc, update_of_a_page_assigned_at_another_gpa_is_invalid_page_state);
    tcase_add_test(tc, only_a_vmsa_may_be_assigned_at_the_vmsa_measurement_gpa);
    tcase_add_test(tc, update_of_a_page_of_another_asid_is_invalid_page_owner);
    tcase_add_test(tc, update_of_a_mutable_or_already_validated_page_is_invalid_page_state);
    tcase_add_test(tc, update_outside_ram_or_off_alignment_is_invalid_address);
    tcase_add_test(tc, a_page_size_that_differs_from_the_rmp_entry_is_invalid_page_size);
    tcase_add_loop_test(tc, malformed_launch_update_buffers_are_invalid_param, 0, N(bad_params));

    tc = tcase(s, "page types");
    tcase_add_test(tc, a_normal_page_keeps_its_bytes_and_becomes_validated);
    tcase_add_test(tc, a_zero_page_is_zeroed_by_the_firmware);
    tcase_add_test(tc, an_unmeasured_page_keeps_its_bytes_which_do_not_enter_the_digest);
    tcase_add_test(tc, the_secrets_page_is_filled_with_version_fms_gosvw_and_four_vmpcks);
    tcase_add_test(tc, vmpcks_are_reproducible_from_the_seed_and_differ_across_seeds);
    tcase_add_test(tc, two_guests_of_one_psp_get_different_vmpcks);
    tcase_add_test(tc, a_well_formed_cpuid_page_is_kept_and_validated);
    tcase_add_test(tc, a_cpuid_page_with_64_entries_is_accepted);
    tcase_add_loop_test(tc, a_malformed_cpuid_page_fails_the_command_and_stays_pre_guest, 0,
                        N(cpuid_breakers));
    tcase_add_test(tc, a_vmsa_page_gets_the_rmp_vmsa_bit_and_keeps_its_assigned_gpa);
    tcase_add_test(tc, a_2mib_page_is_measured_as_512_pages_and_stays_one_2mib_rmp_entry);

    tc = tcase(s, "finish");
    tcase_add_test(tc, finish_accepts_an_id_block_with_the_launch_digest_and_policy);
    tcase_add_loop_test(tc, finish_refuses_a_wrong_id_block_and_stays_in_the_launch, 0,
                        N(bad_finish));
    tcase_add_test(tc, finish_without_an_id_block_ignores_the_id_addresses);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(psp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
