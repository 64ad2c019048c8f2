/* SPDX-License-Identifier: MIT */
/*
 * The digest an L1 reads back through the PSP device equals the model's own
 * SNP launch of the same pages (issue 14, docs/psp.md): the SNP-host guest
 * (guests/tests/snp_host.c) runs on a system with the PSP device and
 * hardware isolation; its report names the pages it launched and the digest
 * SNP_HV_REPORT_REQ gave it. The same pages (the guest's pattern, at the same
 * GPAs) then go through the hypervisor's face of a fresh PSP as the
 * reference hypervisor launches a guest (RMPUPDATE to Pre-Guest, then
 * LAUNCH_UPDATE as NORMAL pages: model/hv/sev.c launch_page), and the two
 * digests are compared byte for byte.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "mem.h"
#include "psp.h"
#include "rmp.h"
#include "snpref.h"
#include "ck_run.h"

#define PAGE 4096ull

/* snp_host.c's pattern(): byte j of page i. */
static uint8_t pattern(unsigned i, unsigned j) { return (uint8_t)(i * 31u + j * 7u + 0x5Au); }

static char *run_guest(void)
{
    struct snp_config cfg;
    config_defaults(&cfg);
    cfg.vcpus = 4;
    cfg.psp.enable = true;
    cfg.psp.hardware_isolation = true;
    FILE *f = fopen(SNPREF_GUEST_DIR "/snp_host.elf", "rb");
    ck_assert_msg(f, "snp_host.elf missing (build the guests)");
    static uint8_t elf[4 << 20];
    size_t n = fread(elf, 1, sizeof(elf), f);
    fclose(f);
    struct guest_image img = {elf, n, "snp_host.elf", NULL};
    FILE *con = tmpfile();
    ck_assert_ptr_nonnull(con);
    struct snpref_options opt = {.console = con};
    struct snpref_system *h;
    char err[256];
    int status;
    ck_assert_msg(snpref_create(&h, &cfg, &img, &opt, &status, err, sizeof(err)) == 0, "%s", err);
    struct snpref_result res;
    ck_assert_int_eq(snpref_run(h, &res, err, sizeof(err)), 0);
    ck_assert_int_eq(res.outcome, SNPREF_EXITED);
    ck_assert_uint_eq(res.guest_value, 0);
    snpref_destroy(h);
    long len = ftell(con);
    char *out = calloc(1, (size_t)len + 1);
    rewind(con);
    ck_assert_uint_eq(fread(out, 1, (size_t)len, con), (size_t)len);
    fclose(con);
    return out;
}

START_TEST(the_digest_the_l1_reads_back_is_the_model_launch_digest_of_its_pages)
{
    char *out = run_guest();
    ck_assert_msg(strstr(out, "snp_host: PASS"), "%s", out);
    uint64_t gpa[8];
    unsigned npages = 0;
    for (const char *p = out; (p = strstr(p, "snp_host: launched page ")); p++) {
        unsigned i;
        ck_assert_int_eq(sscanf(p, "snp_host: launched page %u at gpa 0x%lx", &i, &gpa[npages]), 2);
        ck_assert_uint_eq(i, npages);
        npages++;
    }
    ck_assert_uint_eq(npages, 3);
    const char *d = strstr(out, "snp_host: digest ");
    ck_assert_ptr_nonnull(d);
    char l1_hex[PSP_DIGEST_HEX_SIZE];
    memcpy(l1_hex, d + strlen("snp_host: digest "), 96);
    l1_hex[96] = '\0';

    /* The model's own launch of the same pages, as the reference hypervisor does it. */
    struct mem m;
    char err[128];
    ck_assert_int_eq(mem_init(&m, 8ull << 20, err, sizeof(err)), 0);
    struct rmp *r = rmp_create(m.size);
    struct psp_config pc;
    psp_config_default(&pc);
    struct psp *p = psp_create(&m, r, NULL, &pc);
    ck_assert_uint_eq(psp_command(p, SEV_CMD_SNP_INIT, NULL, 0), SEV_RET_SUCCESS);
    struct psp_snp_addr ga = {0};
    ck_assert_uint_eq(psp_command(p, SEV_CMD_SNP_GCTX_CREATE, &ga, 0), SEV_RET_SUCCESS);
    struct psp_snp_launch_start ls = {.gctx_paddr = ga.gctx_paddr, .policy = 0x30000};
    ck_assert_uint_eq(psp_command(p, SEV_CMD_SNP_LAUNCH_START, &ls, 0), SEV_RET_SUCCESS);
    struct psp_snp_activate act = {ga.gctx_paddr, 1};
    ck_assert_uint_eq(psp_command(p, SEV_CMD_SNP_ACTIVATE, &act, 0), SEV_RET_SUCCESS);
    for (unsigned i = 0; i < npages; i++) {
        uint8_t *pg = mem_ptr(&m, gpa[i], PAGE);
        ck_assert_ptr_nonnull(pg);
        for (unsigned j = 0; j < PAGE; j++)
            pg[j] = pattern(i, j);
        struct rmp_state st = {gpa[i], true, RMP_4K, true, 1};
        ck_assert_int_eq(rmp_update(r, gpa[i], &st), RMP_OK);
        struct psp_snp_launch_update u = {.gctx_paddr = ga.gctx_paddr,
                                          .flags = PSP_UPDATE_TYPE(SNP_PAGE_TYPE_NORMAL),
                                          .address = gpa[i]};
        ck_assert_uint_eq(psp_command(p, SEV_CMD_SNP_LAUNCH_UPDATE, &u, 0), SEV_RET_SUCCESS);
    }
    struct psp_snp_launch_finish fin = {.gctx_paddr = ga.gctx_paddr};
    ck_assert_uint_eq(psp_command(p, SEV_CMD_SNP_LAUNCH_FINISH, &fin, 0), SEV_RET_SUCCESS);
    struct psp_guest_info gi;
    ck_assert(psp_guest(p, ga.gctx_paddr, &gi));
    char own_hex[PSP_DIGEST_HEX_SIZE];
    psp_digest_hex(gi.digest, own_hex);
    ck_assert_str_eq(l1_hex, own_hex);
    /* Not the initial all-zero digest: the launch measured the pages. */
    uint8_t zero[PSP_DIGEST_SIZE] = {0};
    ck_assert_mem_ne(gi.digest, zero, PSP_DIGEST_SIZE);
    psp_destroy(p);
    rmp_destroy(r);
    mem_destroy(&m);
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_snp_host");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, the_digest_the_l1_reads_back_is_the_model_launch_digest_of_its_pages);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
