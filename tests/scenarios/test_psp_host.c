/* SPDX-License-Identifier: MIT */
/*
 * The PSP as a device, driven by the SNP-host guest (guests/tests/snp_host.c;
 * docs/psp.md), in plain mode with the golden fabric and under `--mode snp
 * --apic savic`: the guest's report and the trace agree that each of the four
 * destination/delivery combinations reached its vCPU at its vector (psp_irq,
 * then irq_deliver there; under Secure AVIC through savic_irr), that IRQ_EN
 * off sent nothing, that re-programming moved the interrupt, and, as an SNP
 * host, that the launch's commands each completed with an interrupt and that
 * the digest it read back is the launch_finish digest of the trace. Without
 * hardware isolation RMPUPDATE and PSMASH are #UD. The traces replay. Under SNP the guest's
 * commands share the PSP with L0's launch of it: ASID 1 is L0's guest's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"

static char host_cfg[256], dev_cfg[256];

static void write_cfg(char *path, size_t n, const char *name, const char *json)
{
    snprintf(path, n, "/tmp/snpref-psp-%d-%s.json", (int)getpid(), name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s", path);
    fputs(json, f);
    fclose(f);
}

static void setup(void)
{
    write_cfg(host_cfg, sizeof(host_cfg), "host",
              "{\"psp\": {\"enable\": true, \"mbox_irq_id\": 3, \"hardware_isolation\": true}}\n");
    write_cfg(dev_cfg, sizeof(dev_cfg), "dev", "{\"psp\": {\"enable\": true, \"mbox_irq_id\": 3}}\n");
}

static void teardown(void)
{
    unlink(host_cfg);
    unlink(dev_cfg);
}

/* The trace replays: the PSP's messages (psp_irq) are its stimuli. */
static void replays(const struct scn_run *run)
{
    struct scn_run rp;
    scn_run_tool(&rp, "replay", run->trace_path, NULL);
    ck_assert_msg(rp.status == 0 && scn_has(rp.err, ": agrees,"), "status %d: %s", rp.status, rp.err);
    scn_free(&rp);
}

static void run_ok(struct scn_run *r, bool savic, const char *cfg)
{
    if (savic)
        scn_run_guest(r, "snp_host", "--mode", "snp", "--apic", "savic", "--vcpus", "4",
                      "--config", cfg, NULL);
    else
        scn_run_guest(r, "snp_host", "--vcpus", "4", "--config", cfg, NULL);
    ck_assert_msg(r->status == 0, "status %d\n%s\n%s", r->status, r->out, r->err);
    ck_assert(scn_has(r->out, "snp_host: PASS"));
}

/* The combinations the guest programs, in its order (snp_host.c combos[]). */
static const struct {
    int vcpu;
    unsigned vector;
    const char *mode, *delivery, *line;
} combos[] = {
    {1, 0x41, "physical", "fixed", "physical fixed completion: vector 0x41 at vCPU 1"},
    {2, 0x42, "logical", "fixed", "logical fixed completion: vector 0x42 at vCPU 2"},
    {3, 0x43, "physical", "lowest", "physical lowest-priority completion: vector 0x43 at vCPU 3"},
    {0, 0x44, "logical", "lowest", "logical lowest-priority completion: vector 0x44 at vCPU 0"},
};

/* Index of the i-th psp_irq for vector, or SIZE_MAX. */
static size_t nth_irq(const struct scn_run *r, unsigned vector, unsigned nth)
{
    size_t at = 0;
    for (unsigned k = 0; k <= nth; k++, at++) {
        at = scn_find(r, at, "psp_irq", -2, "vector", vector);
        if (at == SIZE_MAX)
            return SIZE_MAX;
    }
    return at - 1;
}

/* Each combination: the guest's line, a psp_irq with its fields, and the
 * vector taken on that vCPU after it (under Secure AVIC: merged from
 * REQUESTED_IRR first). Re-programming moved it: vector 0x41 went to vCPU 1
 * twice and never elsewhere. */
static void check_interrupts(const struct scn_run *r, bool savic)
{
    for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
        ck_assert_msg(scn_has(r->out, combos[i].line), "missing: %s", combos[i].line);
        size_t at = nth_irq(r, combos[i].vector, 0);
        ck_assert_msg(at != SIZE_MAX, "no psp_irq for 0x%x", combos[i].vector);
        ck_assert_str_eq(scn_s(&r->ev[at], "dest_mode"), combos[i].mode);
        ck_assert_str_eq(scn_s(&r->ev[at], "delivery"), combos[i].delivery);
        size_t taken = scn_find(r, at, "irq_deliver", combos[i].vcpu, "vector", combos[i].vector);
        ck_assert_msg(taken != SIZE_MAX, "0x%x not taken on vCPU %d", combos[i].vector,
                      combos[i].vcpu);
        if (savic) {
            size_t m = scn_find(r, at, "savic_irr", combos[i].vcpu, "vector", combos[i].vector);
            ck_assert(m != SIZE_MAX && m < taken);
            ck_assert_str_eq(scn_s(&r->ev[m], "result"), "merged");
        }
        for (int v = 0; v < 4; v++)
            if (v != combos[i].vcpu)
                ck_assert_uint_eq(scn_count_where(r, "irq_deliver", v, "vector", combos[i].vector), 0);
    }
    ck_assert_uint_eq(scn_count_where(r, "irq_deliver", 1, "vector", 0x41), 2);
    ck_assert_uint_eq(scn_count_where(r, "psp_irq", -2, "vector", 0x41), 2);
    /* IRQ_EN off: the command between the two 0x41 interrupts sent none. */
    ck_assert(scn_has(r->out, "IRQ_EN off: no interrupt, INTSTS 0x2 kept"));
    size_t first = nth_irq(r, 0x41, 0), second = nth_irq(r, 0x41, 1);
    size_t off = SIZE_MAX;
    for (size_t i = first; i < second; i++)
        if (scn_is(&r->ev[i], "psp_acpi") && !strcmp(scn_s(&r->ev[i], "cmd"), "IRQ_EN") &&
            (scn_u(&r->ev[i], "data") & 1) == 0)
            off = i;
    ck_assert(off != SIZE_MAX);
    size_t cmd = scn_find(r, off, "psp_cmd", 0, NULL, 0);
    ck_assert(cmd < second);
    ck_assert(scn_u(&r->ev[cmd], "ioc"));
    ck_assert(scn_find(r, off, "psp_irq", -2, NULL, 0) == second);
}

START_TEST(plain_mode_takes_each_programmed_completion_at_its_vcpu_and_vector)
{
    struct scn_run r;
    run_ok(&r, false, dev_cfg);
    ck_assert(scn_has(r.out, "ASPT at 0xe0"));
    check_interrupts(&r, false);
    ck_assert(scn_has(r.out, "RMPUPDATE and PSMASH are #UD without hardware isolation"));
    ck_assert_uint_eq(scn_count(&r, "rmpupdate", -2), 0);
    ck_assert(scn_has(r.out, "SNP_ACTIVATE of ASID 1: status 0x0\n")); /* no other guest */
    replays(&r);
    scn_free(&r);
}
END_TEST

START_TEST(under_secure_avic_the_completions_arrive_through_requested_irr)
{
    struct scn_run r;
    run_ok(&r, true, dev_cfg);
    check_interrupts(&r, true);
    /* One PSP: L0's launch of this guest came first and holds ASID 1, and the
     * guest's own SNP_INIT was only its view (the platform was initialised). */
    size_t fin = scn_find(&r, 0, "launch_finish", -2, NULL, 0);
    size_t init = scn_find(&r, 0, "psp_cmd", 0, "cmd", 0x81);
    ck_assert(fin != SIZE_MAX && init != SIZE_MAX && fin < init);
    ck_assert_str_eq(scn_s(&r.ev[init], "status"), "SUCCESS");
    ck_assert(scn_has(r.out, "SNP_ACTIVATE of ASID 1: status 0xc\n"));
    size_t act = scn_find(&r, 0, "psp_cmd", 0, "cmd", 0x91);
    ck_assert(act != SIZE_MAX);
    ck_assert_str_eq(scn_s(&r.ev[act], "status"), "ASID_OWNED");
    replays(&r);
    ck_assert(scn_has(r.out, "RMPUPDATE and PSMASH are #UD without hardware isolation"));
    scn_free(&r);
}
END_TEST

START_TEST(as_an_snp_host_it_launches_with_completion_interrupts_and_reads_the_digest)
{
    struct scn_run r;
    run_ok(&r, false, host_cfg);
    check_interrupts(&r, false);
    ck_assert(scn_has(r.out, "PLATFORM_STATUS: API 1.55, state 0"));
    ck_assert(scn_has(r.out, "PLATFORM_STATUS: API 1.55, state 1"));
    /* Every command after the interrupt set-up completed with an interrupt to
     * the BSP at 0x60; each of the launch commands is among them. */
    static const unsigned launch_cmds[] = {0x93, 0xA0, 0x91, 0xA1, 0xA2, 0x96, 0xC7};
    for (size_t i = 0; i < sizeof(launch_cmds) / sizeof(launch_cmds[0]); i++) {
        size_t c = scn_find(&r, 0, "psp_cmd", 0, "cmd", launch_cmds[i]);
        ck_assert_msg(c != SIZE_MAX, "no command 0x%x", launch_cmds[i]);
        ck_assert_str_eq(scn_s(&r.ev[c], "status"), "SUCCESS");
        size_t irq = scn_find(&r, c, "psp_irq", 0, NULL, 0);
        ck_assert(irq != SIZE_MAX && scn_u(&r.ev[irq], "vector") == 0x60);
        ck_assert(scn_find(&r, irq, "irq_deliver", 0, "vector", 0x60) != SIZE_MAX);
    }
    ck_assert_uint_eq(scn_count_where(&r, "launch_update", -2, "gpa", 0x200000), 1);
    /* RMPUPDATE / PSMASH ran, each with status 0. */
    ck_assert_uint_ge(scn_count(&r, "rmpupdate", 0), 512 + 6);
    ck_assert_uint_eq(scn_count_where(&r, "rmpupdate", 0, "result", 0), scn_count(&r, "rmpupdate", 0));
    ck_assert_uint_eq(scn_count_where(&r, "psmash", 0, "spa", 0x200000), 1);
    /* The digest the L1 read back is the one the firmware's launch_finish traced. */
    const char *d = strstr(r.out, "snp_host: digest ");
    ck_assert(d);
    d += strlen("snp_host: digest ");
    size_t fin = scn_find(&r, 0, "launch_finish", -2, NULL, 0);
    ck_assert(fin != SIZE_MAX);
    const char *traced = scn_s(&r.ev[fin], "digest");
    ck_assert_uint_eq(strlen(traced), 96);
    ck_assert_int_eq(strncmp(d, traced, 96), 0);
    ck_assert(scn_has(r.out, "status page reclaimed"));
    scn_free(&r);
}
END_TEST

START_TEST(a_bad_psp_config_is_one_line_naming_the_field)
{
    char bad[256];
    write_cfg(bad, sizeof(bad), "bad", "{\n  \"psp\": {\n    \"mbox_irq_id\": 99\n  }\n}\n");
    struct scn_run r;
    scn_run_guest(&r, "snp_host", "--vcpus", "4", "--config", bad, NULL);
    ck_assert_int_eq(r.status, 65);
    ck_assert_msg(scn_has(r.err, ":3: field 'psp.mbox_irq_id': 99 is outside 0..63"), "%s", r.err);
    scn_free(&r);
    unlink(bad);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("psp_host");
    TCase *tc = tcase_create("psp_host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plain_mode_takes_each_programmed_completion_at_its_vcpu_and_vector);
    tcase_add_test(tc, under_secure_avic_the_completions_arrive_through_requested_irr);
    tcase_add_test(tc, as_an_snp_host_it_launches_with_completion_interrupts_and_reads_the_digest);
    tcase_add_test(tc, a_bad_psp_config_is_one_line_naming_the_field);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
