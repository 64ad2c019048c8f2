/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the LAPIC timer (apic/lapic_timer.c and the timer half of
 * apic/fab_emulated.c; Intel SDM vol. 3 sections 10.5.4 and 10.5.4.1): divide
 * decode, one-shot expiry and TMCCT, drift-free periodic re-arm, TSC-deadline
 * conversion and mode, masked expiry, and mode changes disarming the timer.
 * The fabric runs against a fake host that records every timer_arm and delivers
 * sends synchronously.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "apic.h"
#include "fabric.h"
#include "lapic_timer.h"
#include "ck_run.h"

/* ---- Fake host ------------------------------------------------------------------- */

#define NV 2
static struct {
    struct fabric *f;
    uint64_t now[NV];
    uint64_t arms[4096];
    unsigned narms;
    unsigned nsent;
    struct fab_msg last_sent;
} fk;

static uint64_t fk_now(void *ctx, int vcpu)
{
    (void)ctx;
    return fk.now[vcpu];
}

static void fk_send(void *ctx, int dst, const struct fab_msg *m)
{
    (void)ctx;
    fk.nsent++;
    fk.last_sent = *m;
    fk.f->ops->receive(fk.f, dst, m);
}

static void fk_timer_arm(void *ctx, int vcpu, uint64_t at)
{
    (void)ctx;
    (void)vcpu;
    ck_assert_uint_lt(fk.narms, 4096);
    fk.arms[fk.narms++] = at;
}

static void fk_kick(void *ctx, int vcpu)
{
    (void)ctx;
    (void)vcpu;
}

static void fk_eoib(void *ctx, int vcpu, uint8_t vec)
{
    (void)ctx;
    (void)vcpu;
    (void)vec;
}

static const struct fab_host fk_host = {
    .now = fk_now,
    .send = fk_send,
    .timer_arm = fk_timer_arm,
    .kick = fk_kick,
    .eoi_broadcast = fk_eoib,
    .trace = NULL,
};

/* A 2-vCPU emulated fabric: timer tick = 2 cycles, TSC = cycles * 3 / 2. */
static void mk(void)
{
    static const uint32_t ids[NV] = {0, 1};
    struct fab_params p = {.nvcpus = NV,
                           .apic_ids = ids,
                           .timer_cycles_per_tick = 2,
                           .tsc_cycles_num = 3,
                           .tsc_cycles_den = 2};
    char err[128];
    memset(&fk, 0, sizeof(fk));
    fk.f = fabric_find("emulated")->create(&p, &fk_host, err, sizeof(err));
    ck_assert_msg(fk.f != NULL, "%s", err);
}

static void unmk(void)
{
    if (fk.f)
        fk.f->ops->destroy(fk.f);
    fk.f = NULL;
}

/* The last time the fabric armed the host timer at. */
static uint64_t last_arm(void)
{
    ck_assert_uint_gt(fk.narms, 0);
    return fk.arms[fk.narms - 1];
}

static uint64_t rd(uint32_t msr)
{
    uint64_t v = 0xDEAD;
    ck_assert_int_eq(fk.f->ops->msr_read(fk.f, 0, msr, &v), FAB_OK);
    return v;
}

static void wr(uint32_t msr, uint64_t v)
{
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, 0, msr, v), FAB_OK);
}

static bool irr(unsigned vec)
{
    return apic_vec_test(fk.f->ops->regs(fk.f, 0), APIC_IRR, vec);
}

/* Software-enabled APIC, LVTT = vector | mode bits, divide by 1. */
static void program(uint32_t lvtt)
{
    wr(APIC_MSR(APIC_SPIV), 0x1FF);
    wr(APIC_MSR(APIC_TDCR), 0xB);
    wr(APIC_MSR(APIC_LVTT), lvtt);
}

/* ---- Pure arithmetic ------------------------------------------------------------------ */

START_TEST(divide_decodes_all_eight_encodings)
{
    static const uint32_t tdcr[8] = {0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB};
    static const uint32_t div[8] = {2, 4, 8, 16, 32, 64, 128, 1};
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_uint_eq(lapic_timer_divide(tdcr[i]), div[i]);
        /* bit 2 is not part of the code */
        ck_assert_uint_eq(lapic_timer_divide(tdcr[i] | 4u), div[i]);
    }
}
END_TEST

START_TEST(oneshot_expires_after_count_ticks_and_counts_down)
{
    struct lapic_clock c = {.cycles_per_tick = 3, .tsc_num = 1, .tsc_den = 1};
    struct lapic_timer t;
    /* divide 2 -> one count every 6 cycles, 100 counts = 600 cycles */
    ck_assert_uint_eq(lapic_timer_load(&t, 1000, 100, 0x0, &c), 1600);
    ck_assert(lapic_timer_armed(&t));
    static const struct {
        uint64_t now;
        uint32_t cur;
    } pts[] = {
        {900, 100}, {1000, 100}, {1005, 100}, {1006, 99},
        {1300, 50}, {1599, 1},   {1600, 0},   {99999, 0},
    };
    for (unsigned i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
        ck_assert_uint_eq(lapic_timer_current(&t, false, pts[i].now), pts[i].cur);
    lapic_timer_stop(&t);
    ck_assert_uint_eq(lapic_timer_current(&t, false, 1300), 0);
    ck_assert_uint_eq(lapic_timer_load(&t, 5, 0, 0xB, &c), LAPIC_TIMER_OFF);
    ck_assert(!lapic_timer_armed(&t));
}
END_TEST

START_TEST(periodic_reload_has_no_drift_across_1000_periods)
{
    struct lapic_clock c = {.cycles_per_tick = 5, .tsc_num = 1, .tsc_den = 1};
    struct lapic_timer t;
    /* divide 16: 80 cycles per count, 7 counts = 560 cycles per period */
    uint64_t at = lapic_timer_load(&t, 12345, 7, 0x3, &c);
    ck_assert_uint_eq(at, 12345 + 560);
    for (uint64_t k = 1; k <= 1000; k++) {
        ck_assert_uint_eq(t.expiry, 12345 + k * 560);
        /* the count restarts at each period boundary, even when read late */
        ck_assert_uint_eq(lapic_timer_current(&t, true, 12345 + k * 560 + 79), 7);
        ck_assert_uint_eq(lapic_timer_current(&t, true, 12345 + k * 560 + 80), 6);
        at = lapic_timer_reload(&t);
    }
    ck_assert_uint_eq(at, 12345 + 1001 * 560);
    ck_assert_uint_eq(t.start, 12345 + 1000 * 560);
}
END_TEST

START_TEST(tsc_deadline_conversion_finds_the_first_cycle_at_the_deadline)
{
    struct lapic_clock c = {.cycles_per_tick = 1, .tsc_num = 3, .tsc_den = 7};
    ck_assert_uint_eq(lapic_tsc_from_cycles(1000, &c), 428);
    ck_assert_uint_eq(lapic_cycles_from_tsc(428, &c), 999);
    for (uint64_t tsc = 0; tsc < 5000; tsc += 7) {
        uint64_t cyc = lapic_cycles_from_tsc(tsc, &c);
        ck_assert_uint_ge(lapic_tsc_from_cycles(cyc, &c), tsc);
        if (cyc)
            ck_assert_uint_lt(lapic_tsc_from_cycles(cyc - 1, &c), tsc);
    }
    /* 128-bit intermediates: 2^62 cycles at 10/3 does not wrap */
    struct lapic_clock big = {.cycles_per_tick = 1, .tsc_num = 10, .tsc_den = 3};
    uint64_t cyc = 1ull << 62;
    unsigned __int128 want = (unsigned __int128)cyc * 10 / 3;
    uint64_t want64 = want > UINT64_MAX - 1 ? UINT64_MAX - 1 : (uint64_t)want;
    ck_assert_uint_eq(lapic_tsc_from_cycles(cyc, &big), want64);
    ck_assert_uint_eq(lapic_tsc_from_cycles(3, &big), 10);
    ck_assert_uint_eq(lapic_cycles_from_tsc(10, &big), 3);
    ck_assert_uint_eq(lapic_cycles_from_tsc(11, &big), 4);
}
END_TEST

START_TEST(huge_counts_saturate_instead_of_wrapping)
{
    struct lapic_clock c = {.cycles_per_tick = UINT64_MAX / 4, .tsc_num = 1, .tsc_den = 1};
    struct lapic_timer t;
    uint64_t at = lapic_timer_load(&t, 100, 0xFFFFFFFF, 0xA, &c);
    ck_assert_uint_eq(at, UINT64_MAX - 1);
    ck_assert_uint_eq(lapic_mul_sat(UINT64_MAX, 2), UINT64_MAX - 1);
    ck_assert_uint_eq(lapic_add_sat(UINT64_MAX - 5, 10), UINT64_MAX - 1);
    ck_assert_uint_eq(lapic_add_sat(5, 10), 15);
}
END_TEST

/* ---- Through the fabric ------------------------------------------------------------ */

START_TEST(tmict_write_arms_the_host_timer_and_tmcct_counts_down)
{
    mk();
    program(0x40); /* one-shot, unmasked, vector 0x40 */
    fk.now[0] = 100;
    wr(APIC_MSR(APIC_TMICT), 50); /* 50 counts * 2 cycles */
    ck_assert_uint_eq(fk.narms, 1);
    ck_assert_uint_eq(fk.arms[0], 200);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMICT)), 50);
    fk.now[0] = 150;
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 25);
    fk.now[0] = 200;
    fk.f->ops->timer_fire(fk.f, 0);
    ck_assert_uint_eq(fk.nsent, 1);
    ck_assert_int_eq(fk.last_sent.src_kind, FAB_SRC_TIMER);
    ck_assert(!fk.last_sent.level);
    ck_assert(irr(0x40));
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 0);
    ck_assert_uint_eq(fk.narms, 1); /* one-shot: no re-arm */
    struct fab_event ev = fk.f->ops->pending(fk.f, 0, 0);
    ck_assert_int_eq(ev.kind, FAB_EV_FIXED);
    ck_assert_uint_eq(ev.vector, 0x40);
    unmk();
}
END_TEST

START_TEST(tmict_zero_stops_a_running_timer)
{
    mk();
    program(0x40);
    wr(APIC_MSR(APIC_TMICT), 10);
    wr(APIC_MSR(APIC_TMICT), 0);
    ck_assert_uint_eq(fk.narms, 2);
    ck_assert_uint_eq(fk.arms[1], UINT64_MAX);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 0);
    unmk();
}
END_TEST

START_TEST(masked_timer_fires_without_setting_irr)
{
    mk();
    program(APIC_LVT_MASKED | 0x41);
    wr(APIC_MSR(APIC_TMICT), 5);
    fk.now[0] = 10;
    fk.f->ops->timer_fire(fk.f, 0);
    ck_assert_uint_eq(fk.nsent, 0);
    ck_assert(!irr(0x41));
    ck_assert_int_eq(fk.f->ops->pending(fk.f, 0, 0).kind, FAB_EV_NONE);
    unmk();
}
END_TEST

START_TEST(periodic_timer_rearms_from_the_previous_expiry_even_when_fired_late)
{
    mk();
    program(1u << APIC_LVT_TIMER_SHIFT | 0x42);
    fk.now[0] = 1000;
    wr(APIC_MSR(APIC_TMICT), 8); /* period 16 cycles */
    ck_assert_uint_eq(fk.arms[0], 1016);
    for (unsigned k = 1; k <= 1000; k++) {
        fk.now[0] = 1000 + 16 * k + (k % 5); /* serviced up to 4 cycles late */
        fk.f->ops->timer_fire(fk.f, 0);
        ck_assert_uint_eq(fk.arms[k], 1000 + 16 * (uint64_t)(k + 1));
    }
    ck_assert_uint_eq(fk.nsent, 1000);
    ck_assert(irr(0x42));
    fk.now[0] = 1000 + 16 * 1000 + 3; /* 3 cycles into a period: 1 count gone */
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 7);
    unmk();
}
END_TEST

START_TEST(changing_the_timer_mode_disarms_the_timer)
{
    mk();
    program(0x40);
    wr(APIC_MSR(APIC_TMICT), 100);
    ck_assert_uint_eq(last_arm(), 200);
    wr(APIC_MSR(APIC_LVTT), 1u << APIC_LVT_TIMER_SHIFT | 0x40); /* -> periodic */
    ck_assert_uint_eq(last_arm(), UINT64_MAX);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMICT)), 0);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 0);
    /* same mode, new vector or mask: the count keeps running */
    wr(APIC_MSR(APIC_TMICT), 100);
    unsigned n = fk.narms;
    wr(APIC_MSR(APIC_LVTT), 1u << APIC_LVT_TIMER_SHIFT | APIC_LVT_MASKED | 0x50);
    ck_assert_uint_eq(fk.narms, n);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 100);
    unmk();
}
END_TEST

START_TEST(tdcr_change_applies_from_the_next_tmict_write)
{
    mk();
    program(0x40);
    wr(APIC_MSR(APIC_TMICT), 10); /* divide 1: 20 cycles */
    wr(APIC_MSR(APIC_TDCR), 0x0); /* divide 2 */
    fk.now[0] = 10;
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 5);
    wr(APIC_MSR(APIC_TMICT), 10); /* now 10 * 2 * 2 = 40 cycles from 10 */
    ck_assert_uint_eq(last_arm(), 50);
    unmk();
}
END_TEST

START_TEST(tsc_deadline_msr_works_only_in_deadline_mode)
{
    mk();
    program(0x43); /* one-shot mode */
    wr(MSR_IA32_TSC_DEADLINE, 3000);
    ck_assert_uint_eq(fk.narms, 0);
    ck_assert_uint_eq(rd(MSR_IA32_TSC_DEADLINE), 0);
    wr(APIC_MSR(APIC_LVTT), 2u << APIC_LVT_TIMER_SHIFT | 0x43);
    fk.now[0] = 100;
    wr(MSR_IA32_TSC_DEADLINE, 3000); /* TSC = cycles * 3 / 2: cycle 2000 */
    ck_assert_uint_eq(last_arm(), 2000);
    ck_assert_uint_eq(rd(MSR_IA32_TSC_DEADLINE), 3000);
    wr(APIC_MSR(APIC_TMICT), 5); /* ignored in deadline mode */
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMICT)), 0);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMCCT)), 0);
    fk.now[0] = 2000;
    fk.f->ops->timer_fire(fk.f, 0);
    ck_assert(irr(0x43));
    ck_assert_uint_eq(rd(MSR_IA32_TSC_DEADLINE), 0);
    /* a deadline in the past fires at once; 0 disarms */
    wr(MSR_IA32_TSC_DEADLINE, 30);
    ck_assert_uint_eq(last_arm(), 2000);
    wr(MSR_IA32_TSC_DEADLINE, 0);
    ck_assert_uint_eq(last_arm(), UINT64_MAX);
    unmk();
}
END_TEST

START_TEST(reserved_timer_mode_and_divide_bits_raise_gp)
{
    mk();
    uint64_t before = rd(APIC_MSR(APIC_LVTT));
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, 0, APIC_MSR(APIC_LVTT), 3u << 17), FAB_GP);
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, 0, APIC_MSR(APIC_TDCR), 0x4), FAB_GP);
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, 0, APIC_MSR(APIC_TMICT), 1ull << 32), FAB_GP);
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, 0, APIC_MSR(APIC_TMCCT), 0), FAB_GP);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_LVTT)), before);
    unmk();
}
END_TEST

START_TEST(init_reset_stops_the_timer)
{
    mk();
    program(1u << APIC_LVT_TIMER_SHIFT | 0x40);
    wr(APIC_MSR(APIC_TMICT), 100);
    fk.f->ops->reset(fk.f, 0, true);
    ck_assert_uint_eq(last_arm(), UINT64_MAX);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_TMICT)), 0);
    ck_assert_uint_eq(rd(APIC_MSR(APIC_LVTT)), APIC_LVT_MASKED);
    unmk();
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("lapic_timer");
    tcase_add_test(tc, divide_decodes_all_eight_encodings);
    tcase_add_test(tc, oneshot_expires_after_count_ticks_and_counts_down);
    tcase_add_test(tc, periodic_reload_has_no_drift_across_1000_periods);
    tcase_add_test(tc, tsc_deadline_conversion_finds_the_first_cycle_at_the_deadline);
    tcase_add_test(tc, huge_counts_saturate_instead_of_wrapping);
    tcase_add_test(tc, tmict_write_arms_the_host_timer_and_tmcct_counts_down);
    tcase_add_test(tc, tmict_zero_stops_a_running_timer);
    tcase_add_test(tc, masked_timer_fires_without_setting_irr);
    tcase_add_test(tc, periodic_timer_rearms_from_the_previous_expiry_even_when_fired_late);
    tcase_add_test(tc, changing_the_timer_mode_disarms_the_timer);
    tcase_add_test(tc, tdcr_change_applies_from_the_next_tmict_write);
    tcase_add_test(tc, tsc_deadline_msr_works_only_in_deadline_mode);
    tcase_add_test(tc, reserved_timer_mode_and_divide_bits_raise_gp);
    tcase_add_test(tc, init_reset_stops_the_timer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ck_run(timer_suite(), CK_RUN_FORK);
}
