/* SPDX-License-Identifier: MIT */
/*
 * AES-256-GCM for the guest SDK (NIST FIPS 197, SP 800-38D), the cipher of the
 * SNP guest messages (docs/attestation.md): a guest has no OpenSSL, so the
 * SDK carries this small, freestanding implementation, as Linux carries
 * lib/crypto/aesgcm.c for its sev-guest driver. Only 96-bit IVs (J0 = IV ||
 * 0^31 || 1, SP 800-38D 7.1), the only size the guest messages use, and
 * 16-byte tags. Byte-oriented and table-free apart from the S-box: the model
 * runs guests without SSE or AES-NI (-mgeneral-regs-only), and speed does not
 * matter for a few messages. The same file builds for the host, where
 * tests/unit/test_sdk_gcm.c checks it against the NIST vectors and OpenSSL.
 */
#ifndef SDK_AES_GCM_H
#define SDK_AES_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDK_AES256_KEY_SIZE 32
#define SDK_GCM_IV_SIZE     12
#define SDK_GCM_TAG_SIZE    16

/* The expanded key: 15 round keys of 16 bytes (FIPS 197 5.2, Nk = 8, Nr = 14). */
struct sdk_aes256 {
    uint8_t rk[15][16];
};
void sdk_aes256_init(struct sdk_aes256 *k, const uint8_t key[SDK_AES256_KEY_SIZE]);
/* One block (FIPS 197 5.1); in and out may be the same buffer. */
void sdk_aes256_encrypt(const struct sdk_aes256 *k, const uint8_t in[16], uint8_t out[16]);

/* Encrypts len bytes of in into out (may be in) and computes the tag over aad and the
 * ciphertext. */
void sdk_gcm_seal(const uint8_t key[SDK_AES256_KEY_SIZE], const uint8_t iv[SDK_GCM_IV_SIZE],
                  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                  uint8_t *out, uint8_t tag[SDK_GCM_TAG_SIZE]);
/* Checks the tag over aad and in first; only when it matches decrypts into out (may be in)
 * and returns true. On a mismatch out is untouched: no unauthenticated plaintext. */
bool sdk_gcm_open(const uint8_t key[SDK_AES256_KEY_SIZE], const uint8_t iv[SDK_GCM_IV_SIZE],
                  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                  uint8_t *out, const uint8_t tag[SDK_GCM_TAG_SIZE]);

#endif
