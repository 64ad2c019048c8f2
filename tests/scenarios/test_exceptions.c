/* SPDX-License-Identifier: MIT */
/*
 * Exceptions through the guest IDT: the architectural frame (vector, error
 * code, RIP, CR2) as the guest saw it in its handlers and as the trace records
 * it, and the triple fault that ends a run with status 80.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "ck_run.h"

static const struct scn_event *nth_exception(const struct scn_run *r, unsigned vector, unsigned n)
{
    for (size_t i = 0; i < r->nev; i++)
        if (scn_is(&r->ev[i], "exception") && scn_u(&r->ev[i], "vector") == vector && n-- == 0)
            return &r->ev[i];
    return NULL;
}

START_TEST(guest_exceptions_arrive_through_the_idt_with_the_architectural_frame)
{
    struct scn_run r;
    scn_run_guest(&r, "exceptions", NULL);
    ck_assert_msg(r.status == 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    ck_assert(scn_has(r.out, "exceptions: PASS"));

    const struct scn_event *de = nth_exception(&r, 0, 0);
    ck_assert(de && !scn_u(de, "has_error") && !strcmp(scn_s(de, "name"), "#DE"));
    const struct scn_event *ud = nth_exception(&r, 6, 0);
    ck_assert(ud && !scn_u(ud, "has_error"));
    /* mov 0x103 -> ds: the selector with RPL cleared (SDM 6.13). */
    const struct scn_event *gp = nth_exception(&r, 13, 0);
    ck_assert(gp && scn_u(gp, "has_error") && scn_u(gp, "error_code") == 0x100);
    const struct scn_event *gp0 = nth_exception(&r, 13, 1);
    ck_assert(gp0 && scn_u(gp0, "error_code") == 0);
    /* Page faults: not present read (0), not present write (W), protection
     * write (P|W); CR2 is the address the guest says it touched. */
    const char *at = strstr(r.out, "read, page not present");
    ck_assert(at && strstr(at, "cr2 0x"));
    unsigned long long want_cr2 = strtoull(strstr(at, "cr2 0x") + 4, NULL, 16);
    ck_assert_uint_ne(want_cr2, 0);
    static const uint64_t pf_err[] = {0x0, 0x2, 0x3};
    for (unsigned i = 0; i < 3; i++) {
        const struct scn_event *pf = nth_exception(&r, 14, i);
        ck_assert(pf != NULL);
        ck_assert_uint_eq(scn_u(pf, "error_code"), pf_err[i]);
        ck_assert_uint_eq(scn_u(pf, "cr2"), want_cr2);
    }
    /* int3 is a trap: the pushed RIP is after the instruction; int $0x80 is a
     * software interrupt without an error code. */
    const struct scn_event *bp = nth_exception(&r, 3, 0);
    ck_assert(bp && !scn_u(bp, "has_error"));
    ck_assert(scn_has(r.out, "#BP rip 0x") && scn_has(r.out, "(the next instruction)"));
    const struct scn_event *sw = nth_exception(&r, 0x80, 0);
    ck_assert(sw && !scn_u(sw, "has_error") && !strcmp(scn_s(sw, "name"), "INT"));
    /* The guest's own report agrees with the trace on the frame it saw. */
    ck_assert(scn_has(r.out, "#GP error 0x100"));
    ck_assert(scn_has(r.out, "#PF error 0x3"));
    ck_assert(scn_has(r.out, "ud2 on IST3"));
    scn_free(&r);
}
END_TEST

START_TEST(a_triple_fault_ends_the_run_with_status_80_naming_the_vcpu_and_rip)
{
    struct scn_run r;
    scn_run_guest(&r, "triple_fault", NULL);
    ck_assert_int_eq(r.status, 80);
    ck_assert_msg(scn_has(r.err, "guest shutdown: vCPU 0: triple fault at RIP 0x"), "%s", r.err);
    ck_assert_uint_eq(scn_count(&r, "shutdown", 0), 1);
    size_t i = scn_find(&r, 0, "shutdown", 0, NULL, 0);
    char rip[32];
    snprintf(rip, sizeof(rip), "RIP %#llx", (unsigned long long)scn_u(&r.ev[i], "rip"));
    ck_assert_msg(scn_has(r.err, rip), "stderr does not name %s: %s", rip, r.err);
    ck_assert_uint_eq(scn_count(&r, "exit", -2), 0);
    scn_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exception scenarios");
    TCase *tc = tcase_create("idt");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, guest_exceptions_arrive_through_the_idt_with_the_architectural_frame);
    tcase_add_test(tc, a_triple_fault_ends_the_run_with_status_80_naming_the_vcpu_and_rip);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
