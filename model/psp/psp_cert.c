/* SPDX-License-Identifier: MIT */
/*
 * The model's AMD key chain (docs/attestation.md): ARK (RSA-4096, self-signed)
 * -> ASK (RSA-4096, signed by the ARK) -> VCEK (ECDSA P-384, signed by the ASK),
 * every signature RSASSA-PSS with SHA-384 and a 48-byte salt as AMD's KDS
 * certificates have, and the VCEK carrying AMD's TCB and hwID extensions
 * (OIDs 1.3.6.1.4.1.3704.1.*, which snpguest checks against a report).
 *
 * Reproducible: while the chain is made and while the VCEK signs, OpenSSL's
 * random source is a SHA-512 counter stream keyed by the PSP seed (the legacy
 * RAND_METHOD hook, deprecated in OpenSSL 3 but honoured by its key generation,
 * PSS salts and ECDSA nonces), so one seed gives the same keys, certificates
 * and signatures every run. With a cert_dir the keys are read from there when
 * present and written there when not, so a chain can outlive a run.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_set_rand_method: see above */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "psp_guest.h"
#include "psp_int.h"
#include "snpref/base.h"

struct psp_chain {
    EVP_PKEY *key[3];         /* ARK, ASK, VCEK */
    X509 *cert[3];
    uint8_t *der[3];
    size_t der_len[3];
    uint8_t chip_id[64];
    uint8_t vcek_secret[32];
};

/* ---- The deterministic random stream --------------------------------------------- */

static struct {
    uint8_t key[32];
    uint64_t ctr;
    uint8_t buf[64];
    unsigned used;
} drbg;

static int det_bytes(unsigned char *out, int num)
{
    for (int i = 0; i < num; i++) {
        if (drbg.used == sizeof(drbg.buf)) {
            uint8_t in[40];
            memcpy(in, drbg.key, 32);
            memcpy(in + 32, &drbg.ctr, 8);
            drbg.ctr++;
            unsigned n = 0;
            SNP_ASSERT(EVP_Digest(in, sizeof(in), drbg.buf, &n, EVP_sha512(), NULL) == 1);
            drbg.used = 0;
        }
        out[i] = drbg.buf[drbg.used++];
    }
    return 1;
}
static int det_status(void) { return 1; }
static const RAND_METHOD det_method = {NULL, det_bytes, NULL, NULL, det_bytes, det_status};

/* Runs the next OpenSSL calls on the stream keyed by (label, seed, extra). */
static void det_begin(const char *label, uint64_t seed, const void *extra, size_t extra_len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned n = 0;
    uint8_t d[48];
    SNP_ASSERT(m && EVP_DigestInit_ex(m, EVP_sha384(), NULL) == 1);
    EVP_DigestUpdate(m, label, strlen(label));
    EVP_DigestUpdate(m, &seed, sizeof(seed));
    if (extra_len)
        EVP_DigestUpdate(m, extra, extra_len);
    SNP_ASSERT(EVP_DigestFinal_ex(m, d, &n) == 1);
    EVP_MD_CTX_free(m);
    memcpy(drbg.key, d, 32);
    drbg.ctr = 0;
    drbg.used = sizeof(drbg.buf);
    SNP_ASSERT(RAND_set_rand_method(&det_method) == 1);
}

static void det_end(void) { RAND_set_rand_method(NULL); }

/* ---- Keys and certificates ------------------------------------------------------------ */

static EVP_PKEY *keygen(bool rsa)
{
    EVP_PKEY *k = rsa ? EVP_RSA_gen(4096) : EVP_EC_gen("secp384r1");
    SNP_ASSERT(k);
    return k;
}

static void add_ext(X509 *x, const char *oid, const uint8_t *der, int len)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    SNP_ASSERT(o && v && ASN1_OCTET_STRING_set(v, der, len) == 1);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, v);
    SNP_ASSERT(e && X509_add_ext(x, e, -1) == 1);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(v);
    ASN1_OBJECT_free(o);
}

/* AMD's VCEK extensions: each SPL a DER INTEGER, the product name an IA5String,
 * the hwID the raw 64-byte chip ID (as snpguest's verify compares them). */
static void vcek_exts(X509 *x, const uint8_t chip_id[64])
{
    static const struct {
        const char *oid;
        uint8_t val;
    } spl[] = {{"1.3.6.1.4.1.3704.1.3.1", PSP_TCB_BOOTLOADER}, {"1.3.6.1.4.1.3704.1.3.2", PSP_TCB_TEE},
               {"1.3.6.1.4.1.3704.1.3.3", PSP_TCB_SNP},        {"1.3.6.1.4.1.3704.1.3.8", PSP_TCB_MICROCODE}};
    uint8_t ver[] = {0x02, 0x01, 0x01};
    add_ext(x, "1.3.6.1.4.1.3704.1.1", ver, 3);
    uint8_t name[] = {0x16, 0x08, 'M', 'i', 'l', 'a', 'n', '-', 'B', '0'};
    add_ext(x, "1.3.6.1.4.1.3704.1.2", name, sizeof(name));
    for (size_t i = 0; i < ARRAY_SIZE(spl); i++) {
        /* A DER INTEGER: one byte, or two when the top bit is set (0x00 prefix). */
        uint8_t d[4] = {0x02, 0x01, spl[i].val, 0};
        int n = 3;
        if (spl[i].val & 0x80)
            d[1] = 2, d[2] = 0, d[3] = spl[i].val, n = 4;
        add_ext(x, spl[i].oid, d, n);
    }
    add_ext(x, "1.3.6.1.4.1.3704.1.4", chip_id, 64);
}

static X509_NAME *name_of(const char *cn)
{
    X509_NAME *n = X509_NAME_new();
    SNP_ASSERT(n);
    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Engineering", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "L", MBSTRING_ASC, (const unsigned char *)"Santa Clara", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_ASC, (const unsigned char *)"CA", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                               (const unsigned char *)"snpref model (not AMD)", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    return n;
}

static void sign_pss(X509 *x, EVP_PKEY *issuer)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    SNP_ASSERT(m && EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, issuer) == 1);
    SNP_ASSERT(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1);
    SNP_ASSERT(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) == 1);
    SNP_ASSERT(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) == 1);
    SNP_ASSERT(X509_sign_ctx(x, m) > 0);
    EVP_MD_CTX_free(m);
}

static X509 *make_cert(unsigned i, EVP_PKEY *key, EVP_PKEY *issuer_key, const uint8_t chip_id[64])
{
    static const char *const cn[] = {"ARK-Milan", "SEV-Milan", "SEV-VCEK"};
    X509 *x = X509_new();
    SNP_ASSERT(x && X509_set_version(x, 2) == 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(0x5E0 + i));
    X509_NAME *subj = name_of(cn[i]), *iss = name_of(cn[i == 0 ? 0 : i - 1]);
    X509_set_subject_name(x, subj);
    X509_set_issuer_name(x, iss);
    X509_NAME_free(subj);
    X509_NAME_free(iss);
    /* Fixed validity: no wall clock in the model. */
    SNP_ASSERT(ASN1_TIME_set_string(X509_getm_notBefore(x), "20260101000000Z") == 1);
    SNP_ASSERT(ASN1_TIME_set_string(X509_getm_notAfter(x), "20510101000000Z") == 1);
    SNP_ASSERT(X509_set_pubkey(x, key) == 1);
    if (i < 2) {
        X509V3_CTX v;
        X509V3_set_ctx_nodb(&v);
        X509V3_set_ctx(&v, x, x, NULL, NULL, 0);
        X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, "critical,CA:TRUE");
        X509_EXTENSION *ku = X509V3_EXT_conf_nid(NULL, &v, NID_key_usage, "critical,keyCertSign,cRLSign");
        SNP_ASSERT(bc && ku && X509_add_ext(x, bc, -1) == 1 && X509_add_ext(x, ku, -1) == 1);
        X509_EXTENSION_free(bc);
        X509_EXTENSION_free(ku);
    } else {
        vcek_exts(x, chip_id);
    }
    sign_pss(x, issuer_key);
    return x;
}

/* ---- Keys from a directory ----------------------------------------------------------- */

static const char *const key_files[] = {"ark.key", "ask.key", "vcek.key"};

static EVP_PKEY *load_key(const char *dir, unsigned i)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, key_files[i]);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static void save_key(const char *dir, unsigned i, EVP_PKEY *k)
{
    char path[512];
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/%s", dir, key_files[i]);
    FILE *f = fopen(path, "w");
    if (!f)
        return; /* an unwritable directory: the chain still works for this run */
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

struct psp_chain *psp_chain_get(struct psp *p)
{
    if (p->chain)
        return p->chain;
    struct psp_chain *c = calloc(1, sizeof(*c));
    SNP_ASSERT(c);
    const char *dir = p->cfg.cert_dir && p->cfg.cert_dir[0] ? p->cfg.cert_dir : NULL;
    det_begin("snpref-chip-id", p->cfg.seed, NULL, 0);
    det_bytes(c->chip_id, 64);
    det_bytes(c->vcek_secret, 32);
    for (unsigned i = 0; i < 3; i++) {
        c->key[i] = dir ? load_key(dir, i) : NULL;
        if (!c->key[i]) {
            det_begin(key_files[i], p->cfg.seed, NULL, 0);
            c->key[i] = keygen(i < 2);
            if (dir)
                save_key(dir, i, c->key[i]);
        }
    }
    for (unsigned i = 0; i < 3; i++) {
        det_begin("snpref-cert", p->cfg.seed, &i, sizeof(i));
        c->cert[i] = make_cert(i, c->key[i], c->key[i == 0 ? 0 : i - 1], c->chip_id);
        int n = i2d_X509(c->cert[i], &c->der[i]);
        SNP_ASSERT(n > 0);
        c->der_len[i] = (size_t)n;
    }
    det_end();
    p->chain = c;
    return c;
}

void psp_chain_free(struct psp_chain *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < 3; i++) {
        EVP_PKEY_free(c->key[i]);
        X509_free(c->cert[i]);
        OPENSSL_free(c->der[i]);
    }
    free(c);
}

const uint8_t *psp_chain_der(const struct psp_chain *c, unsigned i, size_t *len)
{
    *len = c->der_len[i];
    return c->der[i];
}

const uint8_t *psp_chip_id(const struct psp_chain *c) { return c->chip_id; }
const uint8_t *psp_vcek_secret(const struct psp_chain *c) { return c->vcek_secret; }

/* A big-endian BIGNUM into 72 little-endian bytes (the report's r and s). */
static void bn_le72(const BIGNUM *b, uint8_t out[72])
{
    memset(out, 0, 72);
    SNP_ASSERT(BN_bn2lebinpad(b, out, 72) == 72);
}

void psp_vcek_sign(struct psp_chain *c, const void *msg, size_t len, uint8_t r[72], uint8_t s[72])
{
    det_begin("snpref-report-sig", 0, msg, len); /* the nonce follows the message */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    uint8_t der[160];
    size_t n = sizeof(der);
    SNP_ASSERT(m && EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, c->key[2]) == 1);
    SNP_ASSERT(EVP_DigestSign(m, der, &n, msg, len) == 1);
    EVP_MD_CTX_free(m);
    det_end();
    const unsigned char *q = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)n);
    SNP_ASSERT(sig);
    bn_le72(ECDSA_SIG_get0_r(sig), r);
    bn_le72(ECDSA_SIG_get0_s(sig), s);
    ECDSA_SIG_free(sig);
}

/* ---- Outputs -------------------------------------------------------------------------- */

/* GHCB spec 4.1.8.1 GUIDs, in the byte order of their text form (virtee/sev CertType). */
static const uint8_t guid[3][16] = {
    {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae},
    {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82},
    {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd},
};

size_t psp_cert_table(struct psp *p, uint8_t *buf, size_t cap)
{
    struct psp_chain *c = psp_chain_get(p);
    static const unsigned order[3] = {2, 1, 0}; /* VCEK, ASK, ARK */
    size_t off = 4 * 24, need = off;
    for (unsigned k = 0; k < 3; k++)
        need += c->der_len[order[k]];
    if (need > cap)
        return need;
    memset(buf, 0, 4 * 24);
    for (unsigned k = 0; k < 3; k++) {
        unsigned i = order[k];
        uint32_t o = (uint32_t)off, l = (uint32_t)c->der_len[i];
        memcpy(buf + 24 * k, guid[i], 16);
        memcpy(buf + 24 * k + 16, &o, 4);
        memcpy(buf + 24 * k + 20, &l, 4);
        memcpy(buf + off, c->der[i], c->der_len[i]);
        off += c->der_len[i];
    }
    return need;
}
