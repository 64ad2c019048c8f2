/* SPDX-License-Identifier: MIT */
/*
 * The SNP guest-message client (sdk/attest.h): MSG_REPORT_REQ and MSG_KEY_REQ
 * sealed with AES-256-GCM under VMPCKn, sent by the GUEST_REQUEST or
 * EXT_GUEST_REQUEST NAE (GHCB spec 4.1.8: SW_EXITINFO1/2 = request/response
 * page GPA; RAX/RBX = certificate pages and their count), the response
 * checked and opened. The checks and the key wipe follow Linux's
 * drivers/virt/coco/sev-guest (verify_and_dec_payload, snp_disable_vmpck);
 * the IV and AAD follow its enc_payload.
 */
#include <sdk/sdk.h>
#include <sdk/aes_gcm.h>
#include <sdk/attest.h>

#define VMM_ERR_INVALID_LEN 1u

/* GHCB spec 4.1.8.1 (virtee/sev CertType), in the byte order of their text form. */
const uint8_t sdk_guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
const uint8_t sdk_guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                  0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
const uint8_t sdk_guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                  0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

static struct spinlock msg_lock;
static uint8_t *req_page, *resp_page;   /* shared with the hypervisor */
static uint8_t resp_copy[4096];         /* private: what is checked is what is used */

const char *sdk_msg_err_name(int err)
{
    static const char *const names[] = {"ok", "not an SNP guest", "bad arguments",
                                        "VMPCK disabled", "GHCB request refused",
                                        "VMM error", "firmware error", "bad response header",
                                        "bad response sequence number", "bad response tag"};
    return err >= 0 && err < (int)(sizeof(names) / sizeof(names[0])) ? names[err] : "?";
}

static struct snp_secrets_page *secrets(void)
{
    return (struct snp_secrets_page *)(uintptr_t)sdk_bootinfo->secrets_page;
}

static bool key_wiped(const uint8_t *k)
{
    uint8_t any = 0;
    for (unsigned i = 0; i < SNP_VMPCK_SIZE; i++)
        any |= k[i];
    return any == 0;
}

uint64_t sdk_snp_next_seqno(unsigned vmpck)
{
    return (uint64_t)secrets()->os_area.msg_seqno[vmpck & 3] + 1;
}

static void iv_of(uint64_t seqno, uint8_t iv[SDK_GCM_IV_SIZE])
{
    for (unsigned i = 0; i < SDK_GCM_IV_SIZE; i++)
        iv[i] = i < 8 ? (uint8_t)(seqno >> (8 * i)) : 0;
}

/* Header and sealed payload into the shared request page. */
static void seal_request(const struct sdk_msg *m, const uint8_t *key)
{
    struct snp_msg_hdr *h = (struct snp_msg_hdr *)(void *)req_page;
    uint8_t iv[SDK_GCM_IV_SIZE];
    memset(req_page, 0, 4096);
    h->msg_seqno = m->sent_seqno;
    h->algo = SNP_AEAD_AES_256_GCM;
    h->hdr_version = SNP_MSG_HDR_VERSION;
    h->hdr_sz = sizeof(*h);
    h->msg_type = m->type;
    h->msg_version = 1;
    h->msg_sz = m->req_len;
    h->msg_vmpck = (uint8_t)m->vmpck;
    iv_of(m->sent_seqno, iv);
    sdk_gcm_seal(key, iv, req_page + SNP_MSG_AAD_OFFSET, SNP_MSG_AAD_LEN, m->req, m->req_len,
                 req_page + sizeof(*h), h->authtag);
}

/* The NAE. Returns SDK_MSG_OK or the hypervisor's refusal; sets exit_info2 / cert_pages_needed. */
static int send_request(struct sdk_msg *m)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    uint64_t code = m->certs ? SVM_VMGEXIT_EXT_GUEST_REQUEST : SVM_VMGEXIT_GUEST_REQUEST;
    if (m->certs) {
        GHCB_SET(g, rax, (uint64_t)(uintptr_t)m->certs);
        GHCB_SET(g, rbx, m->cert_pages);
    }
    uint32_t r = sdk_ghcb_call(g, code, (uint64_t)(uintptr_t)req_page,
                               (uint64_t)(uintptr_t)resp_page);
    m->exit_info2 = g->save.sw_exit_info_2;
    m->cert_pages_needed = m->certs ? g->save.rbx : 0;
    sdk_ghcb_put(&st);
    if (r != 0)
        return SDK_MSG_VMGEXIT;
    if (m->exit_info2 >> 32)
        return SDK_MSG_VMM;
    return (uint32_t)m->exit_info2 ? SDK_MSG_FIRMWARE : SDK_MSG_OK;
}

/* The response copied out of the shared page, checked as Linux's verify_and_dec_payload. */
static int open_response(struct sdk_msg *m, const uint8_t *key)
{
    memcpy(resp_copy, resp_page, sizeof(resp_copy));
    const struct snp_msg_hdr *h = (const struct snp_msg_hdr *)(const void *)resp_copy;
    if (h->algo != SNP_AEAD_AES_256_GCM || h->hdr_version != SNP_MSG_HDR_VERSION ||
        h->hdr_sz != sizeof(*h) || h->msg_type != m->type + 1 || h->msg_vmpck != m->vmpck ||
        h->msg_sz > m->resp_cap || h->msg_sz > SNP_MSG_PAYLOAD_MAX)
        return SDK_MSG_BAD_HEADER;
    if (h->msg_seqno != m->sent_seqno + 1)
        return SDK_MSG_BAD_SEQNO;
    uint8_t iv[SDK_GCM_IV_SIZE];
    iv_of(h->msg_seqno, iv);
    if (!sdk_gcm_open(key, iv, resp_copy + SNP_MSG_AAD_OFFSET, SNP_MSG_AAD_LEN,
                      resp_copy + sizeof(*h), h->msg_sz, m->resp, h->authtag))
        return SDK_MSG_BAD_TAG;
    m->resp_len = h->msg_sz;
    return SDK_MSG_OK;
}

static int exchange(struct sdk_msg *m)
{
    struct snp_secrets_page *sp = secrets();
    uint8_t *key = sp->vmpck[m->vmpck];
    if (key_wiped(key))
        return SDK_MSG_KEY_DISABLED;
    if (!req_page) {
        req_page = sdk_alloc_shared_pages(2);
        resp_page = req_page + 4096;
    }
    m->sent_seqno = m->seqno ? m->seqno : (uint64_t)sp->os_area.msg_seqno[m->vmpck] + 1;
    seal_request(m, key);
    memset(resp_page, 0, 4096);
    int rc = send_request(m);
    if (rc == SDK_MSG_VMM && (m->exit_info2 >> 32) == VMM_ERR_INVALID_LEN)
        return rc; /* not consumed: the caller may send it again with more pages */
    if (rc == SDK_MSG_OK)
        rc = open_response(m, key);
    if (rc != SDK_MSG_OK) {
        memset(key, 0, SNP_VMPCK_SIZE); /* Linux snp_disable_vmpck: never reuse this IV */
        return rc;
    }
    if (!m->seqno)
        sp->os_area.msg_seqno[m->vmpck] += 2;
    return SDK_MSG_OK;
}

int sdk_snp_msg(struct sdk_msg *m)
{
    m->resp_len = 0, m->sent_seqno = 0, m->exit_info2 = 0, m->cert_pages_needed = 0;
    if (!sdk_snp_active())
        return SDK_MSG_NOT_SNP;
    if (m->vmpck > 3 || m->req_len > SNP_MSG_PAYLOAD_MAX ||
        (m->type != SNP_MSG_REPORT_REQ && m->type != SNP_MSG_KEY_REQ))
        return SDK_MSG_BAD_ARGS;
    spin_lock(&msg_lock);
    int rc = exchange(m);
    spin_unlock(&msg_lock);
    return rc;
}

int sdk_snp_report(unsigned vmpck, unsigned vmpl, const uint8_t data[64], void *certs,
                   uint64_t cert_pages, struct snp_report *rep, uint32_t *status)
{
    struct snp_report_req rq;
    static struct snp_report_resp rs; /* 1216 bytes: not on the boot stack */
    memset(&rq, 0, sizeof(rq));
    memcpy(rq.user_data, data, 64);
    rq.vmpl = vmpl;
    struct sdk_msg m = {.vmpck = vmpck, .type = SNP_MSG_REPORT_REQ, .req = &rq,
                        .req_len = sizeof(rq), .resp = &rs, .resp_cap = sizeof(rs),
                        .certs = certs, .cert_pages = cert_pages};
    int rc = sdk_snp_msg(&m);
    *status = rc == SDK_MSG_OK ? rs.status : ~0u;
    if (rc == SDK_MSG_OK && rs.status == 0 &&
        (m.resp_len < sizeof(rs) || rs.report_size != sizeof(*rep)))
        return SDK_MSG_BAD_HEADER;
    if (rc == SDK_MSG_OK && rs.status == 0)
        memcpy(rep, &rs.report, sizeof(*rep));
    return rc;
}

int sdk_snp_derived_key(unsigned vmpck, const struct snp_key_req *rq, uint8_t key[32],
                        uint32_t *status)
{
    struct snp_key_resp rs;
    struct sdk_msg m = {.vmpck = vmpck, .type = SNP_MSG_KEY_REQ, .req = rq,
                        .req_len = sizeof(*rq), .resp = &rs, .resp_cap = sizeof(rs)};
    int rc = sdk_snp_msg(&m);
    *status = rc == SDK_MSG_OK ? rs.status : ~0u;
    if (rc == SDK_MSG_OK && rs.status == 0 && m.resp_len < sizeof(rs))
        return SDK_MSG_BAD_HEADER;
    if (rc == SDK_MSG_OK && rs.status == 0)
        memcpy(key, rs.key, 32);
    return rc;
}

bool sdk_cert_find(const void *table, size_t cap, const uint8_t guid[16], const uint8_t **cert,
                   uint32_t *len)
{
    const uint8_t *t = table;
    static const uint8_t zero[16];
    for (size_t e = 0; (e + 1) * 24 <= cap; e++) {
        const uint8_t *ent = t + 24 * e;
        if (!memcmp(ent, zero, 16))
            return false; /* the zero entry ends the table */
        if (memcmp(ent, guid, 16))
            continue;
        uint32_t off, n;
        memcpy(&off, ent + 16, 4);
        memcpy(&n, ent + 20, 4);
        if ((uint64_t)off + n > cap)
            return false;
        *cert = t + off, *len = n;
        return true;
    }
    return false;
}
