/* SPDX-License-Identifier: MIT */
/*
 * Scenario suite: an SDK guest gets attestation reports and derived keys
 * itself (guests/tests/snp_attest.c through the SDK's message client,
 * sdk/attest.h; docs/attestation.md). The test asserts on the guest's own
 * report (its numbered lines, the report and the certificates it printed in
 * hex) and on the trace (every guest_request event in order, the launch
 * digest and policy of launch_finish), and verifies what the guest received
 * as a relying party would, with OpenSSL only: the chain ARK -> ASK -> VCEK
 * from the guest's certificate table and the report's signature with that
 * VCEK; a report with one bit changed fails. With SNPREF_ATTEST_OUT set it
 * writes the guest's report and chain under it in guest/ for `make
 * attest-verify` (snpguest). The derived keys are the same run to run and
 * change with sev.key_seed; outside SNP the guest gets no messages.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "attest_check.h"
#include "ck_run.h"

/* Concatenates the hex of every "attest: NAME +OFFSET HEX" line into buf; returns bytes. */
static size_t blob(const char *out, const char *name, uint8_t *buf, size_t cap)
{
    char key[64];
    size_t n = 0;
    snprintf(key, sizeof(key), "attest: %s +", name);
    for (const char *p = strstr(out, key); p; p = strstr(p + 1, key)) {
        unsigned off;
        ck_assert(sscanf(p + strlen(key), "%4x", &off) == 1);
        ck_assert_uint_eq(off, n); /* in order, no gap */
        const char *h = strchr(p + strlen(key), ' ') + 1;
        for (; h[0] != '\n' && h[0] && h[1]; h += 2) {
            unsigned v;
            ck_assert(n < cap && sscanf(h, "%2x", &v) == 1);
            buf[n++] = (uint8_t)v;
        }
    }
    return n;
}

/* The hex after "attest: FIELD " on its line, compared with want. */
static void field_is(const char *out, const char *field, const uint8_t *want, size_t len)
{
    char key[64], hex[300] = "";
    snprintf(key, sizeof(key), "attest: %s ", field);
    const char *p = strstr(out, key);
    ck_assert_msg(p, "the guest printed no %s", field);
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", want[i]);
    ck_assert_msg(!strncmp(p + strlen(key), hex, 2 * len) && p[strlen(key) + 2 * len] == '\n',
                  "%s differs from the report", field);
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert(sscanf(s + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
}

static X509 *cert(const char *out, const char *name)
{
    static uint8_t der[8192];
    char what[32];
    snprintf(what, sizeof(what), "cert %s", name);
    size_t n = blob(out, what, der, sizeof(der));
    ck_assert_msg(n > 0, "the guest printed no %s certificate", name);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)n);
    ck_assert_msg(x && p == der + n, "the guest's %s is not one DER certificate", name);
    return x;
}

static void run(struct scn_run *r, const char *mode, const char *config)
{
    if (config)
        scn_run_guest(r, "snp_attest", "--mode", mode, "--vcpus", "1", "--config", config, NULL);
    else
        scn_run_guest(r, "snp_attest", "--mode", mode, "--vcpus", "1", NULL);
    ck_assert_msg(r->status == 0, "status %d\n%s\n%s", r->status, r->out, r->err);
}

START_TEST(an_sdk_guest_gets_a_report_whose_signature_and_chain_verify_with_openssl)
{
    struct scn_run r;
    run(&r, "snp", NULL);
    static const char *const steps[] = {
        "attest: 1. one certificate page: VMM error 1 (INVALID_LEN), 2 pages needed",
        "attest: 1. EXT_GUEST_REQUEST: report version 3 at VMPL0",
        "attest: 2. VMPCK1: report at VMPL1", "attest: 3. MSG_KEY_REQ: same request, same key",
        "attest: 4. replayed sequence number 1: firmware status 0x16", "attest: done"};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        ck_assert_msg(scn_has(r.out, steps[i]), "console lacks \"%s\"", steps[i]);

    /* The report the guest printed, field by field against the launch in the trace. */
    static struct snp_report rep;
    ck_assert_uint_eq(blob(r.out, "report", (uint8_t *)&rep, sizeof(rep)), sizeof(rep));
    size_t lf = scn_find(&r, 0, "launch_finish", -2, NULL, 0);
    ck_assert_uint_ne(lf, SIZE_MAX);
    uint8_t digest[48];
    unhex(scn_s(&r.ev[lf], "digest"), digest, 48);
    ck_assert_mem_eq(rep.measurement, digest, 48);
    ck_assert_uint_eq(rep.policy, scn_u(&r.ev[lf], "policy"));
    ck_assert_uint_eq(rep.version, 3);
    ck_assert_uint_eq(rep.vmpl, 0);
    ck_assert_uint_eq(rep.sig_algo, 1);
    uint8_t data[64];
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(0xA0 ^ i);
    ck_assert_mem_eq(rep.report_data, data, 64);
    field_is(r.out, "report_data", rep.report_data, 64);
    field_is(r.out, "measurement", rep.measurement, 48);
    field_is(r.out, "chip_id", rep.chip_id, 64);
    field_is(r.out, "report_id", rep.report_id, 32);
    char line[160];
    snprintf(line, sizeof(line), "attest: version 3 guest_svn 0 policy 0x%llx vmpl 0 sig_algo 1\n",
             (unsigned long long)rep.policy);
    ck_assert_msg(scn_has(r.out, line), "console lacks \"%s\"", line);

    /* What a relying party checks, with the certificates the guest received. */
    X509 *vcek = cert(r.out, "vcek"), *ask = cert(r.out, "ask"), *ark = cert(r.out, "ark");
    attest_assert_chain(ark, ask, vcek);
    ck_assert_msg(attest_sig_ok(&rep, X509_get0_pubkey(vcek)), "the guest's report does not verify");
    struct snp_report bad = rep;
    bad.measurement[0] ^= 0x80;
    ck_assert(!attest_sig_ok(&bad, X509_get0_pubkey(vcek)));
    attest_write_out("guest", &rep, ark, ask, vcek);
    X509_free(vcek), X509_free(ask), X509_free(ark);

    /* The trace: every message the PSP saw, in order, with its firmware status. The
     * INVALID_LEN answer and the request on the wiped VMPCK0 never reach the PSP. */
    static const struct {
        const char *kind;
        unsigned type, status;
    } want[] = {{"ext", 5, 0},   {"plain", 5, 0}, {"plain", 5, 0}, {"plain", 3, 0},
                {"plain", 3, 0}, {"plain", 3, 0}, {"plain", 3, 0}, {"plain", 3, 0},
                {"plain", 3, 0}, {"plain", 5, 0x16}, {"plain", 5, 0}};
    size_t n = sizeof(want) / sizeof(want[0]), k = 0;
    ck_assert_uint_eq(scn_count(&r, "guest_request", -2), n);
    for (size_t i = 0; i < r.nev; i++) {
        if (!scn_is(&r.ev[i], "guest_request"))
            continue;
        ck_assert_str_eq(scn_s(&r.ev[i], "kind"), want[k].kind);
        ck_assert_uint_eq(scn_u(&r.ev[i], "msg_type"), want[k].type);
        ck_assert_uint_eq(scn_u(&r.ev[i], "status"), want[k].status);
        k++;
    }
    scn_free(&r);
}
END_TEST

/* The "attest: key ..." lines of a run. */
static void keys(const char *out, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (const char *p = strstr(out, "attest: key "); p; p = strstr(p + 1, "attest: key ")) {
        const char *nl = strchr(p, '\n');
        ck_assert(nl);
        strncat(buf, p, (size_t)(nl - p + 1) < cap - strlen(buf) - 1 ? (size_t)(nl - p + 1) : 0);
    }
}

START_TEST(derived_keys_are_the_same_run_to_run_and_change_with_the_key_seed)
{
    struct scn_run a, b, c;
    static char ka[1024], kb[1024], kc[1024];
    run(&a, "snp", NULL);
    run(&b, "snp", NULL);
    char cfg[64];
    snprintf(cfg, sizeof(cfg), "/tmp/snpref_attest_%d.json", (int)getpid());
    FILE *f = fopen(cfg, "w");
    ck_assert(f);
    fprintf(f, "{\"sev\":{\"key_seed\":\"0x5eed\"}}\n");
    fclose(f);
    run(&c, "snp", cfg);
    unlink(cfg);
    keys(a.out, ka, sizeof(ka)), keys(b.out, kb, sizeof(kb)), keys(c.out, kc, sizeof(kc));
    size_t lines = 0;
    for (const char *p = ka; (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_uint_eq(lines, 4); /* fields=0, fields=0x8, vmpl=1, root=vmrk */
    ck_assert_str_eq(ka, kb);
    ck_assert_str_eq(a.out, b.out); /* the whole report too: reproducible */
    ck_assert_str_ne(ka, kc);
    scn_free(&a), scn_free(&b), scn_free(&c);
}
END_TEST

START_TEST(outside_snp_the_client_answers_not_an_snp_guest_and_no_message_is_sent)
{
    static const char *const modes[] = {"plain", "sev-es"};
    for (int i = 0; i < 2; i++) {
        struct scn_run r;
        run(&r, modes[i], NULL);
        ck_assert(scn_has(r.out, "attest: not an SNP guest: no guest messages"));
        ck_assert_uint_eq(scn_count(&r, "guest_request", -2), 0);
        scn_free(&r);
    }
}
END_TEST

int main(void)
{
    /* Two cases, so that scripts/attest-verify.sh runs only "report" (CK_RUN_CASE). */
    Suite *s = suite_create("attest");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, an_sdk_guest_gets_a_report_whose_signature_and_chain_verify_with_openssl);
    suite_add_tcase(s, tc);
    tc = tcase_create("keys");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, derived_keys_are_the_same_run_to_run_and_change_with_the_key_seed);
    tcase_add_test(tc, outside_snp_the_client_answers_not_an_snp_guest_and_no_message_is_sent);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
