/* SPDX-License-Identifier: MIT */
/*
 * AES-256 (FIPS 197) and GCM (NIST SP 800-38D) for the guest SDK; see
 * sdk/aes_gcm.h for why the SDK has its own. Bytes are kept in the spec's
 * order: the state is column-major s[r + 4c] = in[r + 4c] (FIPS 197 3.4), and
 * GHASH works on 128-bit blocks as two big-endian 64-bit halves with the
 * spec's reflected bit order (bit 0 is the MSB of byte 0, SP 800-38D 6.3).
 * No memcpy/memset: the same source builds freestanding and for the host.
 */
#include <sdk/aes_gcm.h>

/* FIPS 197 Figure 7, generated from its definition (multiplicative inverse in
 * GF(2^8) mod x^8+x^4+x^3+x+1, then the affine map with 0x63); the host test
 * recomputes it the same way. */
static const uint8_t sbox[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

static uint8_t xtime(uint8_t b)
{
    return (uint8_t)((b << 1) ^ ((b >> 7) * 0x1b));
}

/* FIPS 197 5.2: w[i] = w[i-8] ^ f(w[i-1]), f = SubWord(RotWord()) ^ Rcon every 8th word
 * and SubWord() alone every 8th + 4th (Nk = 8). */
void sdk_aes256_init(struct sdk_aes256 *k, const uint8_t key[SDK_AES256_KEY_SIZE])
{
    uint8_t *w = &k->rk[0][0];
    uint8_t rcon = 1;
    for (unsigned i = 0; i < 32; i++)
        w[i] = key[i];
    for (unsigned i = 8; i < 60; i++) {
        uint8_t t[4] = {w[4 * i - 4], w[4 * i - 3], w[4 * i - 2], w[4 * i - 1]};
        if (i % 8 == 0) {
            uint8_t t0 = t[0];
            t[0] = (uint8_t)(sbox[t[1]] ^ rcon);
            t[1] = sbox[t[2]];
            t[2] = sbox[t[3]];
            t[3] = sbox[t0];
            rcon = xtime(rcon);
        } else if (i % 8 == 4) {
            for (unsigned j = 0; j < 4; j++)
                t[j] = sbox[t[j]];
        }
        for (unsigned j = 0; j < 4; j++)
            w[4 * i + j] = (uint8_t)(w[4 * i - 32 + j] ^ t[j]);
    }
}

/* SubBytes and ShiftRows together: row r of the new state takes column (c + r) mod 4. */
static void sub_shift(uint8_t s[16])
{
    uint8_t t[16];
    for (unsigned c = 0; c < 4; c++)
        for (unsigned r = 0; r < 4; r++)
            t[r + 4 * c] = sbox[s[r + 4 * ((c + r) % 4)]];
    for (unsigned i = 0; i < 16; i++)
        s[i] = t[i];
}

/* MixColumns (FIPS 197 5.1.3): each column times {03}x^3 + {01}x^2 + {01}x + {02}. */
static void mix_columns(uint8_t s[16])
{
    for (unsigned c = 0; c < 4; c++) {
        uint8_t *a = s + 4 * c;
        uint8_t all = (uint8_t)(a[0] ^ a[1] ^ a[2] ^ a[3]), a0 = a[0];
        a[0] = (uint8_t)(a[0] ^ all ^ xtime((uint8_t)(a[0] ^ a[1])));
        a[1] = (uint8_t)(a[1] ^ all ^ xtime((uint8_t)(a[1] ^ a[2])));
        a[2] = (uint8_t)(a[2] ^ all ^ xtime((uint8_t)(a[2] ^ a[3])));
        a[3] = (uint8_t)(a[3] ^ all ^ xtime((uint8_t)(a[3] ^ a0)));
    }
}

static void add_round_key(uint8_t s[16], const uint8_t rk[16])
{
    for (unsigned i = 0; i < 16; i++)
        s[i] ^= rk[i];
}

void sdk_aes256_encrypt(const struct sdk_aes256 *k, const uint8_t in[16], uint8_t out[16])
{
    uint8_t s[16];
    for (unsigned i = 0; i < 16; i++)
        s[i] = in[i];
    add_round_key(s, k->rk[0]);
    for (unsigned round = 1; round < 14; round++) {
        sub_shift(s);
        mix_columns(s);
        add_round_key(s, k->rk[round]);
    }
    sub_shift(s);
    add_round_key(s, k->rk[14]);
    for (unsigned i = 0; i < 16; i++)
        out[i] = s[i];
}

/* ---- GCM ----------------------------------------------------------------------------- */

struct gf128 {
    uint64_t hi, lo; /* bytes 0-7 and 8-15, big-endian */
};

static struct gf128 gf_load(const uint8_t b[16])
{
    struct gf128 x = {0, 0};
    for (unsigned i = 0; i < 8; i++) {
        x.hi = x.hi << 8 | b[i];
        x.lo = x.lo << 8 | b[8 + i];
    }
    return x;
}

static void gf_store(struct gf128 x, uint8_t b[16])
{
    for (unsigned i = 0; i < 8; i++) {
        b[7 - i] = (uint8_t)(x.hi >> (8 * i));
        b[15 - i] = (uint8_t)(x.lo >> (8 * i));
    }
}

/* X * Y in GF(2^128), SP 800-38D Algorithm 1 (R = 11100001 || 0^120). */
static struct gf128 gf_mul(struct gf128 x, struct gf128 y)
{
    struct gf128 z = {0, 0}, v = y;
    for (unsigned i = 0; i < 128; i++) {
        uint64_t bit = i < 64 ? x.hi >> (63 - i) : x.lo >> (127 - i);
        uint64_t m = 0 - (bit & 1);
        z.hi ^= v.hi & m;
        z.lo ^= v.lo & m;
        uint64_t lsb = 0 - (v.lo & 1);
        v.lo = v.lo >> 1 | v.hi << 63;
        v.hi = (v.hi >> 1) ^ (0xE100000000000000ull & lsb);
    }
    return z;
}

/* GHASH_H over data zero-padded to whole blocks (SP 800-38D 6.4), folded into *y. */
static void ghash(struct gf128 *y, struct gf128 h, const uint8_t *data, size_t len)
{
    for (size_t off = 0; off < len; off += 16) {
        uint8_t b[16] = {0};
        for (size_t i = 0; i < 16 && off + i < len; i++)
            b[i] = data[off + i];
        struct gf128 x = gf_load(b);
        y->hi ^= x.hi;
        y->lo ^= x.lo;
        *y = gf_mul(*y, h);
    }
}

struct gcm {
    struct sdk_aes256 k;
    struct gf128 h;   /* E_K(0^128) */
    uint8_t j0[16];   /* IV || 0^31 || 1 */
};

static void gcm_init(struct gcm *g, const uint8_t key[32], const uint8_t iv[12])
{
    uint8_t zero[16] = {0}, h[16];
    sdk_aes256_init(&g->k, key);
    sdk_aes256_encrypt(&g->k, zero, h);
    g->h = gf_load(h);
    for (unsigned i = 0; i < 12; i++)
        g->j0[i] = iv[i];
    g->j0[12] = g->j0[13] = g->j0[14] = 0;
    g->j0[15] = 1;
}

/* GCTR from inc32(J0) (SP 800-38D 6.5): the 32-bit counter is the last 4 bytes. */
static void gctr(const struct gcm *g, const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t cb[16], ks[16];
    for (unsigned i = 0; i < 16; i++)
        cb[i] = g->j0[i];
    for (size_t off = 0; off < len; off += 16) {
        uint32_t ctr = (uint32_t)cb[12] << 24 | (uint32_t)cb[13] << 16 | (uint32_t)cb[14] << 8 | cb[15];
        ctr++;
        cb[12] = (uint8_t)(ctr >> 24), cb[13] = (uint8_t)(ctr >> 16);
        cb[14] = (uint8_t)(ctr >> 8), cb[15] = (uint8_t)ctr;
        sdk_aes256_encrypt(&g->k, cb, ks);
        for (size_t i = 0; i < 16 && off + i < len; i++)
            out[off + i] = in[off + i] ^ ks[i];
    }
}

/* T = MSB_128(GCTR_K(J0, S)), S = GHASH(A || 0 || C || 0 || [len(A)]64 || [len(C)]64). */
static void gcm_tag(const struct gcm *g, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                    size_t len, uint8_t tag[16])
{
    struct gf128 s = {0, 0};
    ghash(&s, g->h, aad, aad_len);
    ghash(&s, g->h, ct, len);
    uint8_t lens[16];
    struct gf128 l = {(uint64_t)aad_len * 8, (uint64_t)len * 8};
    gf_store(l, lens);
    ghash(&s, g->h, lens, 16);
    uint8_t sb[16], ek[16];
    gf_store(s, sb);
    sdk_aes256_encrypt(&g->k, g->j0, ek);
    for (unsigned i = 0; i < 16; i++)
        tag[i] = sb[i] ^ ek[i];
}

void sdk_gcm_seal(const uint8_t key[SDK_AES256_KEY_SIZE], const uint8_t iv[SDK_GCM_IV_SIZE],
                  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                  uint8_t *out, uint8_t tag[SDK_GCM_TAG_SIZE])
{
    struct gcm g;
    gcm_init(&g, key, iv);
    gctr(&g, in, len, out);
    gcm_tag(&g, aad, aad_len, out, len, tag);
}

bool sdk_gcm_open(const uint8_t key[SDK_AES256_KEY_SIZE], const uint8_t iv[SDK_GCM_IV_SIZE],
                  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                  uint8_t *out, const uint8_t tag[SDK_GCM_TAG_SIZE])
{
    struct gcm g;
    uint8_t want[16], diff = 0;
    gcm_init(&g, key, iv);
    gcm_tag(&g, aad, aad_len, in, len, want);
    for (unsigned i = 0; i < 16; i++) /* all 16 bytes, whatever differs first */
        diff |= (uint8_t)(want[i] ^ tag[i]);
    if (diff)
        return false;
    gctr(&g, in, len, out);
    return true;
}
