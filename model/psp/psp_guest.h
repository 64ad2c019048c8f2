/* SPDX-License-Identifier: MIT */
/*
 * SNP guest messages and attestation in the PSP model (docs/attestation.md;
 * SEV-SNP Firmware ABI 56860 "SNP_GUEST_REQUEST" and "ATTESTATION_REPORT", as
 * Linux include/uapi/linux/sev-guest.h, drivers/virt/coco/sev-guest and
 * virtee/sev lay them out): a request page holds a message header and an
 * AES-256-GCM payload under VMPCKn (the key the PSP placed in the secrets
 * page); the firmware checks the tag and the sequence number, answers
 * MSG_REPORT_REQ with an attestation report signed by the model's VCEK
 * (ECDSA P-384, SHA-384) and MSG_KEY_REQ with a derived key, encrypted back
 * with the next sequence number. The ARK -> ASK -> VCEK certificate chain is
 * the model's own, deterministic from the seed or kept in a directory.
 */
#ifndef SNPREF_PSP_GUEST_H
#define SNPREF_PSP_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "psp.h"

/* ---- The message header (Linux struct snp_guest_msg_hdr) ------------------------------ */
#define SNP_AEAD_AES_256_GCM 1
#define SNP_MSG_HDR_VERSION  1
#define SNP_MSG_KEY_REQ      3
#define SNP_MSG_KEY_RSP      4
#define SNP_MSG_REPORT_REQ   5
#define SNP_MSG_REPORT_RSP   6

struct snp_msg_hdr {
    uint8_t authtag[32];      /* AES-GCM tag in the first 16 bytes */
    uint64_t msg_seqno;       /* 0x20 */
    uint8_t rsvd1[8];
    uint8_t algo;             /* 0x30: the AAD starts here */
    uint8_t hdr_version;
    uint16_t hdr_sz;
    uint8_t msg_type;         /* 0x34 */
    uint8_t msg_version;
    uint16_t msg_sz;
    uint32_t rsvd2;
    uint8_t msg_vmpck;        /* 0x3C */
    uint8_t rsvd3[35];
} __attribute__((packed));
_Static_assert(sizeof(struct snp_msg_hdr) == 0x60, "snp_guest_msg_hdr is 96 bytes");
#define PSP_MSG_TYPE_OFFSET 0x34
#define SNP_MSG_AAD_OFFSET  0x30
#define SNP_MSG_AAD_LEN     0x30
#define SNP_MSG_PAYLOAD_MAX (4096 - sizeof(struct snp_msg_hdr))

/* MSG_REPORT_REQ payload (struct snp_report_req) and response (snp_report_resp). */
struct snp_report_req {
    uint8_t user_data[64];
    uint32_t vmpl;
    uint32_t key_sel;         /* 0 VLEK if installed else VCEK, 1 VCEK, 2 VLEK */
    uint8_t rsvd[24];
} __attribute__((packed));
_Static_assert(sizeof(struct snp_report_req) == 96, "");

/* The attestation report, version 3 (ABI 1.55; virtee/sev AttestationReport). */
struct snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;            /* 0x30 */
    uint32_t sig_algo;        /* 1: ECDSA P-384 with SHA-384 */
    uint64_t current_tcb;     /* 0x38 */
    uint64_t platform_info;   /* 0x40 */
    uint32_t flags;           /* 0x48: [0] author key, [1] mask chip id, [4:2] signing key */
    uint32_t rsvd0;
    uint8_t report_data[64];  /* 0x50 */
    uint8_t measurement[48];  /* 0x90 */
    uint8_t host_data[32];    /* 0xC0 */
    uint8_t id_key_digest[48];     /* 0xE0 */
    uint8_t author_key_digest[48]; /* 0x110 */
    uint8_t report_id[32];    /* 0x140 */
    uint8_t report_id_ma[32]; /* 0x160 */
    uint64_t reported_tcb;    /* 0x180 */
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* 0x188 (version 3) */
    uint8_t rsvd1[21];
    uint8_t chip_id[64];      /* 0x1A0 */
    uint64_t committed_tcb;   /* 0x1E0 */
    uint8_t current_build, current_minor, current_major, rsvd2;
    uint8_t committed_build, committed_minor, committed_major, rsvd3;
    uint64_t launch_tcb;      /* 0x1F0 */
    uint8_t rsvd4[168];
    uint8_t sig_r[72];        /* 0x2A0: little-endian, zero-padded */
    uint8_t sig_s[72];
    uint8_t sig_rsvd[368];
} __attribute__((packed));
_Static_assert(sizeof(struct snp_report) == 0x4A0, "attestation report is 1184 bytes");
_Static_assert(__builtin_offsetof(struct snp_report, chip_id) == 0x1A0, "");
_Static_assert(__builtin_offsetof(struct snp_report, sig_r) == 0x2A0, "");
#define SNP_REPORT_SIGNED_LEN 0x2A0

struct snp_report_resp {
    uint32_t status;          /* 0, or 0x16 INVALID_PARAM */
    uint32_t report_size;
    uint8_t rsvd[24];
    struct snp_report report;
} __attribute__((packed));

/* MSG_KEY_REQ (struct snp_derived_key_req) and its response. */
struct snp_key_req {
    uint32_t root_key_select; /* 0 VCEK, 1 VMRK */
    uint32_t rsvd;
    uint64_t guest_field_select;
    uint32_t vmpl;
    uint32_t guest_svn;
    uint64_t tcb_version;
} __attribute__((packed));
_Static_assert(sizeof(struct snp_key_req) == 32, "");
struct snp_key_resp {
    uint32_t status;
    uint8_t rsvd[28];
    uint8_t key[32];
} __attribute__((packed));

/* The model's platform: Milan (family 19h model 01h), TCB values of a shipping firmware. */
#define PSP_TCB_BOOTLOADER 3
#define PSP_TCB_TEE        0
#define PSP_TCB_SNP        8
#define PSP_TCB_MICROCODE  115
/* TCB_VERSION of Milan/Genoa: [7:0] boot loader, [15:8] TEE, [55:48] SNP, [63:56] ucode. */
#define PSP_TCB_VERSION                                                                            \
    ((uint64_t)PSP_TCB_BOOTLOADER | (uint64_t)PSP_TCB_TEE << 8 | (uint64_t)PSP_TCB_SNP << 48 |     \
     (uint64_t)PSP_TCB_MICROCODE << 56)

/*
 * SNP_GUEST_REQUEST for guest context gctx: req is the hypervisor's copy of the
 * guest's request page, resp (4096 bytes) receives the response page. The real
 * command names the two pages by SPA; the model's firmware takes them by
 * pointer. Returns the firmware status: SUCCESS; INVALID_GUEST (no context),
 * INVALID_GUEST_STATE (not running); AUTH_ERROR-like failures of the message
 * (bad header, tag, or sequence number: see docs/attestation.md) leave resp zero.
 */
uint32_t psp_guest_request(struct psp *p, uint64_t gctx, const uint8_t *req, uint8_t *resp);

/* The certificate table of EXT_GUEST_REQUEST (GHCB spec 4.1.8.1): {GUID, offset,
 * length} entries for VCEK, ASK and ARK (DER), a zero entry, then the
 * certificates. Writes it to buf when it fits in cap; returns its size. */
#define PSP_CERT_TABLE_MAX (16 * 1024)
size_t psp_cert_table(struct psp *p, uint8_t *buf, size_t cap);

/* Writes ark.pem, ask.pem and vcek.pem (and vcek.der) into dir. 0, or -1 with err. */
int psp_write_chain(struct psp *p, const char *dir, char *err, size_t errlen);

/* psp_cert.c: the chain and the VCEK's signature. */
struct psp_chain;
struct psp_chain *psp_chain_get(struct psp *p);
void psp_chain_free(struct psp_chain *c);
/* DER of cert i (0 ARK, 1 ASK, 2 VCEK) and its length. */
const uint8_t *psp_chain_der(const struct psp_chain *c, unsigned i, size_t *len);
/* ECDSA P-384 over SHA-384 of msg with the VCEK; r and s little-endian, 72 bytes each. */
void psp_vcek_sign(struct psp_chain *c, const void *msg, size_t len, uint8_t r[72], uint8_t s[72]);
/* The 64-byte chip ID the VCEK certifies (its hwID extension). */
const uint8_t *psp_chip_id(const struct psp_chain *c);
/* 32 bytes of the VCEK's secret for MSG_KEY_REQ derivations. */
const uint8_t *psp_vcek_secret(const struct psp_chain *c);

#endif
