/* SPDX-License-Identifier: MIT */
/*
 * The harness of the PSP Check suites (test_psp.c: commands, policy, page
 * types; test_psp_digest.c: the launch digest): 8 MiB of RAM with its RMP, a
 * trace whose sink keeps the launch_update / launch_finish events, a PSP with
 * the default platform, helpers that issue each command the way KVM fills its
 * buffers, deterministic page contents, and a launch-digest step written from
 * docs/sev-snp-facts.md 8.2 alone (PAGE_INFO built byte by byte, OpenSSL's one-shot
 * SHA384(), not psp.c's EVP path).
 */
#ifndef SNPREF_TEST_PSP_HARNESS_H
#define SNPREF_TEST_PSP_HARNESS_H

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

static inline void sink(void *ctx, const struct trc_rec *r)
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

static inline void flush_trace(void) { trc_advance(trc, UINT64_MAX); }

/* ---- Fixture --------------------------------------------------------------------------------- */

static inline void make_psp(const struct psp_config *cfg)
{
    psp_destroy(psp);
    psp = psp_create(&ram, rmp, trc, cfg);
    ck_assert_ptr_nonnull(psp);
    /* The platform starts UNINIT; every guest command needs SNP_INIT first. */
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT, NULL, NOW), SEV_RET_SUCCESS);
}

static inline void setup(void)
{
    char err[160];
    ck_assert_int_eq(mem_init(&ram, RAM, err, sizeof(err)), 0);
    rmp = rmp_create(RAM);
    ck_assert_ptr_nonnull(rmp);
    struct trc_header h = {"snpref test", "snp", 1, "emulated", 1000, "{}", NULL};
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

static inline void teardown(void)
{
    char err[160];
    psp_destroy(psp);
    psp = NULL;
    trc_close(trc, false, err, sizeof(err));
    rmp_destroy(rmp);
    mem_destroy(&ram);
}

/* ---- Command helpers ----------------------------------------------------------------------- */

static inline uint64_t create(void)
{
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, NOW), SEV_RET_SUCCESS);
    return a.gctx_paddr;
}

static inline uint32_t start(uint64_t h, uint64_t policy)
{
    struct psp_snp_launch_start c = {.gctx_paddr = h, .policy = policy};
    return psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, NOW);
}

static inline uint32_t activate(uint64_t h, uint32_t asid)
{
    struct psp_snp_activate c = {.gctx_paddr = h, .asid = asid};
    return psp_command(psp, SEV_CMD_SNP_ACTIVATE, &c, NOW);
}

static inline uint32_t update_p(uint64_t h, uint64_t spa, unsigned type, bool is_2m,
                                uint32_t perms)
{
    struct psp_snp_launch_update c = {
        .gctx_paddr = h,
        .flags = PSP_UPDATE_TYPE(type) | (is_2m ? PSP_UPDATE_PAGE_2M : 0),
        .address = spa,
        .perms = perms,
    };
    return psp_command(psp, SEV_CMD_SNP_LAUNCH_UPDATE, &c, NOW);
}

static inline uint32_t update(uint64_t h, uint64_t spa, unsigned type)
{
    return update_p(h, spa, type, false, 0);
}

static inline uint32_t finish(uint64_t h, uint64_t flags, uint64_t blk, uint64_t auth)
{
    struct psp_snp_launch_finish c = {
        .gctx_paddr = h, .id_block_paddr = blk, .id_auth_paddr = auth, .flags = flags};
    memset(c.host_data, 0xAB, sizeof(c.host_data));
    return psp_command(psp, SEV_CMD_SNP_LAUNCH_FINISH, &c, NOW + 1);
}

static inline uint32_t decommission(uint64_t h)
{
    struct psp_snp_addr a = {.gctx_paddr = h};
    return psp_command(psp, SEV_CMD_SNP_DECOMMISSION, &a, NOW);
}

/* GCTX_CREATE + LAUNCH_START + ACTIVATE, in KVM's order. */
static inline uint64_t launched(uint32_t asid)
{
    uint64_t h = create();
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, asid), SEV_RET_SUCCESS);
    return h;
}

static inline struct psp_guest_info info(uint64_t h)
{
    struct psp_guest_info gi;
    ck_assert(psp_guest(psp, h, &gi));
    return gi;
}

/* What KVM's rmp_make_private(pfn, gpa, level, asid, immutable = true) leaves. */
static inline void pre_guest_sized(uint64_t spa, uint32_t asid, uint64_t gpa, enum rmp_size size)
{
    struct rmp_state st = {
        .gpa = gpa, .assigned = true, .size = size, .immutable = true, .asid = asid};
    ck_assert_int_eq(rmp_update(rmp, spa, &st), RMP_OK);
}

static inline void pre_guest(uint64_t spa, uint32_t asid)
{
    pre_guest_sized(spa, asid, spa, RMP_4K);
}

static inline struct rmp_entry entry(uint64_t spa)
{
    struct rmp_entry e;
    ck_assert(rmp_lookup(rmp, spa, &e));
    return e;
}

static inline void expect_pre_guest_untouched(uint64_t spa)
{
    struct rmp_entry e = entry(spa);
    ck_assert(e.immutable);
    ck_assert(!e.validated);
    ck_assert(!e.vmsa);
}

/* ---- Deterministic page contents ----------------------------------------------------------- */

/* xorshift64 bytes seeded by the address: the pinned digest depends on them. */
static inline void gen_page(uint64_t spa, uint8_t *out)
{
    uint64_t x = spa * 0x9E3779B97F4A7C15ull + 1;
    for (unsigned i = 0; i < PG; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (uint8_t)(x >> 32);
    }
}

static inline void fill_page(uint64_t spa) { gen_page(spa, mem_ptr(&ram, spa, PG)); }

static inline struct vmcb_seg seg(uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
    return (struct vmcb_seg){.selector = sel, .attrib = attr, .limit = limit, .base = base};
}

/* The reset-state VMSA of docs/sev-snp-facts.md 2 (sev-snp-measure's QEMU flavour). */
static inline void build_vmsa(uint8_t *page, unsigned vcpu)
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

static inline void build_cpuid(struct psp_cpuid_page *t)
{
    memset(t, 0, sizeof(*t));
    t->count = 3;
    t->fn[0] = (struct psp_cpuid_fn){.eax_in = 0, .eax = 0x10, .ebx = 0x68747541};
    t->fn[1] = (struct psp_cpuid_fn){.eax_in = 0xD, .ecx_in = 0, .xcr0_in = 1, .eax = 1};
    /* same leaf/subleaf, another XCR0: a different input, allowed */
    t->fn[2] = (struct psp_cpuid_fn){.eax_in = 0xD, .ecx_in = 0, .xcr0_in = 7, .eax = 7};
}

/* ---- Reference digest, written from docs/sev-snp-facts.md 8.2 alone -------------------------- */

static inline void ref_extend(uint8_t ld[48], uint8_t type, const uint8_t contents[48],
                              uint64_t gpa, uint8_t vmpl1, uint8_t vmpl2, uint8_t vmpl3)
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

static inline void hex(const uint8_t *d, char *out)
{
    for (unsigned i = 0; i < 48; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static inline void unhex(const char *s, uint8_t *out)
{
    ck_assert_uint_eq(strlen(s), 96);
    for (unsigned i = 0; i < 48; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static inline TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    suite_add_tcase(s, tc);
    return tc;
}

#endif
