/* SPDX-License-Identifier: MIT */
/*
 * SNP_GUEST_REQUEST in the PSP model (psp_guest.h; docs/attestation.md). The
 * firmware authenticates and decrypts the request with AES-256-GCM under the
 * VMPCK the header names (IV: the 64-bit sequence number, zero-padded to 96
 * bits; AAD: header bytes 0x30-0x5F; as Linux drivers/virt/coco/sev-guest and
 * coconut-svsm build them), checks that the sequence number is the one after
 * the last it used for that key, and answers with msg_type + 1 under the next
 * sequence number. A failure leaves the response page zero and returns a
 * status; UNCERTAIN: the public sources do not give the ABI's code for a bad
 * tag or sequence number, so the model answers INVALID_PARAM (0x16) for both,
 * as it does for a malformed header.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mem.h"
#include "psp_guest.h"
#include "psp_int.h"
#include "snpref/base.h"

static bool gcm(bool enc, const uint8_t key[32], uint64_t seqno, const uint8_t *aad,
                const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    uint8_t iv[12] = {0};
    memcpy(iv, &seqno, 8);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, ok;
    SNP_ASSERT(x);
    ok = EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, key, iv, enc) == 1 &&
         EVP_CipherUpdate(x, NULL, &n, aad, SNP_MSG_AAD_LEN) == 1 &&
         (len == 0 || EVP_CipherUpdate(x, out, &n, in, (int)len) == 1);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(x, out + (len ? n : 0), &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(x);
    return ok;
}

/* The attestation report for guest g, for a requester at vmpl (Firmware ABI ATTESTATION_REPORT). */
static void build_report(struct psp *p, const struct psp_gctx *g, const struct snp_report_req *rq,
                         struct snp_report *r)
{
    struct psp_chain *c = psp_chain_get(p);
    memset(r, 0, sizeof(*r));
    r->version = 3;
    r->policy = g->policy;
    if (g->id_block_en) {
        r->guest_svn = g->id_block.guest_svn;
        memcpy(r->family_id, g->id_block.family_id, 16);
        memcpy(r->image_id, g->id_block.image_id, 16);
        memcpy(r->id_key_digest, g->id_key_digest, 48);
        memcpy(r->author_key_digest, g->author_key_digest, 48);
    }
    r->vmpl = rq->vmpl;
    r->sig_algo = 1;
    r->current_tcb = r->reported_tcb = r->committed_tcb = r->launch_tcb = PSP_TCB_VERSION;
    r->platform_info = p->cfg.smt_enabled ? 1 : 0; /* [0] SMT enabled */
    r->flags = 0;                                  /* signed by the VCEK, chip ID shown */
    memcpy(r->report_data, rq->user_data, 64);
    memcpy(r->measurement, g->ld, 48);
    memcpy(r->host_data, g->host_data, 32);
    /* REPORT_ID: a per-guest random number on a real PSP; here from the seed and handle. */
    uint8_t in[24], d[PSP_DIGEST_SIZE];
    memcpy(in, "snpref-rid", 8);
    memcpy(in + 8, &p->cfg.seed, 8);
    memcpy(in + 16, &g->handle, 8);
    psp_sha384(in, sizeof(in), d);
    memcpy(r->report_id, d, 32);
    memset(r->report_id_ma, 0xFF, 32); /* no migration agent */
    r->cpuid_fam_id = 0x19, r->cpuid_mod_id = 0x01, r->cpuid_step = 0x01; /* p->cfg.fms */
    memcpy(r->chip_id, psp_chip_id(c), 64);
    r->current_major = r->committed_major = p->cfg.api_major;
    r->current_minor = r->committed_minor = p->cfg.api_minor;
    psp_vcek_sign(c, r, SNP_REPORT_SIGNED_LEN, r->sig_r, r->sig_s);
}

static size_t report_rsp(struct psp *p, const struct psp_gctx *g, unsigned vmpck,
                         const uint8_t *pl, size_t len, uint8_t *out)
{
    struct snp_report_resp *rs = (struct snp_report_resp *)out;
    struct snp_report_req rq;
    memset(rs, 0, sizeof(*rs));
    if (len < sizeof(rq)) {
        rs->status = SEV_RET_INVALID_PARAM;
        return sizeof(*rs);
    }
    memcpy(&rq, pl, sizeof(rq));
    /* The requester (VMPCKn: VMPLn) may not ask for a more privileged VMPL. */
    if (rq.vmpl > 3 || rq.vmpl < vmpck || rq.key_sel > 2) {
        rs->status = SEV_RET_INVALID_PARAM;
        return sizeof(*rs);
    }
    build_report(p, g, &rq, &rs->report);
    rs->report_size = sizeof(rs->report);
    return sizeof(*rs);
}

/* MSG_KEY_REQ: HMAC-SHA-384 of the request's fields under the VCEK secret, 32 bytes. */
static size_t key_rsp(struct psp *p, const struct psp_gctx *g, unsigned vmpck, const uint8_t *pl,
                      size_t len, uint8_t *out)
{
    struct snp_key_resp *rs = (struct snp_key_resp *)out;
    struct snp_key_req rq;
    memset(rs, 0, sizeof(*rs));
    if (len < sizeof(rq)) {
        rs->status = SEV_RET_INVALID_PARAM;
        return sizeof(*rs);
    }
    memcpy(&rq, pl, sizeof(rq));
    if (rq.root_key_select > 1 || rq.vmpl > 3 || rq.vmpl < vmpck || (rq.guest_field_select >> 6)) {
        rs->status = SEV_RET_INVALID_PARAM;
        return sizeof(*rs);
    }
    uint8_t msg[32 + 48 + 8], mac[48];
    unsigned n = 0;
    memcpy(msg, &rq, 32);
    memcpy(msg + 32, g->ld, 48); /* guest_field_select bit 3 mixes the measurement; the model always does */
    memcpy(msg + 80, &g->policy, 8);
    SNP_ASSERT(HMAC(EVP_sha384(), psp_vcek_secret(psp_chain_get(p)), 32, msg, sizeof(msg), mac, &n));
    memcpy(rs->key, mac, 32);
    return sizeof(*rs);
}

uint32_t psp_guest_request(struct psp *p, uint64_t gctx, const uint8_t *req, uint8_t *resp)
{
    struct psp_gctx *g = psp_find_guest(p, gctx);
    memset(resp, 0, 4096);
    if (!g)
        return psp_fail(p, SEV_RET_INVALID_GUEST, "no guest context with this handle");
    if (g->state != PSP_GSTATE_RUNNING)
        return psp_fail(p, SEV_RET_INVALID_GUEST_STATE, "guest request before LAUNCH_FINISH");
    struct snp_msg_hdr h;
    memcpy(&h, req, sizeof(h));
    if (h.algo != SNP_AEAD_AES_256_GCM || h.hdr_version != SNP_MSG_HDR_VERSION ||
        h.hdr_sz != sizeof(h) || h.msg_vmpck > 3 || h.msg_sz > SNP_MSG_PAYLOAD_MAX ||
        (h.msg_type != SNP_MSG_REPORT_REQ && h.msg_type != SNP_MSG_KEY_REQ))
        return psp_fail(p, SEV_RET_INVALID_PARAM, "malformed guest message header");
    unsigned k = h.msg_vmpck;
    if (h.msg_seqno != g->msg_seqno[k] + 1)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "guest message sequence number is not the next");
    static uint8_t plain[4096];
    if (!gcm(false, g->vmpck[k], h.msg_seqno, req + SNP_MSG_AAD_OFFSET, req + sizeof(h), h.msg_sz,
             plain, h.authtag))
        return psp_fail(p, SEV_RET_INVALID_PARAM, "guest message authentication failed");
    static uint8_t answer[4096];
    size_t n = h.msg_type == SNP_MSG_REPORT_REQ ? report_rsp(p, g, k, plain, h.msg_sz, answer)
                                                : key_rsp(p, g, k, plain, h.msg_sz, answer);
    struct snp_msg_hdr o;
    memset(&o, 0, sizeof(o));
    o.msg_seqno = h.msg_seqno + 1;
    o.algo = SNP_AEAD_AES_256_GCM;
    o.hdr_version = SNP_MSG_HDR_VERSION;
    o.hdr_sz = sizeof(o);
    o.msg_type = (uint8_t)(h.msg_type + 1);
    o.msg_version = h.msg_version;
    o.msg_sz = (uint16_t)n;
    o.msg_vmpck = (uint8_t)k;
    memcpy(resp, &o, sizeof(o));
    SNP_ASSERT(gcm(true, g->vmpck[k], o.msg_seqno, resp + SNP_MSG_AAD_OFFSET, answer, n,
                   resp + sizeof(o), ((struct snp_msg_hdr *)resp)->authtag));
    g->msg_seqno[k] = o.msg_seqno;
    return SEV_RET_SUCCESS;
}

/*
 * SNP_HV_REPORT_REQ: the report of a running guest for its hypervisor, as
 * the guest's MSG_REPORT_REQ at VMPL 0 with zero REPORT_DATA would get it.
 * UNCERTAIN (the ABI text was not available): the response page is
 * firmware-owned, as SNP_PLATFORM_STATUS's (else INVALID_PAGE_STATE).
 */
uint32_t psp_hv_report(struct psp *p, struct psp_gctx *g, const struct psp_snp_hv_report_req *c)
{
    if (g->state != PSP_GSTATE_RUNNING)
        return psp_fail(p, SEV_RET_INVALID_GUEST_STATE, "SNP_HV_REPORT_REQ before LAUNCH_FINISH");
    if ((c->key_sel & ~3u) || (c->key_sel & 3u) == 3 || c->reserved_0xc)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "reserved SNP_HV_REPORT_REQ fields are set");
    struct snp_report_resp *rs = NULL;
    if (c->rsp_paddr % 4096 == 0)
        rs = mem_ptr(p->mem, c->rsp_paddr, sizeof(*rs));
    if (!rs)
        return psp_fail(p, SEV_RET_INVALID_ADDRESS, "response page unaligned or outside RAM");
    if (!psp_firmware_page(p, c->rsp_paddr))
        return psp_fail(p, SEV_RET_INVALID_PAGE_STATE, "response page is not firmware-owned");
    struct snp_report_req rq;
    memset(&rq, 0, sizeof(rq));
    rq.key_sel = c->key_sel;
    memset(rs, 0, sizeof(*rs));
    build_report(p, g, &rq, &rs->report);
    rs->report_size = sizeof(rs->report);
    return SEV_RET_SUCCESS;
}
