/* SPDX-License-Identifier: MIT */
/*
 * Secure AVIC scenarios (issue 4; docs/sev-snp-facts.md section 7): the guests
 * savic_accel, savic_ipi, savic_devices and savic_lifecycle under `--mode snp
 * --apic savic`, asserted on their own report and on the trace: the
 * accelerated accesses take no VMGEXIT; a cross-vCPU IPI costs the sender
 * exactly its ICR's MSR NAE and a running target nothing; ALLOWED_IRR lets an
 * allowed device vector through and drops a blocked one; the timer comes
 * through REQUESTED_IRR; NMI_REQUEST; the backing-page NAE, VMEXIT_BUSY,
 * teardown and a following plain x2APIC boot; a knob changes what traps;
 * the savic-xipi variant carries fixed IPIs in hardware (savic_xipi).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"
#include "snpref/abi.h"

static void run(struct scn_run *r, const char *guest, const char *vcpus, const char *config)
{
    if (config)
        scn_run_guest(r, guest, "--mode", "snp", "--apic", "savic", "--vcpus", vcpus, "--config",
                      config, NULL);
    else
        scn_run_guest(r, guest, "--mode", "snp", "--apic", "savic", "--vcpus", vcpus, NULL);
}

static void run_ok(struct scn_run *r, const char *guest, const char *vcpus)
{
    run(r, guest, vcpus, NULL);
    ck_assert_msg(r->status == 0, "%s: status %d\n%s\n%s", guest, r->status, r->out, r->err);
    ck_assert(scn_has(r->out, "PASS"));
}

/* Exits of vcpu in [from, to): VM exits (a VMGEXIT is one, traced with its NAE
 * event) and #VCs. */
static size_t exits_between(const struct scn_run *r, int vcpu, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to && i < r->nev; i++) {
        const struct scn_event *e = &r->ev[i];
        if (e->r.vcpu != vcpu)
            continue;
        n += scn_is(e, "vmexit") || (scn_is(e, "exception") && scn_u(e, "vector") == 29);
    }
    return n;
}

static size_t find_hw(const struct scn_run *r, size_t from, int vcpu, const char *op, uint64_t msr)
{
    for (size_t i = from; i < r->nev; i++) {
        const struct scn_event *e = &r->ev[i];
        if (scn_is(e, "apic_hw") && e->r.vcpu == vcpu && scn_u(e, "msr") == msr &&
            !strcmp(scn_s(e, "op"), op))
            return i;
    }
    return SIZE_MAX;
}

START_TEST(self_ipi_tpr_and_eoi_take_no_vmgexit)
{
    struct scn_run r;
    run_ok(&r, "savic_accel", "1");
    size_t start = find_hw(&r, 0, 0, "wr", 0x83F); /* SELF_IPI */
    ck_assert(start != SIZE_MAX);
    size_t eoi1 = find_hw(&r, start, 0, "wr", 0x80B);
    ck_assert(eoi1 != SIZE_MAX);
    size_t end = find_hw(&r, eoi1 + 1, 0, "wr", 0x80B);
    ck_assert(end != SIZE_MAX);
    ck_assert_uint_eq(exits_between(&r, 0, start, end + 1), 0);
    size_t accel = 0;
    for (size_t i = start; i <= end; i++)
        if (scn_is(&r.ev[i], "apic_hw")) {
            ck_assert_str_eq(scn_s(&r.ev[i], "result"), "accelerated");
            accel++;
        }
    ck_assert_uint_ge(accel, 6); /* SELF_IPI, ICR self, TPR 0x60, EOI, TPR 0, EOI */
    size_t hi = scn_find(&r, start, "irq_deliver", 0, "vector", 0x90);
    size_t lo = scn_find(&r, start, "irq_deliver", 0, "vector", 0x50);
    ck_assert(hi < lo && lo < end);
    /* Then Linux's self_ipi() ICR, 0x3F0 | 0x75: a #VC 0x401 trap, and the
     * ICR the guest's handler forwards is the reserved delivery mode 3 with
     * no target; nothing is delivered. */
    ck_assert(scn_has(r.out, "savic_accel: Linux self_ipi() ICR 0x3f5: #VC 0x401"));
    size_t vc = scn_find(&r, end, "exception", 0, "error_code", 0x401);
    ck_assert(vc != SIZE_MAX);
    size_t ipi = scn_find(&r, vc, "ipi", 0, "icr", 0x3F5);
    ck_assert(ipi != SIZE_MAX);
    ck_assert_str_eq(scn_s(&r.ev[ipi], "mode"), "reserved");
    ck_assert_uint_eq(scn_u(&r.ev[ipi], "targets"), 0);
    ck_assert_uint_eq(scn_find(&r, vc, "irq_deliver", 0, "vector", 0xF5), SIZE_MAX);
    scn_free(&r);
}
END_TEST

START_TEST(a_cross_vcpu_ipi_costs_the_sender_one_vmgexit_and_a_running_target_none)
{
    struct scn_run r;
    run_ok(&r, "savic_ipi", "2");
    /* The sender's window: TPR 1 ... TPR 0 around the ICR write. */
    size_t from = SIZE_MAX, to = SIZE_MAX;
    for (size_t i = 0; i < r.nev && to == SIZE_MAX; i++) {
        const struct scn_event *e = &r.ev[i];
        if (!scn_is(e, "apic_hw") || e->r.vcpu != 0 || scn_u(e, "msr") != 0x808)
            continue;
        if (from == SIZE_MAX && scn_u(e, "value") == 1)
            from = i;
        else if (from != SIZE_MAX && scn_u(e, "value") == 0)
            to = i;
    }
    ck_assert(from != SIZE_MAX && to != SIZE_MAX);
    ck_assert_uint_eq(exits_between(&r, 0, from, to), 1); /* the ICR's MSR NAE, no #VC */
    size_t g = scn_find(&r, from, "vmgexit", 0, "exit_code", 0x7C);
    ck_assert(g < to);
    ck_assert(scn_find(&r, g + 1, "vmgexit", 0, NULL, 0) > to);
    size_t bell = scn_find(&r, from, "avic_doorbell", 1, NULL, 0);
    size_t took = scn_find(&r, from, "irq_deliver", 1, "vector", 0x61);
    ck_assert(bell < took && took != SIZE_MAX);
    ck_assert_uint_eq(exits_between(&r, 1, from, took), 0);
    /* NMI_REQUEST: the guest's store in the page, then the NMI. */
    size_t nmi = SIZE_MAX;
    for (size_t i = took; i < r.nev && nmi == SIZE_MAX; i++)
        if (scn_is(&r.ev[i], "irq_deliver") && r.ev[i].r.vcpu == 1 &&
            !strcmp(scn_s(&r.ev[i], "kind"), "nmi"))
            nmi = i;
    ck_assert(nmi != SIZE_MAX);
    size_t req = scn_find(&r, took, "savic_page_write", 1, "offset", 0x278);
    ck_assert(req < nmi && scn_u(&r.ev[req], "value") == 1);
    /* The halted target wakes for the last IPI without a new exit of its own. */
    size_t wake = scn_find(&r, nmi, "wake", 1, NULL, 0);
    size_t last = scn_find(&r, nmi, "irq_deliver", 1, "vector", 0x62);
    ck_assert(wake < last && last != SIZE_MAX);
    ck_assert_uint_eq(exits_between(&r, 1, wake, last), 0);
    scn_free(&r);
}
END_TEST

/* savic_xipi (3 vCPUs) on the variant: the guest says the hardware carries
 * its IPIs and passes; every fixed IPI of its (raw WRMSR and driver) is one
 * accelerated apic_hw ICR write followed by the variant's fabric_hook and an
 * ipi event, without an exit of the sender or of the target, which accepts
 * it from the sender; only the lowest-priority and the NMI IPI
 * still raise AVIC_INCOMPLETE_IPI. */
START_TEST(savic_xipi_delivers_fixed_ipis_in_hardware_and_traces_its_hook)
{
    struct scn_run r;
    scn_run_guest(&r, "savic_xipi", "--mode", "snp", "--apic", "savic-xipi", "--vcpus", "3", NULL);
    ck_assert_msg(r.status == 0, "status %d\n%s\n%s", r.status, r.out, r.err);
    ck_assert(scn_has(r.out, "savic_xipi: hardware cross-vCPU IPIs: yes"));
    ck_assert(scn_has(r.out, "savic_xipi: 8 raw WRMSR IPIs to each of 2 APs taken"));
    ck_assert(scn_has(r.out, "savic_xipi: 8 driver IPIs to each of 2 APs taken"));
    ck_assert(scn_has(r.out, "savic_xipi: PASS"));
    ck_assert_uint_eq(scn_count(&r, "fabric_hook", -2), 34);
    ck_assert_uint_eq(scn_count(&r, "avic_incomplete_ipi", -2), 2);
    ck_assert_uint_eq(scn_count_where(&r, "exception", 0, "error_code", 0x401), 2);
    size_t checked = 0;
    for (size_t i = 0; i < r.nev; i++) {
        const struct scn_event *h = &r.ev[i];
        if (!scn_is(h, "fabric_hook"))
            continue;
        ck_assert_str_eq(scn_s(h, "fabric"), "savic-xipi");
        ck_assert_str_eq(scn_s(h, "hook"), "icr_accelerated");
        uint64_t icr = scn_u(h, "value");
        /* Just before: the hardware's record of the WRMSR, accelerated. */
        ck_assert(i > 0 && scn_is(&r.ev[i - 1], "apic_hw"));
        ck_assert_uint_eq(scn_u(&r.ev[i - 1], "msr"), 0x830);
        ck_assert_str_eq(scn_s(&r.ev[i - 1], "result"), "accelerated");
        size_t ipi = scn_find(&r, i, "ipi", 0, "icr", icr);
        ck_assert(ipi != SIZE_MAX);
        if ((icr >> 18 & 3) != 0)
            continue; /* the broadcast: counted by the guest */
        int dst = (int)(icr >> 32);
        size_t acc = scn_find(&r, ipi, "irq_accept", dst, "vector", icr & 0xFF);
        size_t took = scn_find(&r, ipi, "irq_deliver", dst, "vector", icr & 0xFF);
        ck_assert(acc < took && took != SIZE_MAX);
        ck_assert_int_eq((int)scn_u(&r.ev[acc], "src"), 0);
        /* The send costs the sender no exit, the target none either
         * (the sender's own polling loop RDTSCs, #VC 0x6E, meanwhile). */
        ck_assert_uint_eq(exits_between(&r, 0, i - 1, ipi + 1), 0);
        ck_assert_uint_eq(exits_between(&r, dst, ipi, took), 0);
        checked++;
    }
    ck_assert_uint_eq(checked, 33); /* 16 raw, 16 driver, the wake-up */
    scn_free(&r);
}
END_TEST

/* The same guest on savic: no hardware IPIs, the guest's #VC 0x401 path,
 * no fabric_hook at all. */
START_TEST(savic_xipi_on_savic_takes_the_vc401_path)
{
    struct scn_run r;
    run_ok(&r, "savic_xipi", "3");
    ck_assert(scn_has(r.out, "savic_xipi: hardware cross-vCPU IPIs: no"));
    ck_assert_uint_eq(scn_count(&r, "fabric_hook", -2), 0);
    ck_assert_uint_eq(scn_count(&r, "avic_incomplete_ipi", -2), 20);
    ck_assert_uint_eq(scn_count_where(&r, "exception", 0, "error_code", 0x401), 20);
    scn_free(&r);
}
END_TEST

static size_t irr_result(const struct scn_run *r, uint64_t vector, const char *result)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++)
        n += scn_is(&r->ev[i], "savic_irr") && scn_u(&r->ev[i], "vector") == vector &&
             !strcmp(scn_s(&r->ev[i], "result"), result);
    return n;
}

START_TEST(an_allowed_device_vector_arrives_a_blocked_one_is_dropped_and_the_timer_comes_through_requested_irr)
{
    struct scn_run r;
    run_ok(&r, "savic_devices", "1");
    ck_assert_uint_eq(irr_result(&r, 0x71, "merged"), 1);
    ck_assert_uint_eq(irr_result(&r, 0x72, "dropped"), 1);
    ck_assert_uint_eq(scn_count_where(&r, "irq_deliver", 0, "vector", 0x72), 0);
    size_t fire = scn_find(&r, 0, "timer_fire", 0, "vector", 0x73);
    size_t took = scn_find(&r, 0, "irq_deliver", 0, "vector", 0x73);
    ck_assert(fire < took && took != SIZE_MAX);
    ck_assert_uint_eq(irr_result(&r, 0x73, "merged"), 1);
    /* LVTT and TMICT went to the hypervisor: MSR NAE events, not the page. */
    ck_assert_uint_gt(scn_count_where(&r, "msr", 0, "msr", 0x832), 0);
    ck_assert_uint_gt(scn_count_where(&r, "msr", 0, "msr", 0x838), 0);
    scn_free(&r);
}
END_TEST

START_TEST(the_backing_page_nae_busy_teardown_and_a_plain_boot_after_it)
{
    struct scn_run r;
    run_ok(&r, "savic_lifecycle", "3");
    size_t refused = 0, reg = 0, unreg = 0;
    for (size_t i = 0; i < r.nev; i++) {
        const struct scn_event *e = &r.ev[i];
        if (!scn_is(e, "savic_page"))
            continue;
        bool ok = !strcmp(scn_s(e, "result"), "ok");
        refused += !ok;
        reg += ok && !strcmp(scn_s(e, "op"), "register");
        unreg += ok && !strcmp(scn_s(e, "op"), "unregister");
    }
    ck_assert_uint_eq(refused, 3);
    ck_assert_uint_ge(reg, 4);   /* 3 vCPUs at boot, cpu0 again */
    ck_assert_uint_eq(unreg, 3); /* cpu0 twice, cpu2 */
    size_t busy = scn_find(&r, 0, "vmrun_fail", 1, NULL, 0);
    ck_assert(busy != SIZE_MAX);
    ck_assert(strstr(scn_s(&r.ev[busy], "reason"), "VMEXIT_BUSY") != NULL);
    ck_assert_uint_eq(scn_count(&r, "vmrun_fail", 1), 1);
    /* After cpu2 came back without the driver: the emulated x2APIC. */
    size_t create = SIZE_MAX;
    for (size_t i = busy; i < r.nev; i++)
        if (scn_is(&r.ev[i], "ap_create") && scn_u(&r.ev[i], "apic_id") == 2 &&
            !strcmp(scn_s(&r.ev[i], "request"), "create"))
            create = i;
    ck_assert(create != SIZE_MAX);
    ck_assert(scn_find(&r, create, "apic_hw", 2, NULL, 0) == SIZE_MAX);
    size_t icr = scn_find(&r, create, "msr", 0, "msr", 0x830);
    size_t acc = scn_find(&r, icr, "irq_accept", 2, "vector", 0x64);
    size_t took = scn_find(&r, acc, "irq_deliver", 2, "vector", 0x64);
    ck_assert(icr < acc && acc < took && took != SIZE_MAX);
    scn_free(&r);
}
END_TEST

START_TEST(a_knob_that_stops_accelerating_tpr_makes_tpr_writes_trap)
{
    char cfg[128];
    snprintf(cfg, sizeof(cfg), "/tmp/snpref_savic_knob_%d.json", (int)getpid());
    FILE *f = fopen(cfg, "w");
    ck_assert(f);
    fputs("{\"savic\":{\"accelerated_writes\":[\"EOI\",\"SELF_IPI\",\"ICR\"]}}\n", f);
    fclose(f);
    struct scn_run r;
    run(&r, "savic_accel", "1", cfg);
    remove(cfg);
    size_t tpr = find_hw(&r, 0, 0, "wr", 0x808);
    ck_assert(tpr != SIZE_MAX);
    ck_assert_str_eq(scn_s(&r.ev[tpr], "result"), "vc402-trap");
    size_t vc = scn_find(&r, tpr, "exception", 0, "error_code", 0x402);
    ck_assert(vc != SIZE_MAX);
    ck_assert_uint_gt(scn_count_where(&r, "avic_unaccelerated_access", 0, "offset", 0x80), 0);
    scn_free(&r);
}
END_TEST

/* A quantum boundary is no world switch: per vCPU, VMRUNs (vmentry) and exits
 * (vmexit) alternate, each re-entry after an exit of its own (a VMGEXIT, HLT)
 * or the hypervisor's INTR kick, which the timer's REQUESTED_IRR needs. */
START_TEST(every_vmrun_follows_an_exit_and_every_exit_is_followed_by_a_vmrun)
{
    static const char *const guests[] = {"savic_ipi", "savic_devices", "timer"};
    for (size_t g = 0; g < sizeof(guests) / sizeof(guests[0]); g++) {
        struct scn_run r;
        scn_run_guest_in(&r, guests[g], "savic");
        ck_assert_msg(r.status == 0, "%s: status %d: %s", guests[g], r.status, r.err);
        int inside[SNP_MAX_VCPUS] = {0}; /* 0 never ran, 1 in guest mode, 2 exited */
        size_t entries = 0, intr = 0;
        for (size_t i = 0; i < r.nev; i++) {
            const struct scn_event *e = &r.ev[i];
            int v = e->r.vcpu;
            if (scn_is(e, "vmentry")) {
                ck_assert_msg(inside[v] != 1, "%s: vCPU %d entered twice without an exit (line %zu)",
                              guests[g], v, i + 2);
                inside[v] = 1;
                entries++;
            } else if (scn_is(e, "vmexit")) {
                ck_assert_msg(inside[v] == 1, "%s: vCPU %d exited outside guest mode (line %zu)",
                              guests[g], v, i + 2);
                inside[v] = 2;
                intr += scn_u(e, "exit_code") == 0x60;
            }
        }
        ck_assert_uint_gt(entries, 10);
        if (!strcmp(guests[g], "timer"))
            ck_assert_uint_gt(intr, 0); /* the timer reaches the guest through a kick */
        scn_free(&r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("secure avic scenarios");
    TCase *tc = tcase_create("savic");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, self_ipi_tpr_and_eoi_take_no_vmgexit);
    tcase_add_test(tc, every_vmrun_follows_an_exit_and_every_exit_is_followed_by_a_vmrun);
    tcase_add_test(tc, a_cross_vcpu_ipi_costs_the_sender_one_vmgexit_and_a_running_target_none);
    tcase_add_test(tc, an_allowed_device_vector_arrives_a_blocked_one_is_dropped_and_the_timer_comes_through_requested_irr);
    tcase_add_test(tc, the_backing_page_nae_busy_teardown_and_a_plain_boot_after_it);
    tcase_add_test(tc, a_knob_that_stops_accelerating_tpr_makes_tpr_writes_trap);
    tcase_add_test(tc, savic_xipi_delivers_fixed_ipis_in_hardware_and_traces_its_hook);
    tcase_add_test(tc, savic_xipi_on_savic_takes_the_vc401_path);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
