/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the vCPU engine (cpu/), part 3: the guest page walk (SDM
 * vol. 3 4.5-4.7; APM vol. 2 5.3-5.6) through vcpu_read_lin/vcpu_write_lin
 * and through guest code: #PF error codes for not-present, read-only (CR0.WP)
 * and reserved-bit entries, accessed and dirty bits, 2 MiB and 1 GiB pages,
 * non-canonical addresses.
 */
#include "test_cpu_harness.h"
#include "ck_run.h"

/* ================================ Page walk ============================================== */

static uint32_t pf;
static uint64_t fva;

static int rd(uint64_t va, void *p, size_t n) { return vcpu_read_lin(h.v, va, p, n, &pf, &fva); }
static int wr(uint64_t va, const void *p, size_t n)
{
    return vcpu_write_lin(h.v, va, p, n, &pf, &fva);
}

START_TEST(a_not_present_page_reports_a_page_fault_without_p)
{
    uint64_t buf = 0x1234;
    ck_assert_int_eq(rd(0x800, &buf, 8), -1);
    ck_assert_uint_eq(pf, 0);
    ck_assert_uint_eq(fva, 0x800);
    ck_assert_uint_eq(buf, 0x1234);
    ck_assert_int_eq(wr(0x10, &buf, 8), -1);
    ck_assert_uint_eq(pf, PFERR_W);
    ck_assert_uint_eq(fva, 0x10);
    /* A not-present PDE: the walk stops there. */
    st64(PD + 5 * 8, 0);
    ck_assert_int_eq(rd(0xA00010, &buf, 8), -1);
    ck_assert_uint_eq(pf, 0);
    ck_assert_uint_eq(fva, 0xA00010);
}
END_TEST

START_TEST(a_read_that_crosses_onto_a_not_present_page_faults_at_that_page)
{
    pte_set(0x22000, 0);
    uint8_t buf[16];
    ck_assert_int_eq(rd(0x21FF8, buf, sizeof(buf)), -1);
    ck_assert_uint_eq(pf, 0);
    ck_assert_uint_eq(fva, 0x22000);
}
END_TEST

START_TEST(a_write_to_a_read_only_page_faults_with_cr0_wp_and_succeeds_without)
{
    pte_set(0x22000, pte(0x22000) & ~PTE_RW);
    uint32_t v = 0xA5A5A5A5;
    ck_assert_int_eq(wr(0x22010, &v, 4), -1);
    ck_assert_uint_eq(pf, PFERR_P | PFERR_W);
    ck_assert_uint_eq(fva, 0x22010);
    ck_assert_uint_eq(mem_ld32(&h.m, 0x22010), 0);
    uint32_t got = 1;
    ck_assert_int_eq(rd(0x22010, &got, 4), 0);
    ck_assert_uint_eq(got, 0);
    /* Read-only in a non-leaf entry counts too. */
    pte_set(0x22000, pte(0x22000) | PTE_RW);
    st64(PD, ld64(PD) & ~PTE_RW);
    ck_assert_int_eq(wr(0x22010, &v, 4), -1);
    ck_assert_uint_eq(pf, PFERR_P | PFERR_W);
    /* Supervisor writes ignore R/W when CR0.WP is clear. */
    vcpu_set(h.v, VR_CR0, 0x80000033);
    ck_assert_int_eq(wr(0x22010, &v, 4), 0);
    ck_assert_uint_eq(mem_ld32(&h.m, 0x22010), 0xA5A5A5A5u);
}
END_TEST

static void rsv_pte_bit51(void) { pte_set(0x22000, pte(0x22000) | 1ull << 51); }
static void rsv_nx_without_nxe(void)
{
    vcpu_set(h.v, VR_EFER, 0x501); /* SCE LME LMA, no NXE */
    pte_set(0x22000, pte(0x22000) | PTE_NX);
}
static void rsv_pde_bit48(void) { st64(PD, ld64(PD) | 1ull << 48); }
static void rsv_ps_in_pml4e(void) { st64(PML4, ld64(PML4) | PTE_PS); }
static void rsv_2m_low_bits(void) { st64(PD + 8, ld64(PD + 8) | 1ull << 13); }
static void rsv_1g_low_bits(void) { st64(PDPT + 8, PTE_P | PTE_RW | PTE_PS | 1ull << 29); }

static const struct {
    const char *what;
    void (*prep)(void);
    uint64_t va;
} reserved_cases[] = {
    {"PTE bit 51 (above MAXPHYADDR 48)", rsv_pte_bit51, 0x22008},
    {"NX without EFER.NXE", rsv_nx_without_nxe, 0x22008},
    {"PDE bit 48", rsv_pde_bit48, 0x22008},
    {"PS in a PML4E", rsv_ps_in_pml4e, 0x22008},
    {"2 MiB page with address bit 13", rsv_2m_low_bits, 0x200008},
    {"1 GiB page with address bit 29", rsv_1g_low_bits, 0x40000008},
};

START_TEST(reserved_bits_in_any_entry_report_rsvd_with_p)
{
    reserved_cases[_i].prep();
    uint64_t va = reserved_cases[_i].va, buf = 0;
    ck_assert_int_eq(rd(va, &buf, 8), -1);
    ck_assert_msg(pf == (PFERR_P | PFERR_RSVD), "%s: read error %#x", reserved_cases[_i].what, pf);
    ck_assert_uint_eq(fva, va);
    ck_assert_int_eq(wr(va, &buf, 8), -1);
    ck_assert_msg(pf == (PFERR_P | PFERR_W | PFERR_RSVD), "%s: write error %#x",
                  reserved_cases[_i].what, pf);
}
END_TEST

START_TEST(a_guest_access_to_a_page_with_reserved_bits_is_a_rsvd_page_fault)
{
    rsv_pte_bit51();
    CODE_AT(CODE,
        0x48, 0x8B, 0x04, 0x25, 0x08, 0x20, 0x02, 0x00, /* 0: mov rax, [0x22008] */
        0xF4,                           /* 8: hlt */
    );
    run_to_stub(X86_PF);
    ck_assert_uint_eq(h.deliv[0].ev.error, PFERR_P | PFERR_RSVD);
    ck_assert_uint_eq(reg(VR_CR2), 0x22008);
    ck_assert_uint_eq(stk(1), CODE);
}
END_TEST

START_TEST(walks_set_accessed_bits_on_every_level_and_dirty_only_on_written_leaves)
{
    uint32_t v = 7;
    ck_assert_int_eq(rd(0x25000, &v, 4), 0);
    ck_assert_uint_eq(ld64(PML4) & PTE_A, PTE_A);
    ck_assert_uint_eq(ld64(PDPT) & PTE_A, PTE_A);
    ck_assert_uint_eq(ld64(PD) & PTE_A, PTE_A);
    ck_assert_uint_eq(pte(0x25000) & (PTE_A | PTE_D), PTE_A);
    ck_assert_uint_eq(pte(0x26000) & (PTE_A | PTE_D), 0);
    ck_assert_int_eq(wr(0x26000, &v, 4), 0);
    ck_assert_uint_eq(pte(0x26000) & (PTE_A | PTE_D), PTE_A | PTE_D);
    ck_assert_uint_eq(pte(0x25000) & PTE_D, 0);
    /* Non-leaf entries never get D. */
    ck_assert_uint_eq(ld64(PML4) & PTE_D, 0);
    ck_assert_uint_eq(ld64(PD) & PTE_D, 0);
    /* 2 MiB leaves the same way. */
    ck_assert_int_eq(rd(0x200000, &v, 4), 0);
    ck_assert_uint_eq(ld64(PD + 8) & (PTE_A | PTE_D), PTE_A);
    ck_assert_int_eq(wr(0x400000, &v, 4), 0);
    ck_assert_uint_eq(ld64(PD + 16) & (PTE_A | PTE_D), PTE_A | PTE_D);
    /* A failed walk sets nothing on the faulting leaf. */
    pte_set(0x27000, pte(0x27000) & ~PTE_RW);
    ck_assert_int_eq(wr(0x27000, &v, 4), -1);
    ck_assert_uint_eq(pte(0x27000) & PTE_D, 0);
}
END_TEST

START_TEST(guest_code_sets_accessed_and_dirty_bits_through_the_tlb_fill)
{
    CODE_AT(CODE,
        0xC7, 0x04, 0x25, 0x00, 0x60, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, /* 0: mov dword [0x26000], 1 */
        0x8B, 0x04, 0x25, 0x00, 0x70, 0x02, 0x00, /* b: mov eax, [0x27000] */
        0xF4,                           /* 12: hlt */
    );
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(pte(0x26000) & (PTE_A | PTE_D), PTE_A | PTE_D);
    ck_assert_uint_eq(pte(0x27000) & (PTE_A | PTE_D), PTE_A);
    ck_assert_uint_eq(pte(CODE) & (PTE_A | PTE_D), PTE_A);
    ck_assert_uint_eq(pte(0x28000) & PTE_A, 0);
}
END_TEST

START_TEST(two_mib_pages_translate_with_the_offset_inside_the_page)
{
    /* va 0x600000-0x7fffff -> pa 0x200000-0x3fffff */
    st64(PD + 3 * 8, 0x200000 | PTE_P | PTE_RW | PTE_PS);
    st64(0x201230, 0x1122334455667788ull);
    uint64_t got = 0;
    ck_assert_int_eq(rd(0x601230, &got, 8), 0);
    ck_assert_uint_eq(got, 0x1122334455667788ull);
    static const uint8_t pat[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    ck_assert_int_eq(wr(0x7FFFF0, pat, 16), 0);
    ck_assert_mem_eq(h.m.ram + 0x3FFFF0, pat, 16);
    ck_assert_uint_eq(ld64(0x7FFFF0), 0); /* the identity address was not written */
    /* The guest sees the same through its TLB. */
    CODE_AT(CODE,
        0x48, 0x8B, 0x04, 0x25, 0x30, 0x12, 0x60, 0x00, /* 0: mov rax, [0x601230] */
        0xF4,                           /* 8: hlt */
    );
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(reg(VR_RAX), 0x1122334455667788ull);
}
END_TEST

START_TEST(one_gib_pages_translate_with_the_offset_inside_the_page)
{
    /* va 1 GiB + x -> pa x */
    st64(PDPT + 8, 0 | PTE_P | PTE_RW | PTE_PS);
    st64(0x345678, 0xA1B2C3D4E5F60718ull);
    uint64_t got = 0;
    ck_assert_int_eq(rd(0x40345678, &got, 8), 0);
    ck_assert_uint_eq(got, 0xA1B2C3D4E5F60718ull);
    ck_assert_int_eq(wr(0x40700000, &got, 8), 0);
    ck_assert_uint_eq(ld64(0x700000), 0xA1B2C3D4E5F60718ull);
    ck_assert_uint_eq(ld64(PDPT + 8) & (PTE_A | PTE_D), PTE_A | PTE_D);
    /* Inside the page but past RAM: the model's choice is a #PF with P|RSVD. */
    ck_assert_int_eq(rd(0x40000000 + RAM, &got, 8), -1);
    ck_assert_uint_eq(pf, PFERR_P | PFERR_RSVD);
    ck_assert_uint_eq(fva, 0x40000000 + RAM);
    CODE_AT(CODE,
        0x48, 0x8B, 0x04, 0x25, 0x78, 0x56, 0x34, 0x40, /* 0: mov rax, [0x40345678] */
        0xF4,                           /* 8: hlt */
    );
    ck_assert_int_eq(run(1000), VCPU_STOP_HALT);
    ck_assert_uint_eq(reg(VR_RAX), 0xA1B2C3D4E5F60718ull);
}
END_TEST

START_TEST(a_non_canonical_address_is_a_gp_not_a_page_fault)
{
    uint64_t buf;
    ck_assert_int_eq(rd(0x0000800000000000ull, &buf, 8), -1);
    ck_assert_uint_eq(pf, UINT32_MAX);
    ck_assert_int_eq(rd(0xFFFF7FFFFFFFFFF8ull, &buf, 8), -1);
    ck_assert_uint_eq(pf, UINT32_MAX);
    /* The top half is canonical: an ordinary not-present fault. */
    ck_assert_int_eq(rd(0xFFFF800000000000ull, &buf, 8), -1);
    ck_assert_uint_eq(pf, 0);
}
END_TEST

static void add_paging_tests(Suite *s)
{
    TCase *tc = tcase_create("paging");
    tcase_add_checked_fixture(tc, setup_bare, teardown);
    tcase_add_test(tc, a_not_present_page_reports_a_page_fault_without_p);
    tcase_add_test(tc, a_read_that_crosses_onto_a_not_present_page_faults_at_that_page);
    tcase_add_test(tc, a_write_to_a_read_only_page_faults_with_cr0_wp_and_succeeds_without);
    tcase_add_loop_test(tc, reserved_bits_in_any_entry_report_rsvd_with_p, 0,
                        (int)(sizeof(reserved_cases) / sizeof(reserved_cases[0])));
    tcase_add_test(tc, walks_set_accessed_bits_on_every_level_and_dirty_only_on_written_leaves);
    tcase_add_test(tc, guest_code_sets_accessed_and_dirty_bits_through_the_tlb_fill);
    tcase_add_test(tc, two_mib_pages_translate_with_the_offset_inside_the_page);
    tcase_add_test(tc, one_gib_pages_translate_with_the_offset_inside_the_page);
    tcase_add_test(tc, a_non_canonical_address_is_a_gp_not_a_page_fault);
    suite_add_tcase(s, tc);

    tc = tcase_create("paging_guest");
    tcase_add_checked_fixture(tc, setup_idt, teardown);
    tcase_add_test(tc, a_guest_access_to_a_page_with_reserved_bits_is_a_rsvd_page_fault);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("cpu_paging");
    add_paging_tests(s);
    return ck_run(s, CK_RUN_FORK);
}
