/* SPDX-License-Identifier: MIT */
/*
 * Check suite for SNP guest messages and the attestation report
 * (docs/attestation.md): the test plays an SNP guest against the reference
 * hypervisor and the PSP model. It reads VMPCK0 from the secrets page, builds
 * an MSG_REPORT_REQ with 64 bytes of report data, encrypts it with AES-256-GCM
 * (OpenSSL, as Linux's sev-guest driver does with its own AES-GCM), sends it
 * with EXT_GUEST_REQUEST, and then checks, with OpenSSL only: the response's
 * tag and sequence number, every report field against what the launch put in,
 * the ECDSA P-384 signature against the VCEK from the certificate table, the
 * chain ARK -> ASK -> VCEK, a tampered report failing, and a replayed sequence
 * number refused by the firmware. With SNPREF_ATTEST_OUT set it also writes
 * report.bin and the PEM chain there for `make attest-verify` (snpguest).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"
#include "machine.h"
#include "psp_guest.h"
#include "sev.h"
#include "snpref/sev.h"
#include "attest_check.h"
#include "ck_run.h"

#define PAGE 4096ull

static struct snpref_system *g_h;
static struct system *g_sys;
static uint64_t g_ghcb, g_req, g_resp, g_certs;
static uint8_t g_vmpck[32];
static uint64_t g_seqno;  /* the guest's count (secrets page OS area, as Linux keeps it) */

static void setup(void)
{
    struct snp_config cfg;
    config_defaults(&cfg);
    cfg.vcpus = 1;
    snprintf(cfg.mode, sizeof(cfg.mode), "snp");
    FILE *f = fopen(SNPREF_GUEST_DIR "/demo.elf", "rb");
    ck_assert_msg(f, "demo.elf missing (build the guests)");
    static uint8_t elf[4 << 20];
    size_t n = fread(elf, 1, sizeof(elf), f);
    fclose(f);
    struct guest_image img = {elf, n, "demo.elf", NULL};
    char err[256];
    int status;
    ck_assert_msg(snpref_create(&g_h, &cfg, &img, NULL, &status, err, sizeof(err)) == 0, "%s", err);
    g_sys = (struct system *)g_h;
    g_ghcb = g_sys->layout.ghcb_base;
    g_sys->slots[0].sev.ghcb_registered = g_ghcb;
    g_req = 16ull << 20, g_resp = g_req + PAGE, g_certs = g_req + 2 * PAGE; /* shared pages */
    struct snp_secrets_page sp;
    ck_assert(mem_read(&g_sys->mem, g_sys->layout.secrets, &sp, sizeof(sp)));
    memcpy(g_vmpck, sp.vmpck[0], 32);
    g_seqno = 0;
}

static void teardown(void) { snpref_destroy(g_h); }

static bool gcm(bool enc, uint64_t seqno, const uint8_t *aad, const uint8_t *in, int len,
                uint8_t *out, uint8_t tag[16])
{
    uint8_t iv[12] = {0};
    memcpy(iv, &seqno, 8);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, g_vmpck, iv, enc) == 1 &&
              EVP_CipherUpdate(x, NULL, &n, aad, SNP_MSG_AAD_LEN) == 1 &&
              EVP_CipherUpdate(x, out, &n, in, len) == 1 &&
              (enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1) &&
              EVP_CipherFinal_ex(x, out + n, &n) == 1 &&
              (!enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(x);
    return ok;
}

/* Sends one report request with seqno; returns SW_EXITINFO2. */
static uint64_t request(uint64_t seqno, const uint8_t data[64], bool ext, uint64_t npages)
{
    uint8_t page[PAGE] = {0};
    struct snp_msg_hdr *h = (struct snp_msg_hdr *)page;
    struct snp_report_req rq = {0};
    memcpy(rq.user_data, data, 64);
    h->msg_seqno = seqno, h->algo = SNP_AEAD_AES_256_GCM, h->hdr_version = SNP_MSG_HDR_VERSION;
    h->hdr_sz = sizeof(*h), h->msg_type = SNP_MSG_REPORT_REQ, h->msg_version = 1;
    h->msg_sz = sizeof(rq), h->msg_vmpck = 0;
    ck_assert(gcm(true, seqno, page + SNP_MSG_AAD_OFFSET, (uint8_t *)&rq, sizeof(rq),
                  page + sizeof(*h), h->authtag));
    uint64_t pf;
    ck_assert(mem_hv_write(&g_sys->mem, g_req, page, PAGE, &pf));
    struct ghcb g;
    memset(&g, 0, sizeof(g));
#define SET(f, v) (g.save.f = (v), g.save.valid_bitmap[GHCB_BIT(f) / 8] |= 1u << (GHCB_BIT(f) % 8))
    SET(sw_exit_code, ext ? SVM_VMGEXIT_EXT_GUEST_REQUEST : SVM_VMGEXIT_GUEST_REQUEST);
    SET(sw_exit_info_1, g_req);
    SET(sw_exit_info_2, g_resp);
    SET(rax, g_certs);
    SET(rbx, npages);
    ck_assert(mem_hv_write(&g_sys->mem, g_ghcb, &g, sizeof(g), &pf));
    g_sys->slots[0].sev.ghcb_msr = g_ghcb;
    ghcb_vmgexit(&g_sys->slots[0]);
    ck_assert(!g_sys->done);
    ck_assert(mem_hv_read(&g_sys->mem, g_ghcb, &g, sizeof(g)));
    ck_assert_uint_eq(g.save.sw_exit_info_1, 0);
    if (npages && npages < 2)
        ck_assert_uint_ge(g.save.rbx, 2);
    return g.save.sw_exit_info_2;
}

/* Decrypts the response page into *r; checks header, tag and sequence number. */
static void response(uint64_t want_seqno, struct snp_report_resp *r)
{
    uint8_t page[PAGE];
    ck_assert(mem_hv_read(&g_sys->mem, g_resp, page, PAGE));
    struct snp_msg_hdr *h = (struct snp_msg_hdr *)page;
    ck_assert_uint_eq(h->msg_type, SNP_MSG_REPORT_RSP);
    ck_assert_uint_eq(h->msg_seqno, want_seqno);
    ck_assert_uint_eq(h->msg_sz, sizeof(*r));
    ck_assert_msg(gcm(false, h->msg_seqno, page + SNP_MSG_AAD_OFFSET, page + sizeof(*h),
                      h->msg_sz, (uint8_t *)r, h->authtag), "response tag does not verify");
}

static X509 *cert_at(const uint8_t *table, unsigned k, const uint8_t guid0)
{
    uint32_t off, len;
    ck_assert_uint_eq(table[24 * k], guid0);
    memcpy(&off, table + 24 * k + 16, 4);
    memcpy(&len, table + 24 * k + 20, 4);
    const unsigned char *p = table + off;
    X509 *x = d2i_X509(NULL, &p, len);
    ck_assert_ptr_nonnull(x);
    return x;
}

START_TEST(a_report_with_64_bytes_of_data_carries_every_field_and_verifies_against_the_chain)
{
    uint8_t data[64];
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(0xA0 ^ i);
    /* Too few certificate pages first: INVALID_LEN with the count in RBX, no message used. */
    ck_assert_uint_eq(request(1, data, true, 1), 1ull << 32);
    ck_assert_uint_eq(request(1, data, true, 4), 0);
    struct snp_report_resp rs;
    response(2, &rs);
    const struct snp_report *rep = &rs.report;
    ck_assert_uint_eq(rs.status, 0);
    ck_assert_uint_eq(rs.report_size, sizeof(*rep));
    ck_assert_uint_eq(rep->version, 3);
    ck_assert_uint_eq(rep->policy, g_sys->cfg.sev.policy);
    ck_assert_uint_eq(rep->vmpl, 0);
    ck_assert_uint_eq(rep->sig_algo, 1);
    ck_assert_mem_eq(rep->report_data, data, 64);
    ck_assert_mem_eq(rep->measurement, g_sys->sev->digest, 48); /* the launch digest */
    static const uint8_t zero[64];
    ck_assert_mem_eq(rep->host_data, zero, 32);     /* LAUNCH_FINISH gave none */
    ck_assert_mem_eq(rep->id_key_digest, zero, 48); /* no ID block */
    ck_assert_mem_eq(rep->author_key_digest, zero, 48);
    ck_assert_uint_eq(rep->reported_tcb, PSP_TCB_VERSION);
    ck_assert_uint_eq(rep->current_tcb, PSP_TCB_VERSION);
    ck_assert_uint_eq(rep->cpuid_fam_id, 0x19);
    ck_assert_int_ne(memcmp(rep->chip_id, zero, 64), 0);
    ck_assert_int_ne(memcmp(rep->report_id, zero, 32), 0);
    uint8_t ff[32];
    memset(ff, 0xFF, 32);
    ck_assert_mem_eq(rep->report_id_ma, ff, 32);
    ck_assert_uint_eq(rep->current_major, 1);
    ck_assert_uint_eq(rep->current_minor, 55);

    /* The certificate table: VCEK, ASK, ARK, then a zero entry. */
    static uint8_t table[4 * PAGE];
    ck_assert(mem_hv_read(&g_sys->mem, g_certs, table, sizeof(table)));
    X509 *vcek = cert_at(table, 0, 0x63), *ask = cert_at(table, 1, 0x4a), *ark = cert_at(table, 2, 0xc0);
    ck_assert_mem_eq(table + 72, zero, 24);
    attest_assert_chain(ark, ask, vcek);
    EVP_PKEY *vcek_k = X509_get0_pubkey(vcek);
    ck_assert_msg(attest_sig_ok(rep, vcek_k), "report signature does not verify with the VCEK");
    struct snp_report bad = *rep;
    bad.report_data[5] ^= 1;
    ck_assert_msg(!attest_sig_ok(&bad, vcek_k), "a tampered report still verifies");
    attest_write_out("", rep, ark, ask, vcek);

    /* Replaying sequence number 1: the firmware refuses (INVALID_PARAM), nothing written. */
    ck_assert_uint_eq(request(1, data, false, 0), SEV_RET_INVALID_PARAM);
    /* The next number works and gets the same signature for the same report. */
    ck_assert_uint_eq(request(3, data, false, 0), 0);
    struct snp_report_resp rs2;
    response(4, &rs2);
    ck_assert_mem_eq(&rs2.report, rep, sizeof(*rep));
    X509_free(vcek), X509_free(ask), X509_free(ark);
}
END_TEST

START_TEST(a_message_with_a_bad_tag_is_refused_and_the_sequence_continues)
{
    uint8_t data[64] = {1};
    /* Encrypt with a wrong key: the tag fails at the PSP. */
    g_vmpck[0] ^= 0xFF;
    ck_assert_uint_eq(request(1, data, false, 0), SEV_RET_INVALID_PARAM);
    g_vmpck[0] ^= 0xFF;
    ck_assert_uint_eq(request(1, data, false, 0), 0);
    struct snp_report_resp rs;
    response(2, &rs);
    ck_assert_uint_eq(rs.status, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_attest");
    TCase *tc = tcase_create("report");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_report_with_64_bytes_of_data_carries_every_field_and_verifies_against_the_chain);
    tcase_add_test(tc, a_message_with_a_bad_tag_is_refused_and_the_sequence_continues);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
