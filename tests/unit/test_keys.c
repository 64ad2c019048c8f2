/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the per-ASID keys (memory/keys.c, keys.h; docs/sev-snp-facts.md 6.4)
 * and the hypervisor's view of guest RAM built on them (mem_hv_read,
 * mem_hv_write, mem_owner in memory/mem.c): ciphertext differs between guests
 * and between addresses, decrypt undoes encrypt, keys follow the seed; the
 * owner reads its plaintext while the hypervisor reads ciphertext; under SNP a
 * hypervisor write into an assigned page faults with the RMP bit and writes
 * nothing; under SEV-ES it lands, and the owner reads its decryption; ranges
 * that cross pages and start or end inside a 16-byte block.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "keys.h"
#include "mem.h"
#include "rmp.h"

#define MIB  (1ull << 20)
#define PG   4096u
#define SEED 0x5EEDull

static struct mem_keys *g_k;

static void setup_keys(void)
{
    g_k = keys_create(SEED);
    ck_assert_ptr_nonnull(g_k);
}

static void teardown_keys(void)
{
    keys_destroy(g_k);
    g_k = NULL;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 13 + (i >> 8));
}

/* ---- Keys --------------------------------------------------------------------------- */

START_TEST(two_asids_encrypt_the_same_plaintext_differently)
{
    uint8_t plain[64], c1[64], c2[64], c3[64];
    memset(plain, 0, sizeof(plain));
    keys_encrypt(g_k, 1, 0x10000, plain, c1, sizeof(plain));
    keys_encrypt(g_k, 2, 0x10000, plain, c2, sizeof(plain));
    keys_encrypt(g_k, KEYS_MAX_ASID - 1, 0x10000, plain, c3, sizeof(plain));
    ck_assert_mem_ne(c1, plain, 16);
    for (unsigned b = 0; b < sizeof(plain); b += 16) {
        ck_assert_mem_ne(c1 + b, c2 + b, 16);
        ck_assert_mem_ne(c1 + b, c3 + b, 16);
        ck_assert_mem_ne(c2 + b, c3 + b, 16);
    }
}
END_TEST

START_TEST(the_same_plaintext_encrypts_differently_at_every_block_address)
{
    /* Every 16-byte block of a page, and the same block one page and 4 GiB on. */
    static uint8_t plain[PG], c[PG], c_next[PG], c_far[PG];
    memset(plain, 0xA5, sizeof(plain));
    keys_encrypt(g_k, 1, 0x7000, plain, c, PG);
    keys_encrypt(g_k, 1, 0x8000, plain, c_next, PG);
    keys_encrypt(g_k, 1, 0x100007000ull, plain, c_far, PG);
    for (unsigned i = 0; i < PG; i += 16) {
        for (unsigned j = i + 16; j < PG; j += 16)
            ck_assert_mem_ne(c + i, c + j, 16);
        ck_assert_mem_ne(c + i, c_next + i, 16);
        ck_assert_mem_ne(c + i, c_far + i, 16);
    }
}
END_TEST

START_TEST(decrypt_undoes_encrypt_in_place_or_not)
{
    static const uint64_t spa[] = {0, 0x10, 0x7FF0, 0x123450, 0xFFFFFFFFFFFFFFF0ull};
    static const size_t len[] = {16, 32, 48, 4096};
    uint8_t plain[4096], c[4096], back[4096];
    for (unsigned i = 0; i < sizeof(spa) / sizeof(spa[0]); i++)
        for (unsigned j = 0; j < sizeof(len) / sizeof(len[0]); j++) {
            uint32_t asid = 1 + (i * 7 + j) % (KEYS_MAX_ASID - 1);
            fill(plain, len[j], (uint8_t)(i + j));
            keys_encrypt(g_k, asid, spa[i], plain, c, len[j]);
            ck_assert_mem_ne(c, plain, len[j]);
            keys_decrypt(g_k, asid, spa[i], c, back, len[j]);
            ck_assert_mem_eq(back, plain, len[j]);
            keys_decrypt(g_k, asid, spa[i], c, c, len[j]);
            ck_assert_mem_eq(c, plain, len[j]);
        }
    /* The wrong key or the wrong address does not decrypt. */
    fill(plain, 32, 9);
    keys_encrypt(g_k, 5, 0x2000, plain, c, 32);
    keys_decrypt(g_k, 6, 0x2000, c, back, 32);
    ck_assert_mem_ne(back, plain, 16);
    keys_decrypt(g_k, 5, 0x2010, c, back, 32);
    ck_assert_mem_ne(back, plain, 16);
}
END_TEST

START_TEST(keys_follow_the_seed_and_only_the_seed)
{
    struct mem_keys *same = keys_create(SEED), *other = keys_create(SEED + 1);
    ck_assert_ptr_nonnull(same);
    ck_assert_ptr_nonnull(other);
    uint8_t plain[32], a[32], b[32], c[32];
    fill(plain, sizeof(plain), 1);
    for (uint32_t asid = 1; asid < KEYS_MAX_ASID; asid += 97) {
        keys_encrypt(g_k, asid, 0x3000, plain, a, sizeof(plain));
        keys_encrypt(same, asid, 0x3000, plain, b, sizeof(plain));
        keys_encrypt(other, asid, 0x3000, plain, c, sizeof(plain));
        ck_assert_mem_eq(a, b, sizeof(a));
        ck_assert_mem_ne(a, c, 16);
        ck_assert_mem_ne(a + 16, c + 16, 16);
    }
    keys_destroy(same);
    keys_destroy(other);
    keys_destroy(NULL);
}
END_TEST

/* ---- The hypervisor's view ------------------------------------------------------------ */

static struct mem g_m;
static struct rmp *g_r;

static void setup_mem(void)
{
    char err[128];
    setup_keys();
    ck_assert_int_eq(mem_init(&g_m, 4 * MIB, err, sizeof(err)), 0);
    g_r = rmp_create(4 * MIB);
    ck_assert_ptr_nonnull(g_r);
}

static void teardown_mem(void)
{
    mem_destroy(&g_m);
    rmp_destroy(g_r);
    g_r = NULL;
    teardown_keys();
}

static void sev_es(void) { mem_enable_encryption(&g_m, g_k, NULL); }
static void snp(void) { mem_enable_encryption(&g_m, g_k, g_r); }

static void snp_assign(uint64_t spa, uint32_t asid)
{
    struct rmp_state st = {.gpa = spa, .assigned = true, .size = RMP_4K, .asid = asid};
    ck_assert_int_eq(rmp_update(g_r, spa, &st), RMP_OK);
}

/* What DRAM holds for the page at spa: its RAM contents encrypted under owner
 * (or as they are when owner is 0). */
static void dram_page(uint64_t spa, uint32_t owner, uint8_t out[PG])
{
    if (owner)
        keys_encrypt(g_k, owner, spa, g_m.ram + spa, out, PG);
    else
        memcpy(out, g_m.ram + spa, PG);
}

START_TEST(hv_read_of_an_owned_page_is_its_ciphertext_and_of_an_unowned_page_the_plaintext)
{
    static uint8_t want[PG], got[PG];
    fill(g_m.ram + 0x5000, PG, 3);
    fill(g_m.ram + 0x6000, PG, 3);
    /* SEV-ES: owners are tags. */
    sev_es();
    mem_set_owner(&g_m, 0x5000, 7);
    ck_assert_uint_eq(mem_owner(&g_m, 0x5000), 7);
    ck_assert_uint_eq(mem_owner(&g_m, 0x6000), 0);
    ck_assert(mem_hv_read(&g_m, 0x5000, got, PG));
    keys_encrypt(g_k, 7, 0x5000, g_m.ram + 0x5000, want, PG);
    ck_assert_mem_eq(got, want, PG);
    ck_assert_mem_ne(got, g_m.ram + 0x5000, PG);
    ck_assert(mem_hv_read(&g_m, 0x6000, got, PG));
    ck_assert_mem_eq(got, g_m.ram + 0x6000, PG);
    /* SNP: the RMP says who owns a page; the tags no longer count. */
    snp();
    ck_assert_uint_eq(mem_owner(&g_m, 0x5000), 0);
    snp_assign(0x6000, 9);
    ck_assert_uint_eq(mem_owner(&g_m, 0x6000), 9);
    ck_assert(mem_hv_read(&g_m, 0x6000, got, PG));
    keys_encrypt(g_k, 9, 0x6000, g_m.ram + 0x6000, want, PG);
    ck_assert_mem_eq(got, want, PG);
    ck_assert(mem_hv_read(&g_m, 0x5000, got, PG));
    ck_assert_mem_eq(got, g_m.ram + 0x5000, PG);
}
END_TEST

START_TEST(the_owner_round_trips_its_data_while_the_hypervisor_sees_ciphertext)
{
    snp();
    snp_assign(0x8000, 3);
    uint8_t data[200], back[200], hv[200], want[208];
    fill(data, sizeof(data), 0x42);
    /* The guest's C=1 stores go to RAM as plaintext (its engine maps RAM). */
    ck_assert(mem_write(&g_m, 0x8010, data, sizeof(data)));
    ck_assert(mem_read(&g_m, 0x8010, back, sizeof(back)));
    ck_assert_mem_eq(back, data, sizeof(data));
    ck_assert(mem_hv_read(&g_m, 0x8010, hv, sizeof(hv)));
    keys_encrypt(g_k, 3, 0x8010, g_m.ram + 0x8010, want, sizeof(want));
    ck_assert_mem_eq(hv, want, sizeof(hv));
    ck_assert_mem_ne(hv, data, 16);
}
END_TEST

START_TEST(snp_hv_write_to_an_assigned_page_faults_with_the_rmp_bit_and_writes_nothing)
{
    snp();
    snp_assign(0x9000, 3);
    fill(g_m.ram + 0x8000, 2 * PG, 1);
    static uint8_t before[2 * PG];
    memcpy(before, g_m.ram + 0x8000, sizeof(before));
    uint8_t junk[64];
    memset(junk, 0xEE, sizeof(junk));
    uint64_t pf = 0;
    ck_assert(!mem_hv_write(&g_m, 0x9100, junk, sizeof(junk), &pf));
    ck_assert_uint_eq(pf, (1ull << 31) | (1ull << 1) | (1ull << 0));
    /* A range that starts in a shared page and runs into the assigned one:
     * refused as a whole, the shared part untouched too. */
    pf = 0;
    ck_assert(!mem_hv_write(&g_m, 0x8FE0, junk, sizeof(junk), &pf));
    ck_assert(pf & (1ull << 31));
    ck_assert_mem_eq(g_m.ram + 0x8000, before, sizeof(before));
    ck_assert(!mem_hv_write(&g_m, 0x9000, junk, 1, NULL));
    /* A shared page takes the write, plainly. */
    pf = 123;
    ck_assert(mem_hv_write(&g_m, 0x8FC0, junk, sizeof(junk), &pf));
    ck_assert_uint_eq(pf, 0);
    ck_assert_mem_eq(g_m.ram + 0x8FC0, junk, sizeof(junk));
    /* Once the page is made shared again, so does it. */
    struct rmp_state shared = {.size = RMP_4K};
    ck_assert_int_eq(rmp_update(g_r, 0x9000, &shared), RMP_OK);
    ck_assert(mem_hv_write(&g_m, 0x9100, junk, sizeof(junk), &pf));
    ck_assert_mem_eq(g_m.ram + 0x9100, junk, sizeof(junk));
}
END_TEST

START_TEST(sev_es_hv_write_into_an_owned_page_gives_the_owner_the_decryption_of_it)
{
    sev_es();
    mem_set_owner(&g_m, 0xA000, 4);
    uint8_t data[64], got[64], want[64];
    fill(data, sizeof(data), 0x77);
    uint64_t pf = 5;
    ck_assert(mem_hv_write(&g_m, 0xA040, data, sizeof(data), &pf));
    ck_assert_uint_eq(pf, 0);
    ck_assert(mem_read(&g_m, 0xA040, got, sizeof(got))); /* what the owner reads */
    ck_assert_mem_ne(got, data, 16);
    ck_assert_mem_ne(got + 48, data + 48, 16);
    keys_decrypt(g_k, 4, 0xA040, data, want, sizeof(data));
    ck_assert_mem_eq(got, want, sizeof(got));
    /* DRAM holds what the hypervisor wrote, so it reads it back. */
    ck_assert(mem_hv_read(&g_m, 0xA040, got, sizeof(got)));
    ck_assert_mem_eq(got, data, sizeof(data));
    /* An unowned page is written as given. */
    ck_assert(mem_hv_write(&g_m, 0xB040, data, sizeof(data), NULL));
    ck_assert_mem_eq(g_m.ram + 0xB040, data, sizeof(data));
}
END_TEST

/* Pages 0x1F000.. 0x22000: owned by 5, unowned, owned by 6, owned by 5. */
static const uint64_t span_base = 0x1F000;
static const uint32_t span_owner[4] = {5, 0, 6, 5};
static const struct {
    uint64_t spa, len;
} spans[] = {
    {0x1FFF7, 0x2020}, /* unaligned start and end, three pages */
    {0x1F003, 5},      /* inside one block */
    {0x1F00E, 4},      /* across two blocks */
    {0x1FFFF, 2},      /* across a page boundary into the unowned page */
    {0x20FF9, 0x20},   /* unowned into owned */
    {0x1F000, 0x4000}, /* all four pages, aligned */
    {0x21FF1, 0x1F},   /* owned (6) into owned (5), 15 + 16 bytes */
};

static void own_span(void)
{
    sev_es();
    fill(g_m.ram + span_base, 4 * PG, 0x31);
    for (unsigned p = 0; p < 4; p++)
        if (span_owner[p])
            mem_set_owner(&g_m, span_base + p * PG, span_owner[p]);
}

START_TEST(hv_read_handles_ranges_that_cross_pages_and_unaligned_offsets)
{
    own_span();
    static uint8_t dram[4 * PG], got[4 * PG + 1];
    for (unsigned p = 0; p < 4; p++)
        dram_page(span_base + p * PG, span_owner[p], dram + p * PG);
    uint64_t off = spans[_i].spa - span_base, len = spans[_i].len;
    memset(got, 0xCC, sizeof(got));
    ck_assert(mem_hv_read(&g_m, spans[_i].spa, got, len));
    ck_assert_mem_eq(got, dram + off, len);
    ck_assert_uint_eq(got[len], 0xCC); /* not a byte more */
}
END_TEST

START_TEST(hv_write_handles_ranges_that_cross_pages_and_unaligned_offsets)
{
    own_span();
    /* Expected: DRAM as it was, with the written bytes replaced, then each
     * owned page decrypted for its owner. */
    static uint8_t dram[4 * PG], want[4 * PG], data[4 * PG];
    for (unsigned p = 0; p < 4; p++)
        dram_page(span_base + p * PG, span_owner[p], dram + p * PG);
    uint64_t off = spans[_i].spa - span_base, len = spans[_i].len;
    fill(data, len, 0xD0);
    memcpy(dram + off, data, len);
    for (unsigned p = 0; p < 4; p++) {
        uint8_t *w = want + p * PG;
        if (span_owner[p])
            keys_decrypt(g_k, span_owner[p], span_base + p * PG, dram + p * PG, w, PG);
        else
            memcpy(w, dram + p * PG, PG);
    }
    ck_assert(mem_hv_write(&g_m, spans[_i].spa, data, len, NULL));
    ck_assert_mem_eq(g_m.ram + span_base, want, 4 * PG);
    /* And reading it back gives DRAM, the written bytes included. */
    static uint8_t got[4 * PG];
    ck_assert(mem_hv_read(&g_m, span_base, got, 4 * PG));
    ck_assert_mem_eq(got, dram, 4 * PG);
}
END_TEST

START_TEST(hv_accesses_that_leave_ram_are_refused_and_touch_nothing)
{
    sev_es();
    mem_set_owner(&g_m, g_m.size - PG, 2);
    uint8_t buf[32];
    memset(buf, 0xAB, sizeof(buf));
    uint64_t pf = 9;
    ck_assert(!mem_hv_read(&g_m, g_m.size - 16, buf, 32));
    ck_assert_uint_eq(buf[0], 0xAB);
    ck_assert(!mem_hv_write(&g_m, g_m.size - 16, buf, 32, &pf));
    ck_assert_uint_eq(pf, 0);
    ck_assert(!mem_hv_write(&g_m, UINT64_MAX - 7, buf, 16, &pf));
    for (unsigned i = 0; i < PG; i++)
        ck_assert_uint_eq(g_m.ram[g_m.size - PG + i], 0);
    ck_assert_uint_eq(mem_owner(&g_m, g_m.size), 0);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
    tcase_add_test(tc, two_asids_encrypt_the_same_plaintext_differently);
    tcase_add_test(tc, the_same_plaintext_encrypts_differently_at_every_block_address);
    tcase_add_test(tc, decrypt_undoes_encrypt_in_place_or_not);
    tcase_add_test(tc, keys_follow_the_seed_and_only_the_seed);
    suite_add_tcase(s, tc);

    tc = tcase_create("hypervisor view");
    tcase_add_checked_fixture(tc, setup_mem, teardown_mem);
    tcase_add_test(tc,
                   hv_read_of_an_owned_page_is_its_ciphertext_and_of_an_unowned_page_the_plaintext);
    tcase_add_test(tc, the_owner_round_trips_its_data_while_the_hypervisor_sees_ciphertext);
    tcase_add_test(tc, snp_hv_write_to_an_assigned_page_faults_with_the_rmp_bit_and_writes_nothing);
    tcase_add_test(tc, sev_es_hv_write_into_an_owned_page_gives_the_owner_the_decryption_of_it);
    tcase_add_loop_test(tc, hv_read_handles_ranges_that_cross_pages_and_unaligned_offsets, 0,
                        (int)(sizeof(spans) / sizeof(spans[0])));
    tcase_add_loop_test(tc, hv_write_handles_ranges_that_cross_pages_and_unaligned_offsets, 0,
                        (int)(sizeof(spans) / sizeof(spans[0])));
    tcase_add_test(tc, hv_accesses_that_leave_ram_are_refused_and_touch_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(keys_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
