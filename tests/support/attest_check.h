/* SPDX-License-Identifier: MIT */
/*
 * What a verifier does with an SNP attestation report, with OpenSSL only
 * (docs/attestation.md "Verification"): the ECDSA P-384 / SHA-384 signature
 * over bytes 0x0-0x29F against the VCEK (r and s little-endian in 72 bytes
 * each, Firmware ABI "Signature"), and the chain ARK (self-signed) -> ASK ->
 * VCEK. Shared by the unit suite that plays the guest (test_model_attest) and
 * the scenario whose SDK guest asked itself (test_attest).
 */
#ifndef SNPREF_ATTEST_CHECK_H
#define SNPREF_ATTEST_CHECK_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "snpref/snp_msg.h"

/* true if the report's signature verifies with key. */
bool attest_sig_ok(const struct snp_report *rep, EVP_PKEY *key);
/* Asserts (Check) the chain: the ARK signed itself and the ASK, the ASK the VCEK,
 * the ARK not the VCEK directly, and the VCEK holds an EC key. */
void attest_assert_chain(X509 *ark, X509 *ask, X509 *vcek);
/* With SNPREF_ATTEST_OUT set: writes report.bin and ark.pem, ask.pem, vcek.pem
 * there, the files `snpguest verify` reads (scripts/attest-verify.sh). */
void attest_write_out(const char *subdir, const struct snp_report *rep, X509 *ark, X509 *ask,
                      X509 *vcek);

#endif
