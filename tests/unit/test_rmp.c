/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the RMP (memory/rmp.c, rmp.h; docs/sev-snp-facts.md sections 6.1-6.3):
 * every status code of RMPUPDATE, PSMASH, PVALIDATE and RMPADJUST with the
 * entry left unchanged on failure; the raw entry encoding after each kind of
 * update; 2 MiB entries; and the whole access matrix (owner guest, other
 * guest, hypervisor x private/shared x read/write/fetch x validated or not x
 * VMPL0/VMPL1 with every permission mask x page kinds), whose expected verdict
 * and error bits are computed here from the rules of docs/sev-snp-facts.md
 * section 6, with the bit
 * numbers written out, not taken from the code under test.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rmp.h"
#include "ck_run.h"

#define MIB   (1ull << 20)
#define RAM   (8 * MIB) /* four 2 MiB regions */
#define PG    0x1000ull
#define R2M   0x200000ull
#define OWNER 1u
#define OTHER 2u

/* Raw low-u64 fields (docs/sev-snp-facts.md 6.1) and the model's high-u64 choice (rmp.h). */
#define LO_ASSIGNED   (1ull << 0)
#define LO_PAGESIZE   (1ull << 1)
#define LO_IMMUTABLE  (1ull << 2)
#define LO_ASID(a)    ((uint64_t)(a) << 51)
#define LO_VMSA       (1ull << 61)
#define LO_VALIDATED  (1ull << 62)
#define HI_PERMS(v, p) ((uint64_t)(p) << (4 * ((v)-1)))
#define HI_IN_USE     (1ull << 63)

/* #NPF EXITINFO1 bits (docs/sev-snp-facts.md 6.2). */
#define E_P     (1ull << 0)
#define E_W     (1ull << 1)
#define E_U     (1ull << 2)
#define E_FETCH (1ull << 4)
#define E_RMP   (1ull << 31)
#define E_FINAL (1ull << 32)
#define E_PT    (1ull << 33)
#define E_ENC   (1ull << 34)
#define E_SIZEM (1ull << 35)
#define E_VMPL  (1ull << 36)
/* What a PVALIDATE/RMPADJUST #NPF reports (rmp.h). */
#define E_INSTR (E_P | E_RMP | E_ENC | E_FINAL)

/* RMPADJUST attributes (docs/sev-snp-facts.md 6.3). */
#define ADJ(target, perms) ((uint64_t)(target) | ((uint64_t)(perms) << 8))
#define ADJ_VMSA           (1ull << 16)

static struct rmp *g_r;

static void setup(void)
{
    g_r = rmp_create(RAM);
    ck_assert_ptr_nonnull(g_r);
}

static void teardown(void)
{
    rmp_destroy(g_r);
    g_r = NULL;
}

static struct rmp_state state(uint64_t gpa, uint32_t asid, enum rmp_size size)
{
    return (struct rmp_state){.gpa = gpa, .assigned = true, .size = size, .asid = asid};
}

static const struct rmp_state shared_4k = {.size = RMP_4K};
static const struct rmp_state shared_2m = {.size = RMP_2M};

static void assign(uint64_t spa, uint32_t asid, enum rmp_size size)
{
    struct rmp_state st = state(spa, asid, size);
    ck_assert_int_eq(rmp_update(g_r, spa, &st), RMP_OK);
}

static struct rmp_entry look(uint64_t spa)
{
    struct rmp_entry e;
    ck_assert(rmp_lookup(g_r, spa, &e));
    return e;
}

/* Field by field: the struct has padding. */
static void assert_entry_eq(const struct rmp_entry *a, const struct rmp_entry *b)
{
    ck_assert(a->assigned == b->assigned && a->size == b->size && a->immutable == b->immutable);
    ck_assert(a->vmsa == b->vmsa && a->validated == b->validated);
    ck_assert_uint_eq(a->gpa, b->gpa);
    ck_assert_uint_eq(a->asid, b->asid);
    ck_assert_mem_eq(a->perms, b->perms, sizeof(a->perms));
}

static uint64_t raw_lo(uint64_t spa)
{
    uint64_t raw[2];
    rmp_raw(g_r, spa, raw);
    return raw[0];
}

static uint64_t raw_hi(uint64_t spa)
{
    uint64_t raw[2];
    rmp_raw(g_r, spa, raw);
    return raw[1];
}

/* Snapshot of every raw slot, to show that a refused instruction changed nothing. */
struct snap {
    uint64_t raw[RAM / PG][2];
};
static struct snap g_before;

static void take(struct snap *s)
{
    for (uint64_t i = 0; i < RAM / PG; i++)
        rmp_raw(g_r, i * PG, s->raw[i]);
}

static void assert_unchanged(void)
{
    static struct snap now;
    take(&now);
    ck_assert_mem_eq(&now, &g_before, sizeof(now));
}

static void validate(uint64_t gpa, unsigned size)
{
    struct rmp_result res = rmp_pvalidate(g_r, OWNER, 0, gpa, size, true);
    ck_assert(!res.npf);
    ck_assert_int_eq(res.rc, RMP_OK);
}

static void adjust_ok(uint64_t gpa, unsigned vmpl, unsigned size, uint64_t attrs)
{
    struct rmp_result res = rmp_rmpadjust(g_r, OWNER, vmpl, gpa, size, attrs);
    ck_assert(!res.npf);
    ck_assert_int_eq(res.rc, RMP_OK);
}

static void assert_status(struct rmp_result res, enum rmp_rc rc)
{
    ck_assert_msg(!res.npf, "unexpected #NPF (%s)", res.reason ? res.reason : "");
    ck_assert_int_eq(res.rc, rc);
}

static void assert_npf(struct rmp_result res, uint64_t error)
{
    ck_assert(res.npf);
    ck_assert_uint_eq(res.npf_error, error);
    ck_assert_ptr_nonnull(res.reason);
}

/* ---- RMPUPDATE ---------------------------------------------------------------------- */

START_TEST(rmpupdate_assigns_a_4k_page_unvalidated_with_no_vmpl1_to_3_rights)
{
    struct rmp_state st = state(0x9000, OWNER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &st), RMP_OK);
    struct rmp_entry e = look(0x5000);
    ck_assert(e.assigned && !e.immutable && !e.vmsa && !e.validated);
    ck_assert_int_eq(e.size, RMP_4K);
    ck_assert_uint_eq(e.gpa, 0x9000);
    ck_assert_uint_eq(e.asid, OWNER);
    static const uint8_t perms[4] = {RMP_PERM_ALL, 0, 0, 0};
    ck_assert_mem_eq(e.perms, perms, 4);
    ck_assert(!look(0x4000).assigned);
    ck_assert(!look(0x6000).assigned);
    /* Back to the hypervisor: all-zero state except the size. */
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &shared_4k), RMP_OK);
    ck_assert(!look(0x5000).assigned);
    ck_assert_uint_eq(raw_lo(0x5000), 0);
}
END_TEST

static const struct {
    uint64_t spa;
    struct rmp_state st;
} bad_updates[] = {
    {0x5800, {.gpa = 0x5000, .assigned = true, .size = RMP_4K, .asid = 1}},
    {0x5001, {.gpa = 0x5000, .assigned = true, .size = RMP_4K, .asid = 1}},
    {0x1000, {.gpa = 0, .assigned = true, .size = RMP_2M, .asid = 1}},
    {0x300000, {.gpa = 0x200000, .assigned = true, .size = RMP_2M, .asid = 1}},
    {RAM, {.gpa = 0, .assigned = true, .size = RMP_4K, .asid = 1}},
    {RAM, {.size = RMP_4K}},
    {RAM + R2M, {.gpa = 0, .assigned = true, .size = RMP_2M, .asid = 1}},
    {~0xFFFull, {.gpa = 0, .assigned = true, .size = RMP_4K, .asid = 1}},
    {~(R2M - 1), {.size = RMP_2M}},
    {0x5000, {.gpa = 0x5000, .assigned = true, .size = (enum rmp_size)2, .asid = 1}},
    {0x5000, {.gpa = 0x5000, .assigned = true, .size = RMP_4K, .asid = 1024}},
    {0x5000, {.gpa = 0x5800, .assigned = true, .size = RMP_4K, .asid = 1}},
    {0x200000, {.gpa = 0x201000, .assigned = true, .size = RMP_2M, .asid = 1}},
    {0x5000, {.gpa = 1ull << 51, .assigned = true, .size = RMP_4K, .asid = 1}},
    {0x5000, {.gpa = 0x5000, .size = RMP_4K}},
    {0x5000, {.asid = 1, .size = RMP_4K}},
    {0x5000, {.immutable = true, .size = RMP_4K}},
};

START_TEST(rmpupdate_refuses_misaligned_outside_or_malformed_requests_with_fail_input)
{
    assign(0x5000, OWNER, RMP_4K); /* something to leave alone */
    take(&g_before);
    ck_assert_int_eq(rmp_update(g_r, bad_updates[_i].spa, &bad_updates[_i].st), RMP_FAIL_INPUT);
    assert_unchanged();
}
END_TEST

START_TEST(rmpupdate_refuses_to_change_an_immutable_entry_with_fail_permission)
{
    struct rmp_state st = state(0x5000, OWNER, RMP_4K);
    st.immutable = true;
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &st), RMP_OK);
    ck_assert(look(0x5000).immutable);
    /* A 2 MiB immutable entry (the PSP sets those) and a 4 KiB update inside it:
     * the permission failure comes before the overlap. */
    struct rmp_entry big = {.assigned = true, .size = RMP_2M, .immutable = true,
                            .gpa = 0x400000, .asid = OWNER};
    rmp_fw_set(g_r, 0x400000, &big);
    take(&g_before);
    struct rmp_state other = state(0x5000, OTHER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &shared_4k), RMP_FAIL_PERMISSION);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &other), RMP_FAIL_PERMISSION);
    ck_assert_int_eq(rmp_update(g_r, 0x0, &shared_2m), RMP_FAIL_PERMISSION);
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &shared_2m), RMP_FAIL_PERMISSION);
    ck_assert_int_eq(rmp_update(g_r, 0x5FF000, &shared_4k), RMP_FAIL_PERMISSION);
    assert_unchanged();
}
END_TEST

START_TEST(rmpupdate_refuses_a_vmsa_a_vcpu_runs_from_with_fail_inuse)
{
    assign(0x5000, OWNER, RMP_4K);
    validate(0x5000, RMP_4K);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, 0) | ADJ_VMSA);
    rmp_set_vmsa_in_use(g_r, 0x5000, true);
    ck_assert(rmp_vmsa_in_use(g_r, 0x5000));
    take(&g_before);
    struct rmp_state other = state(0x5000, OTHER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &shared_4k), RMP_FAIL_INUSE);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &other), RMP_FAIL_INUSE);
    ck_assert_int_eq(rmp_update(g_r, 0x0, &shared_2m), RMP_FAIL_INUSE);
    assert_unchanged();
    /* Once the vCPU stopped, the page can go back. */
    rmp_set_vmsa_in_use(g_r, 0x5000, false);
    ck_assert(!rmp_vmsa_in_use(g_r, 0x5000));
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &shared_4k), RMP_OK);
}
END_TEST

START_TEST(rmpupdate_reports_overlap_for_a_4k_update_inside_an_assigned_2m_entry)
{
    assign(0x200000, OWNER, RMP_2M);
    take(&g_before);
    static const uint64_t at[] = {0x200000, 0x201000, 0x2A7000, 0x3FF000};
    for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        struct rmp_state st = state(at[i], OWNER, RMP_4K);
        ck_assert_int_eq(rmp_update(g_r, at[i], &st), RMP_FAIL_OVERLAP);
        ck_assert_int_eq(rmp_update(g_r, at[i], &shared_4k), RMP_FAIL_OVERLAP);
    }
    assert_unchanged();
    /* Outside the 2 MiB entry, 4 KiB updates go through. */
    assign(0x1FF000, OWNER, RMP_4K);
    assign(0x400000, OWNER, RMP_4K);
}
END_TEST

START_TEST(rmpupdate_reports_overlap_for_a_2m_update_over_assigned_4k_entries_that_differ)
{
    struct rmp_state big = state(0x400000, OWNER, RMP_2M);
    /* Another guest's page inside the range. */
    assign(0x407000, OTHER, RMP_4K);
    take(&g_before);
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &big), RMP_FAIL_OVERLAP);
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &shared_2m), RMP_FAIL_OVERLAP);
    assert_unchanged();
    /* The same guest's page, but not at the GPA the 2 MiB page gives it. */
    struct rmp_state wrong = state(0x9000, OWNER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x407000, &wrong), RMP_OK);
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &big), RMP_FAIL_OVERLAP);
    /* The head slot counts as well. */
    assign(0x407000, OWNER, RMP_4K);
    assign(0x400000, OTHER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &big), RMP_FAIL_OVERLAP);
    /* Only matching pages of the same guest: the 2 MiB entry takes them over. */
    assign(0x400000, OWNER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &big), RMP_OK);
    for (uint64_t a = 0x400000; a < 0x600000; a += PG) {
        struct rmp_entry e = look(a);
        ck_assert(e.assigned && e.size == RMP_2M && e.gpa == 0x400000 && e.asid == OWNER);
    }
    /* The 4 KiB entries it took over do not come back when it is made shared. */
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &shared_2m), RMP_OK);
    for (uint64_t a = 0x400000; a < 0x600000; a += PG)
        ck_assert(!look(a).assigned);
}
END_TEST

/* ---- PSMASH ------------------------------------------------------------------------- */

START_TEST(psmash_splits_a_2m_entry_into_512_4k_entries_that_keep_every_field)
{
    struct rmp_entry big = {.assigned = true, .size = RMP_2M, .immutable = true,
                            .gpa = 0x600000, .asid = OWNER, .validated = true,
                            .perms = {RMP_PERM_ALL, RMP_PERM_R | RMP_PERM_XS, 0, RMP_PERM_W}};
    rmp_fw_set(g_r, 0x200000, &big);
    ck_assert_int_eq(rmp_psmash(g_r, 0x200000), RMP_OK);
    for (uint64_t i = 0; i < 512; i++) {
        struct rmp_entry e = look(0x200000 + i * PG);
        ck_assert(e.assigned && e.immutable && e.validated && !e.vmsa);
        ck_assert_int_eq(e.size, RMP_4K);
        ck_assert_uint_eq(e.gpa, 0x600000 + i * PG);
        ck_assert_uint_eq(e.asid, OWNER);
        ck_assert_mem_eq(e.perms, big.perms, 4);
        ck_assert_uint_eq(raw_lo(0x200000 + i * PG), LO_ASSIGNED | LO_IMMUTABLE | LO_VALIDATED |
                                                         (0x600000 + i * PG) | LO_ASID(OWNER));
    }
    /* Set up through the instructions too, unvalidated this time. */
    assign(0x400000, OTHER, RMP_2M);
    ck_assert_int_eq(rmp_psmash(g_r, 0x400000), RMP_OK);
    ck_assert(!look(0x5FF000).validated);
    ck_assert_uint_eq(look(0x5FF000).gpa, 0x5FF000);
    ck_assert_uint_eq(look(0x5FF000).asid, OTHER);
}
END_TEST

START_TEST(psmash_refuses_misaligned_outside_unassigned_and_4k_entries_with_fail_input)
{
    assign(0x200000, OWNER, RMP_2M);
    assign(0x400000, OWNER, RMP_4K);                               /* head is a 4 KiB entry */
    ck_assert_int_eq(rmp_update(g_r, 0x600000, &shared_2m), RMP_OK); /* unassigned, 2 MiB */
    take(&g_before);
    ck_assert_int_eq(rmp_psmash(g_r, 0x201000), RMP_FAIL_INPUT);
    ck_assert_int_eq(rmp_psmash(g_r, 0x300000), RMP_FAIL_INPUT);
    ck_assert_int_eq(rmp_psmash(g_r, RAM), RMP_FAIL_INPUT);
    ck_assert_int_eq(rmp_psmash(g_r, ~(R2M - 1)), RMP_FAIL_INPUT);
    ck_assert_int_eq(rmp_psmash(g_r, 0x0), RMP_FAIL_INPUT);
    ck_assert_int_eq(rmp_psmash(g_r, 0x400000), RMP_FAIL_INPUT);
    ck_assert_int_eq(rmp_psmash(g_r, 0x600000), RMP_FAIL_INPUT);
    assert_unchanged();
}
END_TEST

/* ---- PVALIDATE ---------------------------------------------------------------------- */

START_TEST(pvalidate_sets_and_clears_the_validated_bit_of_4k_and_2m_entries)
{
    assign(0x5000, OWNER, RMP_4K);
    assign(0x200000, OWNER, RMP_2M);
    struct rmp_result res = rmp_pvalidate(g_r, OWNER, 0, 0x5000, RMP_4K, true);
    assert_status(res, RMP_OK);
    ck_assert(!res.cf);
    ck_assert(look(0x5000).validated);
    ck_assert(!look(0x6000).validated);
    res = rmp_pvalidate(g_r, OWNER, 0, 0x200000, RMP_2M, true);
    assert_status(res, RMP_OK);
    ck_assert(!res.cf);
    ck_assert(look(0x200000).validated && look(0x3FF000).validated);
    res = rmp_pvalidate(g_r, OWNER, 0, 0x5000, RMP_4K, false);
    assert_status(res, RMP_OK);
    ck_assert(!res.cf);
    ck_assert(!look(0x5000).validated);
    res = rmp_pvalidate(g_r, OWNER, 0, 0x200000, RMP_2M, false);
    assert_status(res, RMP_OK);
    ck_assert(!look(0x2A7000).validated);
}
END_TEST

START_TEST(pvalidate_sets_cf_and_changes_nothing_when_the_bit_already_has_that_value)
{
    assign(0x5000, OWNER, RMP_4K);
    assign(0x200000, OWNER, RMP_2M);
    /* Rescinding what is not validated. */
    take(&g_before);
    struct rmp_result res = rmp_pvalidate(g_r, OWNER, 0, 0x5000, RMP_4K, false);
    assert_status(res, RMP_OK);
    ck_assert(res.cf);
    res = rmp_pvalidate(g_r, OWNER, 0, 0x200000, RMP_2M, false);
    assert_status(res, RMP_OK);
    ck_assert(res.cf);
    assert_unchanged();
    /* Validating what is validated. */
    validate(0x5000, RMP_4K);
    validate(0x200000, RMP_2M);
    take(&g_before);
    res = rmp_pvalidate(g_r, OWNER, 0, 0x5000, RMP_4K, true);
    assert_status(res, RMP_OK);
    ck_assert(res.cf);
    res = rmp_pvalidate(g_r, OWNER, 0, 0x200000, RMP_2M, true);
    assert_status(res, RMP_OK);
    ck_assert(res.cf);
    assert_unchanged();
}
END_TEST

START_TEST(pvalidate_refuses_a_bad_size_or_misaligned_gpa_with_fail_input)
{
    assign(0x5000, OWNER, RMP_4K);
    assign(0x200000, OWNER, RMP_2M);
    take(&g_before);
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x5000, 2, true), RMP_FAIL_INPUT);
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x5000, 0xFFFFFFFFu, true), RMP_FAIL_INPUT);
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x5008, RMP_4K, true), RMP_FAIL_INPUT);
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x5FFF, RMP_4K, true), RMP_FAIL_INPUT);
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x201000, RMP_2M, true), RMP_FAIL_INPUT);
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x300000, RMP_2M, true), RMP_FAIL_INPUT);
    assert_unchanged();
}
END_TEST

START_TEST(pvalidate_above_vmpl0_or_on_an_immutable_entry_is_fail_permission)
{
    assign(0x5000, OWNER, RMP_4K);
    struct rmp_state st = state(0x6000, OWNER, RMP_4K);
    st.immutable = true;
    ck_assert_int_eq(rmp_update(g_r, 0x6000, &st), RMP_OK);
    take(&g_before);
    for (unsigned vmpl = 1; vmpl < 4; vmpl++) {
        assert_status(rmp_pvalidate(g_r, OWNER, vmpl, 0x5000, RMP_4K, true), RMP_FAIL_PERMISSION);
        assert_status(rmp_pvalidate(g_r, OWNER, vmpl, 0x5000, RMP_4K, false),
                      RMP_FAIL_PERMISSION);
    }
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x6000, RMP_4K, true), RMP_FAIL_PERMISSION);
    assert_unchanged();
}
END_TEST

START_TEST(pvalidate_2m_on_4k_entries_is_fail_sizemismatch)
{
    assign(0x200000, OWNER, RMP_4K);
    assign(0x201000, OWNER, RMP_4K);
    take(&g_before);
    assert_status(rmp_pvalidate(g_r, OWNER, 0, 0x200000, RMP_2M, true), RMP_FAIL_SIZEMISMATCH);
    assert_unchanged();
    /* The guest's fallback: 4 KiB at a time. */
    validate(0x200000, RMP_4K);
}
END_TEST

START_TEST(pvalidate_4k_inside_a_2m_entry_is_an_npf_with_sizem_until_psmash)
{
    assign(0x200000, OWNER, RMP_2M);
    take(&g_before);
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x2A7000, RMP_4K, true), E_INSTR | E_SIZEM);
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x200000, RMP_4K, true), E_INSTR | E_SIZEM);
    assert_unchanged();
    /* What KVM does about it: PSMASH, then the guest retries. */
    ck_assert_int_eq(rmp_psmash(g_r, 0x200000), RMP_OK);
    validate(0x2A7000, RMP_4K);
    ck_assert(look(0x2A7000).validated && !look(0x2A8000).validated);
}
END_TEST

START_TEST(pvalidate_of_a_page_not_the_callers_at_that_gpa_is_an_npf)
{
    assign(0x6000, OTHER, RMP_4K);
    struct rmp_state moved = state(0x9000, OWNER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x7000, &moved), RMP_OK);
    assign(0x200000, OTHER, RMP_2M);
    struct rmp_state moved2m = state(0x600000, OWNER, RMP_2M);
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &moved2m), RMP_OK);
    take(&g_before);
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x5000, RMP_4K, true), E_INSTR); /* not assigned */
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x6000, RMP_4K, true), E_INSTR); /* other ASID */
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x7000, RMP_4K, true), E_INSTR); /* other GPA */
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x200000, RMP_2M, true), E_INSTR);
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x400000, RMP_2M, true), E_INSTR);
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, RAM, RMP_4K, true), E_INSTR); /* beyond RAM */
    /* Ownership is checked before the size. */
    assert_npf(rmp_pvalidate(g_r, OWNER, 0, 0x2A7000, RMP_4K, true), E_INSTR);
    assert_unchanged();
}
END_TEST

/* ---- RMPADJUST ---------------------------------------------------------------------- */

START_TEST(rmpadjust_sets_the_permissions_of_the_target_vmpl_only)
{
    assign(0x5000, OWNER, RMP_4K);
    for (unsigned target = 1; target < 4; target++) {
        for (uint8_t p = 0; p < 16; p++) {
            struct rmp_entry before = look(0x5000);
            adjust_ok(0x5000, 0, RMP_4K, ADJ(target, p));
            struct rmp_entry e = look(0x5000);
            for (unsigned v = 0; v < 4; v++)
                ck_assert_uint_eq(e.perms[v], v == target ? p : before.perms[v]);
            ck_assert(!e.vmsa && !e.validated && e.asid == OWNER);
        }
    }
    /* VMPL1 hands VMPL2/3 what it holds itself. */
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, RMP_PERM_R | RMP_PERM_W));
    adjust_ok(0x5000, 1, RMP_4K, ADJ(2, RMP_PERM_R));
    adjust_ok(0x5000, 1, RMP_4K, ADJ(3, RMP_PERM_R | RMP_PERM_W));
    ck_assert_uint_eq(look(0x5000).perms[2], RMP_PERM_R);
    ck_assert_uint_eq(look(0x5000).perms[3], RMP_PERM_R | RMP_PERM_W);
    /* 2 MiB entries too. */
    assign(0x200000, OWNER, RMP_2M);
    adjust_ok(0x200000, 0, RMP_2M, ADJ(2, RMP_PERM_XU));
    ck_assert_uint_eq(look(0x3FF000).perms[2], RMP_PERM_XU);
}
END_TEST

START_TEST(rmpadjust_sets_and_clears_the_vmsa_bit)
{
    assign(0x5000, OWNER, RMP_4K);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, 0) | ADJ_VMSA); /* Linux snp_set_vmsa() */
    ck_assert(look(0x5000).vmsa);
    ck_assert(!look(0x6000).vmsa);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, 0));
    ck_assert(!look(0x5000).vmsa);
}
END_TEST

START_TEST(rmpadjust_refuses_a_target_not_below_the_caller_or_rights_it_lacks_with_fail_permission)
{
    assign(0x5000, OWNER, RMP_4K);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, RMP_PERM_R | RMP_PERM_XS));
    struct rmp_state st = state(0x6000, OWNER, RMP_4K);
    st.immutable = true;
    ck_assert_int_eq(rmp_update(g_r, 0x6000, &st), RMP_OK);
    take(&g_before);
    for (unsigned vmpl = 0; vmpl < 4; vmpl++)
        for (unsigned target = 0; target <= vmpl; target++)
            assert_status(rmp_rmpadjust(g_r, OWNER, vmpl, 0x5000, RMP_4K, ADJ(target, 0)),
                          RMP_FAIL_PERMISSION);
    assert_status(rmp_rmpadjust(g_r, OWNER, 1, 0x5000, RMP_4K, ADJ(2, RMP_PERM_W)),
                  RMP_FAIL_PERMISSION);
    assert_status(rmp_rmpadjust(g_r, OWNER, 1, 0x5000, RMP_4K, ADJ(3, RMP_PERM_ALL)),
                  RMP_FAIL_PERMISSION);
    assert_status(rmp_rmpadjust(g_r, OWNER, 0, 0x6000, RMP_4K, ADJ(1, RMP_PERM_R)),
                  RMP_FAIL_PERMISSION);
    assert_unchanged();
}
END_TEST

START_TEST(rmpadjust_refuses_bad_size_alignment_or_attributes_with_fail_input)
{
    assign(0x5000, OWNER, RMP_4K);
    assign(0x200000, OWNER, RMP_2M);
    take(&g_before);
    static const struct {
        uint64_t gpa;
        unsigned size;
        uint64_t attrs;
    } bad[] = {
        {0x5000, 2, ADJ(1, 1)},
        {0x5010, RMP_4K, ADJ(1, 1)},
        {0x201000, RMP_2M, ADJ(1, 1)},
        {0x5000, RMP_4K, ADJ(4, 1)},
        {0x5000, RMP_4K, ADJ(0xFF, 1)},
        {0x5000, RMP_4K, ADJ(1, 1) | (1ull << 12)},
        {0x5000, RMP_4K, ADJ(1, 1) | (1ull << 17)},
        {0x5000, RMP_4K, ADJ(1, 1) | (1ull << 63)},
        {0x200000, RMP_2M, ADJ(1, 0) | ADJ_VMSA},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_status(rmp_rmpadjust(g_r, OWNER, 0, bad[i].gpa, bad[i].size, bad[i].attrs),
                      RMP_FAIL_INPUT);
    assert_unchanged();
}
END_TEST

START_TEST(rmpadjust_2m_on_4k_entries_is_fail_sizemismatch_and_4k_on_2m_an_npf_with_sizem)
{
    assign(0x200000, OWNER, RMP_4K);
    assign(0x400000, OWNER, RMP_2M);
    take(&g_before);
    assert_status(rmp_rmpadjust(g_r, OWNER, 0, 0x200000, RMP_2M, ADJ(1, 1)),
                  RMP_FAIL_SIZEMISMATCH);
    assert_npf(rmp_rmpadjust(g_r, OWNER, 0, 0x401000, RMP_4K, ADJ(1, 0) | ADJ_VMSA),
               E_INSTR | E_SIZEM);
    assert_unchanged();
}
END_TEST

START_TEST(a_linux_style_host_psmashes_after_fail_overlap_and_its_rmpupdate_then_succeeds)
{
    /* Linux arch/x86/virt/svm/sev.c: rmpupdate() retries FAIL_OVERLAP (a transient
     * code there); KVM splits a 2 MiB entry before converting a 4 KiB page in it. */
    struct rmp_state big = {0x200000, true, RMP_2M, false, OWNER};
    ck_assert_int_eq(rmp_update(g_r, 0x200000, &big), RMP_OK);
    struct rmp_state shared = {0, false, RMP_4K, false, 0};
    ck_assert_int_eq(rmp_update(g_r, 0x203000, &shared), RMP_FAIL_OVERLAP);
    ck_assert_int_eq(rmp_psmash(g_r, 0x200000), RMP_OK);
    ck_assert_int_eq(rmp_update(g_r, 0x203000, &shared), RMP_OK);
    struct rmp_entry e;
    ck_assert(rmp_lookup(g_r, 0x203000, &e) && !e.assigned);
    ck_assert(rmp_lookup(g_r, 0x204000, &e) && e.assigned && e.size == RMP_4K && e.gpa == 0x204000);
    /* A retry loop on FAIL_OVERLAP ends: a second PSMASH is FAIL_INPUT, never INUSE. */
    ck_assert_int_eq(rmp_psmash(g_r, 0x200000), RMP_FAIL_INPUT);
}
END_TEST

START_TEST(rmpadjust_refuses_to_clear_the_vmsa_bit_of_a_vmsa_in_use_with_fail_permission)
{
    assign(0x5000, OWNER, RMP_4K);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, 0) | ADJ_VMSA);
    rmp_set_vmsa_in_use(g_r, 0x5000, true);
    take(&g_before);
    /* Not FAIL_INUSE: coconut-svsm's rmp_adjust knows only 0, 1, 2 and 6
     * (docs/ghcb-validation.md "RMP instructions"). */
    assert_status(rmp_rmpadjust(g_r, OWNER, 0, 0x5000, RMP_4K, ADJ(1, 0)), RMP_FAIL_PERMISSION);
    assert_unchanged();
    /* Keeping the bit is fine; after AP_DESTROY clearing it is too. */
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, RMP_PERM_R) | ADJ_VMSA);
    rmp_set_vmsa_in_use(g_r, 0x5000, false);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, 0));
    ck_assert(!look(0x5000).vmsa);
}
END_TEST

START_TEST(rmpadjust_on_a_page_not_the_callers_at_that_gpa_is_an_npf)
{
    assign(0x6000, OTHER, RMP_4K);
    struct rmp_state moved = state(0x9000, OWNER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, 0x7000, &moved), RMP_OK);
    take(&g_before);
    assert_npf(rmp_rmpadjust(g_r, OWNER, 0, 0x5000, RMP_4K, ADJ(1, 1)), E_INSTR);
    assert_npf(rmp_rmpadjust(g_r, OWNER, 0, 0x6000, RMP_4K, ADJ(1, 1) | ADJ_VMSA), E_INSTR);
    assert_npf(rmp_rmpadjust(g_r, OWNER, 0, 0x7000, RMP_4K, ADJ(1, 1)), E_INSTR);
    assert_npf(rmp_rmpadjust(g_r, OWNER, 0, 0x400000, RMP_2M, ADJ(1, 1)), E_INSTR);
    assert_unchanged();
}
END_TEST

/* ---- Raw encoding and 2 MiB entries ------------------------------------------------- */

START_TEST(raw_entry_shows_the_documented_bits_after_each_kind_of_update)
{
    const uint64_t spa = 0x5000, gpa = 0x7FFFFFFFFF000ull; /* GPA[50:12] all ones */
    struct rmp_state st = state(gpa, 1023, RMP_4K);          /* ASID[60:51] all ones */
    ck_assert_int_eq(rmp_update(g_r, spa, &st), RMP_OK);
    uint64_t lo = LO_ASSIGNED | gpa | LO_ASID(1023);
    ck_assert_uint_eq(lo, 0x1FFFFFFFFFFFF001ull); /* nothing spills into 61-63 */
    ck_assert_uint_eq(raw_lo(spa), lo);
    ck_assert_uint_eq(raw_hi(spa), 0);

    st = state(spa, OWNER, RMP_4K);
    ck_assert_int_eq(rmp_update(g_r, spa, &st), RMP_OK);
    lo = LO_ASSIGNED | spa | LO_ASID(OWNER);
    ck_assert_uint_eq(raw_lo(spa), lo);
    validate(spa, RMP_4K);
    ck_assert_uint_eq(raw_lo(spa), lo | LO_VALIDATED);
    adjust_ok(spa, 0, RMP_4K, ADJ(1, RMP_PERM_R | RMP_PERM_W) | ADJ_VMSA);
    ck_assert_uint_eq(raw_lo(spa), lo | LO_VALIDATED | LO_VMSA);
    ck_assert_uint_eq(raw_hi(spa), HI_PERMS(1, 0x3));
    adjust_ok(spa, 0, RMP_4K, ADJ(2, RMP_PERM_XU) | ADJ_VMSA);
    adjust_ok(spa, 0, RMP_4K, ADJ(3, RMP_PERM_XS) | ADJ_VMSA);
    ck_assert_uint_eq(raw_hi(spa), HI_PERMS(1, 0x3) | HI_PERMS(2, 0x4) | HI_PERMS(3, 0x8));
    rmp_set_vmsa_in_use(g_r, spa, true);
    ck_assert_uint_eq(raw_hi(spa), 0x843ull | HI_IN_USE);
    ck_assert_uint_eq(raw_lo(spa), lo | LO_VALIDATED | LO_VMSA);
    rmp_set_vmsa_in_use(g_r, spa, false);

    st = state(0x6000, OTHER, RMP_4K);
    st.immutable = true;
    ck_assert_int_eq(rmp_update(g_r, 0x6000, &st), RMP_OK);
    ck_assert_uint_eq(raw_lo(0x6000), LO_ASSIGNED | LO_IMMUTABLE | 0x6000 | LO_ASID(OTHER));

    assign(0x200000, OWNER, RMP_2M);
    ck_assert_uint_eq(raw_lo(0x200000), LO_ASSIGNED | LO_PAGESIZE | 0x200000 | LO_ASID(OWNER));
    ck_assert_int_eq(rmp_update(g_r, 0x400000, &shared_2m), RMP_OK);
    ck_assert_uint_eq(raw_lo(0x400000), LO_PAGESIZE);
}
END_TEST

START_TEST(a_2m_entry_sits_in_its_aligned_slot_and_governs_all_512_pages)
{
    assign(0x1FF000, OTHER, RMP_4K);
    assign(0x400000, OTHER, RMP_4K);
    assign(0x200000, OWNER, RMP_2M);
    validate(0x200000, RMP_2M);
    struct rmp_entry head = look(0x200000);
    ck_assert(head.assigned && head.validated && head.size == RMP_2M && head.gpa == 0x200000);
    for (uint64_t a = 0x200000; a < 0x400000; a += PG) {
        struct rmp_entry e = look(a + 0xABC);
        assert_entry_eq(&e, &head);
        if (a != 0x200000) {
            ck_assert_uint_eq(raw_lo(a), 0);
            ck_assert_uint_eq(raw_hi(a), 0);
        }
    }
    /* The neighbours are their own entries. */
    ck_assert_uint_eq(look(0x1FF000).asid, OTHER);
    ck_assert_uint_eq(look(0x400000).asid, OTHER);
    ck_assert_int_eq(look(0x400000).size, RMP_4K);
}
END_TEST

START_TEST(reassignment_clears_validated_vmsa_and_permissions)
{
    assign(0x5000, OWNER, RMP_4K);
    validate(0x5000, RMP_4K);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(1, RMP_PERM_ALL) | ADJ_VMSA);
    adjust_ok(0x5000, 0, RMP_4K, ADJ(3, RMP_PERM_R));
    /* Straight to another guest. */
    assign(0x5000, OTHER, RMP_4K);
    ck_assert_uint_eq(raw_lo(0x5000), LO_ASSIGNED | 0x5000 | LO_ASID(OTHER));
    ck_assert_uint_eq(raw_hi(0x5000), 0);
    /* Through the hypervisor and back to the same guest. */
    struct rmp_state st = state(0x5000, OTHER, RMP_4K);
    ck_assert_int_eq(rmp_pvalidate(g_r, OTHER, 0, 0x5000, RMP_4K, true).rc, RMP_OK);
    ck_assert_int_eq(rmp_rmpadjust(g_r, OTHER, 0, 0x5000, RMP_4K, ADJ(2, 3)).rc, RMP_OK);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &shared_4k), RMP_OK);
    ck_assert_uint_eq(raw_lo(0x5000), 0);
    ck_assert_uint_eq(raw_hi(0x5000), 0);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &st), RMP_OK);
    struct rmp_entry e = look(0x5000);
    ck_assert(!e.validated && !e.vmsa && e.perms[1] == 0 && e.perms[2] == 0 && e.perms[3] == 0);
    /* A 2 MiB entry made shared leaves all 512 pages unassigned. */
    assign(0x200000, OWNER, RMP_2M);
    validate(0x200000, RMP_2M);
    ck_assert_int_eq(rmp_update(g_r, 0x200000, &shared_2m), RMP_OK);
    for (uint64_t a = 0x200000; a < 0x400000; a += PG)
        ck_assert(!look(a).assigned && !look(a).validated);
    /* And 4 KiB pages inside it can be assigned again one by one. */
    assign(0x2A7000, OWNER, RMP_4K);
    ck_assert(look(0x2A7000).assigned && !look(0x2A8000).assigned);
}
END_TEST

START_TEST(firmware_sets_immutable_validated_vmsa_and_permissions_directly)
{
    struct rmp_entry e = {.assigned = true, .size = RMP_4K, .immutable = true, .gpa = 0x5000,
                          .asid = OWNER, .vmsa = true, .validated = true,
                          .perms = {RMP_PERM_ALL, RMP_PERM_R, RMP_PERM_W, RMP_PERM_XS}};
    rmp_fw_set(g_r, 0x5000, &e);
    ck_assert_uint_eq(raw_lo(0x5000), LO_ASSIGNED | LO_IMMUTABLE | LO_VMSA | LO_VALIDATED |
                                          0x5000 | LO_ASID(OWNER));
    ck_assert_uint_eq(raw_hi(0x5000), HI_PERMS(1, 1) | HI_PERMS(2, 2) | HI_PERMS(3, 8));
    struct rmp_entry back = look(0x5000);
    assert_entry_eq(&back, &e);
    /* LAUNCH_FINISH-style: the PSP clears immutable again. */
    e.immutable = false;
    rmp_fw_set(g_r, 0x5000, &e);
    ck_assert_int_eq(rmp_update(g_r, 0x5000, &shared_4k), RMP_OK);
}
END_TEST

START_TEST(addresses_beyond_the_table_have_no_entry_and_count_as_hypervisor_pages)
{
    struct rmp_entry e;
    ck_assert(!rmp_lookup(g_r, RAM, &e));
    ck_assert(!rmp_lookup(g_r, ~0ull, &e));
    ck_assert(rmp_lookup(g_r, RAM - 1, &e));
    ck_assert(!rmp_vmsa_in_use(g_r, RAM));
    ck_assert_int_eq(rmp_check_host(g_r, RAM, true).verdict, RMP_ALLOW);
    ck_assert_int_eq(rmp_check_guest(g_r, OWNER, 0, RAM, false, RMP_WRITE, false).verdict,
                     RMP_ALLOW);
    struct rmp_check c = rmp_check_guest(g_r, OWNER, 0, RAM, true, RMP_READ, false);
    ck_assert_int_eq(c.verdict, RMP_NPF);
    ck_assert_uint_eq(c.npf_error, E_P | E_RMP | E_ENC | E_FINAL);
}
END_TEST

/* ---- The access matrix --------------------------------------------------------------- */

enum actor { A_OWNER, A_OTHER, A_HV, A_N };
enum kind { K_UNASSIGNED, K_4K, K_2M, K_OTHER_GPA, K_VMSA_IN_USE, K_N };
static const char *const actor_name[] = {"owner", "other guest", "hypervisor"};
static const char *const kind_name[] = {"unassigned", "4K", "2M", "4K at another GPA",
                                        "VMSA in use"};
static const char *const acc_name[] = {"read", "write", "fetch-user", "fetch-super"};

#define PAGE_4K 0x105000ull /* a 4 KiB page, not 2 MiB aligned */
#define PAGE_2M 0x200000ull
#define IN_2M   0x2A7000ull /* a page inside the 2 MiB one */

/* The page of each kind, set up by the PSP path so the matrix does not rest on
 * the instructions tested above; returns the GPA the guests access. */
static uint64_t make_page(enum kind k, bool validated, uint8_t vmpl1)
{
    struct rmp_entry e = {.assigned = true, .size = RMP_4K, .gpa = PAGE_4K, .asid = OWNER,
                          .validated = validated, .perms = {RMP_PERM_ALL, vmpl1, 0, 0}};
    switch (k) {
    case K_UNASSIGNED:
        return PAGE_4K;
    case K_2M:
        e.size = RMP_2M;
        e.gpa = PAGE_2M;
        rmp_fw_set(g_r, PAGE_2M, &e);
        return IN_2M;
    case K_OTHER_GPA:
        e.gpa = 0x305000;
        break;
    case K_VMSA_IN_USE:
        e.vmsa = true;
        break;
    default:
        break;
    }
    rmp_fw_set(g_r, PAGE_4K, &e);
    if (k == K_VMSA_IN_USE)
        rmp_set_vmsa_in_use(g_r, PAGE_4K, true);
    return PAGE_4K;
}

struct expect {
    enum rmp_verdict verdict;
    uint64_t error;
};

/* Fact sheet 6.2, written out: which bits each access adds to an #NPF. */
static uint64_t expected_access_bits(enum rmp_access acc, bool pt)
{
    uint64_t b = E_P | (pt ? E_PT : E_FINAL);
    if (acc == RMP_WRITE)
        b |= E_W;
    if (acc == RMP_EXEC_USER || acc == RMP_EXEC_SUPER)
        b |= E_FETCH;
    if (acc == RMP_EXEC_USER)
        b |= E_U;
    return b;
}

static const uint8_t needs[] = {0x1, 0x2, 0x4, 0x8}; /* R, W, X-user, X-super */

static struct expect expected(enum actor a, bool c_bit, enum rmp_access acc, bool validated,
                              unsigned vmpl, uint8_t vmpl1, enum kind k, bool pt)
{
    bool assigned = k != K_UNASSIGNED, write = acc == RMP_WRITE;
    if (a == A_HV) /* host: only writes to assigned pages fault, #PF P|W|RMP */
        return assigned && write ? (struct expect){RMP_NPF, 0x80000003ull}
                                 : (struct expect){RMP_ALLOW, 0};
    uint64_t bits = expected_access_bits(acc, pt) | E_RMP;
    if (!c_bit)
        return assigned ? (struct expect){RMP_NPF, bits} : (struct expect){RMP_ALLOW, 0};
    bits |= E_ENC;
    if (!assigned || a != A_OWNER || k == K_OTHER_GPA)
        return (struct expect){RMP_NPF, bits};
    if (vmpl == 1 && !(vmpl1 & needs[acc]))
        return (struct expect){RMP_NPF, bits | E_VMPL};
    if (!validated)
        return (struct expect){RMP_VC_NOT_VALIDATED, 0};
    if (k == K_VMSA_IN_USE && write)
        return (struct expect){RMP_NPF, bits};
    return (struct expect){RMP_ALLOW, 0};
}

static struct rmp_check actual(enum actor a, uint64_t gpa, bool c_bit, enum rmp_access acc,
                               unsigned vmpl, bool pt)
{
    if (a == A_HV)
        return rmp_check_host(g_r, gpa, acc == RMP_WRITE);
    return rmp_check_guest(g_r, a == A_OWNER ? OWNER : OTHER, vmpl, gpa, c_bit, acc, pt);
}

/* All accesses to one page state; returns how many combinations it checked. */
static unsigned sweep_page(enum kind k, bool validated, uint8_t vmpl1)
{
    unsigned n = 0;
    uint64_t gpa = make_page(k, validated, vmpl1) + 0x123; /* unaligned inside the page */
    for (int a = 0; a < A_N; a++)
        for (int c = 0; c < 2; c++)
            for (int acc = RMP_READ; acc <= RMP_EXEC_SUPER; acc++)
                for (unsigned vmpl = 0; vmpl < 2; vmpl++)
                    for (int pt = 0; pt < 2; pt++, n++) {
                        struct expect x = expected(a, c, acc, validated, vmpl, vmpl1, k, pt);
                        struct rmp_check got = actual(a, gpa, c, acc, vmpl, pt);
                        ck_assert_msg(got.verdict == x.verdict && got.npf_error == x.error,
                                      "%s %s %s, %svalidated, VMPL%u (VMPL1 perms %x), %s, %s: "
                                      "verdict %d error %#llx, expected %d %#llx (%s)",
                                      actor_name[a], c ? "private" : "shared", acc_name[acc],
                                      validated ? "" : "not ", vmpl, vmpl1, kind_name[k],
                                      pt ? "page-table" : "final", got.verdict,
                                      (unsigned long long)got.npf_error, x.verdict,
                                      (unsigned long long)x.error,
                                      got.reason ? got.reason : "-");
                        if (got.verdict != RMP_ALLOW)
                            ck_assert_ptr_nonnull(got.reason);
                    }
    return n;
}

START_TEST(every_access_gets_the_verdict_and_error_bits_the_rules_give)
{
    unsigned n = 0;
    for (int k = 0; k < K_N; k++)
        for (int validated = 0; validated < 2; validated++)
            for (uint8_t p = 0; p < 16; p++) {
                teardown();
                setup();
                n += sweep_page(k, validated, p);
            }
    ck_assert_uint_eq(n, K_N * 2 * 16 * A_N * 2 * 4 * 2 * 2);
}
END_TEST

static Suite *rmp_suite(void)
{
    Suite *s = suite_create("rmp");
    TCase *tc = tcase_create("rmpupdate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rmpupdate_assigns_a_4k_page_unvalidated_with_no_vmpl1_to_3_rights);
    tcase_add_loop_test(tc, rmpupdate_refuses_misaligned_outside_or_malformed_requests_with_fail_input,
                        0, (int)(sizeof(bad_updates) / sizeof(bad_updates[0])));
    tcase_add_test(tc, rmpupdate_refuses_to_change_an_immutable_entry_with_fail_permission);
    tcase_add_test(tc, rmpupdate_refuses_a_vmsa_a_vcpu_runs_from_with_fail_inuse);
    tcase_add_test(tc, rmpupdate_reports_overlap_for_a_4k_update_inside_an_assigned_2m_entry);
    tcase_add_test(tc,
                   rmpupdate_reports_overlap_for_a_2m_update_over_assigned_4k_entries_that_differ);
    suite_add_tcase(s, tc);

    tc = tcase_create("psmash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, psmash_splits_a_2m_entry_into_512_4k_entries_that_keep_every_field);
    tcase_add_test(tc, psmash_refuses_misaligned_outside_unassigned_and_4k_entries_with_fail_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("pvalidate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pvalidate_sets_and_clears_the_validated_bit_of_4k_and_2m_entries);
    tcase_add_test(tc, pvalidate_sets_cf_and_changes_nothing_when_the_bit_already_has_that_value);
    tcase_add_test(tc, pvalidate_refuses_a_bad_size_or_misaligned_gpa_with_fail_input);
    tcase_add_test(tc, pvalidate_above_vmpl0_or_on_an_immutable_entry_is_fail_permission);
    tcase_add_test(tc, pvalidate_2m_on_4k_entries_is_fail_sizemismatch);
    tcase_add_test(tc, pvalidate_4k_inside_a_2m_entry_is_an_npf_with_sizem_until_psmash);
    tcase_add_test(tc, pvalidate_of_a_page_not_the_callers_at_that_gpa_is_an_npf);
    suite_add_tcase(s, tc);

    tc = tcase_create("rmpadjust");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rmpadjust_sets_the_permissions_of_the_target_vmpl_only);
    tcase_add_test(tc, rmpadjust_sets_and_clears_the_vmsa_bit);
    tcase_add_test(
        tc, rmpadjust_refuses_a_target_not_below_the_caller_or_rights_it_lacks_with_fail_permission);
    tcase_add_test(tc, rmpadjust_refuses_bad_size_alignment_or_attributes_with_fail_input);
    tcase_add_test(tc,
                   rmpadjust_2m_on_4k_entries_is_fail_sizemismatch_and_4k_on_2m_an_npf_with_sizem);
    tcase_add_test(tc, rmpadjust_refuses_to_clear_the_vmsa_bit_of_a_vmsa_in_use_with_fail_permission);
    tcase_add_test(tc, rmpadjust_on_a_page_not_the_callers_at_that_gpa_is_an_npf);
    suite_add_tcase(s, tc);

    tc = tcase_create("entries");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, raw_entry_shows_the_documented_bits_after_each_kind_of_update);
    tcase_add_test(tc, a_2m_entry_sits_in_its_aligned_slot_and_governs_all_512_pages);
    tcase_add_test(tc, reassignment_clears_validated_vmsa_and_permissions);
    tcase_add_test(tc, firmware_sets_immutable_validated_vmsa_and_permissions_directly);
    tcase_add_test(tc, addresses_beyond_the_table_have_no_entry_and_count_as_hypervisor_pages);
    suite_add_tcase(s, tc);

    tc = tcase_create("access");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_access_gets_the_verdict_and_error_bits_the_rules_give);
    tcase_add_test(tc, a_linux_style_host_psmashes_after_fail_overlap_and_its_rmpupdate_then_succeeds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ck_run(rmp_suite(), CK_RUN_FORK);
}
