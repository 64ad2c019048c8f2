/* SPDX-License-Identifier: MIT */
/*
 * Check suite for VMRUN's EVENTINJ checks (model/hv/eventinj.c) and the config
 * section "hostile" (model/config/config.c; docs/attacks.md, docs/config.md).
 *
 * The sweep covers every TYPE (0-7) x every vector (0-255) x {no injection
 * feature, RestrictedInjection, Secure AVIC} against a table written here from
 * the sources, as KVM's xapic_state_test sweeps vectors: APM vol. 2 15.20 (a
 * reserved TYPE, or TYPE 3 with a vector that is no exception, fails VMRUN;
 * #BR is impossible in 64-bit mode), the AMD #HV doorbell patch (only #HV,
 * and #HV only, under RestrictedInjection), docs/sev-snp-facts.md 7.3 (no EVENTINJ under
 * Secure AVIC).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "eventinj.h"
#include "snpref/sev.h"

/* AMD64 exception vectors (APM vol. 2 table 8-1) on a CPU with shadow stacks
 * and SEV-ES: 2 is the NMI, 9, 15, 20, 22-27 and 31 are reserved. */
static const unsigned exceptions[] = {0,  1,  3,  4,  5,  6,  7,  8,  10, 11, 12,
                                      13, 14, 16, 17, 18, 19, 21, 28, 29, 30};

static bool is_exception(unsigned v)
{
    for (size_t i = 0; i < sizeof(exceptions) / sizeof(exceptions[0]); i++)
        if (exceptions[i] == v)
            return true;
    return false;
}

static enum eventinj_verdict expected(unsigned type, unsigned vector, uint64_t features)
{
    if (type == 1 || type >= 5)
        return EVENTINJ_INVALID;
    if (type == 3 && (!is_exception(vector) || vector == 5))
        return EVENTINJ_INVALID;
    if (features & SEV_FEAT_SECURE_AVIC)
        return EVENTINJ_FORBIDDEN;
    bool hv = type == 3 && vector == 28;
    if (features & SEV_FEAT_RESTRICTED_INJ)
        return hv ? EVENTINJ_OK : EVENTINJ_FORBIDDEN;
    return hv ? EVENTINJ_FORBIDDEN : EVENTINJ_OK;
}

START_TEST(eventinj_check_sweeps_every_type_and_vector_under_each_injection_mode)
{
    static const uint64_t modes[] = {SEV_FEAT_SNP_ACTIVE,
                                     SEV_FEAT_SNP_ACTIVE | SEV_FEAT_RESTRICTED_INJ,
                                     SEV_FEAT_SNP_ACTIVE | SEV_FEAT_SECURE_AVIC};
    for (size_t m = 0; m < 3; m++)
        for (unsigned type = 0; type < 8; type++)
            for (unsigned v = 0; v < 256; v++)
                for (int ev = 0; ev < 2; ev++) {
                    uint64_t inj = EVTINJ(v, type) | (ev ? SVM_EVTINJ_VALID_ERR | 0x1234ull << 32 : 0);
                    const char *why = "unset";
                    enum eventinj_verdict got = eventinj_check(inj, modes[m], true, &why);
                    ck_assert_msg(got == expected(type, v, modes[m]),
                                  "features %#llx type %u vector %u: got %d, want %d (%s)",
                                  (unsigned long long)modes[m], type, v, got,
                                  expected(type, v, modes[m]), why ? why : "");
                    ck_assert_msg((got == EVENTINJ_OK) == (why == NULL), "why iff refused");
                }
}
END_TEST

START_TEST(br_is_refused_only_in_64_bit_mode)
{
    const char *why;
    ck_assert_int_eq(eventinj_check(EVTINJ(5, 3), SEV_FEAT_SNP_ACTIVE, true, &why),
                     EVENTINJ_INVALID);
    ck_assert_ptr_nonnull(strstr(why, "64-bit"));
    ck_assert_int_eq(eventinj_check(EVTINJ(5, 3), SEV_FEAT_SNP_ACTIVE, false, &why), EVENTINJ_OK);
    /* #OF is not named by the APM: injected in either mode (UNCERTAIN). */
    ck_assert_int_eq(eventinj_check(EVTINJ(4, 3), SEV_FEAT_SNP_ACTIVE, true, &why), EVENTINJ_OK);
}
END_TEST

START_TEST(an_eventinj_without_the_valid_bit_is_no_event_whatever_else_it_holds)
{
    const char *why = "unset";
    uint64_t junk = (EVTINJ(2, 7) & ~SVM_EVTINJ_VALID) | SVM_EVTINJ_VALID_ERR | 0xFFFFFFFFull << 32;
    uint64_t both = SEV_FEAT_SECURE_AVIC | SEV_FEAT_RESTRICTED_INJ;
    ck_assert_int_eq(eventinj_check(junk, both, true, &why), EVENTINJ_OK);
    ck_assert_ptr_null(why);
}
END_TEST

START_TEST(type_names_follow_the_eventinj_type_field)
{
    static const char *const want[8] = {"intr", "reserved", "nmi", "exception",
                                        "soft", "reserved", "reserved", "reserved"};
    for (unsigned t = 0; t < 8; t++)
        ck_assert_str_eq(eventinj_type_name(EVTINJ(0x20, t)), want[t]);
}
END_TEST

/* ---- The "hostile" config section ---------------------------------------------------- */

static char g_dir[64], g_path[96], g_err[512];
static int g_status;

static void setup_dir(void)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/snpref-hostile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_path, sizeof(g_path), "%s/cfg.json", g_dir);
    g_err[0] = '\0';
    g_status = -1;
}

static void teardown_dir(void)
{
    unlink(g_path);
    rmdir(g_dir);
}

static int load_text(struct snp_config *c, const char *text)
{
    FILE *f = fopen(g_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    config_defaults(c);
    return config_load(c, g_path, &g_status, g_err, sizeof(g_err));
}

START_TEST(a_hostile_section_loads_into_eventinj_values_and_ghcb_fields)
{
    struct snp_config c;
    ck_assert_int_eq(load_text(&c, "{\"mode\": \"snp\", \"hostile\": {\n"
                                   "  \"forbidden_eventinj\": \"ignored\",\n"
                                   "  \"injections\": [\n"
                                   "    {\"marker\": 1, \"vector\": 128, \"type\": \"intr\"},\n"
                                   "    {\"marker\": 7, \"vector\": 13,\n"
                                   "     \"error_code\": \"0x10\"},\n"
                                   "    {\"marker\": 9, \"vector\": 3, \"type\": 6},\n"
                                   "    {\"marker\": 34, \"vector\": 29, \"error_code\": 129,\n"
                                   "     \"ghcb\": {\"exit_code\": \"0x81\",\n"
                                   "              \"rax\": \"0x5765536565\"}}\n"
                                   "]}}\n"),
                     0);
    ck_assert_int_eq(c.hostile.forbidden, EVENTINJ_FORBIDDEN_IGNORED);
    ck_assert_uint_eq(c.hostile.n, 4);
    ck_assert_uint_eq(c.hostile.inj[0].marker, 1);
    ck_assert_uint_eq(c.hostile.inj[0].eventinj, 0x80000080ull);
    /* exception is the default type; a reserved type goes by its number */
    ck_assert_uint_eq(c.hostile.inj[1].eventinj, 0x0000001080000B0Dull);
    ck_assert_uint_eq(c.hostile.inj[2].eventinj, 0x80000603ull);
    ck_assert_uint_eq(c.hostile.inj[3].eventinj, 0x0000008180000B1Dull);
    ck_assert_uint_eq(c.hostile.inj[3].ghcb_fields, HG_EXIT_CODE | HG_RAX);
    ck_assert_uint_eq(c.hostile.inj[3].ghcb_exit_code, 0x81);
    ck_assert_uint_eq(c.hostile.inj[3].ghcb_rax, 0x5765536565ull);
    ck_assert_int_eq(config_validate(&c, g_err, sizeof(g_err)), 0);
}
END_TEST

START_TEST(the_hostile_section_reads_back_from_the_effective_config)
{
    struct snp_config a, b;
    ck_assert_int_eq(load_text(&a, "{\"mode\":\"sev-es\",\"hostile\":{\"injections\":["
                                   "{\"marker\":3,\"vector\":14,\"error_code\":2},"
                                   "{\"marker\":4,\"vector\":2,\"type\":\"nmi\"},"
                                   "{\"marker\":5,\"vector\":29,\"error_code\":\"0x400\","
                                   "\"ghcb\":{\"exit_code\":\"0x80000001\",\"exit_info_1\":0,"
                                   "\"exit_info_2\":8,\"rax\":1}}]}}"),
                     0);
    char *json = config_to_json(&a);
    ck_assert_ptr_nonnull(strstr(json, "\"hostile\":{\"forbidden_eventinj\":\"vmexit_invalid\""));
    ck_assert_int_eq(load_text(&b, json), 0);
    free(json);
    ck_assert_uint_eq(b.hostile.n, a.hostile.n);
    ck_assert_int_eq(memcmp(&a.hostile, &b.hostile, sizeof(a.hostile)), 0);
}
END_TEST

START_TEST(without_a_hostile_section_the_effective_config_does_not_mention_it)
{
    struct snp_config c;
    config_defaults(&c);
    char *json = config_to_json(&c);
    ck_assert_ptr_null(strstr(json, "hostile"));
    free(json);
}
END_TEST

/* A hostile section with this injection list, or with one injection with these keys. */
#define INJ(list) "{\"hostile\": {\"injections\": " list "}}"
#define INJ1(keys) INJ("[{\"marker\": 1, \"vector\": 1, " keys "}]")

/* Every mistake: one line naming file, line and field; status 65. */
START_TEST(every_hostile_config_mistake_names_the_file_line_and_field)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"hostile\": 3}", ":1: field 'hostile': expected an object"},
        {"{\"hostile\": {\"inject\": []}}", ":1: field 'hostile.inject': unknown key"},
        {"{\"hostile\": {\"forbidden_eventinj\": \"fail\"}}",
         ":1: field 'hostile.forbidden_eventinj': \"fail\" is not one of: vmexit_invalid, ignored"},
        {INJ("3"), ":1: field 'hostile.injections': expected an array"},
        {INJ("[\n {\"marker\": 1,\n \"vector\": 300}]"),
         ":3: field 'hostile.injections[0].vector': 300 is outside 0..255"},
        {INJ("[{\"vector\": 1}]"), ":1: field 'hostile.injections[0]': missing key 'marker'"},
        {INJ("[{\"marker\": 1}]"), ":1: field 'hostile.injections[0]': missing key 'vector'"},
        {INJ1("\"type\": \"fault\""),
         ":1: field 'hostile.injections[0].type': \"fault\" is not one of: intr, nmi, exception"},
        {INJ1("\"type\": 8"), ":1: field 'hostile.injections[0].type': 8 is outside 0..7"},
        {INJ1("\"error_code\": \"0x100000000\""),
         ":1: field 'hostile.injections[0].error_code': 4294967296 is outside 0..4294967295"},
        {INJ1("\"ghcb\": {\"rbx\": 1}"), ":1: field 'hostile.injections[0].ghcb.rbx': unknown key"},
        {INJ1("\"colour\": 1"), ":1: field 'hostile.injections[0].colour': unknown key"},
        {INJ("[\n{\"marker\": 5, \"vector\": 1},\n{\"marker\": 5, \"vector\": 2}]"),
         ":3: field 'hostile.injections[1].marker': marker 5 already arms injections[0]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct snp_config c;
        ck_assert_int_eq(load_text(&c, bad[i].text), -1);
        ck_assert_int_eq(g_status, 65);
        ck_assert_msg(strncmp(g_err, g_path, strlen(g_path)) == 0 &&
                          strstr(g_err, bad[i].want) != NULL && !strchr(g_err, '\n'),
                      "case %zu: got \"%s\", want \"%s\"", i, g_err, bad[i].want);
    }
}
END_TEST

START_TEST(hostile_injections_need_an_sev_mode)
{
    struct snp_config c;
    ck_assert_int_eq(load_text(&c, INJ("[{\"marker\": 1, \"vector\": 3}]")), 0);
    ck_assert_int_eq(config_validate(&c, g_err, sizeof(g_err)), -1);
    ck_assert_ptr_nonnull(strstr(g_err, "field 'hostile.injections': need mode sev-es or snp"));
    snprintf(c.mode, sizeof(c.mode), "sev-es");
    ck_assert_int_eq(config_validate(&c, g_err, sizeof(g_err)), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_eventinj");
    TCase *t = tcase_create("eventinj");
    tcase_add_test(t, eventinj_check_sweeps_every_type_and_vector_under_each_injection_mode);
    tcase_add_test(t, br_is_refused_only_in_64_bit_mode);
    tcase_add_test(t, an_eventinj_without_the_valid_bit_is_no_event_whatever_else_it_holds);
    tcase_add_test(t, type_names_follow_the_eventinj_type_field);
    suite_add_tcase(s, t);
    TCase *h = tcase_create("hostile_config");
    tcase_add_checked_fixture(h, setup_dir, teardown_dir);
    tcase_add_test(h, a_hostile_section_loads_into_eventinj_values_and_ghcb_fields);
    tcase_add_test(h, the_hostile_section_reads_back_from_the_effective_config);
    tcase_add_test(h, without_a_hostile_section_the_effective_config_does_not_mention_it);
    tcase_add_test(h, every_hostile_config_mistake_names_the_file_line_and_field);
    tcase_add_test(h, hostile_injections_need_an_sev_mode);
    suite_add_tcase(s, h);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
