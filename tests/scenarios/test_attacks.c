/* SPDX-License-Identifier: MIT */
/*
 * The hostile hypervisor (issue 4, docs/attacks.md): every Heckler and WeSee
 * injection of `snpref attacks` x {SNP, SNP with RestrictedInjection, Secure
 * AVIC} against the outcome the architecture gives, written here from the
 * sources independently of the model; the trace of an accepted and of a
 * refused injection; WeSee's crafted GHCB; the forbidden_eventinj knob;
 * RestrictedInjection closing the interrupt path; and the one-line errors of a
 * malformed hostile config.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"

/* ---- The architecture's table ------------------------------------------------------ */

/*
 * Rows: marker 1 is `int 0x80` (INTR), marker 2 + v is exception vector v
 * (TYPE 3, error code 0 where the vector has one), 34 and 35 are WeSee's #VC
 * 0x81 and 0x400 (docs/attacks.md).
 *
 * SNP with normal injection: APM vol. 2 15.20 refuses TYPE 3 with a vector
 * that is no exception (2 is the NMI; 9, 15, 20, 22-27, 31 are reserved on
 * AMD64) and #BR, impossible in 64-bit mode; #HV (28) is reserved for
 * RestrictedInjection guests (AMD's #HV doorbell patch). Everything else,
 * int 0x80 and #VC included, reaches the guest: that is what Heckler and WeSee
 * exploit. RestrictedInjection: #HV only. Secure AVIC: no EVENTINJ at all.
 */
enum column { SNP, RESTRICTED, SAVIC };
static const char *const column_key[] = {"snp", "snp_restricted_injection", "secure_avic"};

static bool refused_by_apm(unsigned v)
{
    static const unsigned bad[] = {2, 5, 9, 15, 20, 22, 23, 24, 25, 26, 27, 31};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (bad[i] == v)
            return true;
    return false;
}

static bool reaches_guest(enum column c, unsigned marker)
{
    bool exception = marker >= 2 && marker <= 33;
    unsigned v = marker - 2;
    switch (c) {
    case SNP: return !exception || (!refused_by_apm(v) && v != 28);
    case RESTRICTED: return exception && v == 28;
    case SAVIC: return false;
    }
    return false;
}

/* The EVENTINJ of each row, as docs/sev-snp-facts.md 11 encodes it. */
static unsigned long long eventinj_of(unsigned marker)
{
    static const unsigned with_error[] = {8, 10, 11, 12, 13, 14, 17, 21, 29, 30};
    if (marker == 1)
        return 0x80000080ull; /* V | TYPE 0 | 0x80 */
    if (marker == 34 || marker == 35)
        return (marker == 34 ? 0x81ull : 0x400ull) << 32 | 0x80000B1Dull; /* V | EV | TYPE 3 | 29 */
    unsigned v = marker - 2;
    for (size_t i = 0; i < sizeof(with_error) / sizeof(with_error[0]); i++)
        if (with_error[i] == v)
            return 0x80000B00ull | v;
    return 0x80000300ull | v;
}

static cJSON *attacks_json(void)
{
    struct scn_run r;
    scn_run_tool(&r, "attacks", "--json", NULL);
    ck_assert_msg(r.status == 0, "snpref attacks --json: %d\n%s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "not JSON:\n%s", r.out);
    scn_free(&r);
    return j;
}

START_TEST(every_attack_has_the_outcome_the_architecture_gives_in_every_column)
{
    cJSON *j = attacks_json();
    const cJSON *cols = cJSON_GetObjectItem(j, "columns");
    ck_assert_int_eq(cJSON_GetArraySize(cols), 3);
    for (int c = 0; c < 3; c++) {
        const cJSON *col = cJSON_GetArrayItem(cols, c);
        ck_assert_str_eq(cJSON_GetObjectItem(col, "key")->valuestring, column_key[c]);
        ck_assert_str_eq(cJSON_GetObjectItem(col, "outcome")->valuestring, "exited");
    }
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cols, SAVIC), "apic")->valuestring,
                     "savic");
    const cJSON *rows = cJSON_GetObjectItem(j, "rows");
    ck_assert_int_eq(cJSON_GetArraySize(rows), 35);
    for (unsigned k = 1; k <= 35; k++) {
        const cJSON *row = cJSON_GetArrayItem(rows, (int)k - 1);
        const char *name = cJSON_GetObjectItem(row, "attack")->valuestring;
        ck_assert_int_eq(cJSON_GetObjectItem(row, "marker")->valueint, (int)k);
        ck_assert_uint_eq(strtoull(cJSON_GetObjectItem(row, "eventinj")->valuestring, NULL, 16),
                          eventinj_of(k));
        for (int c = 0; c < 3; c++) {
            const cJSON *cell = cJSON_GetObjectItem(row, column_key[c]);
            const char *got = cJSON_GetObjectItem(cell, "cell")->valuestring;
            const char *guest = cJSON_GetObjectItem(cell, "guest")->valuestring;
            bool in = reaches_guest((enum column)c, k);
            ck_assert_msg(!strcmp(got, in ? "delivered" : "refused: VMEXIT_INVALID"),
                          "%s under %s: \"%s\", want %s", name, column_key[c], got,
                          in ? "delivered" : "refused");
            /* What the probe's handlers saw agrees. */
            char want[32];
            snprintf(want, sizeof(want), "vector %llu", eventinj_of(k) & 0xFF);
            ck_assert_msg(in ? !strncmp(guest, want, strlen(want)) : !strcmp(guest, "nothing"),
                          "%s under %s: the guest saw \"%s\"", name, column_key[c], guest);
        }
    }
    cJSON_Delete(j);
}
END_TEST

START_TEST(each_refusal_names_the_rule_that_made_it)
{
    cJSON *j = attacks_json();
    const cJSON *rows = cJSON_GetObjectItem(j, "rows");
    struct {
        unsigned marker;
        int column;
        const char *rule;
    } want[] = {
        {4, SNP, "TYPE 3 with a vector that is no exception"},   /* vector 2 */
        {7, SNP, "#BR cannot happen in 64-bit mode"},             /* vector 5 */
        {30, SNP, "#HV may be injected only with RestrictedInjection"},
        {1, RESTRICTED, "RestrictedInjection: only #HV"},
        {34, RESTRICTED, "RestrictedInjection: only #HV"},
        {30, SAVIC, "Secure AVIC: EVENTINJ is not supported"},
        {35, SAVIC, "Secure AVIC: EVENTINJ is not supported"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, (int)want[i].marker - 1);
        const cJSON *cell = cJSON_GetObjectItem(row, column_key[want[i].column]);
        const char *reason = cJSON_GetObjectItem(cell, "reason")->valuestring;
        ck_assert_msg(scn_has(reason, want[i].rule), "marker %u %s: \"%s\"", want[i].marker,
                      column_key[want[i].column], reason);
    }
    cJSON_Delete(j);
}
END_TEST

START_TEST(the_attack_table_prints_every_row_and_column_and_exits_0)
{
    struct scn_run r;
    scn_run_tool(&r, "attacks", NULL);
    ck_assert_msg(r.status == 0, "%d\n%s", r.status, r.err);
    static const char *const want[] = {
        "SNP restricted injection", "Secure AVIC", "Heckler: int 0x80 (INTR)",
        "Heckler: vector 0 #DE", "Heckler: vector 13 #GP (error 0)",
        "Heckler: vector 31 (reserved)",
        "WeSee: #VC 0x81 (VMMCALL), crafted GHCB", "WeSee: #VC 0x400 (MMIO), crafted GHCB",
        "refused: VMEXIT_INVALID [", "delivered",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(scn_has(r.out, want[i]), "no \"%s\" in:\n%s", want[i], r.out);
    ck_assert_ptr_null(strstr(r.out, "INCONSISTENT"));
    scn_free(&r);
    scn_run_tool(&r, "attacks", "--colour", NULL);
    ck_assert_int_eq(r.status, 64);
    scn_free(&r);
}
END_TEST

/* ---- Traces of single injections --------------------------------------------------- */

static char cfg_path[128];

static const char *write_cfg(const char *name, const char *text)
{
    snprintf(cfg_path, sizeof(cfg_path), "/tmp/snpref_atk_%d_%s.json", (int)getpid(), name);
    FILE *f = fopen(cfg_path, "w");
    ck_assert(f);
    fputs(text, f);
    fclose(f);
    return cfg_path;
}

/* Runs the probe under SNP with a hostile config; it must complete. */
static void run_probe(struct scn_run *r, const char *name, const char *json)
{
    const char *cfg = write_cfg(name, json);
    scn_run_guest(r, "attack_probe", "--mode", "snp", "--vcpus", "1", "--config", cfg, NULL);
    ck_assert_msg(r->status == 0, "%s: %d\n%s\n%s", name, r->status, r->out, r->err);
}

START_TEST(an_accepted_injection_is_taken_at_the_first_instruction_after_vmrun)
{
    struct scn_run r;
    run_probe(&r, "accept", "{\"hostile\":{\"injections\":["
                            "{\"marker\":15,\"vector\":13,\"error_code\":\"0x18\"},"
                            "{\"marker\":1,\"vector\":128,\"type\":\"intr\"}]}}");
    size_t arm = scn_find(&r, 0, "hostile_arm", 0, "marker", 15);
    ck_assert(arm != SIZE_MAX);
    /* The marker exit's answer, then VMRUN with EVENTINJ, the entry, the #GP. */
    size_t inj = scn_find(&r, arm, "vmgexit_result", 0, NULL, 0) + 1;
    ck_assert(scn_is(&r.ev[inj], "eventinj"));
    ck_assert_str_eq(scn_s(&r.ev[inj], "result"), "injected");
    ck_assert_uint_eq(scn_u(&r.ev[inj], "vector"), 13);
    ck_assert_uint_eq(scn_u(&r.ev[inj], "error_code"), 0x18);
    ck_assert(scn_is(&r.ev[inj + 1], "vmentry"));
    ck_assert(scn_is(&r.ev[inj + 2], "exception"));
    ck_assert_uint_eq(scn_u(&r.ev[inj + 2], "vector"), 13);
    ck_assert_uint_eq(scn_u(&r.ev[inj + 2], "error_code"), 0x18);
    /* Where the guest stood when VMRUN resumed it: right after its VMGEXIT,
     * inside the #VC handler, with IF = 0. */
    ck_assert_uint_eq(scn_u(&r.ev[inj + 2], "rip"), scn_u(&r.ev[inj + 1], "rip"));
    ck_assert(scn_has(r.out, "attack_probe: attack 15: vector 13 error 0x18\n"));
    /* int 0x80 as an INTR arrives as an interrupt through the IDT. */
    size_t a1 = scn_find(&r, 0, "hostile_arm", 0, "marker", 1);
    size_t d = scn_find(&r, a1, "irq_deliver", 0, "vector", 128);
    ck_assert(d != SIZE_MAX && d < scn_find(&r, a1, "hostile_arm", 0, "marker", 2));
    ck_assert(scn_has(r.out, "attack_probe: attack 1: vector 128\n"));
    scn_free(&r);
}
END_TEST

START_TEST(a_refused_injection_fails_vmrun_with_vmexit_invalid_and_the_guest_goes_on)
{
    struct scn_run r;
    run_probe(&r, "refuse", "{\"hostile\":{\"injections\":["
                            "{\"marker\":4,\"vector\":2},"
                            "{\"marker\":6,\"vector\":9,\"type\":5}]}}");
    for (unsigned m = 4; m <= 6; m += 2) {
        size_t arm = scn_find(&r, 0, "hostile_arm", 0, "marker", m);
        ck_assert(arm != SIZE_MAX);
        size_t inj = scn_find(&r, arm, "eventinj", 0, NULL, 0);
        ck_assert_str_eq(scn_s(&r.ev[inj], "result"), "refused");
        ck_assert(scn_is(&r.ev[inj + 1], "vmrun_fail"));
        ck_assert_msg(!strncmp(scn_s(&r.ev[inj + 1], "reason"), "VMEXIT_INVALID: ", 16), "%s",
                      scn_s(&r.ev[inj + 1], "reason"));
        /* The hypervisor clears EVENTINJ and enters again. */
        ck_assert(scn_is(&r.ev[inj + 2], "vmentry"));
        ck_assert(!scn_is(&r.ev[inj + 3], "exception") ||
                  scn_u(&r.ev[inj + 3], "error_code") == 0x7b);
    }
    ck_assert(scn_has(scn_s(&r.ev[scn_find(&r, 0, "vmrun_fail", 0, NULL, 0)], "reason"),
                      "no exception"));
    ck_assert(scn_has(r.out, "attack 4: nothing\n") && scn_has(r.out, "attack 6: nothing\n"));
    ck_assert(scn_has(r.out, "attack_probe: done"));
    scn_free(&r);
}
END_TEST

START_TEST(wesee_writes_the_crafted_ghcb_before_the_vc_and_the_guest_reads_it_there)
{
    struct scn_run r;
    run_probe(&r, "wesee", "{\"hostile\":{\"injections\":[{\"marker\":34,"
                           "\"vector\":29,\"error_code\":\"0x81\",\"ghcb\":{"
                           "\"exit_code\":\"0x81\",\"exit_info_1\":0,"
                           "\"exit_info_2\":0,\"rax\":\"0x5765536565\"}}]}}");
    size_t arm = scn_find(&r, 0, "hostile_arm", 0, "marker", 34);
    size_t g = scn_find(&r, arm, "hostile_ghcb", 0, NULL, 0);
    size_t inj = scn_find(&r, arm, "eventinj", 0, NULL, 0);
    ck_assert(g != SIZE_MAX && g < inj);
    ck_assert_str_eq(scn_s(&r.ev[g], "result"), "written");
    ck_assert_uint_eq(scn_u(&r.ev[g], "exit_code"), 0x81);
    ck_assert_uint_eq(scn_u(&r.ev[g], "rax"), 0x5765536565ull);
    size_t vc = scn_find(&r, inj, "exception", 0, "vector", 29);
    ck_assert_uint_eq(scn_u(&r.ev[vc], "error_code"), 0x81);
    ck_assert(scn_has(r.out, "attack 34: vector 29 error 0x81 ghcb 0x81 rax 0x5765536565\n"));
    scn_free(&r);
}
END_TEST

START_TEST(with_forbidden_eventinj_ignored_vmrun_enters_without_the_event)
{
    struct scn_run r;
    run_probe(&r, "ignored", "{\"sev\":{\"sev_features\":8},\"hostile\":{"
                             "\"forbidden_eventinj\":\"ignored\",\"injections\":["
                             "{\"marker\":15,\"vector\":13,\"error_code\":0},"
                             "{\"marker\":30,\"vector\":28},"
                             "{\"marker\":4,\"vector\":2}]}}");
    ck_assert_uint_eq(scn_count_where(&r, "eventinj", 0, "vector", 13), 1);
    size_t inj = scn_find(&r, 0, "eventinj", 0, "vector", 13);
    ck_assert_str_eq(scn_s(&r.ev[inj], "result"), "ignored");
    ck_assert(scn_is(&r.ev[inj + 1], "vmentry"));
    ck_assert(scn_has(r.out, "attack 15: nothing\n"));
    ck_assert(scn_has(r.out, "attack 30: vector 28\n"));
    /* The knob covers only what the SEV features forbid: the APM's own
     * consistency check still fails VMRUN. */
    ck_assert_uint_eq(scn_count(&r, "vmrun_fail", 0), 1);
    ck_assert(scn_has(r.out, "attack 4: nothing\n"));
    scn_free(&r);
}
END_TEST

START_TEST(restricted_injection_closes_the_hypervisors_interrupt_path)
{
    const char *cfg = write_cfg("ri", "{\"sev\":{\"sev_features\":8}}");
    struct scn_run r;
    scn_run_guest(&r, "selfipi_prio", "--mode", "snp", "--vcpus", "1", "--config", cfg, NULL);
    /* The APIC accepts the self-IPIs, but the hypervisor can deliver none:
     * the guest's check fails (the #HV doorbell is not modelled). */
    ck_assert_int_ne(r.status, 0);
    ck_assert_uint_gt(scn_count(&r, "irq_accept", 0), 0);
    ck_assert_uint_eq(scn_count(&r, "irq_deliver", 0), 0);
    scn_free(&r);
    scn_run_guest(&r, "selfipi_prio", "--mode", "snp", "--vcpus", "1", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_gt(scn_count(&r, "irq_deliver", 0), 0);
    scn_free(&r);
}
END_TEST

/* ---- User mistakes ----------------------------------------------------------------- */

START_TEST(a_malformed_hostile_config_gives_one_line_and_exit_65)
{
    static const struct {
        const char *name, *text, *want;
    } bad[] = {
        {"bad1",
         "{\"mode\": \"snp\",\n \"hostile\": {\"injections\": [\n"
         "  {\"marker\": 1, \"vector\": 256}]}}\n",
         ":3: field 'hostile.injections[0].vector': 256 is outside 0..255\n"},
        {"bad2",
         "{\"hostile\": {\"injections\": [{\"marker\": 1, \"vector\": 3, "
         "\"ghcb\": {\"rip\": 0}}]}}\n",
         ":1: field 'hostile.injections[0].ghcb.rip': unknown key (exit_code, exit_info_1, "
         "exit_info_2, rax)\n"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *cfg = write_cfg(bad[i].name, bad[i].text);
        struct scn_run r;
        scn_run_guest(&r, "attack_probe", "--vcpus", "1", "--config", cfg, NULL);
        ck_assert_int_eq(r.status, 65);
        /* Exactly one line: "snpref: FILE:LINE: field 'F': problem". */
        char want[320];
        snprintf(want, sizeof(want), "snpref: %s%s", cfg, bad[i].want);
        ck_assert_msg(!strcmp(r.err, want), "got \"%s\"\nwant \"%s\"", r.err, want);
        scn_free(&r);
    }
}
END_TEST

START_TEST(hostile_injections_in_plain_mode_are_a_config_conflict_with_status_65)
{
    const char *cfg =
        write_cfg("plain", "{\"hostile\":{\"injections\":[{\"marker\":1,\"vector\":3}]}}");
    struct scn_run r;
    scn_run_guest(&r, "attack_probe", "--vcpus", "1", "--mode", "plain", "--config", cfg, NULL);
    ck_assert_int_eq(r.status, 65);
    char want[300];
    snprintf(want, sizeof(want), "%s: field 'hostile.injections': need mode sev-es or snp", cfg);
    ck_assert_msg(scn_has(r.err, want), "%s", r.err);
    scn_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("attacks");
    TCase *t = tcase_create("table");
    tcase_add_test(t, every_attack_has_the_outcome_the_architecture_gives_in_every_column);
    tcase_add_test(t, each_refusal_names_the_rule_that_made_it);
    tcase_add_test(t, the_attack_table_prints_every_row_and_column_and_exits_0);
    suite_add_tcase(s, t);
    TCase *i = tcase_create("injections");
    tcase_add_test(i, an_accepted_injection_is_taken_at_the_first_instruction_after_vmrun);
    tcase_add_test(i, a_refused_injection_fails_vmrun_with_vmexit_invalid_and_the_guest_goes_on);
    tcase_add_test(i, wesee_writes_the_crafted_ghcb_before_the_vc_and_the_guest_reads_it_there);
    tcase_add_test(i, with_forbidden_eventinj_ignored_vmrun_enters_without_the_event);
    tcase_add_test(i, restricted_injection_closes_the_hypervisors_interrupt_path);
    suite_add_tcase(s, i);
    TCase *u = tcase_create("mistakes");
    tcase_add_test(u, a_malformed_hostile_config_gives_one_line_and_exit_65);
    tcase_add_test(u, hostile_injections_in_plain_mode_are_a_config_conflict_with_status_65);
    suite_add_tcase(s, u);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
