/* SPDX-License-Identifier: MIT */
/*
 * Interrupt scenarios on the golden (emulated) x2APIC fabric: each runs one
 * guest from guests/tests through `snpref run` and asserts on the guest's own
 * PASS report and, independently, on the architectural events in its trace.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "scn.h"
#include "ck_run.h"

/* The guest ran to completion and reported success. */
static void assert_passed(const struct scn_run *r, const char *name)
{
    char pass[64];
    snprintf(pass, sizeof(pass), "%s: PASS", name);
    ck_assert_msg(r->status == 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s", name, r->status, r->out,
                  r->err);
    ck_assert_msg(scn_has(r->out, pass), "no '%s' in:\n%s", pass, r->out);
    ck_assert_int_eq(scn_count(r, "exit", -2), 1);
}

START_TEST(self_ipis_pending_together_are_taken_highest_vector_first)
{
    struct scn_run r;
    scn_run_guest(&r, "selfipi_prio", NULL);
    assert_passed(&r, "selfipi_prio");
    /* The six self-IPIs were latched with IF=0, then taken by priority. */
    static const uint8_t want[] = {0xe0, 0x85, 0x52, 0x4f, 0x41, 0x31};
    uint8_t got[64];
    size_t n = scn_delivered(&r, 0, "fixed", got, sizeof(got));
    ck_assert_uint_ge(n, sizeof(want));
    size_t start = SIZE_MAX;
    for (size_t i = 0; i + sizeof(want) <= n && start == SIZE_MAX; i++)
        if (!memcmp(got + i, want, sizeof(want)))
            start = i;
    ck_assert_msg(start != SIZE_MAX, "delivery order in the trace is not by priority");
    /* Each was accepted into IRR before the first one was delivered. */
    size_t first = scn_find(&r, 0, "irq_deliver", 0, "vector", 0xe0);
    for (size_t i = 0; i < sizeof(want); i++) {
        size_t acc = scn_find(&r, 0, "irq_accept", 0, "vector", want[i]);
        ck_assert(acc != SIZE_MAX && acc < first);
    }
    scn_free(&r);
}
END_TEST

START_TEST(tpr_holds_back_a_vector_until_lowered_and_ppr_follows)
{
    struct scn_run r;
    scn_run_guest(&r, "tpr_ppr", NULL);
    assert_passed(&r, "tpr_ppr");
    /* Every delivered vector's class was above the TPR class in force. */
    uint64_t tpr = 0;
    size_t checked = 0;
    for (size_t i = 0; i < r.nev; i++) {
        const struct scn_event *e = &r.ev[i];
        if (scn_is(e, "msr") && !strcmp(scn_s(e, "op"), "wr") && scn_u(e, "msr") == 0x808 &&
            !strcmp(scn_s(e, "result"), "ok"))
            tpr = scn_u(e, "value");
        if (scn_is(e, "irq_deliver") && !strcmp(scn_s(e, "kind"), "fixed")) {
            ck_assert_msg((scn_u(e, "vector") >> 4) > (tpr >> 4),
                          "vector 0x%llx delivered with TPR 0x%llx",
                          (unsigned long long)scn_u(e, "vector"), (unsigned long long)tpr);
            checked++;
        }
    }
    ck_assert_uint_gt(checked, 0);
    scn_free(&r);
}
END_TEST

START_TEST(a_higher_vector_nests_in_a_lower_handler_and_eois_retire_innermost_first)
{
    struct scn_run r;
    scn_run_guest(&r, "eoi_nested", NULL);
    assert_passed(&r, "eoi_nested");
    /* 0x80 was delivered while 0x40 was in service, and its EOI came first. */
    size_t d40 = scn_find(&r, 0, "irq_deliver", 0, "vector", 0x40);
    size_t d80 = scn_find(&r, d40, "irq_deliver", 0, "vector", 0x80);
    size_t e80 = scn_find(&r, d80, "eoi", 0, "vector", 0x80);
    size_t e40 = scn_find(&r, d40, "eoi", 0, "vector", 0x40);
    ck_assert(d40 != SIZE_MAX && d80 != SIZE_MAX && e80 != SIZE_MAX && e40 != SIZE_MAX);
    ck_assert(d40 < d80 && d80 < e80 && e80 < e40);
    scn_free(&r);
}
END_TEST

START_TEST(ipis_reach_the_right_vcpus_in_every_destination_mode)
{
    struct scn_run r;
    scn_run_guest(&r, "ipi_smp", NULL);
    assert_passed(&r, "ipi_smp");
    /* vector 0x40 + phase: physical ring, logical, broadcast, all-but-self,
     * all-including-self, self, lowest priority (see guests/tests/ipi_smp.c). */
    static const unsigned per_cpu[7][4] = {
        {1, 1, 1, 1}, {0, 1, 1, 1}, {1, 1, 1, 1}, {0, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1},
        {0, 0, 0, 1},
    };
    for (unsigned ph = 0; ph < 7; ph++)
        for (int cpu = 0; cpu < 4; cpu++)
            ck_assert_msg(scn_count_where(&r, "irq_deliver", cpu, "vector", 0x40 + ph) ==
                              per_cpu[ph][cpu],
                          "vector 0x%x on cpu %d", 0x40 + ph, cpu);
    bool logical = false, others = false, all = false, self = false;
    for (size_t i = 0; i < r.nev; i++) {
        if (!scn_is(&r.ev[i], "ipi"))
            continue;
        logical |= !strcmp(scn_s(&r.ev[i], "dest_mode"), "logical");
        others |= !strcmp(scn_s(&r.ev[i], "shorthand"), "others");
        all |= !strcmp(scn_s(&r.ev[i], "shorthand"), "all");
        self |= !strcmp(scn_s(&r.ev[i], "shorthand"), "self");
    }
    ck_assert(logical && others && all && self);
    scn_free(&r);
}
END_TEST

/* guests/tests/busy_smp.c: ROUNDS IPIs sent and received and TICKS timer ticks per vCPU. */
#define BUSY_VCPUS  256
#define BUSY_ROUNDS 8
#define BUSY_TICKS  4

START_TEST(all_256_vcpus_send_ipis_and_take_timer_ticks_at_once)
{
    struct scn_run r;
    scn_run_guest(&r, "busy_smp", "--vcpus", "256", NULL);
    assert_passed(&r, "busy_smp");
    ck_assert(scn_has(r.out, "busy_smp: 256 vCPUs online, 8 IPIs and 4 timer ticks each"));
    ck_assert(scn_has(r.out, "busy_smp: totals: 2048 IPIs received, 1024 timer ticks taken"));
    /* One pass over the trace, counted per vCPU. */
    static unsigned sent[BUSY_VCPUS], got[BUSY_VCPUS], fired[BUSY_VCPUS], ticked[BUSY_VCPUS];
    static uint64_t dest_mask[BUSY_VCPUS];
    memset(sent, 0, sizeof(sent));
    memset(got, 0, sizeof(got));
    memset(fired, 0, sizeof(fired));
    memset(ticked, 0, sizeof(ticked));
    memset(dest_mask, 0, sizeof(dest_mask));
    for (size_t i = 0; i < r.nev; i++) {
        const struct scn_event *e = &r.ev[i];
        int v = e->r.vcpu;
        if (v < 0 || v >= BUSY_VCPUS)
            continue;
        if (scn_is(e, "ipi") && scn_u(e, "vector") == 0x60) {
            sent[v]++;
            /* The r-th IPI goes to the vCPU r + 1 places on (APIC ID = index). */
            uint64_t off = (scn_u(e, "dest") + BUSY_VCPUS - (uint64_t)v) % BUSY_VCPUS;
            ck_assert_msg(off >= 1 && off <= BUSY_ROUNDS, "vcpu %d sent to 0x%llx", v,
                          (unsigned long long)scn_u(e, "dest"));
            dest_mask[v] |= 1ull << off;
            ck_assert_uint_eq(scn_u(e, "targets"), 1);
        } else if (scn_is(e, "irq_deliver") && scn_u(e, "vector") == 0x60) {
            got[v]++;
        } else if (scn_is(e, "irq_deliver") && scn_u(e, "vector") == 0x50) {
            ticked[v]++;
        } else if (scn_is(e, "timer_fire")) {
            fired[v]++;
        }
    }
    for (int v = 0; v < BUSY_VCPUS; v++) {
        ck_assert_msg(sent[v] == BUSY_ROUNDS && dest_mask[v] == 0x1FE, "vcpu %d sent %u", v,
                      sent[v]);
        ck_assert_msg(got[v] == BUSY_ROUNDS, "vcpu %d received %u IPIs", v, got[v]);
        ck_assert_msg(fired[v] == BUSY_TICKS && ticked[v] == BUSY_TICKS,
                      "vcpu %d: %u timer fires, %u delivered", v, fired[v], ticked[v]);
    }
    /* APIC ID 255 (0xFF, broadcast in xAPIC) is an ordinary x2APIC destination. */
    ck_assert_uint_eq(scn_count_where(&r, "ipi", 254, "dest", 0xFF), 1);
    scn_free(&r);
}
END_TEST

/* Index of vCPU 0's first WRMSR IA32_APIC_BASE of val at or after from, with
 * its result, or SIZE_MAX. */
static size_t apic_base_write(const struct scn_run *r, size_t from, uint64_t val,
                              const char *result)
{
    for (size_t i = from; i < r->nev; i++) {
        const struct scn_event *e = &r->ev[i];
        if (scn_is(e, "msr") && e->r.vcpu == 0 && scn_u(e, "msr") == 0x1B &&
            !strcmp(scn_s(e, "op"), "wr") && scn_u(e, "value") == val)
            return !strcmp(scn_s(e, "result"), result) ? i : SIZE_MAX;
    }
    return SIZE_MAX;
}

START_TEST(xapic_mode_is_entered_through_disabled_and_its_mmio_icr_sends_ipis)
{
    struct scn_run r;
    scn_run_guest(&r, "xapic_mode", "--vcpus", "2", NULL);
    assert_passed(&r, "xapic_mode");
    /* x2APIC -> xAPIC #GP, -> disabled, -> x2APIC #GP, -> xAPIC, -> x2APIC. */
    size_t gp1 = apic_base_write(&r, 0, 0xFEE00900, "gp");
    size_t off = apic_base_write(&r, gp1 + 1, 0xFEE00100, "ok");
    size_t gp2 = apic_base_write(&r, off + 1, 0xFEE00D00, "gp");
    size_t xa = apic_base_write(&r, gp2 + 1, 0xFEE00900, "ok");
    size_t x2 = apic_base_write(&r, xa + 1, 0xFEE00D00, "ok");
    ck_assert(gp1 != SIZE_MAX && off != SIZE_MAX && gp2 != SIZE_MAX && xa != SIZE_MAX &&
              x2 != SIZE_MAX);
    /* CPUID.1:EDX[9] is clear exactly while the APIC is disabled. */
    for (size_t i = 0; i < r.nev; i++) {
        const struct scn_event *e = &r.ev[i];
        if (scn_is(e, "cpuid") && e->r.vcpu == 0 && scn_u(e, "leaf") == 1)
            ck_assert_msg(!(scn_u(e, "edx") & (1u << 9)) == (i > off && i < xa),
                          "CPUID.1 at event %zu", i);
    }
    ck_assert_uint_gt(scn_count_where(&r, "cpuid", 0, "leaf", 1), 2);
    /* The store to ICR_LOW sends to vCPU 1 (ICR_HIGH 0x01000000). */
    size_t st = scn_find(&r, xa, "mmio", 0, "gpa", 0xFEE00300);
    ck_assert(st != SIZE_MAX && st < x2);
    ck_assert_uint_eq(scn_u(&r.ev[st], "value"), 0x4061);
    /* Traced like an x2APIC WRMSR: what the access caused, then the access. */
    size_t ipi = scn_find(&r, xa, "ipi", 0, "vector", 0x61);
    ck_assert(ipi + 1 == st);
    ck_assert_uint_eq(scn_u(&r.ev[ipi], "dest"), 1);
    ck_assert_uint_eq(scn_count_where(&r, "irq_deliver", 1, "vector", 0x61), 1);
    ck_assert_uint_eq(scn_count_where(&r, "irq_deliver", 0, "vector", 0x62), 1);
    ck_assert_uint_eq(scn_count_where(&r, "irq_deliver", 1, "vector", 0x63), 1);
    /* CR8 reached the fabric: read 2, written 5 and 0 (xAPIC), read 1 (x2APIC). */
    ck_assert_uint_eq(scn_count_where(&r, "cr8", 0, "value", 5), 1);
    ck_assert_uint_eq(scn_count(&r, "cr8", 0), 4);
    scn_free(&r);
}
END_TEST

START_TEST(nmis_are_delivered_and_a_second_waits_for_iret)
{
    struct scn_run r;
    scn_run_guest(&r, "nmi_ipi", NULL);
    assert_passed(&r, "nmi_ipi");
    ck_assert_uint_ge(scn_count_where(&r, "irq_deliver", 1, "vector", 2), 3);
    ck_assert_uint_ge(scn_count_where(&r, "irq_deliver", 0, "vector", 2), 5);
    ck_assert_uint_gt(scn_count_where(&r, "irq_accept", 1, "vector", 0), 0);
    for (size_t i = 0; i < r.nev; i++)
        if (scn_is(&r.ev[i], "irq_deliver") && scn_u(&r.ev[i], "vector") == 2)
            ck_assert_str_eq(scn_s(&r.ev[i], "kind"), "nmi");
    scn_free(&r);
}
END_TEST

START_TEST(init_and_sipi_start_stop_and_restart_application_processors)
{
    struct scn_run r;
    scn_run_guest(&r, "init_sipi", NULL);
    assert_passed(&r, "init_sipi");
    /* vCPU 1: SIPI, INIT back to wait-for-SIPI, SIPI again; the third SIPI
     * (to a running vCPU) is accepted by the APIC but starts nothing. */
    ck_assert_uint_eq(scn_count(&r, "sipi", 1), 2);
    ck_assert_uint_eq(scn_count(&r, "init", 1), 1);
    size_t s1 = scn_find(&r, 0, "sipi", 1, NULL, 0);
    size_t in = scn_find(&r, s1, "init", 1, NULL, 0);
    size_t s2 = scn_find(&r, in, "sipi", 1, NULL, 0);
    ck_assert(s1 < in && in < s2 && s2 != SIZE_MAX);
    ck_assert_uint_eq(scn_u(&r.ev[s2], "rip"), 0x8000);
    ck_assert_uint_eq(scn_count_where(&r, "irq_accept", 1, "vector", 8), 3);
    for (int cpu = 2; cpu < 4; cpu++)
        ck_assert_uint_eq(scn_count(&r, "sipi", cpu), 1);
    scn_free(&r);
}
END_TEST

START_TEST(the_lapic_timer_fires_in_oneshot_periodic_and_deadline_modes)
{
    struct scn_run r;
    scn_run_guest(&r, "timer", NULL);
    assert_passed(&r, "timer");
    bool oneshot = false, periodic = false, deadline = false;
    for (size_t i = 0; i < r.nev; i++) {
        if (!scn_is(&r.ev[i], "timer_arm"))
            continue;
        const char *m = scn_s(&r.ev[i], "mode");
        oneshot |= !strcmp(m, "oneshot");
        periodic |= !strcmp(m, "periodic");
        deadline |= !strcmp(m, "deadline");
    }
    ck_assert(oneshot && periodic && deadline);
    /* Periodic expiries 5000 x 2 x 20 = 200000 cycles apart, without drift. */
    uint64_t prev = 0;
    unsigned run = 0, best = 0;
    for (size_t i = 0; i < r.nev; i++) {
        if (!scn_is(&r.ev[i], "timer_fire"))
            continue;
        if (prev && r.ev[i].r.t - prev == 200000)
            best = ++run > best ? run : best;
        else
            run = 0;
        prev = r.ev[i].r.t;
    }
    ck_assert_uint_ge(best, 4);
    /* A masked LVTT fires without sending anything. */
    ck_assert_uint_gt(scn_count_where(&r, "timer_fire", 0, "masked", 1), 0);
    scn_free(&r);
}
END_TEST

START_TEST(a_level_triggered_vector_sets_tmr_and_is_resent_while_asserted)
{
    struct scn_run r;
    scn_run_guest(&r, "level_tmr", NULL);
    assert_passed(&r, "level_tmr");
    /* Two messages for the level line: the second one after an EOI with level=true. */
    size_t a1 = scn_find(&r, 0, "irq_accept", 0, "vector", 0x60);
    ck_assert(a1 != SIZE_MAX);
    ck_assert_str_eq(scn_s(&r.ev[a1], "trigger"), "level");
    size_t eoi = scn_find(&r, a1, "eoi", 0, "vector", 0x60);
    ck_assert(eoi != SIZE_MAX && scn_u(&r.ev[eoi], "level") == 1);
    size_t a2 = scn_find(&r, eoi, "irq_accept", 0, "vector", 0x60);
    ck_assert(a2 != SIZE_MAX);
    ck_assert_uint_eq(scn_count_where(&r, "irq_accept", 0, "vector", 0x60), 2);
    /* The edge vector's EOI is not a level EOI. */
    size_t e61 = scn_find(&r, 0, "eoi", 0, "vector", 0x61);
    ck_assert(e61 != SIZE_MAX && scn_u(&r.ev[e61], "level") == 0);
    scn_free(&r);
}
END_TEST

START_TEST(the_demo_exchanges_ipis_and_timer_interrupts_on_four_vcpus)
{
    struct scn_run r;
    scn_run_guest(&r, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert(scn_has(r.out, "PASS"));
    for (int cpu = 0; cpu < 4; cpu++) {
        ck_assert_uint_gt(scn_count(&r, "irq_deliver", cpu), 0);
        ck_assert_uint_gt(scn_count(&r, "timer_fire", cpu), 0);
    }
    ck_assert_uint_eq(scn_count(&r, "sipi", -2), 3);
    scn_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("interrupt scenarios");
    TCase *tc = tcase_create("emulated");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, self_ipis_pending_together_are_taken_highest_vector_first);
    tcase_add_test(tc, tpr_holds_back_a_vector_until_lowered_and_ppr_follows);
    tcase_add_test(tc, a_higher_vector_nests_in_a_lower_handler_and_eois_retire_innermost_first);
    tcase_add_test(tc, ipis_reach_the_right_vcpus_in_every_destination_mode);
    tcase_add_test(tc, all_256_vcpus_send_ipis_and_take_timer_ticks_at_once);
    tcase_add_test(tc, nmis_are_delivered_and_a_second_waits_for_iret);
    tcase_add_test(tc, init_and_sipi_start_stop_and_restart_application_processors);
    tcase_add_test(tc, the_lapic_timer_fires_in_oneshot_periodic_and_deadline_modes);
    tcase_add_test(tc, a_level_triggered_vector_sets_tmr_and_is_resent_while_asserted);
    tcase_add_test(tc, the_demo_exchanges_ipis_and_timer_interrupts_on_four_vcpus);
    tcase_add_test(tc, xapic_mode_is_entered_through_disabled_and_its_mmio_icr_sends_ipis);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
