/* SPDX-License-Identifier: MIT */
/*
 * Per-ASID memory-encryption keys and the DRAM view they give (see keys.h;
 * docs/sev-snp-facts.md 6.4). The construction: AES-128 in XTS mode with one 16-byte
 * block per data unit and the block's system-physical address as the tweak,
 * which is exactly XEX, C = E_K1(P ^ T) ^ T with T = E_K2(spa): the same
 * plaintext gives different ciphertext at every block address and under every
 * key. OpenSSL's EVP_aes_128_xts does the work; the IV is spa as a 128-bit
 * little-endian number. XXX(model): AMD's engine is described publicly only
 * as "AES-128 with a physical-address tweak"; the exact tweak function is not
 * public, so the ciphertext bytes are the model's own.
 *
 * Each ASID's two keys are SHA-256(label || seed || asid) (little-endian
 * integers): the first 16 bytes are the data key K1, the last 16 the tweak key
 * K2. Deterministic from the seed, so traces are byte-identical across runs.
 */
#include "keys.h"

#include "snpref/base.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_BLOCK   16u
#define KEYS_XTS_LEN 32u /* K1 || K2 */

static const char keys_label[] = "snpref memory key v1";

struct mem_keys {
    /* [0] is unused: ASID 0 is the hypervisor, whose memory is plaintext. */
    uint8_t key[KEYS_MAX_ASID][KEYS_XTS_LEN];
};

/* OpenSSL failing on fixed-size, in-memory work is a broken host, not a guest
 * or user error: stop as for a model bug, with the call that failed. */
#define SSL_CHECK(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            SNP_PANIC("OpenSSL: %s failed", #cond);                                                \
    } while (0)

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool derive(uint64_t seed, uint32_t asid, uint8_t out[KEYS_XTS_LEN])
{
    uint8_t msg[sizeof(keys_label) - 1 + 8 + 4];
    memcpy(msg, keys_label, sizeof(keys_label) - 1);
    put_le(msg + sizeof(keys_label) - 1, seed, 8);
    put_le(msg + sizeof(keys_label) - 1 + 8, asid, 4);
    unsigned n = 0;
    if (EVP_Digest(msg, sizeof(msg), out, &n, EVP_sha256(), NULL) != 1 || n != KEYS_XTS_LEN)
        return false;
    /* XTS refuses K1 == K2 (OpenSSL 3 checks it); never the case for SHA-256
     * output in practice, but the check keeps a failure here, not later. */
    return memcmp(out, out + KEYS_XTS_LEN / 2, KEYS_XTS_LEN / 2) != 0;
}

struct mem_keys *keys_create(uint64_t seed)
{
    struct mem_keys *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    for (uint32_t asid = 1; asid < KEYS_MAX_ASID; asid++) {
        if (!derive(seed, asid, k->key[asid])) {
            keys_destroy(k);
            return NULL;
        }
    }
    return k;
}

void keys_destroy(struct mem_keys *k)
{
    if (!k)
        return;
    /* Key material does not linger in freed heap memory. */
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

/* XTS over [spa, spa+len), one data unit per 16-byte block; enc 1 or 0. */
static void xts_blocks(const struct mem_keys *k, uint32_t asid, uint64_t spa, const uint8_t *in,
                       uint8_t *out, size_t len, int enc)
{
    SNP_ASSERT(asid > 0 && asid < KEYS_MAX_ASID);
    SNP_ASSERT(spa % KEYS_BLOCK == 0 && len % KEYS_BLOCK == 0);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    SSL_CHECK(ctx != NULL);
    SSL_CHECK(EVP_CipherInit_ex(ctx, EVP_aes_128_xts(), NULL, k->key[asid], NULL, enc) == 1);
    for (size_t off = 0; off < len; off += KEYS_BLOCK) {
        uint8_t iv[KEYS_BLOCK] = {0};
        put_le(iv, spa + off, 8);
        /* New tweak, same key schedule (key NULL keeps it). */
        SSL_CHECK(EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc) == 1);
        int n = 0;
        SSL_CHECK(EVP_CipherUpdate(ctx, out + off, &n, in + off, (int)KEYS_BLOCK) == 1);
        SSL_CHECK(n == (int)KEYS_BLOCK);
    }
    EVP_CIPHER_CTX_free(ctx);
}

void keys_encrypt(const struct mem_keys *k, uint32_t asid, uint64_t spa, const void *plain,
                  void *out, size_t len)
{
    xts_blocks(k, asid, spa, plain, out, len, 1);
}

void keys_decrypt(const struct mem_keys *k, uint32_t asid, uint64_t spa, const void *cipher,
                  void *out, size_t len)
{
    xts_blocks(k, asid, spa, cipher, out, len, 0);
}
