/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the architectural layouts of include/snpref/sev.h against
 * the architecture fact sheet (docs/sev-snp-facts.md): every row of the VMSA
 * table (section 2) and its register quick-list, the VMCB control-area table
 * (section 3), the GHCB table (section 4.1) with its valid-bitmap bit numbers
 * (GHCB_BIT), and the sizes the Linux kernel's build checks assert
 * (arch/x86/include/asm/svm.h __unused_size_checks): VMSA 1648, GHCB save area
 * 1032, VMCB control area 1024, GHCB 4096. The tables below are copied from the
 * fact sheet, not from sev.h, so a wrong offset there fails here.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "snpref/sev.h"
#include "ck_run.h"

struct row {
    const char *name;
    size_t off;       /* offsetof in sev.h */
    size_t size;      /* sizeof the field in sev.h */
    size_t want_off;  /* the fact sheet */
    size_t want_size; /* 0: the fact sheet gives none */
};

#define FSIZE(s, f)            sizeof(((struct s *)0)->f)
#define ROW(s, f, off, size)   {#s "." #f, offsetof(struct s, f), FSIZE(s, f), off, size}
#define V(f, off, size)        ROW(sev_vmsa, f, off, size)
#define C(f, off, size)        ROW(vmcb_control, f, off, size)
#define G(f, off, size)        ROW(ghcb_save_area, f, off, size)
#define P(f, off, size)        ROW(ghcb, f, off, size)

static void check_row(const struct row *r)
{
    ck_assert_msg(r->off == r->want_off, "%s at 0x%zx, fact sheet 0x%zx", r->name, r->off,
                  r->want_off);
    ck_assert_msg(!r->want_size || r->size == r->want_size, "%s is %zu bytes, fact sheet %zu",
                  r->name, r->size, r->want_size);
}

/* ---- VMSA (docs/sev-snp-facts.md 2) ---------------------------------------------------------- */

static const struct row vmsa_rows[] = {
    V(es, 0x000, 16), V(cs, 0x010, 16), V(ss, 0x020, 16), V(ds, 0x030, 16), V(fs, 0x040, 16),
    V(gs, 0x050, 16), V(gdtr, 0x060, 16), V(ldtr, 0x070, 16), V(idtr, 0x080, 16),
    V(tr, 0x090, 16), V(pl0_ssp, 0x0A0, 8), V(pl1_ssp, 0x0A8, 8), V(pl2_ssp, 0x0B0, 8),
    V(pl3_ssp, 0x0B8, 8), V(u_cet, 0x0C0, 8), V(reserved_0xc8, 0x0C8, 2), V(vmpl, 0x0CA, 1),
    V(cpl, 0x0CB, 1), V(reserved_0xcc, 0x0CC, 4), V(efer, 0x0D0, 8),
    V(reserved_0xd8, 0x0D8, 104), V(xss, 0x140, 8), V(cr4, 0x148, 8), V(cr3, 0x150, 8),
    V(cr0, 0x158, 8), V(dr7, 0x160, 8), V(dr6, 0x168, 8), V(rflags, 0x170, 8),
    V(rip, 0x178, 8), V(dr0, 0x180, 8), V(dr1, 0x188, 8), V(dr2, 0x190, 8), V(dr3, 0x198, 8),
    V(dr0_addr_mask, 0x1A0, 8), V(dr1_addr_mask, 0x1A8, 8), V(dr2_addr_mask, 0x1B0, 8),
    V(dr3_addr_mask, 0x1B8, 8), V(reserved_0x1c0, 0x1C0, 24), V(rsp, 0x1D8, 8),
    V(s_cet, 0x1E0, 8), V(ssp, 0x1E8, 8), V(isst_addr, 0x1F0, 8), V(rax, 0x1F8, 8),
    V(star, 0x200, 8), V(lstar, 0x208, 8), V(cstar, 0x210, 8), V(sfmask, 0x218, 8),
    V(kernel_gs_base, 0x220, 8), V(sysenter_cs, 0x228, 8), V(sysenter_esp, 0x230, 8),
    V(sysenter_eip, 0x238, 8), V(cr2, 0x240, 8), V(reserved_0x248, 0x248, 32),
    V(g_pat, 0x268, 8), V(dbgctl, 0x270, 8), V(br_from, 0x278, 8), V(br_to, 0x280, 8),
    V(last_excp_from, 0x288, 8), V(last_excp_to, 0x290, 8), V(reserved_0x298, 0x298, 0),
    V(spec_ctrl, 0x2E0, 8), V(pkru, 0x2E8, 4), V(tsc_aux, 0x2EC, 4), V(tsc_scale, 0x2F0, 8),
    V(tsc_offset, 0x2F8, 8), V(reserved_0x300, 0x300, 8), V(rcx, 0x308, 8), V(rdx, 0x310, 8),
    V(rbx, 0x318, 8), V(secure_avic_control, 0x320, 8), V(rbp, 0x328, 8), V(rsi, 0x330, 8),
    V(rdi, 0x338, 8), V(r8, 0x340, 8), V(r9, 0x348, 8), V(r10, 0x350, 8), V(r11, 0x358, 8),
    V(r12, 0x360, 8), V(r13, 0x368, 8), V(r14, 0x370, 8), V(r15, 0x378, 8),
    V(reserved_0x380, 0x380, 16), V(guest_exit_info_1, 0x390, 8),
    V(guest_exit_info_2, 0x398, 8), V(guest_exit_int_info, 0x3A0, 8), V(guest_nrip, 0x3A8, 8),
    V(sev_features, 0x3B0, 8), V(vintr_ctrl, 0x3B8, 8), V(guest_exit_code, 0x3C0, 8),
    V(virtual_tom, 0x3C8, 8), V(tlb_id, 0x3D0, 8), V(pcpu_id, 0x3D8, 8),
    V(event_inj, 0x3E0, 8), V(xcr0, 0x3E8, 8), V(reserved_0x3f0, 0x3F0, 16),
    V(x87_dp, 0x400, 8), V(mxcsr, 0x408, 4), V(x87_ftw, 0x40C, 2), V(x87_fsw, 0x40E, 2),
    V(x87_fcw, 0x410, 2), V(x87_fop, 0x412, 2), V(x87_ds, 0x414, 2), V(x87_cs, 0x416, 2),
    V(x87_rip, 0x418, 8), V(fpreg_x87, 0x420, 80), V(fpreg_xmm, 0x470, 256),
    V(fpreg_ymm, 0x570, 256),
    /* vmcb_seg: selector u16 @0, attrib u16 @2, limit u32 @4, base u64 @8 */
    ROW(vmcb_seg, selector, 0, 2), ROW(vmcb_seg, attrib, 2, 2), ROW(vmcb_seg, limit, 4, 4),
    ROW(vmcb_seg, base, 8, 8),
};

START_TEST(every_vmsa_field_sits_at_the_fact_sheet_offset_with_its_size)
{
    check_row(&vmsa_rows[_i]);
}
END_TEST

/* The register quick-list of docs/sev-snp-facts.md 2, in its own words. */
static const struct row vmsa_regs[] = {
    V(rax, 0x1F8, 8), V(rbx, 0x318, 8), V(rcx, 0x308, 8), V(rdx, 0x310, 8),
    V(rsp, 0x1D8, 8), V(rbp, 0x328, 8), V(rsi, 0x330, 8), V(rdi, 0x338, 8),
    V(r8, 0x340, 8), V(r9, 0x348, 8), V(r10, 0x350, 8), V(r11, 0x358, 8),
    V(r12, 0x360, 8), V(r13, 0x368, 8), V(r14, 0x370, 8), V(r15, 0x378, 8),
};

START_TEST(every_general_register_of_the_quick_list_sits_at_its_vmsa_offset)
{
    check_row(&vmsa_regs[_i]);
}
END_TEST

START_TEST(the_vmsa_is_1648_bytes_and_the_segment_record_16)
{
    ck_assert_uint_eq(sizeof(struct sev_vmsa), 1648);
    ck_assert_uint_eq(sizeof(struct sev_vmsa), 0x670);
    ck_assert_uint_eq(sizeof(struct vmcb_seg), 16);
    /* Linux's reserved_0x298[80] holds spec_ctrl at 0x2E0: 72 bytes before it. */
    size_t gap = offsetof(struct sev_vmsa, spec_ctrl) - offsetof(struct sev_vmsa, reserved_0x298);
    ck_assert_uint_eq(gap, 72);
}
END_TEST

/* ---- VMCB control area (docs/sev-snp-facts.md 3) --------------------------------------------- */

static const struct row vmcb_rows[] = {
    C(intercepts, 0x000, 24), C(pause_filter_thresh, 0x03C, 2), C(pause_filter_count, 0x03E, 2),
    C(iopm_base_pa, 0x040, 8), C(msrpm_base_pa, 0x048, 8), C(tsc_offset, 0x050, 8),
    C(asid, 0x058, 4), C(tlb_ctl, 0x05C, 1), C(erap_ctl, 0x05D, 1), C(int_ctl, 0x060, 4),
    C(int_vector, 0x064, 4), C(int_state, 0x068, 4), C(exit_code, 0x070, 8),
    C(exit_info_1, 0x078, 8), C(exit_info_2, 0x080, 8), C(exit_int_info, 0x088, 4),
    C(exit_int_info_err, 0x08C, 4), C(misc_ctl, 0x090, 8), C(avic_vapic_bar, 0x098, 8),
    C(ghcb_gpa, 0x0A0, 8), C(event_inj, 0x0A8, 4), C(event_inj_err, 0x0AC, 4),
    C(nested_cr3, 0x0B0, 8), C(misc_ctl2, 0x0B8, 8), C(clean, 0x0C0, 0), C(next_rip, 0x0C8, 8),
    C(insn_len, 0x0D0, 1), C(insn_bytes, 0x0D1, 15), C(avic_backing_page, 0x0E0, 8),
    C(avic_logical_id, 0x0F0, 8), C(avic_physical_id, 0x0F8, 8), C(vmsa_pa, 0x108, 8),
    C(bus_lock_counter, 0x120, 2), C(update_irr, 0x134, 1), C(allowed_sev_features, 0x138, 8),
    C(guest_sev_features, 0x140, 8), C(requested_irr, 0x150, 32), C(reserved_sw, 0x3E0, 32),
};

START_TEST(every_vmcb_control_field_sits_at_the_fact_sheet_offset_with_its_size)
{
    check_row(&vmcb_rows[_i]);
}
END_TEST

START_TEST(the_vmcb_control_area_is_1024_bytes_so_the_save_area_starts_at_0x400)
{
    ck_assert_uint_eq(sizeof(struct vmcb_control), 1024);
    /* requested_irr[8] of u32 spans 0x150..0x16F. */
    size_t end = offsetof(struct vmcb_control, requested_irr) + FSIZE(vmcb_control, requested_irr);
    ck_assert_uint_eq(end, 0x170);
}
END_TEST

/* ---- GHCB (docs/sev-snp-facts.md 4.1) -------------------------------------------------------- */

static const struct row ghcb_rows[] = {
    G(cpl, 0x0CB, 1), G(xss, 0x140, 8), G(dr7, 0x160, 8), G(rip, 0x178, 8), G(rsp, 0x1D8, 8),
    G(rax, 0x1F8, 8), G(rcx, 0x308, 8), G(rdx, 0x310, 8), G(rbx, 0x318, 8), G(rbp, 0x328, 8),
    G(rsi, 0x330, 8), G(rdi, 0x338, 8), G(r8, 0x340, 8), G(r9, 0x348, 8), G(r10, 0x350, 8),
    G(r11, 0x358, 8), G(r12, 0x360, 8), G(r13, 0x368, 8), G(r14, 0x370, 8), G(r15, 0x378, 8),
    G(sw_exit_code, 0x390, 8), G(sw_exit_info_1, 0x398, 8), G(sw_exit_info_2, 0x3A0, 8),
    G(sw_scratch, 0x3A8, 8), G(xcr0, 0x3E8, 8), G(valid_bitmap, 0x3F0, 16),
    G(x87_state_gpa, 0x400, 8),
    /* Linux's reserved-field asserts for ghcb_save_area */
    G(reserved_0x0, 0x0, 0), G(reserved_0xcc, 0xCC, 0), G(reserved_0x148, 0x148, 0),
    G(reserved_0x168, 0x168, 0), G(reserved_0x180, 0x180, 0), G(reserved_0x1e0, 0x1E0, 0),
    G(reserved_0x200, 0x200, 0), G(reserved_0x320, 0x320, 0), G(reserved_0x380, 0x380, 0),
    G(reserved_0x3b0, 0x3B0, 0),
    /* the page */
    P(save, 0x000, 1032), P(shared_buffer, 0x800, 2032), P(reserved_0xff0, 0xFF0, 10),
    P(protocol_version, 0xFFA, 2), P(ghcb_usage, 0xFFC, 4),
};

START_TEST(every_ghcb_field_sits_at_the_fact_sheet_offset_with_its_size)
{
    check_row(&ghcb_rows[_i]);
}
END_TEST

START_TEST(the_ghcb_save_area_is_1032_bytes_and_the_ghcb_one_page)
{
    ck_assert_uint_eq(sizeof(struct ghcb_save_area), 1032);
    ck_assert_uint_eq(sizeof(struct ghcb), 4096);
    ck_assert_uint_eq(GHCB_SHARED_BUF_SIZE, 2032);
    ck_assert_uint_eq(offsetof(struct ghcb, shared_buffer) + GHCB_SHARED_BUF_SIZE, 0xFF0);
}
END_TEST

/* Valid-bitmap bits of docs/sev-snp-facts.md 4.1 (bit = offset / 8). */
static const struct {
    const char *name;
    size_t bit, want;
} bits[] = {
    {"cpl", GHCB_BIT(cpl), 25},
    {"xss", GHCB_BIT(xss), 40},
    {"dr7", GHCB_BIT(dr7), 44},
    {"rip", GHCB_BIT(rip), 47},
    {"rsp", GHCB_BIT(rsp), 59},
    {"rax", GHCB_BIT(rax), 63},
    {"rcx", GHCB_BIT(rcx), 97},
    {"rdx", GHCB_BIT(rdx), 98},
    {"rbx", GHCB_BIT(rbx), 99},
    {"rbp", GHCB_BIT(rbp), 101},
    {"rsi", GHCB_BIT(rsi), 102},
    {"rdi", GHCB_BIT(rdi), 103},
    {"r8", GHCB_BIT(r8), 104},
    {"r9", GHCB_BIT(r9), 105},
    {"r10", GHCB_BIT(r10), 106},
    {"r11", GHCB_BIT(r11), 107},
    {"r12", GHCB_BIT(r12), 108},
    {"r13", GHCB_BIT(r13), 109},
    {"r14", GHCB_BIT(r14), 110},
    {"r15", GHCB_BIT(r15), 111},
    {"sw_exit_code", GHCB_BIT(sw_exit_code), 114},
    {"sw_exit_info_1", GHCB_BIT(sw_exit_info_1), 115},
    {"sw_exit_info_2", GHCB_BIT(sw_exit_info_2), 116},
    {"sw_scratch", GHCB_BIT(sw_scratch), 117},
    {"xcr0", GHCB_BIT(xcr0), 125},
    {"x87_state_gpa", GHCB_BIT(x87_state_gpa), 128},
};

START_TEST(every_ghcb_valid_bitmap_bit_is_the_fact_sheet_number)
{
    ck_assert_msg(bits[_i].bit == bits[_i].want, "GHCB_BIT(%s) = %zu, fact sheet %zu",
                  bits[_i].name, bits[_i].bit, bits[_i].want);
}
END_TEST

/* The GHCB save area mirrors the VMSA: every register the GHCB carries sits at
 * the VMSA's offset for it (docs/sev-snp-facts.md 4.1). */
#define MIRROR(f) {#f, offsetof(struct ghcb_save_area, f), offsetof(struct sev_vmsa, f)}
static const struct {
    const char *name;
    size_t ghcb, vmsa;
} mirror[] = {
    MIRROR(cpl), MIRROR(xss), MIRROR(dr7), MIRROR(rip), MIRROR(rsp), MIRROR(rax), MIRROR(rcx),
    MIRROR(rdx), MIRROR(rbx), MIRROR(rbp), MIRROR(rsi), MIRROR(rdi), MIRROR(r8), MIRROR(r9),
    MIRROR(r10), MIRROR(r11), MIRROR(r12), MIRROR(r13), MIRROR(r14), MIRROR(r15), MIRROR(xcr0),
};

START_TEST(every_ghcb_register_sits_at_the_vmsa_offset_of_that_register)
{
    ck_assert_msg(mirror[_i].ghcb == mirror[_i].vmsa, "%s: GHCB 0x%zx, VMSA 0x%zx",
                  mirror[_i].name, mirror[_i].ghcb, mirror[_i].vmsa);
}
END_TEST

START_TEST(x87_registers_sit_in_the_vmsa_as_kvm_sev_es_sync_vmsa_lays_them_out)
{
    /* KVM (Linux arch/x86/kvm/svm/sev.c sev_es_sync_vmsa): bytes 0-7 of ST(i) at
     * fpreg_x87 + 8i, bytes 8-9 at fpreg_x87 + 64 + 2i. */
    static struct sev_vmsa a;
    for (unsigned i = 0; i < 8; i++) {
        unsigned char st[10];
        for (unsigned b = 0; b < 10; b++)
            st[b] = (unsigned char)(0x10 * i + b + 1);
        sev_vmsa_x87_put(&a, i, st);
    }
    for (unsigned i = 0; i < 8; i++) {
        for (unsigned b = 0; b < 8; b++)
            ck_assert_uint_eq(a.fpreg_x87[8 * i + b], 0x10 * i + b + 1);
        ck_assert_uint_eq(a.fpreg_x87[64 + 2 * i], 0x10 * i + 9);
        ck_assert_uint_eq(a.fpreg_x87[64 + 2 * i + 1], 0x10 * i + 10);
        unsigned char back[10];
        sev_vmsa_x87_get(&a, i, back);
        for (unsigned b = 0; b < 10; b++)
            ck_assert_uint_eq(back[b], 0x10 * i + b + 1);
    }
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("vmsa");
    tcase_add_loop_test(tc, every_vmsa_field_sits_at_the_fact_sheet_offset_with_its_size, 0,
                        N(vmsa_rows));
    tcase_add_loop_test(tc, every_general_register_of_the_quick_list_sits_at_its_vmsa_offset, 0,
                        N(vmsa_regs));
    tcase_add_test(tc, the_vmsa_is_1648_bytes_and_the_segment_record_16);
    suite_add_tcase(s, tc);

    tc = tcase_create("vmcb");
    tcase_add_loop_test(tc, every_vmcb_control_field_sits_at_the_fact_sheet_offset_with_its_size,
                        0, N(vmcb_rows));
    tcase_add_test(tc, the_vmcb_control_area_is_1024_bytes_so_the_save_area_starts_at_0x400);
    suite_add_tcase(s, tc);

    tc = tcase_create("ghcb");
    tcase_add_loop_test(tc, every_ghcb_field_sits_at_the_fact_sheet_offset_with_its_size, 0,
                        N(ghcb_rows));
    tcase_add_test(tc, the_ghcb_save_area_is_1032_bytes_and_the_ghcb_one_page);
    tcase_add_test(tc, x87_registers_sit_in_the_vmsa_as_kvm_sev_es_sync_vmsa_lays_them_out);
    tcase_add_loop_test(tc, every_ghcb_valid_bitmap_bit_is_the_fact_sheet_number, 0, N(bits));
    tcase_add_loop_test(tc, every_ghcb_register_sits_at_the_vmsa_offset_of_that_register, 0,
                        N(mirror));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ck_run(layout_suite(), CK_RUN_FORK);
}
