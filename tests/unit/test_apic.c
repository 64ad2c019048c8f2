/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the x2APIC register semantics (apic/apic.c) and the
 * `emulated` fabric (apic/fab_emulated.c), after KVM's xapic_state_test and
 * kvm-unit-tests' apic tests: the MSR table swept over 0x800-0x8FF, reserved
 * bits, IA32_APIC_BASE, reset and INIT contents, every vector x delivery mode x
 * trigger through the ICR, illegal vectors and ESR, PPR/TPR/ISR/EOI ordering,
 * destinations (physical, logical clusters, broadcast, shorthands) and lowest-
 * priority arbitration, software disable. References: Intel SDM vol. 3
 * chapter 10, AMD APM vol. 2 chapter 16.
 *
 * The fake host is test_apic_harness.h's. xAPIC mode is test_apic_xapic.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_apic_harness.h"
#include "ck_run.h"

/* ---- MSR table ------------------------------------------------------------------------------ */

/* The architecture, written out independently of apic.c's table (SDM Table 10-6). */
static void expected_access(uint32_t msr, bool *r, bool *w)
{
    unsigned n = msr - 0x800;
    *r = *w = false;
    if (n == 0x02 || n == 0x03 || n == 0x0A || n == 0x0D || (n >= 0x10 && n <= 0x27) || n == 0x39)
        *r = true; /* read-only */
    else if (n == 0x08 || n == 0x0F || n == 0x28 || n == 0x30 || (n >= 0x32 && n <= 0x38) ||
             n == 0x3E)
        *r = *w = true;
    else if (n == 0x0B || n == 0x3F)
        *w = true; /* write-only */
}

START_TEST(every_x2apic_msr_reads_and_writes_as_the_architecture_says)
{
    mk(2, ids4);
    enable_all(2);
    for (uint32_t msr = 0x800; msr <= 0x8FF; msr++) {
        bool r, w;
        expected_access(msr, &r, &w);
        uint64_t v;
        ck_assert_msg(fk.f->ops->msr_read(fk.f, 0, msr, &v) == (r ? FAB_OK : FAB_GP), "read of %#x",
                      msr);
        uint8_t before[APIC_PAGE_SIZE];
        memcpy(before, page(0), sizeof(before));
        ck_assert_msg(wr_r(0, msr, 1ull << 32) == (msr == 0x830 ? FAB_OK : FAB_GP),
                      "write of bit 32 to %#x", msr);
        if (msr != 0x830)
            ck_assert_msg(memcmp(before, page(0), sizeof(before)) == 0, "%#x changed state", msr);
        ck_assert_msg(wr_r(0, msr, 0) == (w ? FAB_OK : FAB_GP), "write of 0 to %#x", msr);
        if (!w)
            ck_assert_msg(memcmp(before, page(0), sizeof(before)) == 0, "%#x changed state", msr);
        ck_assert_msg((apic_reg_lookup(msr) != NULL) == (r || w), "table row of %#x", msr);
    }
    unmk();
}
END_TEST

START_TEST(reserved_bits_raise_gp_and_change_nothing)
{
    static const struct {
        uint32_t off;
        uint64_t val;
    } bad[] = {
        {APIC_TPR, 0x100},      {APIC_SPIV, 1u << 12},   {APIC_SPIV, 1u << 10},
        {APIC_EOI, 1},          {APIC_ESR, 1},           {APIC_ICR, 1u << 12},
        {APIC_ICR, 1u << 13},   {APIC_ICR, 1u << 16},    {APIC_ICR, 1u << 17},
        {APIC_ICR, 1u << 20},   {APIC_ICR, 1u << 31},    {APIC_LVTT, 1u << 19},
        {APIC_LVTT, 3u << 17},  {APIC_LVTT, 1u << 8},    {APIC_LVTTHMR, 1u << 13},
        {APIC_LVTPC, 1u << 15}, {APIC_LVT0, 1u << 17},   {APIC_LVT1, 1u << 31},
        {APIC_LVTERR, 1u << 8}, {APIC_LVTERR, 1u << 15}, {APIC_TDCR, 0x4},
        {APIC_TDCR, 0x10},      {APIC_SELF_IPI, 0x100},  {APIC_TMICT, 1ull << 40},
    };
    mk(2, ids4);
    enable_all(2);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t before[APIC_PAGE_SIZE];
        memcpy(before, page(0), sizeof(before));
        fk_clear();
        ck_assert_msg(wr_r(0, APIC_MSR(bad[i].off), bad[i].val) == FAB_GP, "%#x <- %#llx",
                      bad[i].off, (unsigned long long)bad[i].val);
        ck_assert(memcmp(before, page(0), sizeof(before)) == 0);
        ck_assert_uint_eq(fk.nsent, 0);
        ck_assert_uint_eq(fk_count("ipi"), 0);
    }
    /* read-only status bits (delivery status, remote IRR) are accepted and dropped */
    wr(0, APIC_MSR(APIC_LVT0), APIC_LVT_DS | APIC_LVT_REMOTE_IRR | APIC_LVT_LEVEL | 0x31);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_LVT0)), APIC_LVT_LEVEL | 0x31);
    unmk();
}
END_TEST

START_TEST(reset_state_is_the_guest_abi_entry_state)
{
    mk(NV, sparse4);
    for (int v = 0; v < NV; v++) {
        ck_assert_uint_eq(rd(v, MSR_IA32_APICBASE), v == 0 ? 0xFEE00D00u : 0xFEE00C00u);
        ck_assert_uint_eq(rd(v, APIC_MSR(APIC_ID)), sparse4[v]);
        ck_assert_uint_eq(rd(v, APIC_MSR(APIC_LVR)), 0x00050015u);
        ck_assert_uint_eq(rd(v, APIC_MSR(APIC_SPIV)), 0xFF);
        ck_assert_uint_eq(rd(v, APIC_MSR(APIC_TPR)), 0);
        ck_assert_uint_eq(rd(v, APIC_MSR(APIC_PPR)), 0);
        ck_assert_uint_eq(rd(v, APIC_MSR(APIC_TMICT)), 0);
        for (unsigned off = APIC_LVTT; off <= APIC_LVTERR; off += 0x10)
            ck_assert_uint_eq(rd(v, APIC_MSR(off)), APIC_LVT_MASKED);
        ck_assert_int_eq(pend(v).kind, FAB_EV_NONE);
    }
    unmk();
}
END_TEST

START_TEST(ldr_is_the_x2apic_cluster_id_and_bit)
{
    mk(NV, sparse4);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_LDR)), 0x00000001);
    ck_assert_uint_eq(rd(1, APIC_MSR(APIC_LDR)), 0x00000004);
    ck_assert_uint_eq(rd(2, APIC_MSR(APIC_LDR)), 0x00010001);
    ck_assert_uint_eq(rd(3, APIC_MSR(APIC_LDR)), 0x00010002);
    ck_assert_uint_eq(apic_x2apic_ldr(0x12345), 0x12340020);
    ck_assert_uint_eq(apic_x2apic_ldr(0x1C), 0x00011000);
    ck_assert_uint_eq(apic_x2apic_ldr(0xFFFFFFFE), 0xFFFF4000);
    unmk();
}
END_TEST

START_TEST(apic_base_in_x2apic_mode_allows_only_rewrites_and_disable)
{
    mk(2, ids4);
    wr(0, MSR_IA32_APICBASE, 0xFEE00D00);                             /* unchanged: fine */
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 0xFEE00C00), FAB_GP); /* BSP cleared */
    ck_assert_int_eq(wr_r(1, MSR_IA32_APICBASE, 0xFEE00D00), FAB_GP); /* BSP set */
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 0xFEE00900), FAB_GP); /* x2APIC -> xAPIC */
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 0xFEE00500), FAB_GP); /* EXTD without EN */
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 0xFEE00F00), FAB_GP); /* reserved bit 9 */
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 1ull << 63 | 0xFEE00D00), FAB_GP);
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 1ull << 52 | 0xFEE00D00), FAB_GP); /* > MAXPHYADDR */
    ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), 0xFEE00D00);
    /* disable: state lost, x2APIC MSRs #GP, nothing arrives, back only through xAPIC */
    wr(0, APIC_MSR(APIC_SPIV), 0x1FF);
    inject(0, 0x40, false);
    wr(0, MSR_IA32_APICBASE, 0xFEE00100);
    ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), 0xFEE00100);
    uint64_t v;
    ck_assert_int_eq(fk.f->ops->msr_read(fk.f, 0, APIC_MSR(APIC_ID), &v), FAB_GP);
    ck_assert_int_eq(wr_r(0, APIC_MSR(APIC_TPR), 0), FAB_GP);
    ck_assert(!irr(0, 0x40));
    struct fab_msg nmi = {FAB_SRC_IPI, 1, 0, APIC_DM_NMI, false};
    fk.f->ops->receive(fk.f, 0, &nmi);
    ck_assert_int_eq(pend(0).kind, FAB_EV_NONE);
    ck_assert_int_eq(wr_r(0, MSR_IA32_APICBASE, 0xFEE00D00), FAB_GP); /* disabled -> x2APIC */
    fk.f->ops->reset(fk.f, 0, false);
    ck_assert_uint_eq(rd(0, MSR_IA32_APICBASE), 0xFEE00D00);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_ID)), 0);
    unmk();
}
END_TEST

/* ---- Delivery sweep ---------------------------------------------------------------------------
 */

static const enum apic_dm all_dms[] = {APIC_DM_FIXED, APIC_DM_LOWEST, APIC_DM_SMI,   APIC_DM_NMI,
                                       APIC_DM_INIT,  APIC_DM_SIPI,   APIC_DM_EXTINT};

/* After an ICR of (vec, dm, level) from vCPU 0 reached dst: IRR/TMR/latch and ESR. */
static void check_arrival(int dst, unsigned vec, enum apic_dm dm, bool level)
{
    struct fab_event ev = pend(dst);
    bool fixed = dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST;
    if (fixed && vec < 16) {
        ck_assert_uint_eq(fk.nsent, 0);
        ck_assert_uint_eq(esr(0), APIC_ESR_SEND_ILLEGAL);
        ck_assert_int_eq(ev.kind, FAB_EV_NONE);
        ck_assert_uint_eq(fk_count("irq_accept"), 0);
        return;
    }
    ck_assert_uint_eq(fk.nsent, 1);
    ck_assert_int_eq(fk.sent[0].dst, dst);
    ck_assert_uint_eq(fk_count("irq_accept"), 1);
    ck_assert_uint_eq(esr(0), 0);
    static const enum fab_ev_kind kind[8] = {FAB_EV_FIXED, FAB_EV_FIXED, FAB_EV_SMI,
                                             FAB_EV_NONE,  FAB_EV_NMI,   FAB_EV_INIT,
                                             FAB_EV_SIPI,  FAB_EV_EXTINT};
    ck_assert_int_eq(ev.kind, kind[dm]);
    if (fixed || dm == APIC_DM_SIPI || dm == APIC_DM_EXTINT)
        ck_assert_uint_eq(ev.vector, vec);
    ck_assert(irr(dst, vec) == fixed);
    ck_assert(tmr(dst, vec) == (fixed && level));
}

START_TEST(every_vector_mode_and_trigger_arrives_through_the_icr)
{
    mk(NV, ids4);
    for (unsigned d = 0; d < sizeof(all_dms) / sizeof(all_dms[0]); d++)
        for (unsigned trig = 0; trig < 2; trig++)
            for (int dst = 0; dst < 2; dst++)
                for (unsigned vec = 0; vec < 256; vec++) {
                    for (int v = 0; v < NV; v++)
                        fk.f->ops->reset(fk.f, v, false);
                    enable_all(NV);
                    fk_clear();
                    wr(0, APIC_MSR(APIC_ICR),
                       icr(vec, all_dms[d], trig, APIC_SH_NONE, false, (uint32_t)dst));
                    check_arrival(dst, vec, all_dms[d], trig);
                    ck_assert_ptr_nonnull(fk_event("ipi", 0));
                }
    unmk();
}
END_TEST

START_TEST(self_shorthand_delivers_only_fixed_and_self_ipi_msr_is_fixed_edge)
{
    mk(NV, ids4);
    for (unsigned d = 0; d < sizeof(all_dms) / sizeof(all_dms[0]); d++)
        for (unsigned vec = 16; vec < 256; vec++) {
            fk.f->ops->reset(fk.f, 0, false);
            enable_all(1);
            fk_clear();
            wr(0, APIC_MSR(APIC_ICR), icr(vec, all_dms[d], false, APIC_SH_SELF, false, 3));
            if (all_dms[d] == APIC_DM_FIXED) {
                check_arrival(0, vec, APIC_DM_FIXED, false);
            } else { /* SDM Table 10-3: invalid, nothing sent */
                ck_assert_uint_eq(fk.nsent, 0);
                ck_assert_int_eq(pend(0).kind, FAB_EV_NONE);
                ck_assert_ptr_nonnull(strstr(fk_event("ipi", 0), "\"targets\":0"));
            }
        }
    unmk();
}
END_TEST

START_TEST(self_ipi_msr_sends_a_fixed_edge_vector_to_self)
{
    mk(2, ids4);
    enable_all(2);
    inject(0, 0x45, true); /* level first, so the edge arrival must clear TMR */
    take(0, FAB_EV_FIXED, 0x45);
    wr(0, APIC_MSR(APIC_EOI), 0);
    fk_clear();
    wr(0, APIC_MSR(APIC_SELF_IPI), 0x45);
    ck_assert(irr(0, 0x45));
    ck_assert(!tmr(0, 0x45));
    ck_assert(!irr(1, 0x45));
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_ICR)), 0); /* SELF_IPI leaves ICR alone */
    const char *ipi = fk_event("ipi", 0);
    ck_assert_ptr_nonnull(strstr(ipi, "\"icr\":\"0x40045\""));
    ck_assert_ptr_nonnull(strstr(ipi, "\"shorthand\":\"self\""));
    ck_assert_ptr_nonnull(strstr(ipi, "\"targets\":1"));
    fk_clear();
    wr(0, APIC_MSR(APIC_SELF_IPI), 0x05); /* illegal vector */
    ck_assert_uint_eq(fk.nsent, 0);
    ck_assert_uint_eq(esr(0), APIC_ESR_SEND_ILLEGAL);
    uint64_t v;
    ck_assert_int_eq(fk.f->ops->msr_read(fk.f, 0, APIC_MSR(APIC_SELF_IPI), &v), FAB_GP);
    unmk();
}
END_TEST

START_TEST(illegal_vectors_set_esr_and_fire_the_lvt_error_entry)
{
    mk(2, ids4);
    enable_all(2);
    wr(0, APIC_MSR(APIC_LVTERR), 0xEE);
    wr(1, APIC_MSR(APIC_LVTERR), 0xED);
    wr(0, APIC_MSR(APIC_ICR), icr(5, APIC_DM_FIXED, false, APIC_SH_NONE, false, 1));
    ck_assert(irr(0, 0xEE)); /* the sender's error interrupt */
    ck_assert(!irr(1, 5));
    /* ESR shows nothing until written (SDM 10.5.3) */
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_ESR)), 0);
    wr(0, APIC_MSR(APIC_ESR), 0);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_ESR)), APIC_ESR_SEND_ILLEGAL);
    ck_assert_uint_eq(esr(0), 0);
    /* a device sending vector 7: the receiver logs "receive illegal vector" */
    struct fab_msg m = {FAB_SRC_DEVICE, -1, 7, APIC_DM_FIXED, false};
    fk.f->ops->route(fk.f, 1, false, &m);
    ck_assert(!irr(1, 7));
    ck_assert(irr(1, 0xED));
    ck_assert_uint_eq(esr(1), APIC_ESR_RECV_ILLEGAL);
    /* masked LVT error: ESR still records, nothing is raised */
    wr(0, APIC_MSR(APIC_LVTERR), APIC_LVT_MASKED | 0xEE);
    take(0, FAB_EV_FIXED, 0xEE);
    wr(0, APIC_MSR(APIC_EOI), 0);
    fk_clear();
    wr(0, APIC_MSR(APIC_ICR), icr(15, APIC_DM_LOWEST, false, APIC_SH_OTHERS, false, 0));
    ck_assert_uint_eq(fk.nsent, 0);
    ck_assert(!irr(0, 0xEE));
    ck_assert_uint_eq(esr(0), APIC_ESR_SEND_ILLEGAL);
    unmk();
}
END_TEST

START_TEST(init_level_deassert_and_reserved_mode_send_nothing)
{
    mk(2, ids4);
    enable_all(2);
    struct apic_icr d = {0, APIC_DM_INIT, false, false, true, APIC_SH_NONE, 1};
    wr(0, APIC_MSR(APIC_ICR), apic_icr_encode(&d));
    ck_assert_uint_eq(fk.nsent, 0);
    ck_assert_int_eq(pend(1).kind, FAB_EV_NONE);
    wr(0, APIC_MSR(APIC_ICR), 3u << 8 | 0x40 | (uint64_t)1 << 32);
    ck_assert_uint_eq(fk.nsent, 0);
    ck_assert_ptr_nonnull(strstr(fk_event("ipi", 1), "\"mode\":\"reserved\""));
    ck_assert_uint_eq(esr(0), 0);
    /* the ICR reads back what was written, high half at page offset 0x310 */
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_ICR)), 0x100000340ull);
    ck_assert_uint_eq(__apic_get_reg(page(0), APIC_ICR2), 1);
    unmk();
}
END_TEST

/* ---- Priorities -------------------------------------------------------------------------------
 */

START_TEST(pending_offers_the_highest_vector_whose_class_beats_ppr)
{
    mk(1, ids4);
    enable_all(1);
    inject(0, 0x31, false);
    inject(0, 0x52, false);
    inject(0, 0x5F, false);
    inject(0, 0xA0, false);
    take(0, FAB_EV_FIXED, 0xA0);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0xA0);
    ck_assert_int_eq(pend(0).kind, FAB_EV_NONE);
    wr(0, APIC_MSR(APIC_EOI), 0);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0);
    take(0, FAB_EV_FIXED, 0x5F);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0x50);
    ck_assert_int_eq(pend(0).kind, FAB_EV_NONE); /* 0x52: same class as PPR */
    wr(0, APIC_MSR(APIC_EOI), 0);
    take(0, FAB_EV_FIXED, 0x52);
    ck_assert_int_eq(pend(0).kind, FAB_EV_NONE); /* 0x31: class 3 below 5 */
    wr(0, APIC_MSR(APIC_EOI), 0);
    take(0, FAB_EV_FIXED, 0x31);
    ck_assert(isr(0, 0x31) && !isr(0, 0x52) && !irr(0, 0x31));
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0x30);
    ck_assert_int_eq(pend(0).kind, FAB_EV_NONE);
    unmk();
}
END_TEST

START_TEST(tpr_masks_by_priority_class_and_ppr_follows_the_sdm_formula)
{
    mk(1, ids4);
    enable_all(1);
    wr(0, APIC_MSR(APIC_TPR), 0x55);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0x55);
    inject(0, 0x5F, false);
    ck_assert_int_eq(pend(0).kind, FAB_EV_NONE);
    inject(0, 0x60, false);
    take(0, FAB_EV_FIXED, 0x60);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0x60); /* ISRV class above TPR class */
    unsigned k = fk.kicks[0];
    wr(0, APIC_MSR(APIC_TPR), 0x70);
    ck_assert_uint_eq(fk.kicks[0], k + 1);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0x70);
    wr(0, APIC_MSR(APIC_TPR), 0x4F);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0x60);
    wr(0, APIC_MSR(APIC_EOI), 0);
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), 0x4F);
    wr(0, APIC_MSR(APIC_TPR), 0);
    take(0, FAB_EV_FIXED, 0x5F);
    /* the pure formula, every TPR x ISRV class */
    for (uint32_t tpr = 0; tpr < 256; tpr++)
        for (int isrv = -1; isrv < 256; isrv += 16) {
            uint32_t want =
                (tpr >> 4) >= ((uint32_t)(isrv < 0 ? 0 : isrv) >> 4) ? tpr : (uint32_t)isrv & 0xF0;
            ck_assert_uint_eq(apic_compute_ppr(tpr, isrv), want);
        }
    unmk();
}
END_TEST

START_TEST(eoi_clears_highest_isr_and_lowers_ppr)
{
    mk(1, ids4);
    enable_all(1);
    inject(0, 0x40, false);
    take(0, FAB_EV_FIXED, 0x40);
    inject(0, 0x80, false);
    take(0, FAB_EV_FIXED, 0x80); /* nested */
    inject(0, 0x90, false);
    take(0, FAB_EV_FIXED, 0x90);
    ck_assert(isr(0, 0x40) && isr(0, 0x80) && isr(0, 0x90));
    ck_assert_uint_eq(rd(0, APIC_MSR(APIC_ISR + 0x40)), 0x10001); /* ISR4: 0x80, 0x90 */
    fk_clear();
    static const unsigned order[3] = {0x90, 0x80, 0x40};
    static const unsigned ppr[3] = {0x80, 0x40, 0x00};
    for (unsigned i = 0; i < 3; i++) {
        wr(0, APIC_MSR(APIC_EOI), 0);
        ck_assert(!isr(0, order[i]));
        ck_assert_uint_eq(rd(0, APIC_MSR(APIC_PPR)), ppr[i]);
        char want[32];
        snprintf(want, sizeof(want), "\"vector\":%u", order[i]);
        ck_assert_ptr_nonnull(strstr(fk_event("eoi", i), want));
        ck_assert_uint_eq(fk.kicks[0], i + 1);
    }
    wr(0, APIC_MSR(APIC_EOI), 0); /* empty ISR: not an error */
    ck_assert_ptr_nonnull(strstr(fk_event("eoi", 3), "\"vector\":-1"));
    ck_assert_uint_eq(fk.neoib, 0);
    unmk();
}
END_TEST

START_TEST(eoi_of_a_level_triggered_vector_is_broadcast)
{
    mk(2, ids4);
    enable_all(2);
    struct fab_msg m = {FAB_SRC_DEVICE, -1, 0x70, APIC_DM_FIXED, true};
    fk.f->ops->route(fk.f, 1, false, &m);
    ck_assert(tmr(1, 0x70));
    inject(1, 0x60, false);
    ck_assert(!tmr(1, 0x60));
    take(1, FAB_EV_FIXED, 0x70);
    wr(1, APIC_MSR(APIC_EOI), 0);
    ck_assert_uint_eq(fk.neoib, 1);
    ck_assert_int_eq(fk.eoib_vcpu[0], 1);
    ck_assert_uint_eq(fk.eoib_vec[0], 0x70);
    ck_assert_ptr_nonnull(strstr(fk_event("eoi", 0), "\"level\":true"));
    take(1, FAB_EV_FIXED, 0x60);
    wr(1, APIC_MSR(APIC_EOI), 0); /* edge: no broadcast */
    ck_assert_uint_eq(fk.neoib, 1);
    ck_assert_ptr_nonnull(strstr(fk_event("eoi", 1), "\"level\":false"));
    unmk();
}
END_TEST

/* ---- Destinations ------------------------------------------------------------------------------
 */

struct dest_case {
    enum apic_sh sh;
    bool logical;
    uint32_t dest;
    unsigned want; /* bitmask of vCPUs, sender vCPU 0 */
};

static void run_dest_cases(const uint32_t *ids, const struct dest_case *c, unsigned n)
{
    mk(NV, ids);
    for (unsigned i = 0; i < n; i++) {
        for (int v = 0; v < NV; v++)
            fk.f->ops->reset(fk.f, v, false);
        enable_all(NV);
        fk_clear();
        wr(0, APIC_MSR(APIC_ICR),
           icr(0x66, APIC_DM_FIXED, false, c[i].sh, c[i].logical, c[i].dest));
        ck_assert_msg(irr_mask(NV, 0x66) == c[i].want, "case %u: got %#x want %#x", i,
                      irr_mask(NV, 0x66), c[i].want);
        char t[32];
        snprintf(t, sizeof(t), "\"targets\":%d", __builtin_popcount(c[i].want));
        ck_assert_ptr_nonnull(strstr(fk_event("ipi", 0), t));
        ck_assert_uint_eq(fk.nsent, (unsigned)__builtin_popcount(c[i].want));
    }
    unmk();
}

START_TEST(physical_logical_broadcast_and_shorthand_destinations_with_ids_0_to_3)
{
    static const struct dest_case c[] = {
        {APIC_SH_NONE, false, 2, 0x4},         {APIC_SH_NONE, false, 0, 0x1},
        {APIC_SH_NONE, false, 7, 0x0},         {APIC_SH_NONE, false, 0xFFFFFFFF, 0xF},
        {APIC_SH_NONE, true, 0x0000000A, 0xA}, {APIC_SH_NONE, true, 0x0000000F, 0xF},
        {APIC_SH_NONE, true, 0x00010001, 0x0}, {APIC_SH_NONE, true, 0xFFFFFFFF, 0xF},
        {APIC_SH_SELF, false, 3, 0x1},         {APIC_SH_ALL, false, 3, 0xF},
        {APIC_SH_OTHERS, true, 0, 0xE},
    };
    run_dest_cases(ids4, c, sizeof(c) / sizeof(c[0]));
}
END_TEST

START_TEST(logical_clusters_with_sparse_ids_0_2_0x10_0x11)
{
    static const struct dest_case c[] = {
        {APIC_SH_NONE, true, 0x00000005, 0x3}, {APIC_SH_NONE, true, 0x00000004, 0x2},
        {APIC_SH_NONE, true, 0x00010003, 0xC}, {APIC_SH_NONE, true, 0x00010002, 0x8},
        {APIC_SH_NONE, true, 0x00010004, 0x0}, {APIC_SH_NONE, true, 0x00020003, 0x0},
        {APIC_SH_NONE, false, 0x11, 0x8},      {APIC_SH_NONE, false, 0x1, 0x0},
        {APIC_SH_NONE, false, 0x10, 0x4},      {APIC_SH_NONE, true, 0xFFFFFFFF, 0xF},
    };
    run_dest_cases(sparse4, c, sizeof(c) / sizeof(c[0]));
}
END_TEST

START_TEST(lowest_priority_picks_the_lowest_tpr_then_the_lowest_id)
{
    mk(NV, ids4);
    enable_all(NV);
    static const uint32_t tpr[NV] = {0x20, 0x10, 0x10, 0x30};
    for (int v = 0; v < NV; v++)
        wr(v, APIC_MSR(APIC_TPR), tpr[v]);
    fk_clear();
    wr(0, APIC_MSR(APIC_ICR), icr(0x66, APIC_DM_LOWEST, false, APIC_SH_NONE, true, 0xFFFFFFFF));
    ck_assert_uint_eq(irr_mask(NV, 0x66), 0x2);
    ck_assert_uint_eq(fk.nsent, 1);
    /* a software-disabled APIC does not take part */
    wr(1, APIC_MSR(APIC_SPIV), 0xFF);
    wr(0, APIC_MSR(APIC_ICR), icr(0x67, APIC_DM_LOWEST, false, APIC_SH_NONE, true, 0xF));
    ck_assert_uint_eq(irr_mask(NV, 0x67), 0x4);
    /* all-excluding-self from vCPU 2: candidates 0, 1 (disabled), 3 */
    wr(2, APIC_MSR(APIC_ICR), icr(0x68, APIC_DM_LOWEST, false, APIC_SH_OTHERS, false, 0));
    ck_assert_uint_eq(irr_mask(NV, 0x68), 0x1);
    /* physical lowest priority to one APIC is just that APIC */
    wr(0, APIC_MSR(APIC_ICR), icr(0x69, APIC_DM_LOWEST, false, APIC_SH_NONE, false, 3));
    ck_assert_uint_eq(irr_mask(NV, 0x69), 0x8);
    /* only disabled APICs match: nobody */
    fk_clear();
    wr(0, APIC_MSR(APIC_ICR), icr(0x6A, APIC_DM_LOWEST, false, APIC_SH_NONE, false, 1));
    ck_assert_uint_eq(fk.nsent, 0);
    /* a device message arbitrates the same way */
    struct fab_msg m = {FAB_SRC_DEVICE, -1, 0x6B, APIC_DM_LOWEST, false};
    fk.f->ops->route(fk.f, 0xFFFFFFFF, false, &m);
    ck_assert_uint_eq(irr_mask(NV, 0x6B), 0x4);
    unmk();
}
END_TEST

/* ---- Enable, latches, INIT ---------------------------------------------------------------------
 */

START_TEST(software_disabled_apic_drops_vectors_but_takes_nmi_init_sipi_smi)
{
    mk(2, ids4);
    for (unsigned d = 0; d < sizeof(all_dms) / sizeof(all_dms[0]); d++) {
        fk.f->ops->reset(fk.f, 1, false);
        wr(0, APIC_MSR(APIC_SPIV), 0x1FF);
        fk_clear();
        wr(0, APIC_MSR(APIC_ICR), icr(0x50, all_dms[d], false, APIC_SH_NONE, false, 1));
        bool vectored = all_dms[d] == APIC_DM_FIXED || all_dms[d] == APIC_DM_LOWEST ||
                        all_dms[d] == APIC_DM_EXTINT;
        ck_assert_int_eq(pend(1).kind == FAB_EV_NONE, vectored);
        ck_assert(!irr(1, 0x50));
        ck_assert_uint_eq(fk_count("irq_accept"), vectored ? 0 : 1);
    }
    /* LVTs cannot be unmasked while disabled */
    wr(1, APIC_MSR(APIC_LVT0), 0x30);
    ck_assert_uint_eq(rd(1, APIC_MSR(APIC_LVT0)), APIC_LVT_MASKED | 0x30);
    /* disabling masks every LVT; IRR is held and offered again after re-enable */
    wr(1, APIC_MSR(APIC_SPIV), 0x1FF);
    wr(1, APIC_MSR(APIC_LVT0), 0x30);
    wr(1, APIC_MSR(APIC_LVTT), 0x31);
    inject(1, 0x90, false);
    wr(1, APIC_MSR(APIC_SPIV), 0xFF);
    ck_assert_uint_eq(rd(1, APIC_MSR(APIC_LVT0)), APIC_LVT_MASKED | 0x30);
    ck_assert_uint_eq(rd(1, APIC_MSR(APIC_LVTT)), APIC_LVT_MASKED | 0x31);
    ck_assert(irr(1, 0x90));
    ck_assert_int_eq(pend(1).kind, FAB_EV_NONE);
    wr(1, APIC_MSR(APIC_SPIV), 0x1FF);
    ck_assert_uint_eq(rd(1, APIC_MSR(APIC_LVT0)), APIC_LVT_MASKED | 0x30);
    take(1, FAB_EV_FIXED, 0x90);
    unmk();
}
END_TEST

START_TEST(latched_events_come_out_in_priority_order_and_nmis_collapse)
{
    mk(2, ids4);
    enable_all(2);
    fk_clear(); /* the SPIV writes kicked */
    fk.sync = false;
    wr(0, APIC_MSR(APIC_ICR), icr(0, APIC_DM_NMI, false, APIC_SH_NONE, false, 1));
    wr(0, APIC_MSR(APIC_ICR), icr(0, APIC_DM_NMI, false, APIC_SH_NONE, false, 1));
    wr(0, APIC_MSR(APIC_ICR), icr(0x99, APIC_DM_FIXED, false, APIC_SH_NONE, false, 1));
    wr(0, APIC_MSR(APIC_ICR), icr(0x21, APIC_DM_EXTINT, false, APIC_SH_NONE, false, 1));
    wr(0, APIC_MSR(APIC_ICR), icr(0, APIC_DM_SMI, false, APIC_SH_NONE, false, 1));
    ck_assert_int_eq(pend(1).kind, FAB_EV_NONE); /* nothing has arrived yet */
    ck_assert_uint_eq(fk.kicks[1], 0);
    fk_flush();
    ck_assert_uint_eq(fk.kicks[1], 5);
    take(1, FAB_EV_SMI, 0);
    take(1, FAB_EV_NMI, 0);
    take(1, FAB_EV_EXTINT, 0x21);
    take(1, FAB_EV_FIXED, 0x99);
    ck_assert_int_eq(pend(1).kind, FAB_EV_NONE);
    unmk();
}
END_TEST

START_TEST(init_resets_everything_but_the_id_and_base_and_keeps_a_later_sipi)
{
    mk(2, ids4);
    enable_all(2);
    wr(1, APIC_MSR(APIC_TPR), 0x20);
    wr(1, APIC_MSR(APIC_LVT0), 0x700);
    wr(1, APIC_MSR(APIC_TDCR), 0xA);
    wr(1, APIC_MSR(APIC_LVTT), 1u << 17 | 0x40);
    wr(1, APIC_MSR(APIC_TMICT), 1000);
    wr(1, APIC_MSR(APIC_ICR), icr(0x40, APIC_DM_FIXED, false, APIC_SH_NONE, false, 0));
    inject(1, 0x80, true);
    take(1, FAB_EV_FIXED, 0x80);
    inject(1, 0x81, false);
    wr(1, APIC_MSR(APIC_ICR), icr(1, APIC_DM_FIXED, false, APIC_SH_NONE, false, 0)); /* ESR */
    wr(1, APIC_MSR(APIC_ESR), 0);
    fk.sync = false;
    wr(0, APIC_MSR(APIC_ICR), icr(0x08, APIC_DM_SIPI, false, APIC_SH_NONE, false, 1)); /* stale */
    wr(0, APIC_MSR(APIC_ICR), icr(0, APIC_DM_INIT, true, APIC_SH_NONE, false, 1));
    wr(0, APIC_MSR(APIC_ICR), icr(0x09, APIC_DM_SIPI, false, APIC_SH_NONE, false, 1));
    fk_flush();
    unsigned arms = fk.narms;
    take(1, FAB_EV_INIT, 0);
    ck_assert_uint_eq(fk.narms, arms + 1); /* the timer was cancelled */
    uint8_t want[APIC_PAGE_SIZE] = {0};
    __apic_set_reg(want, APIC_ID, 1);
    __apic_set_reg(want, APIC_LVR, 0x00050015);
    __apic_set_reg(want, APIC_LDR, 0x2);
    __apic_set_reg(want, APIC_SPIV, 0xFF);
    for (unsigned off = APIC_LVTT; off <= APIC_LVTERR; off += 0x10)
        __apic_set_reg(want, off, APIC_LVT_MASKED);
    ck_assert_mem_eq(page(1), want, APIC_PAGE_SIZE);
    ck_assert_uint_eq(rd(1, MSR_IA32_APICBASE), 0xFEE00C00);
    ck_assert_uint_eq(esr(1), 0);
    take(1, FAB_EV_SIPI, 0x09);
    ck_assert_int_eq(pend(1).kind, FAB_EV_NONE);
    /* reset(init_only) through the ops: same contents, latches gone */
    struct fab_msg nmi = {FAB_SRC_IPI, 0, 0, APIC_DM_NMI, false};
    fk.f->ops->receive(fk.f, 1, &nmi);
    wr(1, APIC_MSR(APIC_TPR), 0x30);
    fk.f->ops->reset(fk.f, 1, true);
    ck_assert_mem_eq(page(1), want, APIC_PAGE_SIZE);
    ck_assert_int_eq(pend(1).kind, FAB_EV_NONE);
    /* a SIPI that arrived before the INIT is gone once the INIT arrives */
    wr(0, APIC_MSR(APIC_ICR), icr(0x0A, APIC_DM_SIPI, false, APIC_SH_NONE, false, 1));
    wr(0, APIC_MSR(APIC_ICR), icr(0, APIC_DM_INIT, false, APIC_SH_NONE, false, 1));
    fk_flush();
    take(1, FAB_EV_INIT, 0);
    ck_assert_int_eq(pend(1).kind, FAB_EV_NONE);
    unmk();
}
END_TEST

START_TEST(fabric_list_finds_plugins_by_name_and_create_checks_params)
{
    ck_assert_ptr_nonnull(fabric_find("emulated"));
    ck_assert_str_eq(fabric_find("emulated")->name, "emulated");
    ck_assert_ptr_null(fabric_find("nope"));
    unsigned n = 0;
    while (fabric_list[n])
        n++;
    ck_assert_uint_ge(n, 1);
    ck_assert_str_eq(apic_dm_name(APIC_DM_SIPI), "sipi");
    ck_assert_str_eq(apic_dm_name((enum apic_dm)3), "reserved");
    ck_assert_str_eq(apic_sh_name(APIC_SH_OTHERS), "others");
    struct fab_host host = {.now = fk_now,
                            .send = fk_send,
                            .timer_arm = fk_timer_arm,
                            .kick = fk_kick,
                            .eoi_broadcast = fk_eoib};
    static const uint32_t dup[2] = {3, 3}, bcast[1] = {0xFFFFFFFF};
    struct fab_params p = {.nvcpus = 2,
                           .apic_ids = dup,
                           .timer_cycles_per_tick = 1,
                           .tsc_cycles_num = 1,
                           .tsc_cycles_den = 1};
    char err[128] = "";
    ck_assert_ptr_null(fabric_find("emulated")->create(&p, &host, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "distinct"));
    p.nvcpus = 1;
    p.apic_ids = bcast;
    ck_assert_ptr_null(fabric_find("emulated")->create(&p, &host, err, sizeof(err)));
    p.apic_ids = ids4;
    p.timer_cycles_per_tick = 0;
    ck_assert_ptr_null(fabric_find("emulated")->create(&p, &host, err, sizeof(err)));
}
END_TEST

static Suite *apic_suite(void)
{
    Suite *s = suite_create("apic");
    TCase *tc = tcase_create("emulated");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_x2apic_msr_reads_and_writes_as_the_architecture_says);
    tcase_add_test(tc, reserved_bits_raise_gp_and_change_nothing);
    tcase_add_test(tc, reset_state_is_the_guest_abi_entry_state);
    tcase_add_test(tc, ldr_is_the_x2apic_cluster_id_and_bit);
    tcase_add_test(tc, apic_base_in_x2apic_mode_allows_only_rewrites_and_disable);
    tcase_add_test(tc, every_vector_mode_and_trigger_arrives_through_the_icr);
    tcase_add_test(tc, self_shorthand_delivers_only_fixed_and_self_ipi_msr_is_fixed_edge);
    tcase_add_test(tc, self_ipi_msr_sends_a_fixed_edge_vector_to_self);
    tcase_add_test(tc, illegal_vectors_set_esr_and_fire_the_lvt_error_entry);
    tcase_add_test(tc, init_level_deassert_and_reserved_mode_send_nothing);
    tcase_add_test(tc, pending_offers_the_highest_vector_whose_class_beats_ppr);
    tcase_add_test(tc, tpr_masks_by_priority_class_and_ppr_follows_the_sdm_formula);
    tcase_add_test(tc, eoi_clears_highest_isr_and_lowers_ppr);
    tcase_add_test(tc, eoi_of_a_level_triggered_vector_is_broadcast);
    tcase_add_test(tc, physical_logical_broadcast_and_shorthand_destinations_with_ids_0_to_3);
    tcase_add_test(tc, logical_clusters_with_sparse_ids_0_2_0x10_0x11);
    tcase_add_test(tc, lowest_priority_picks_the_lowest_tpr_then_the_lowest_id);
    tcase_add_test(tc, software_disabled_apic_drops_vectors_but_takes_nmi_init_sipi_smi);
    tcase_add_test(tc, latched_events_come_out_in_priority_order_and_nmis_collapse);
    tcase_add_test(tc, init_resets_everything_but_the_id_and_base_and_keeps_a_later_sipi);
    tcase_add_test(tc, fabric_list_finds_plugins_by_name_and_create_checks_params);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ck_run(apic_suite(), CK_RUN_FORK);
}
