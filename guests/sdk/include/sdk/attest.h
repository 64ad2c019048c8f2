/* SPDX-License-Identifier: MIT */
/*
 * The SNP guest-message client of the SDK: attestation reports and derived
 * keys from the PSP through the hypervisor (GHCB spec 4.1.8 SNP_GUEST_REQUEST
 * and SNP_EXTENDED_GUEST_REQUEST; Firmware ABI 56860 MSG_REPORT_REQ and
 * MSG_KEY_REQ; layouts in <snpref/snp_msg.h>; docs/attestation.md "The guest
 * side"). It behaves as Linux's drivers/virt/coco/sev-guest does:
 *
 *  - the key is VMPCKn from the secrets page; the message sequence number is
 *    kept in the secrets page's OS area (msg_seqno[n]: the last response's),
 *    the request takes the next one and a completed exchange advances it by 2;
 *  - the payload is sealed with the SDK's AES-256-GCM (sdk/aes_gcm.h) straight
 *    into a shared request page; the response page is copied to private
 *    memory before it is checked (type, version, size, VMPCK, sequence number
 *    = request + 1, tag) and decrypted, so the hypervisor cannot change it
 *    between the check and the use;
 *  - any failure after the hypervisor saw the request, except its "too few
 *    certificate pages" answer (the message was not used, the same bytes may
 *    go again), wipes VMPCKn from the secrets page: sending another payload
 *    under the same sequence number would reuse the GCM IV. Later requests on
 *    that key answer SDK_MSG_KEY_DISABLED.
 *
 * sdk_snp_msg() serialises its callers with a lock; sdk_snp_report() keeps the
 * response in one static buffer, so call it from one vCPU at a time. SNP guests
 * only: elsewhere every call answers SDK_MSG_NOT_SNP.
 */
#ifndef SDK_ATTEST_H
#define SDK_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <snpref/snp_msg.h>

enum sdk_msg_err {
    SDK_MSG_OK = 0,
    SDK_MSG_NOT_SNP,      /* not running as an SNP guest */
    SDK_MSG_BAD_ARGS,     /* VMPCK > 3, a payload too large, an unknown message type */
    SDK_MSG_KEY_DISABLED, /* VMPCKn was wiped after an earlier failure */
    SDK_MSG_VMGEXIT,      /* SW_EXITINFO1 != 0: the hypervisor refused the GHCB request */
    SDK_MSG_VMM,          /* VMM error in SW_EXITINFO2[63:32] (1: too few certificate pages) */
    SDK_MSG_FIRMWARE,     /* firmware status in SW_EXITINFO2[31:0] */
    SDK_MSG_BAD_HEADER,   /* response type, version, algorithm, VMPCK or size wrong */
    SDK_MSG_BAD_SEQNO,    /* response sequence number is not request + 1 */
    SDK_MSG_BAD_TAG,      /* response does not authenticate under VMPCKn */
};
const char *sdk_msg_err_name(int err);

/* One exchange. The caller fills the inputs; the outputs are set on every return. */
struct sdk_msg {
    unsigned vmpck;            /* 0-3 */
    uint8_t type;              /* SNP_MSG_REPORT_REQ or SNP_MSG_KEY_REQ */
    const void *req;           /* the plaintext payload */
    uint16_t req_len;
    void *resp;                /* private buffer for the decrypted response payload */
    uint16_t resp_cap;
    void *certs;               /* non-NULL: EXT_GUEST_REQUEST, certificate table into these */
    uint64_t cert_pages;       /*   shared pages (sdk_alloc_shared_pages) */
    uint64_t seqno;            /* 0: the next one; else exactly this (tests of the firmware's check) */
    /* outputs */
    uint16_t resp_len;
    uint64_t sent_seqno;       /* the sequence number the request carried */
    uint64_t exit_info2;       /* SW_EXITINFO2: VMM error << 32 | firmware status */
    uint64_t cert_pages_needed;/* RBX when the hypervisor answered INVALID_LEN */
};
int sdk_snp_msg(struct sdk_msg *m);

/* MSG_REPORT_REQ on VMPCK vmpck for a report at vmpl with 64 bytes of report
 * data; certs/cert_pages as in struct sdk_msg (NULL: GUEST_REQUEST). Returns an
 * sdk_msg_err; SDK_MSG_OK also needs *status == 0 (the response's status field)
 * for *rep to hold a report. */
int sdk_snp_report(unsigned vmpck, unsigned vmpl, const uint8_t data[64], void *certs,
                   uint64_t cert_pages, struct snp_report *rep, uint32_t *status);
/* MSG_KEY_REQ on VMPCK vmpck: the 32-byte key the PSP derives from rq. */
int sdk_snp_derived_key(unsigned vmpck, const struct snp_key_req *rq, uint8_t key[32],
                        uint32_t *status);
/* The message sequence number the next request on vmpck will carry. */
uint64_t sdk_snp_next_seqno(unsigned vmpck);

/* The certificate table of EXT_GUEST_REQUEST (GHCB spec 4.1.8.1): the entry whose
 * GUID is guid (16 bytes, the table's byte order). true with the certificate's
 * bytes and length; false when the table (of cap bytes) has no such entry or
 * names bytes outside itself. */
bool sdk_cert_find(const void *table, size_t cap, const uint8_t guid[16], const uint8_t **cert,
                   uint32_t *len);
/* The GUIDs of the VCEK, ASK and ARK entries, in the table's byte order. */
extern const uint8_t sdk_guid_vcek[16], sdk_guid_ask[16], sdk_guid_ark[16];

#endif
