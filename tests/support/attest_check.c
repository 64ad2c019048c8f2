/* SPDX-License-Identifier: MIT */
/* Verifying an attestation report and its chain with OpenSSL (attest_check.h). */
#include "attest_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>

bool attest_sig_ok(const struct snp_report *rep, EVP_PKEY *key)
{
    uint8_t r[72], s[72];
    for (int i = 0; i < 72; i++)
        r[i] = rep->sig_r[71 - i], s[i] = rep->sig_s[71 - i];
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(r, 72, NULL), BN_bin2bn(s, 72, NULL));
    unsigned char *der = NULL;
    int n = i2d_ECDSA_SIG(sig, &der);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    bool ok = n > 0 && EVP_DigestVerifyInit(m, NULL, EVP_sha384(), NULL, key) == 1 &&
              EVP_DigestVerify(m, der, (size_t)n, (const uint8_t *)rep, SNP_REPORT_SIGNED_LEN) == 1;
    EVP_MD_CTX_free(m);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return ok;
}

void attest_assert_chain(X509 *ark, X509 *ask, X509 *vcek)
{
    EVP_PKEY *ark_k = X509_get0_pubkey(ark), *ask_k = X509_get0_pubkey(ask);
    ck_assert_int_eq(X509_verify(ark, ark_k), 1);
    ck_assert_int_eq(X509_verify(ask, ark_k), 1);
    ck_assert_int_eq(X509_verify(vcek, ask_k), 1);
    ck_assert_int_ne(X509_verify(vcek, ark_k), 1); /* not signed by the ARK directly */
    ck_assert_int_eq(EVP_PKEY_get_base_id(X509_get0_pubkey(vcek)), EVP_PKEY_EC);
}

static void write_pem(const char *dir, const char *name, X509 *x)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f, "%s: cannot create", path);
    ck_assert(PEM_write_X509(f, x) == 1);
    fclose(f);
}

void attest_write_out(const char *subdir, const struct snp_report *rep, X509 *ark, X509 *ask,
                      X509 *vcek)
{
    const char *out = getenv("SNPREF_ATTEST_OUT");
    if (!out)
        return;
    char dir[400], path[512];
    snprintf(dir, sizeof(dir), "%s%s%s", out, subdir[0] ? "/" : "", subdir);
    ck_assert_msg(mkdir(dir, 0755) == 0 || access(dir, W_OK) == 0, "%s: cannot create", dir);
    write_pem(dir, "ark.pem", ark);
    write_pem(dir, "ask.pem", ask);
    write_pem(dir, "vcek.pem", vcek);
    snprintf(path, sizeof(path), "%s/report.bin", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f && fwrite(rep, sizeof(*rep), 1, f) == 1, "%s: cannot write", path);
    fclose(f);
}
