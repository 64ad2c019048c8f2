/* SPDX-License-Identifier: MIT */
/*
 * Check suite for xAPIC mode of the `emulated` fabric (apic/xapic.c and the
 * IA32_APIC_BASE transitions in apic/apic.c): the MMIO page swept slot by slot
 * the way KVM's xapic_state_test sweeps it, the power-on and disabled states,
 * every EN/EXTD transition with its #GP, relocation of the page, ICR_LOW and
 * ICR_HIGH, flat and cluster logical destinations swept over every 8-bit MDA,
 * lowest-priority arbitration among logical targets, and CR8 as TPR[7:4] in
 * both modes. References: Intel SDM vol. 3 sections 10.4, 10.5.3, 10.6,
 * 10.8.6.1, 10.12.5; AMD APM vol. 2 chapter 16.
 */
#include "test_apic_harness.h"
#include "ck_run.h"

#define BASE    0xFEE00000ull
#define ALTBASE 0xFED40000ull /* kvm-unit-tests' ALTERNATE_APIC_BASE */

static bool mmio(int vcpu, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    return fk.f->ops->mmio(fk.f, vcpu, gpa, size, write, val);
}

static uint32_t mr(int vcpu, unsigned off)
{
    uint64_t v = 0;
    ck_assert_msg(mmio(vcpu, BASE + off, 4, false, &v), "read of %#x not claimed", off);
    return (uint32_t)v;
}

static void mw(int vcpu, unsigned off, uint32_t val)
{
    uint64_t v = val;
    ck_assert_msg(mmio(vcpu, BASE + off, 4, true, &v), "write of %#x not claimed", off);
}

/* ESR as software reads it in xAPIC mode: write (any value), then read. */
static uint32_t xesr(int vcpu)
{
    mw(vcpu, APIC_ESR, 0);
    return mr(vcpu, APIC_ESR);
}

static void mkx(unsigned n)
{
    mk_mode(n, ids4, true);
}

/* The architecture's register map, written out independently of xapic.c's
 * table (SDM Table 10-1, AMD APM Table 16-2; 6 LVTs, no CMCI, no extended
 * space). The ID register reads back and ignores writes (model choice). */
static void expected_xapic(unsigned slot, bool *r, bool *w)
{
    *r = *w = false;
    if (slot == 0x02 || slot == 0x03 || slot == 0x09 || slot == 0x0A || slot == 0x0C ||
        (slot >= 0x10 && slot <= 0x27) || slot == 0x39)
        *r = true;
    else if (slot == 0x08 || (slot >= 0x0D && slot <= 0x0F) || slot == 0x28 || slot == 0x30 ||
             slot == 0x31 || (slot >= 0x32 && slot <= 0x38) || slot == 0x3E)
        *r = *w = true;
    else if (slot == 0x0B)
        *w = true; /* EOI */
}

/* Registers a write of what was read leaves as they were. */
static bool rewritable(unsigned off)
{
    return off == APIC_TPR || off == APIC_LDR || off == APIC_DFR || off == APIC_SPIV ||
           (off >= APIC_LVTT && off <= APIC_LVTERR) || off == APIC_TDCR || off == APIC_ICR_HIGH;
}

START_TEST(power_on_in_xapic_mode_has_the_8_bit_id_in_31_24_ldr_0_and_dfr_flat)
{
    mkx(NV);
    for (int v = 0; v < NV; v++) {
        ck_assert_uint_eq(rd(v, MSR_IA32_APICBASE), v == 0 ? 0xFEE00900u : 0xFEE00800u);
        ck_assert_uint_eq(mr(v, APIC_ID), (uint32_t)v << 24);
        ck_assert_uint_eq(mr(v, APIC_LVR), 0x00050015u);
        ck_assert_uint_eq(mr(v, APIC_LDR), 0);
        ck_assert_uint_eq(mr(v, APIC_DFR), 0xFFFFFFFFu);
        ck_assert_uint_eq(mr(v, APIC_SPIV), 0xFF);
        for (unsigned off = APIC_LVTT; off <= APIC_LVTERR; off += 0x10)
            ck_assert_uint_eq(mr(v, off), APIC_LVT_MASKED);
        ck_assert(fab_apic_enabled(fk.f, v));
    }
    unmk();
}
END_TEST

START_TEST(every_xapic_offset_reads_and_writes_as_the_architecture_says)
{
    mkx(2);
    mw(0, APIC_SPIV, 0x1FF);
    for (unsigned slot = 0; slot < APIC_PAGE_SIZE / 16; slot++) {
        unsigned off = slot * 16;
        bool r, w;
        expected_xapic(slot, &r, &w);
        ck_assert_msg((xapic_reg_lookup(off) != NULL) == (r || w), "table row of %#x", off);
        uint64_t v = 0xDEAD;
        ck_assert(mmio(0, BASE + off, 4, false, &v));
        if (!r)
            ck_assert_msg(v == 0, "%#x reads %#llx", off, (unsigned long long)v);
        ck_assert_msg(!!(xesr(0) & APIC_ESR_ILLEGAL_REG) == !(r || w), "ESR after reading %#x", off);
        for (unsigned b = 4; b < 16 && (r || w); b += 4) {
            uint64_t rest = 0xDEAD;
            ck_assert(mmio(0, BASE + off + b, 4, false, &rest));
            ck_assert_msg(rest == 0, "bytes %u of %#x", b, off);
        }
        uint8_t before[APIC_PAGE_SIZE];
        memcpy(before, page(0), sizeof(before));
        fk_clear();
        if (!w) {
            mw(0, off, 0xFFFFFFFFu);
            mw(0, off, 0);
            ck_assert_msg(memcmp(before, page(0), sizeof(before)) == 0, "%#x changed state", off);
            ck_assert_uint_eq(fk.nsent, 0);
            ck_assert_msg(!!(xesr(0) & APIC_ESR_ILLEGAL_REG) == !r, "ESR after writing %#x", off);
        } else if (rewritable(off)) {
            mw(0, off, (uint32_t)v);
            ck_assert_msg(mr(0, off) == (uint32_t)v, "%#x after writing back %#llx: %#x", off,
                          (unsigned long long)v, mr(0, off));
        }
    }
    unmk();
}
END_TEST

START_TEST(an_illegal_register_access_raises_the_lvt_error_interrupt)
{
    mkx(1);
    mw(0, APIC_SPIV, 0x1FF);
    mw(0, APIC_LVTERR, 0xE3);
    uint64_t v;
    ck_assert(mmio(0, BASE + 0x3F0, 4, false, &v)); /* SELF_IPI: x2APIC only */
    ck_assert(irr(0, 0xE3));
    ck_assert_uint_eq(xesr(0), APIC_ESR_ILLEGAL_REG);
    ck_assert_uint_eq(xesr(0), 0); /* latched once */
    unmk();
}
END_TEST

START_TEST(reserved_bits_are_dropped_and_nothing_faults_in_xapic_mode)
{
    static const struct {
        unsigned off;
        uint32_t val, want;
    } cases[] = {
        {APIC_TPR, 0xFFFFFF5Au, 0x5A},           {APIC_SPIV, 0xFFFFFFFFu, 0x3FF},
        {APIC_LDR, 0xFFFFFFFFu, 0xFF000000u},    {APIC_DFR, 0x0u, 0x0FFFFFFFu},
        {APIC_DFR, 0xF0000000u, 0xFFFFFFFFu},    {APIC_ICR_HIGH, 0xFFFFFFFFu, 0xFF000000u},
        {APIC_LVTERR, 0xFFFFFFFFu, 0x100FFu},    {APIC_LVT0, 0xFFFFFFFFu, 0x1A7FFu},
        {APIC_TDCR, 0xFFFFFFFFu, 0xBu},          {APIC_LVTT, 0x000210EEu, 0x000200EEu},
        {APIC_LVTT, 0x000600EEu, 0x000200EEu}, /* reserved mode 3: the store is dropped */
    };
    mkx(1);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mw(0, cases[i].off, cases[i].val);
        ck_assert_msg(mr(0, cases[i].off) == cases[i].want, "%#x <- %#x reads %#x", cases[i].off,
                      cases[i].val, mr(0, cases[i].off));
    }
    ck_assert_uint_eq(xesr(0), 0);
    unmk();
}
END_TEST

START_TEST(narrow_reads_see_register_bytes_and_only_aligned_dword_writes_count)
{
    mkx(4);
    uint64_t v;
    ck_assert(mmio(3, BASE + APIC_ID + 3, 1, false, &v));
    ck_assert_uint_eq(v, 3);
    ck_assert(mmio(0, BASE + APIC_LVR, 2, false, &v));
    ck_assert_uint_eq(v, 0x0015);
    ck_assert(mmio(0, BASE + APIC_LVR, 8, false, &v));
    ck_assert_uint_eq(v, 0x00050015u); /* bytes 4-7 of the slot are 0 */
    v = 0x50;
    ck_assert(mmio(0, BASE + APIC_TPR, 1, true, &v));
    ck_assert(mmio(0, BASE + APIC_TPR + 1, 4, true, &v));
    ck_assert(mmio(0, BASE + APIC_TPR, 8, true, &v));
    ck_assert_uint_eq(mr(0, APIC_TPR), 0);
    ck_assert_uint_eq(xesr(0), 0);
    unmk();
}
END_TEST

START_TEST(x2apic_msrs_raise_gp_in_xapic_mode)
{
    mkx(1);
    for (uint32_t msr = 0x800; msr <= 0x8FF; msr++) {
        uint64_t v;
        ck_assert_int_eq(fk.f->ops->msr_read(fk.f, 0, msr, &v), FAB_GP);
        ck_assert_int_eq(wr_r(0, msr, 0), FAB_GP);
    }
    ck_assert_uint_eq(mr(0, APIC_TPR), 0);
    unmk();
}
END_TEST

START_TEST(mmio_is_not_the_apic_when_disabled_in_x2apic_mode_or_outside_the_page)
{
    mk(1, ids4); /* x2APIC */
    uint64_t v = 0;
    ck_assert(!mmio(0, BASE + APIC_LVR, 4, false, &v));
    v = 0x1FF;
    ck_assert(!mmio(0, BASE + APIC_SPIV, 4, true, &v));
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_SPIV)), 0xFF);
    wr(0, MSR_IA32_APICBASE, 0xFEE00100); /* disabled */
    ck_assert(!mmio(0, BASE + APIC_LVR, 4, false, &v));
    ck_assert(!fab_apic_enabled(fk.f, 0));
    wr(0, MSR_IA32_APICBASE, 0xFEE00900); /* xAPIC */
    ck_assert(fab_apic_enabled(fk.f, 0));
    ck_assert(mmio(0, BASE + 0xFFC, 4, false, &v));
    ck_assert(!mmio(0, BASE + 0x1000, 4, false, &v));
    ck_assert(!mmio(0, BASE - 4, 4, false, &v));
    unmk();
}
END_TEST

/* ---- IA32_APIC_BASE ---------------------------------------------------------------------- */

/* Puts vCPU 0 (the BSP) into mode m (0 disabled, 2 xAPIC, 3 x2APIC) by legal steps. */
static void go_mode(unsigned m)
{
    fk.f->ops->reset(fk.f, 0, false); /* x2APIC */
    if (m != 3)
        wr(0, MSR_IA32_APICBASE, 0xFEE00100);
    if (m == 2)
        wr(0, MSR_IA32_APICBASE, 0xFEE00900);
}

START_TEST(every_apic_base_mode_transition_succeeds_or_raises_gp_as_the_sdm_says)
{
    /* allowed[from][to], modes as EN:EXTD (SDM 10.12.5.1 Figure 10-27): the
     * invalid mode 01b is never a target, x2APIC -> xAPIC and disabled ->
     * x2APIC must go through the third mode. */
    static const bool allowed[4][4] = {
        [0] = {[0] = true, [2] = true},
        [2] = {[0] = true, [2] = true, [3] = true},
        [3] = {[0] = true, [3] = true},
    };
    mk(1, ids4);
    for (unsigned from = 0; from < 4; from++) {
        if (from == 1)
            continue; /* unreachable */
        for (unsigned to = 0; to < 4; to++) {
            go_mode(from);
            uint64_t before = rd(0, MSR_IA32_APICBASE);
            uint64_t val = 0xFEE00100u | (to & 2 ? APIC_BASE_EN : 0) | (to & 1 ? APIC_BASE_EXTD : 0);
            enum fab_access a = wr_r(0, MSR_IA32_APICBASE, val);
            ck_assert_msg(a == (allowed[from][to] ? FAB_OK : FAB_GP), "%u -> %u", from, to);
            ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), allowed[from][to] ? val : before);
        }
    }
    unmk();
}
END_TEST

START_TEST(apic_base_reserved_bits_and_the_bsp_flag_raise_gp_in_xapic_mode)
{
    static const uint64_t bad[] = {
        0xFEE00901, 0xFEE00980, 0xFEE00B00, /* bits 0, 7, 9 */
        0xFEE00800,                         /* BSP cleared */
        1ull << 48 | 0xFEE00900,            /* above MAXPHYADDR 48 */
        1ull << 63 | 0xFEE00900,
    };
    struct fab_params p = fk_params(1, ids4);
    p.power_on_xapic = true;
    p.maxphyaddr = 48;
    mk_with(&p);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(wr_r(0, MSR_IA32_APICBASE, bad[i]) == FAB_GP, "%#llx",
                      (unsigned long long)bad[i]);
    wr(0, MSR_IA32_APICBASE, 0x0000FFFFFFFFF900ull); /* the highest base below bit 48 */
    ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), 0x0000FFFFFFFFF900ull);
    unmk();
}
END_TEST

START_TEST(the_base_moves_the_register_page)
{
    mkx(1);
    wr(0, MSR_IA32_APICBASE, 0xFEE00100);                 /* disable first, as the test does */
    wr(0, MSR_IA32_APICBASE, ALTBASE | 0x900);            /* relocate and enable at once */
    uint64_t v;
    ck_assert(!mmio(0, BASE + APIC_LVR, 4, false, &v));
    ck_assert(mmio(0, ALTBASE + APIC_LVR, 4, false, &v));
    ck_assert_uint_eq(v, 0x00050015u);
    wr(0, MSR_IA32_APICBASE, BASE | 0x900);
    ck_assert_uint_eq(mr(0, APIC_LVR), 0x00050015u);
    unmk();
}
END_TEST

START_TEST(disabling_loses_the_state_and_xapic_starts_again_from_reset)
{
    mkx(2);
    mw(0, APIC_SPIV, 0x1FF);
    mw(0, APIC_TPR, 0x40);
    mw(0, APIC_LDR, 0x01000000);
    mw(0, APIC_DFR, 0x0FFFFFFF);
    mw(0, APIC_LVTT, 0x20);
    mw(0, APIC_TMICT, 1000);
    inject(0, 0x80, false);
    wr(0, MSR_IA32_APICBASE, 0xFEE00100);
    wr(0, MSR_IA32_APICBASE, 0xFEE00900);
    ck_assert_uint_eq(mr(0, APIC_SPIV), 0xFF);
    ck_assert_uint_eq(mr(0, APIC_TPR), 0);
    ck_assert_uint_eq(mr(0, APIC_LDR), 0);
    ck_assert_uint_eq(mr(0, APIC_DFR), 0xFFFFFFFFu);
    ck_assert_uint_eq(mr(0, APIC_LVTT), APIC_LVT_MASKED);
    ck_assert_uint_eq(mr(0, APIC_TMICT), 0);
    ck_assert(!irr(0, 0x80));
    ck_assert_uint_eq(mr(0, APIC_ID), 0);
    unmk();
}
END_TEST

START_TEST(xapic_to_x2apic_keeps_the_registers_and_gives_the_ids_their_x2apic_form)
{
    static const uint32_t ids[NV] = {0, 2, 0x13, 0x11};
    mk_mode(NV, ids, true);
    mw(2, APIC_SPIV, 0x1FF);
    mw(2, APIC_TPR, 0x30);
    mw(2, APIC_LDR, 0x80000000u);
    mw(2, APIC_LVT0, 0x700);
    inject(2, 0x91, false);
    ck_assert_uint_eq(mr(2, APIC_ID), 0x13000000u);
    wr(2, MSR_IA32_APICBASE, 0xFEE00C00);
    ck_assert_uint_eq(rd(2, APIC_MSR(APIC_ID)), 0x13);
    ck_assert_uint_eq(rd(2, APIC_MSR(APIC_LDR)), 0x00010008);
    ck_assert_uint_eq(rd(2, APIC_MSR(APIC_SPIV)), 0x1FF);
    ck_assert_uint_eq(rd(2, APIC_MSR(APIC_TPR)), 0x30);
    ck_assert_uint_eq(rd(2, APIC_MSR(APIC_LVT0)), 0x700);
    ck_assert(irr(2, 0x91));
    uint64_t v;
    ck_assert(!mmio(2, BASE + APIC_ID, 4, false, &v));
    unmk();
}
END_TEST

START_TEST(an_x2apic_only_fabric_never_enters_xapic_mode)
{
    char err[160];
    struct fab_params p = fk_params(1, ids4);
    p.x2apic_only = p.power_on_xapic = true;
    struct fab_host host = fk_host();
    ck_assert(fabric_find("emulated")->create(&p, &host, err, sizeof(err)) == NULL);
    ck_assert(strstr(err, "x2APIC-only") != NULL);
    p.power_on_xapic = false;
    mk_with(&p);
    wr(0, MSR_IA32_APICBASE, 0xFEE00100);
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 0xFEE00900), FAB_GP);
    unmk();
}
END_TEST

START_TEST(without_the_cpuid_x2apic_bit_the_apic_powers_on_in_xapic_mode_and_extd_raises_gp)
{
    char err[160];
    struct fab_params p = fk_params(1, ids4);
    p.xapic_only = p.x2apic_only = true;
    struct fab_host host = fk_host();
    ck_assert(fabric_find("emulated")->create(&p, &host, err, sizeof(err)) == NULL);
    p.x2apic_only = false;
    mk_with(&p); /* power_on_xapic is false: xapic_only alone makes it xAPIC */
    ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), 0xFEE00900u);
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 0xFEE00D00), FAB_GP); /* SDM 10.12.1 */
    ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), 0xFEE00900u);
    wr(0, MSR_IA32_APICBASE, 0xFEE00100); /* disable, then xAPIC again: allowed */
    wr(0, MSR_IA32_APICBASE, 0xFEE00900);
    ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), 0xFEE00900u);
    unmk();
}
END_TEST

/* ---- ICR and destinations ------------------------------------------------------------------ */

START_TEST(a_written_xapic_id_is_the_physical_destination_and_aliases_reach_both)
{
    mkx(NV);
    for (int v = 0; v < NV; v++)
        mw(v, APIC_SPIV, 0x1FF);
    mw(2, APIC_ID, 0x47u << 24 | 0x00123456u); /* bits 23:0 are not stored */
    ck_assert_uint_eq(mr(2, APIC_ID), 0x47u << 24);
    mw(0, APIC_ICR_HIGH, 0x47u << 24);
    mw(0, APIC_ICR_LOW, 0x61);
    ck_assert_uint_eq(irr_mask(NV, 0x61), 1u << 2);
    mw(0, APIC_ICR_HIGH, 2u << 24); /* the old ID reaches no one */
    mw(0, APIC_ICR_LOW, 0x62);
    ck_assert_uint_eq(irr_mask(NV, 0x62), 0);
    mw(3, APIC_ID, 0x47u << 24); /* two APICs with one ID both accept */
    mw(0, APIC_ICR_HIGH, 0x47u << 24);
    mw(0, APIC_ICR_LOW, 0x63);
    ck_assert_uint_eq(irr_mask(NV, 0x63), 1u << 2 | 1u << 3);
    /* x2APIC mode brings back the initial ID (SDM 10.12.5.1). */
    wr(2, MSR_IA32_APICBASE, 0xFEE00C00);
    ck_assert_uint_eq(rd(2, 0x802), 2);
    unmk();
}
END_TEST

START_TEST(icr_low_sends_to_the_destination_in_icr_high_and_reads_idle)
{
    mkx(NV);
    for (int v = 0; v < NV; v++)
        mw(v, APIC_SPIV, 0x1FF);
    mw(0, APIC_ICR_HIGH, 2u << 24);
    ck_assert_uint_eq(fk.nsent, 0); /* ICR_HIGH alone sends nothing */
    mw(0, APIC_ICR_LOW, 0x4051 | (uint32_t)APIC_ICR_DS);
    ck_assert_uint_eq(irr_mask(NV, 0x51), 1u << 2);
    ck_assert_uint_eq(mr(0, APIC_ICR_LOW), 0x4051); /* delivery status reads idle */
    ck_assert_uint_eq(mr(0, APIC_ICR_HIGH), 2u << 24);
    mw(1, APIC_ICR_HIGH, 0xFFu << 24); /* physical broadcast */
    mw(1, APIC_ICR_LOW, 0x52);
    ck_assert_uint_eq(irr_mask(NV, 0x52), 0xF);
    mw(1, APIC_ICR_LOW, 0x53 | 3u << 18); /* all excluding self: ICR_HIGH ignored */
    ck_assert_uint_eq(irr_mask(NV, 0x53), 0xD);
    mw(3, APIC_ICR_LOW, 0x05); /* illegal vector */
    ck_assert_uint_eq(xesr(3), APIC_ESR_SEND_ILLEGAL);
    ck_assert_uint_eq(fk_count("ipi"), 4);
    unmk();
}
END_TEST

/* Which of the APICs with these 8-bit logical IDs an MDA reaches (SDM 10.6.2.2). */
static unsigned expect_logical(const uint8_t *lid, unsigned n, unsigned mda, bool flat)
{
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++) {
        bool hit = mda == 0xFF || (flat ? (mda & lid[i]) != 0
                                        : (mda >> 4) == (lid[i] >> 4) && (mda & lid[i] & 0xF));
        m |= hit ? 1u << i : 0;
    }
    return m;
}

static void sweep_logical(const uint8_t *lid, bool flat)
{
    mkx(NV);
    for (int v = 0; v < NV; v++) {
        mw(v, APIC_SPIV, 0x1FF);
        mw(v, APIC_DFR, flat ? 0xFFFFFFFFu : 0x0FFFFFFFu);
        mw(v, APIC_LDR, (uint32_t)lid[v] << 24);
    }
    for (unsigned mda = 0; mda < 256; mda++) {
        fk_clear();
        ck_assert_uint_eq(irr_mask(NV, 0x60), 0);
        mw(0, APIC_ICR_HIGH, mda << 24);
        mw(0, APIC_ICR_LOW, 0x60 | (uint32_t)APIC_ICR_DEST_LOGICAL);
        ck_assert_msg(irr_mask(NV, 0x60) == expect_logical(lid, NV, mda, flat),
                      "MDA %#x reached %#x", mda, irr_mask(NV, 0x60));
        for (int v = 0; v < NV; v++)
            if (irr(v, 0x60))
                take(v, FAB_EV_FIXED, 0x60), mw(v, APIC_EOI, 0);
    }
    unmk();
}

START_TEST(flat_logical_destinations_reach_every_apic_sharing_a_bit_for_all_256_mdas)
{
    static const uint8_t lid[NV] = {0x01, 0x02, 0x0C, 0x80};
    sweep_logical(lid, true);
}
END_TEST

START_TEST(cluster_logical_destinations_match_cluster_and_member_for_all_256_mdas)
{
    static const uint8_t lid[NV] = {0x11, 0x12, 0x21, 0xF8};
    sweep_logical(lid, false);
}
END_TEST

START_TEST(lowest_priority_to_a_logical_group_goes_to_the_lowest_tpr)
{
    mkx(NV);
    static const uint32_t tpr[NV] = {0x40, 0x20, 0x30, 0x10};
    for (int v = 0; v < NV; v++) {
        mw(v, APIC_SPIV, 0x1FF);
        mw(v, APIC_LDR, 1u << (24 + v));
        mw(v, APIC_TPR, tpr[v]);
    }
    mw(0, APIC_ICR_HIGH, 0x07u << 24); /* vCPUs 0-2 */
    mw(0, APIC_ICR_LOW, 0x70 | 1u << 8 | (uint32_t)APIC_ICR_DEST_LOGICAL);
    ck_assert_uint_eq(irr_mask(NV, 0x70), 1u << 1);
    unmk();
}
END_TEST

START_TEST(apr_is_tpr_unless_irr_or_isr_is_in_a_higher_class)
{
    mkx(1);
    mw(0, APIC_SPIV, 0x1FF);
    mw(0, APIC_TPR, 0x45);
    ck_assert_uint_eq(mr(0, APIC_APR), 0x45);
    inject(0, 0x62, false);
    ck_assert_uint_eq(mr(0, APIC_APR), 0x60); /* IRRV class above TPR's */
    take(0, FAB_EV_FIXED, 0x62);
    ck_assert_uint_eq(mr(0, APIC_APR), 0x60); /* ISRV class */
    mw(0, APIC_TPR, 0x75);
    ck_assert_uint_eq(mr(0, APIC_APR), 0x75);
    unmk();
}
END_TEST

static uint64_t cr8(int vcpu, bool write, uint64_t val)
{
    fk.f->ops->cr8(fk.f, vcpu, write, &val);
    return val;
}

START_TEST(cr8_is_tpr_bits_7_4_in_xapic_and_x2apic_mode)
{
    mkx(1);
    mw(0, APIC_SPIV, 0x1FF);
    mw(0, APIC_TPR, 0x5F);
    ck_assert_uint_eq(cr8(0, false, 0xDEAD), 0x5);
    cr8(0, true, 0x9);
    ck_assert_uint_eq(mr(0, APIC_TPR), 0x90); /* TPR[3:0] cleared */
    ck_assert_uint_eq(mr(0, APIC_PPR), 0x90);
    inject(0, 0x95, false);
    ck_assert_int_eq(pend(0).kind, FAB_EV_NONE); /* class 9 held back by CR8 9 */
    fk_clear();
    cr8(0, true, 0x8);
    ck_assert_uint_gt(fk.kicks[0], 0);
    ck_assert_int_eq(pend(0).kind, FAB_EV_FIXED);
    wr(0, MSR_IA32_APICBASE, 0xFEE00D00); /* x2APIC */
    ck_assert_uint_eq(cr8(0, false, 0), 0x8);
    wr(0, APIC_MSR(APIC_TPR), 0xC3);
    ck_assert_uint_eq(cr8(0, false, 0), 0xC);
    wr(0, MSR_IA32_APICBASE, 0xFEE00100); /* disabled: no TPR */
    ck_assert_uint_eq(cr8(0, false, 0xDEAD), 0);
    unmk();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("apic_xapic");
    TCase *tc = tcase_create("xapic");
    tcase_add_test(tc, power_on_in_xapic_mode_has_the_8_bit_id_in_31_24_ldr_0_and_dfr_flat);
    tcase_add_test(tc, every_xapic_offset_reads_and_writes_as_the_architecture_says);
    tcase_add_test(tc, an_illegal_register_access_raises_the_lvt_error_interrupt);
    tcase_add_test(tc, reserved_bits_are_dropped_and_nothing_faults_in_xapic_mode);
    tcase_add_test(tc, narrow_reads_see_register_bytes_and_only_aligned_dword_writes_count);
    tcase_add_test(tc, x2apic_msrs_raise_gp_in_xapic_mode);
    tcase_add_test(tc, mmio_is_not_the_apic_when_disabled_in_x2apic_mode_or_outside_the_page);
    tcase_add_test(tc, every_apic_base_mode_transition_succeeds_or_raises_gp_as_the_sdm_says);
    tcase_add_test(tc, apic_base_reserved_bits_and_the_bsp_flag_raise_gp_in_xapic_mode);
    tcase_add_test(tc, the_base_moves_the_register_page);
    tcase_add_test(tc, disabling_loses_the_state_and_xapic_starts_again_from_reset);
    tcase_add_test(tc, xapic_to_x2apic_keeps_the_registers_and_gives_the_ids_their_x2apic_form);
    tcase_add_test(tc, an_x2apic_only_fabric_never_enters_xapic_mode);
    tcase_add_test(tc, without_the_cpuid_x2apic_bit_the_apic_powers_on_in_xapic_mode_and_extd_raises_gp);
    tcase_add_test(tc, a_written_xapic_id_is_the_physical_destination_and_aliases_reach_both);
    tcase_add_test(tc, icr_low_sends_to_the_destination_in_icr_high_and_reads_idle);
    tcase_add_test(tc, flat_logical_destinations_reach_every_apic_sharing_a_bit_for_all_256_mdas);
    tcase_add_test(tc, cluster_logical_destinations_match_cluster_and_member_for_all_256_mdas);
    tcase_add_test(tc, lowest_priority_to_a_logical_group_goes_to_the_lowest_tpr);
    tcase_add_test(tc, apr_is_tpr_unless_irr_or_isr_is_in_a_higher_class);
    tcase_add_test(tc, cr8_is_tpr_bits_7_4_in_xapic_and_x2apic_mode);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ck_run(suite(), CK_RUN_FORK);
}
