/* SPDX-License-Identifier: MIT */
/*
 * Check suite for guest RAM (memory/mem.c, mem.h): sizes a RAM may have and the
 * message for the ones it may not, zero fill, the bounds of mem_contains() and
 * mem_ptr() at both edges and against gpa+len overflow, the copy helpers
 * (round trip, little-endian scalars) and that a copy that leaves RAM copies
 * nothing at all; the hypervisor's view before encryption is on (plain RAM)
 * and who frees what once it is (the encrypted view itself: test_keys.c).
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "keys.h"
#include "mem.h"
#include "rmp.h"
#include "ck_run.h"

#define MIB (1ull << 20)

static bool all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- Sizes ------------------------------------------------------------------ */

static const uint64_t good_sizes[] = {2 * MIB, 4 * MIB, 6 * MIB, 64 * MIB};

START_TEST(init_accepts_every_multiple_of_2_mib_and_zero_fills_it)
{
    struct mem m;
    char err[128] = "untouched";
    uint64_t size = good_sizes[_i];
    ck_assert_int_eq(mem_init(&m, size, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(m.ram);
    ck_assert_uint_eq(m.size, size);
    ck_assert_uint_eq((uintptr_t)m.ram % MEM_PAGE_SIZE, 0);
    /* Every byte of a small RAM, the first and last pages of a large one. */
    if (size <= 6 * MIB) {
        ck_assert(all_zero(m.ram, size));
    } else {
        ck_assert(all_zero(m.ram, MEM_PAGE_SIZE));
        ck_assert(all_zero(m.ram + size - MEM_PAGE_SIZE, MEM_PAGE_SIZE));
    }
    /* The whole range is usable. */
    m.ram[0] = 1;
    m.ram[size - 1] = 2;
    ck_assert_uint_eq(m.ram[size - 1], 2);
    ck_assert_str_eq(err, "untouched");
    mem_destroy(&m);
    ck_assert_ptr_null(m.ram);
    ck_assert_uint_eq(m.size, 0);
}
END_TEST

static const struct {
    uint64_t size;
    const char *msg;
} bad_sizes[] = {
    {0, "RAM size 0 is not a non-zero multiple of 2 MiB"},
    {1, "RAM size 1 is not a non-zero multiple of 2 MiB"},
    {4096, "RAM size 4096 is not a non-zero multiple of 2 MiB"},
    {1 * MIB, "RAM size 1048576 is not a non-zero multiple of 2 MiB"},
    {3 * MIB, "RAM size 3145728 is not a non-zero multiple of 2 MiB"},
    {2 * MIB + 4096, "RAM size 2101248 is not a non-zero multiple of 2 MiB"},
    {2 * MIB - 1, "RAM size 2097151 is not a non-zero multiple of 2 MiB"},
};

START_TEST(init_refuses_zero_and_sizes_that_are_not_multiples_of_2_mib_with_a_message)
{
    struct mem m;
    memset(&m, 0xA5, sizeof(m));
    char err[128] = "";
    ck_assert_int_eq(mem_init(&m, bad_sizes[_i].size, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_sizes[_i].msg);
    /* A refused RAM is empty, so mem_destroy() and mem_contains() are safe on it. */
    ck_assert_ptr_null(m.ram);
    ck_assert_uint_eq(m.size, 0);
    ck_assert(!mem_contains(&m, 0, 1));
    mem_destroy(&m);
}
END_TEST

/* ---- Bounds ----------------------------------------------------------------- */

static struct mem g_m;

static void setup_2mib(void)
{
    char err[128];
    ck_assert_int_eq(mem_init(&g_m, 2 * MIB, err, sizeof(err)), 0);
}

static void teardown_mem(void) { mem_destroy(&g_m); }

START_TEST(contains_accepts_ranges_that_end_exactly_at_the_top_of_ram)
{
    uint64_t s = g_m.size;
    ck_assert(mem_contains(&g_m, 0, s));
    ck_assert(mem_contains(&g_m, 0, 1));
    ck_assert(mem_contains(&g_m, s - 1, 1));
    ck_assert(mem_contains(&g_m, s - 8, 8));
    ck_assert(mem_contains(&g_m, s - MEM_PAGE_SIZE, MEM_PAGE_SIZE));
    ck_assert(mem_contains(&g_m, 0, 0));
}
END_TEST

START_TEST(contains_refuses_ranges_that_cross_or_start_past_the_top_of_ram)
{
    uint64_t s = g_m.size;
    ck_assert(!mem_contains(&g_m, 0, s + 1));
    ck_assert(!mem_contains(&g_m, 1, s));
    ck_assert(!mem_contains(&g_m, s - 1, 2));
    ck_assert(!mem_contains(&g_m, s - 7, 8));
    ck_assert(!mem_contains(&g_m, s, 1));
    ck_assert(!mem_contains(&g_m, s + MEM_PAGE_SIZE, 8));
}
END_TEST

START_TEST(contains_is_not_fooled_by_gpa_plus_len_wrapping_around)
{
    /* Each of these wraps to a small end address if computed as gpa + len. */
    ck_assert(!mem_contains(&g_m, UINT64_MAX, 1));
    ck_assert(!mem_contains(&g_m, UINT64_MAX, 2));
    ck_assert(!mem_contains(&g_m, 2, UINT64_MAX));
    ck_assert(!mem_contains(&g_m, UINT64_MAX - 0xFFF, 0x2000));
    ck_assert(!mem_contains(&g_m, 0x1000, UINT64_MAX - 0x7FF));
    ck_assert(!mem_contains(&g_m, 0, UINT64_MAX));
    ck_assert_ptr_null(mem_ptr(&g_m, UINT64_MAX - 0xFFF, 0x2000));
    ck_assert_ptr_null(mem_ptr(&g_m, 8, UINT64_MAX - 3));
}
END_TEST

START_TEST(ptr_points_into_ram_at_both_edges_and_is_null_outside)
{
    uint64_t s = g_m.size;
    ck_assert_ptr_eq(mem_ptr(&g_m, 0, 1), g_m.ram);
    ck_assert_ptr_eq(mem_ptr(&g_m, 0, s), g_m.ram);
    ck_assert_ptr_eq(mem_ptr(&g_m, 0x1234, 16), g_m.ram + 0x1234);
    ck_assert_ptr_eq(mem_ptr(&g_m, s - 4, 4), g_m.ram + s - 4);
    ck_assert_ptr_null(mem_ptr(&g_m, s - 4, 5));
    ck_assert_ptr_null(mem_ptr(&g_m, s, 1));
}
END_TEST

/* ---- Copies ----------------------------------------------------------------- */

START_TEST(write_then_read_returns_the_same_bytes_at_the_same_address)
{
    uint8_t src[300], dst[300];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 3);
    static const uint64_t at[] = {0, 0xFFF, 0x12345, 2 * MIB - sizeof(src)};
    for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        memset(dst, 0, sizeof(dst));
        ck_assert(mem_write(&g_m, at[k], src, sizeof(src)));
        ck_assert_mem_eq(g_m.ram + at[k], src, sizeof(src));
        ck_assert(mem_read(&g_m, at[k], dst, sizeof(dst)));
        ck_assert_mem_eq(dst, src, sizeof(src));
    }
    /* The bytes around a write are untouched. */
    ck_assert(mem_write(&g_m, 0x40001, "\x11\x22", 2));
    ck_assert_uint_eq(g_m.ram[0x40000], 0);
    ck_assert_uint_eq(g_m.ram[0x40003], 0);
}
END_TEST

START_TEST(scalar_accessors_are_little_endian_and_exact_in_width)
{
    mem_st64(&g_m, 0x100, 0x1122334455667788ull);
    static const uint8_t le64[] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    ck_assert_mem_eq(g_m.ram + 0x100, le64, 8);
    ck_assert_uint_eq(mem_ld64(&g_m, 0x100), 0x1122334455667788ull);
    ck_assert_uint_eq(mem_ld32(&g_m, 0x104), 0x11223344u);

    memset(g_m.ram + 0x200, 0xEE, 16);
    mem_st32(&g_m, 0x204, 0xA1B2C3D4u);
    static const uint8_t le32[] = {0xEE, 0xEE, 0xEE, 0xEE, 0xD4, 0xC3, 0xB2, 0xA1, 0xEE, 0xEE};
    ck_assert_mem_eq(g_m.ram + 0x200, le32, sizeof(le32));
    ck_assert_uint_eq(mem_ld32(&g_m, 0x204), 0xA1B2C3D4u);
    ck_assert_uint_eq(mem_ld64(&g_m, 0x200), 0xA1B2C3D4EEEEEEEEull);

    /* The last naturally sized fields of RAM are reachable. */
    mem_st64(&g_m, 2 * MIB - 8, 0xCAFEF00DDEADBEEFull);
    ck_assert_uint_eq(mem_ld64(&g_m, 2 * MIB - 8), 0xCAFEF00DDEADBEEFull);
    mem_st32(&g_m, 2 * MIB - 4, 0x01020304u);
    ck_assert_uint_eq(mem_ld32(&g_m, 2 * MIB - 4), 0x01020304u);
}
END_TEST

/* The code-page map the CPU watches (mem.h): writes through the accessors
 * turn CLEAN pages they touch into WRITTEN, and leave other states alone;
 * code_written counts each page's turn once. */
START_TEST(writes_mark_clean_code_pages_they_touch_written_and_nothing_else)
{
    uint8_t code[2 * MIB / MEM_PAGE_SIZE] = {0};
    g_m.code = code;
    uint64_t written0 = g_m.code_written;
    code[1] = code[2] = code[3] = code[5] = code[511] = MEM_CODE_CLEAN;
    ck_assert(mem_write(&g_m, 0x1FFE, "\x01\x02\x03\x04", 4)); /* pages 1 and 2 */
    mem_st32(&g_m, 0x5000, 7);
    ck_assert(!mem_write(&g_m, 2 * MIB - 2, "\x01\x02\x03\x04", 4)); /* refused: no mark */
    ck_assert(mem_write(&g_m, 0x4000, "\x01", 1));                 /* a page with no code */
    uint64_t pf;
    ck_assert(mem_hv_write(&g_m, 0x3FFF, "\x01", 1, &pf));
    ck_assert(mem_write(&g_m, 0x1000, "\x01", 1)); /* page 1 again: already WRITTEN */
    ck_assert_uint_eq(g_m.code_written - written0, 4); /* pages 1, 2, 3 and 5 */
    g_m.code = NULL;
    ck_assert_uint_eq(code[0], MEM_CODE_NONE);
    ck_assert_uint_eq(code[1], MEM_CODE_WRITTEN);
    ck_assert_uint_eq(code[2], MEM_CODE_WRITTEN);
    ck_assert_uint_eq(code[3], MEM_CODE_WRITTEN);
    ck_assert_uint_eq(code[4], MEM_CODE_NONE);
    ck_assert_uint_eq(code[5], MEM_CODE_WRITTEN);
    ck_assert_uint_eq(code[6], MEM_CODE_NONE);
    ck_assert_uint_eq(code[511], MEM_CODE_CLEAN);
}
END_TEST

START_TEST(a_write_that_leaves_ram_is_refused_and_copies_nothing)
{
    uint64_t s = g_m.size;
    uint8_t src[16];
    memset(src, 0x5A, sizeof(src));
    ck_assert(!mem_write(&g_m, s - 8, src, sizeof(src)));
    ck_assert(all_zero(g_m.ram + s - MEM_PAGE_SIZE, MEM_PAGE_SIZE));
    ck_assert(!mem_write(&g_m, s, src, 1));
    ck_assert(!mem_write(&g_m, UINT64_MAX - 3, src, 8));
    ck_assert(!mem_write(&g_m, 4, src, UINT64_MAX));
    ck_assert(all_zero(g_m.ram, MEM_PAGE_SIZE));
    ck_assert(all_zero(g_m.ram + s - MEM_PAGE_SIZE, MEM_PAGE_SIZE));
}
END_TEST

START_TEST(a_read_that_leaves_ram_is_refused_and_leaves_the_buffer_alone)
{
    uint64_t s = g_m.size;
    memset(g_m.ram + s - 8, 0x77, 8);
    uint8_t dst[16];
    memset(dst, 0xAA, sizeof(dst));
    ck_assert(!mem_read(&g_m, s - 8, dst, sizeof(dst)));
    ck_assert(!mem_read(&g_m, s, dst, 1));
    ck_assert(!mem_read(&g_m, UINT64_MAX, dst, 2));
    for (unsigned i = 0; i < sizeof(dst); i++)
        ck_assert_uint_eq(dst[i], 0xAA);
    /* The same read inside RAM does copy. */
    ck_assert(mem_read(&g_m, s - 8, dst, 8));
    ck_assert_uint_eq(dst[0], 0x77);
    ck_assert_uint_eq(dst[8], 0xAA);
}
END_TEST

/* ---- The hypervisor's view ------------------------------------------------------- */

START_TEST(hv_view_without_encryption_is_plain_ram)
{
    uint8_t src[40], dst[40];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(0x90 + i);
    ck_assert_uint_eq(mem_owner(&g_m, 0x3000), 0);
    uint64_t pf = 77;
    ck_assert(mem_hv_write(&g_m, 0x3FF0, src, sizeof(src), &pf)); /* crosses a page */
    ck_assert_uint_eq(pf, 0);
    ck_assert_mem_eq(g_m.ram + 0x3FF0, src, sizeof(src));
    ck_assert(mem_hv_read(&g_m, 0x3FF0, dst, sizeof(dst)));
    ck_assert_mem_eq(dst, src, sizeof(src));
    ck_assert(!mem_hv_read(&g_m, g_m.size - 8, dst, 16));
    ck_assert(!mem_hv_write(&g_m, g_m.size - 8, src, 16, NULL));
}
END_TEST

START_TEST(destroy_frees_the_owner_table_but_leaves_the_callers_rmp_and_keys)
{
    struct mem_keys *k = keys_create(1);
    struct rmp *r = rmp_create(g_m.size);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(r);
    mem_enable_encryption(&g_m, k, r);
    ck_assert_ptr_nonnull(g_m.owner);
    ck_assert_ptr_eq(g_m.keys, k);
    ck_assert_ptr_eq(g_m.rmp, r);
    mem_destroy(&g_m);
    ck_assert_ptr_null(g_m.owner);
    ck_assert_ptr_null(g_m.rmp);
    /* Both still work (ASan would report a use after free otherwise). */
    uint8_t in[16] = {0}, out[16];
    keys_encrypt(k, 1, 0, in, out, sizeof(in));
    struct rmp_entry e;
    ck_assert(rmp_lookup(r, 0, &e));
    rmp_destroy(r);
    keys_destroy(k);
}
END_TEST

static Suite *memory_suite(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("init");
    tcase_add_loop_test(tc, init_accepts_every_multiple_of_2_mib_and_zero_fills_it, 0,
                        (int)(sizeof(good_sizes) / sizeof(good_sizes[0])));
    tcase_add_loop_test(tc,
                        init_refuses_zero_and_sizes_that_are_not_multiples_of_2_mib_with_a_message,
                        0, (int)(sizeof(bad_sizes) / sizeof(bad_sizes[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("access");
    tcase_add_checked_fixture(tc, setup_2mib, teardown_mem);
    tcase_add_test(tc, contains_accepts_ranges_that_end_exactly_at_the_top_of_ram);
    tcase_add_test(tc, contains_refuses_ranges_that_cross_or_start_past_the_top_of_ram);
    tcase_add_test(tc, contains_is_not_fooled_by_gpa_plus_len_wrapping_around);
    tcase_add_test(tc, ptr_points_into_ram_at_both_edges_and_is_null_outside);
    tcase_add_test(tc, write_then_read_returns_the_same_bytes_at_the_same_address);
    tcase_add_test(tc, scalar_accessors_are_little_endian_and_exact_in_width);
    tcase_add_test(tc, writes_mark_clean_code_pages_they_touch_written_and_nothing_else);
    tcase_add_test(tc, a_write_that_leaves_ram_is_refused_and_copies_nothing);
    tcase_add_test(tc, a_read_that_leaves_ram_is_refused_and_leaves_the_buffer_alone);
    suite_add_tcase(s, tc);

    tc = tcase_create("hypervisor view");
    tcase_add_checked_fixture(tc, setup_2mib, teardown_mem);
    tcase_add_test(tc, hv_view_without_encryption_is_plain_ram);
    tcase_add_test(tc, destroy_frees_the_owner_table_but_leaves_the_callers_rmp_and_keys);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ck_run(memory_suite(), CK_RUN_FORK);
}
