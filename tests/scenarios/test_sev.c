/* SPDX-License-Identifier: MIT */
/*
 * SEV-ES and SNP scenarios (issue 3). That every guest runs in every mode it
 * is written for (guests.tsv) with its expected exit status is the regression
 * runner's: one ctest test per guest x mode (tests/cases, docs/regression.md).
 * Here the NAE-event guests show, in their traces, the #VC (vector 29, error code = exit code), the
 * VMGEXIT carrying the same event, and the hypervisor's answer; malformed GHCB
 * requests show their documented error answers; the hypervisor's write into
 * private memory shows as an RMP fault; AP creation obeys both policies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"

struct guest {
    char name[64];
    unsigned vcpus;
    int status;
    char modes[64];
};

static struct guest guests[128];
static int nguests;

static void load_manifest(void)
{
    if (nguests)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/guests.tsv", SNPREF_GUEST_DIR);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    char line[256];
    while (fgets(line, sizeof(line), f) && nguests < 128) {
        struct guest *g = &guests[nguests];
        if (sscanf(line, "%63s %u %d %63s", g->name, &g->vcpus, &g->status, g->modes) == 4)
            nguests++;
    }
    fclose(f);
    ck_assert_int_gt(nguests, 20);
}

static const struct guest *find(const char *name)
{
    load_manifest();
    for (int i = 0; i < nguests; i++)
        if (!strcmp(guests[i].name, name))
            return &guests[i];
    ck_abort_msg("guest %s is not in guests.tsv", name);
    return NULL;
}

/* Runs a guest in a mode with its vCPU count; asserts its expected status. */
static void run(struct scn_run *r, const char *name, const char *mode, const char *config)
{
    const struct guest *g = find(name);
    char vcpus[8];
    snprintf(vcpus, sizeof(vcpus), "%u", g->vcpus);
    /* A guests.tsv mode that is no --mode value is a Secure AVIC fabric's
     * name ("savic", "savic-xipi"): SNP with that fabric. */
    bool fab = strcmp(mode, "plain") && strcmp(mode, "sev-es") && strcmp(mode, "snp");
    const char *m = fab ? "snp" : mode, *apic = fab ? mode : "emulated";
    if (config)
        scn_run_guest(r, name, "--mode", m, "--apic", apic, "--vcpus", vcpus, "--config", config,
                      NULL);
    else
        scn_run_guest(r, name, "--mode", m, "--apic", apic, "--vcpus", vcpus, NULL);
    ck_assert_msg(r->status == g->status, "%s --mode %s: status %d, want %d\n%s\n%s", name, mode,
                  r->status, g->status, r->out, r->err);
}

/* #VC with this error code, a VMGEXIT for the same event, and a 0 answer. */
static void assert_round_trip(const struct scn_run *r, uint64_t vc_code, uint64_t nae_code)
{
    size_t vc = SIZE_MAX;
    for (size_t i = 0; i < r->nev && vc == SIZE_MAX; i++)
        if (scn_is(&r->ev[i], "exception") && scn_u(&r->ev[i], "vector") == 29 &&
            scn_u(&r->ev[i], "error_code") == vc_code)
            vc = i;
    ck_assert_msg(vc != SIZE_MAX, "no #VC with error code %#llx", (unsigned long long)vc_code);
    size_t g = scn_find(r, vc, "vmgexit", r->ev[vc].r.vcpu, "exit_code", nae_code);
    ck_assert_msg(g != SIZE_MAX, "no VMGEXIT %#llx after the #VC", (unsigned long long)nae_code);
    size_t res = scn_find(r, g, "vmgexit_result", r->ev[vc].r.vcpu, "exit_code", nae_code);
    ck_assert(res != SIZE_MAX);
    ck_assert_uint_eq(scn_u(&r->ev[res], "info1"), 0);
}

static const char *const sev_modes[] = {"sev-es", "snp"};

START_TEST(intercepted_instructions_raise_vc_and_complete_through_the_ghcb)
{
    const char *mode = sev_modes[_i];
    static const struct {
        const char *guest;
        uint64_t vc, nae;
    } cases[] = {
        {"sev_cpuid", 0x72, 0x72},     {"sev_ioio", 0x7B, 0x7B},      {"sev_msr", 0x7C, 0x7C},
        {"sev_dr7", 0x27, 0x27},       {"sev_dr7", 0x37, 0x37},       {"sev_misc", 0x89, 0x89},
        {"sev_misc", 0x6E, 0x6E},      {"sev_misc", 0x87, 0x87},      {"sev_misc", 0x6F, 0x6F},
        {"sev_misc", 0x8A, 0x8A},      {"sev_misc", 0x8B, 0x8B},      {"sev_misc", 0x81, 0x81},
        {"sev_mmio", 0x400, 0x80000001}, {"sev_mmio", 0x400, 0x80000002},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scn_run r;
        run(&r, cases[i].guest, mode, NULL);
        assert_round_trip(&r, cases[i].vc, cases[i].nae);
        scn_free(&r);
    }
}
END_TEST

START_TEST(db_arrives_as_vc_0x41_and_nmi_complete_reopens_the_nmi_window)
{
    struct scn_run r;
    run(&r, "sev_dr7", sev_modes[_i], NULL);
    ck_assert_uint_gt(scn_count_where(&r, "exception", -2, "error_code", 0x41), 0);
    scn_free(&r);
    run(&r, "sev_nmi", sev_modes[_i], NULL);
    ck_assert_uint_gt(scn_count_where(&r, "vmgexit", -2, "exit_code", 0x80000003), 0);
    ck_assert_uint_gt(scn_count_where(&r, "irq_deliver", -2, "vector", 2), 1);
    scn_free(&r);
}
END_TEST

START_TEST(the_msr_protocol_answers_every_request)
{
    struct scn_run r;
    run(&r, "sev_msr_protocol", sev_modes[_i], NULL);
    /* Request -> response codes (GHCB spec 2.0, section 2.3.1; docs/sev-snp-facts.md 6):
     * SEV_INFO request 0x002 is answered by SEV_INFO 0x001, CPUID 0x004 by
     * 0x005, HV features 0x080 by 0x081. */
    static const uint64_t req[] = {0x002, 0x004, 0x080}, resp[] = {0x001, 0x005, 0x081};
    for (size_t k = 0; k < 3; k++) {
        bool seen = false;
        for (size_t i = 0; i < r.nev; i++)
            seen |= scn_is(&r.ev[i], "ghcb_msr") && (scn_u(&r.ev[i], "request") & 0xFFF) == req[k] &&
                    (scn_u(&r.ev[i], "response") & 0xFFF) == resp[k];
        ck_assert_msg(seen, "no answered MSR-protocol request %#llx", (unsigned long long)req[k]);
    }
    scn_free(&r);
}
END_TEST

START_TEST(malformed_ghcb_requests_get_the_documented_error_answers)
{
    struct scn_run r;
    run(&r, "sev_ghcb_errors", sev_modes[_i], NULL);
    static const uint64_t reasons[] = {2 /* usage */, 3 /* scratch */, 4 /* missing */, 6 /* event */};
    for (size_t k = 0; k < 4; k++) {
        bool seen = false;
        for (size_t i = 0; i < r.nev; i++)
            seen |= scn_is(&r.ev[i], "vmgexit_result") && scn_u(&r.ev[i], "info1") == 2 &&
                    scn_u(&r.ev[i], "info2") == reasons[k];
        ck_assert_msg(seen, "no GHCB answer 2 with reason %llu", (unsigned long long)reasons[k]);
    }
    scn_free(&r);
}
END_TEST

START_TEST(snp_page_state_changes_pvalidate_and_an_unvalidated_access_give_vc_0x404)
{
    struct scn_run r;
    run(&r, "sev_psc", "snp", NULL);
    ck_assert_uint_gt(scn_count_where(&r, "vmgexit", -2, "exit_code", 0x80000010), 0);
    ck_assert_uint_gt(scn_count(&r, "psc", -2), 0);
    ck_assert_uint_gt(scn_count_where(&r, "exception", -2, "error_code", 0x404), 0);
    ck_assert_uint_gt(scn_count_where(&r, "pvalidate", -2, "cf", 1), 0);
    ck_assert_uint_gt(scn_count_where(&r, "pvalidate", -2, "result", 6), 0); /* FAIL_SIZEMISMATCH */
    ck_assert_uint_gt(scn_count(&r, "psmash", -2), 0);
    scn_free(&r);
}
END_TEST

START_TEST(a_hypervisor_write_into_private_memory_faults_on_the_rmp)
{
    struct scn_run r;
    run(&r, "snp_hv_write_fault", "snp", NULL);
    bool seen = false;
    for (size_t i = 0; i < r.nev; i++)
        seen |= scn_is(&r.ev[i], "rmp_fault") && !strcmp(scn_s(&r.ev[i], "who"), "hypervisor") &&
                (scn_u(&r.ev[i], "error_code") & (1ull << 31));
    ck_assert(seen);
    ck_assert_uint_gt(scn_count_where(&r, "vmgexit_result", -2, "info2", 3), 0);
    scn_free(&r);
}
END_TEST

/* Writes a config selecting the AP-creation knobs; returns its path. */
static const char *ap_config(const char *policy, const char *features)
{
    static char path[128];
    snprintf(path, sizeof(path), "/tmp/snpref_apc_%d_%s_%s.json", (int)getpid(), policy, features);
    FILE *f = fopen(path, "w");
    ck_assert(f);
    fprintf(f, "{\"sev\":{\"ap_create_policy\":\"%s\",\"ap_create_features\":\"%s\"}}\n", policy,
            features);
    fclose(f);
    return path;
}

static size_t results(const struct scn_run *r, const char *result)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++)
        n += scn_is(&r->ev[i], "ap_create") && strstr(scn_s(&r->ev[i], "result"), result) != NULL;
    return n;
}

START_TEST(ap_creation_rejects_nonsense_under_both_policies_and_both_feature_checks)
{
    static const char *const policies[] = {"kvm", "strict"}, *const features[] = {"exact", "injection"};
    for (int p = 0; p < 2; p++)
        for (int f = 0; f < 2; f++) {
            const char *cfg = ap_config(policies[p], features[f]);
            struct scn_run r;
            run(&r, "snp_ap_create", "snp", cfg);
            /* The refusals every configuration gives. */
            ck_assert_uint_ge(results(&r, "no vCPU has that APIC ID"), 1);
            ck_assert_uint_ge(results(&r, "2 MiB-aligned"), 1);
            ck_assert_uint_ge(results(&r, "not a page in RAM"), 1);
            ck_assert_uint_ge(results(&r, "SEV_FEATURES"), 1);
            ck_assert_uint_ge(results(&r, "unknown request"), 1);
            ck_assert_uint_ge(results(&r, "not a VMSA page"), 1);
            /* Re-creating a running vCPU: the policy decides. */
            ck_assert_uint_eq(results(&r, "already runs") > 0, p == 1);
            ck_assert(scn_has(r.out, p == 0 ? "re-created it (kvm policy)" : "refused (strict policy)"));
            /* A DebugSwap-only difference: the features knob decides. */
            ck_assert(scn_has(r.out, f == 0 ? "DebugSwap refused (exact check)"
                                            : "DebugSwap accepted (injection-mode check)"));
            remove(cfg);
            scn_free(&r);
        }
}
END_TEST

START_TEST(the_demo_runs_under_snp_with_aps_started_by_ap_create)
{
    struct scn_run r;
    run(&r, "demo", "snp", NULL);
    ck_assert(scn_has(r.out, "PASS"));
    ck_assert_uint_eq(results(&r, "ok"), 3);
    ck_assert_uint_eq(scn_count(&r, "launch_finish", -1), 1);
    for (int cpu = 0; cpu < 4; cpu++)
        ck_assert_uint_gt(scn_count(&r, "irq_deliver", cpu), 0);
    scn_free(&r);
}
END_TEST

START_TEST(a_sipi_to_an_snp_ap_without_a_vmsa_fails_vmrun_and_the_ap_stays_off)
{
    struct scn_run r;
    run(&r, "snp_ap_create", "snp", NULL);
    ck_assert(scn_has(r.out, "8. INIT + SIPI did not start cpu2"));
    size_t sipi = scn_find(&r, 0, "sipi", 2, NULL, 0);
    ck_assert(sipi != SIZE_MAX);
    size_t fail = scn_find(&r, sipi, "vmrun_fail", 2, NULL, 0);
    ck_assert(fail != SIZE_MAX);
    ck_assert(strstr(scn_s(&r.ev[fail], "reason"), "AP_CREATION") != NULL);
    /* cpu2 only ever runs once the guest creates it (step 5, after the failure). */
    size_t create = SIZE_MAX;
    for (size_t i = 0; i < r.nev && create == SIZE_MAX; i++)
        if (scn_is(&r.ev[i], "ap_create") && !strcmp(scn_s(&r.ev[i], "request"), "create_on_init"))
            create = i;
    ck_assert(create != SIZE_MAX && create > fail);
    scn_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sev scenarios");
    TCase *tc = tcase_create("sev");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, intercepted_instructions_raise_vc_and_complete_through_the_ghcb, 0, 2);
    tcase_add_loop_test(tc, db_arrives_as_vc_0x41_and_nmi_complete_reopens_the_nmi_window, 0, 2);
    tcase_add_loop_test(tc, the_msr_protocol_answers_every_request, 0, 2);
    tcase_add_loop_test(tc, malformed_ghcb_requests_get_the_documented_error_answers, 0, 2);
    tcase_add_test(tc, snp_page_state_changes_pvalidate_and_an_unvalidated_access_give_vc_0x404);
    tcase_add_test(tc, a_hypervisor_write_into_private_memory_faults_on_the_rmp);
    tcase_add_test(tc, ap_creation_rejects_nonsense_under_both_policies_and_both_feature_checks);
    tcase_add_test(tc, the_demo_runs_under_snp_with_aps_started_by_ap_create);
    tcase_add_test(tc, a_sipi_to_an_snp_ap_without_a_vmsa_fails_vmrun_and_the_ap_stays_off);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
