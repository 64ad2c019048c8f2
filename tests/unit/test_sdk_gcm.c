/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the guest SDK's AES-256-GCM (guests/sdk/aes_gcm.c, built for
 * the host from the same source): the FIPS 197 Appendix C.3 AES-256 block, the
 * AES-256 test cases 13-16 of the GCM specification (McGrew and Viega, "The
 * Galois/Counter Mode of Operation", the vectors NIST's GCM validation uses),
 * then OpenSSL as the reference over every plaintext length 0-300 and AAD
 * length 0-80 with keys and IVs from a fixed PRNG, both directions, and a
 * refusal of every single-bit change of tag, ciphertext and AAD.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include <sdk/aes_gcm.h>
#include "ck_run.h"

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        ck_assert(sscanf(s, "%2x", &v) == 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

START_TEST(aes256_encrypts_the_fips197_appendix_c3_block)
{
    uint8_t key[32], in[16], want[16], out[16];
    unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key);
    unhex("00112233445566778899aabbccddeeff", in);
    unhex("8ea2b7ca516745bfeafc49904b496089", want);
    struct sdk_aes256 k;
    sdk_aes256_init(&k, key);
    sdk_aes256_encrypt(&k, in, out);
    ck_assert_mem_eq(out, want, 16);
    sdk_aes256_encrypt(&k, in, in); /* in place */
    ck_assert_mem_eq(in, want, 16);
}
END_TEST

/* The GCM specification's AES-256 cases with a 96-bit IV. */
static const struct {
    const char *key, *iv, *aad, *pt, *ct, *tag;
} vectors[] = {
    {/* 13 */ "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {/* 14 */ "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {/* 15 */ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {/* 16 */ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

START_TEST(gcm_seals_and_opens_the_specifications_aes256_test_cases)
{
    uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16], out[64], got[16];
    unhex(vectors[_i].key, key);
    unhex(vectors[_i].iv, iv);
    size_t na = unhex(vectors[_i].aad, aad), np = unhex(vectors[_i].pt, pt);
    ck_assert_uint_eq(unhex(vectors[_i].ct, ct), np);
    unhex(vectors[_i].tag, tag);
    sdk_gcm_seal(key, iv, aad, na, pt, np, out, got);
    ck_assert_mem_eq(out, ct, np);
    ck_assert_mem_eq(got, tag, 16);
    memset(out, 0, sizeof(out));
    ck_assert(sdk_gcm_open(key, iv, aad, na, ct, np, out, tag));
    ck_assert_mem_eq(out, pt, np);
}
END_TEST

/* xorshift64*: the same bytes every run. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
        p[i] = (uint8_t)((rng * 0x2545F4914F6CDD1Dull) >> 56);
    }
}

static void openssl_gcm(bool enc, const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
                        int na, const uint8_t *in, int n, uint8_t *out, uint8_t *tag, bool *ok)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int l = 0;
    ck_assert(EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, key, iv, enc) == 1);
    ck_assert(EVP_CipherUpdate(x, NULL, &l, aad, na) == 1);
    ck_assert(EVP_CipherUpdate(x, out, &l, in, n) == 1);
    if (!enc)
        ck_assert(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1);
    *ok = EVP_CipherFinal_ex(x, out + l, &l) == 1;
    if (enc)
        ck_assert(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(x);
}

START_TEST(gcm_agrees_with_openssl_for_every_length_both_ways)
{
    static uint8_t key[32], iv[12], aad[80], pt[300], a[300], b[300];
    uint8_t ta[16], tb[16];
    bool ok;
    for (int n = 0; n <= 300; n++) {
        int na = (n * 7) % 81;
        fill(key, 32), fill(iv, 12), fill(aad, (size_t)na), fill(pt, (size_t)n);
        sdk_gcm_seal(key, iv, aad, (size_t)na, pt, (size_t)n, a, ta);
        openssl_gcm(true, key, iv, aad, na, pt, n, b, tb, &ok);
        ck_assert_msg(memcmp(a, b, (size_t)n) == 0 && memcmp(ta, tb, 16) == 0,
                      "length %d, aad %d: differs from OpenSSL", n, na);
        openssl_gcm(false, key, iv, aad, na, a, n, b, ta, &ok); /* OpenSSL opens ours */
        ck_assert(ok);
        ck_assert_mem_eq(b, pt, (size_t)n);
        ck_assert(sdk_gcm_open(key, iv, aad, (size_t)na, a, (size_t)n, a, tb)); /* in place */
        ck_assert_mem_eq(a, pt, (size_t)n);
    }
}
END_TEST

START_TEST(gcm_open_refuses_any_changed_bit_and_writes_nothing)
{
    uint8_t key[32], iv[12], aad[48], pt[96], ct[96], tag[16], out[96];
    fill(key, 32), fill(iv, 12), fill(aad, 48), fill(pt, 96);
    sdk_gcm_seal(key, iv, aad, 48, pt, 96, ct, tag);
    uint8_t *parts[] = {tag, ct, aad};
    const size_t lens[] = {16, 96, 48};
    for (unsigned p = 0; p < 3; p++)
        for (size_t bit = 0; bit < lens[p] * 8; bit++) {
            parts[p][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            memset(out, 0xA5, sizeof(out));
            ck_assert_msg(!sdk_gcm_open(key, iv, aad, 48, ct, 96, out, tag), "part %u bit %zu", p,
                          bit);
            for (size_t i = 0; i < sizeof(out); i++)
                ck_assert_uint_eq(out[i], 0xA5);
            parts[p][bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    ck_assert(sdk_gcm_open(key, iv, aad, 48, ct, 96, out, tag));
    ck_assert_mem_eq(out, pt, 96);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sdk_gcm");
    TCase *tc = tcase_create("aes_gcm");
    tcase_add_test(tc, aes256_encrypts_the_fips197_appendix_c3_block);
    tcase_add_loop_test(tc, gcm_seals_and_opens_the_specifications_aes256_test_cases, 0,
                        (int)(sizeof(vectors) / sizeof(vectors[0])));
    tcase_add_test(tc, gcm_agrees_with_openssl_for_every_length_both_ways);
    tcase_add_test(tc, gcm_open_refuses_any_changed_bit_and_writes_nothing);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
