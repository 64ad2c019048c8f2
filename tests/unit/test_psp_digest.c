/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the SNP launch digest (model/psp/psp_launch.c;
 * docs/sev-snp-facts.md 8.2), three ways: a pinned known-answer value for a
 * fixed page sequence covering every page type (NORMAL, a 2 MiB NORMAL page,
 * ZERO, UNMEASURED, SECRETS, CPUID, two VMSAs), the same sequence recomputed
 * here from that section (test_psp_harness.h ref_extend), and recomputed again
 * from the launch_update trace events alone, as an outside tool would.
 */
#include "test_psp_harness.h"

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

static Suite *psp_digest_suite(void)
{
    Suite *s = suite_create("psp_digest");
    TCase *tc = tcase(s, "digest");
    tcase_add_test(tc, the_fixed_launch_has_the_pinned_digest);
    tcase_add_test(tc, the_digest_equals_an_independent_recomputation_from_the_fact_sheet);
    tcase_add_test(tc, the_trace_events_alone_let_an_outside_tool_recompute_the_digest);
    tcase_add_test(tc, trace_events_carry_the_gpa_type_and_contents_of_each_page_in_order);
    tcase_add_test(tc, a_launch_without_pages_finishes_with_48_zero_bytes);
    tcase_add_test(tc, vmpl_permissions_of_the_command_are_measured_and_land_in_the_rmp);
    tcase_add_test(tc, the_digest_follows_the_order_of_the_commands_not_of_the_addresses);
    tcase_add_test(tc, digest_hex_is_96_lowercase_characters);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(psp_digest_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
