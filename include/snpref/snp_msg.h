/* SPDX-License-Identifier: MIT */
/*
 * SNP guest messages and the secrets page, shared unchanged by the model (the
 * PSP's side, model/psp/psp_guest.c) and the freestanding guest SDK (the
 * guest's side, guests/sdk/attest.c), like sev.h: SEV-SNP Firmware ABI 56860
 * "SNP_GUEST_REQUEST", "MSG_REPORT_REQ", "MSG_KEY_REQ" and "ATTESTATION_REPORT"
 * as Linux include/uapi/linux/sev-guest.h, drivers/virt/coco/sev-guest and
 * virtee/sev lay them out (docs/attestation.md). A request page holds the
 * 96-byte header and the payload, AES-256-GCM under the VMPCK the header
 * names: IV = the 64-bit sequence number zero-padded to 96 bits, AAD = header
 * bytes 0x30-0x5F, tag = the first 16 bytes of authtag.
 */
#ifndef SNPREF_SNP_MSG_H
#define SNPREF_SNP_MSG_H

#include <stdint.h>

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
#define SNP_MSG_TYPE_OFFSET 0x34
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

/* ---- The secrets page (Linux arch/x86/include/asm/sev.h struct snp_secrets_page, with
 * tsc_factor; coconut-svsm SecretsPage): the PSP fills it at launch, the guest reads
 * its VMPCKs from it and keeps its message sequence numbers in the OS area. ---------- */
#define SNP_VMPCK_SIZE 32
struct snp_secrets_os_area {
    uint32_t msg_seqno[4];
    uint64_t ap_jump_table_pa;
    uint8_t reserved[40];
    uint8_t guest_usage[32];
} __attribute__((packed));
_Static_assert(sizeof(struct snp_secrets_os_area) == 96, "secrets OS area");

struct snp_secrets_page {
    uint32_t version;
    uint32_t imien;                          /* bit 0: an IMI launch */
    uint32_t fms;                            /* CPUID Fn0000_0001 EAX of the platform */
    uint32_t reserved_0xc;
    uint8_t gosvw[16];                       /* 0x010 */
    uint8_t vmpck[4][SNP_VMPCK_SIZE];        /* 0x020: VMPCK0-3 */
    struct snp_secrets_os_area os_area;      /* 0x0A0: the guest's own */
    uint8_t vmsa_tweak_bitmap[64];           /* 0x100 */
    uint64_t svsm_base, svsm_size, svsm_caa; /* 0x140 */
    uint32_t svsm_max_version;               /* 0x158 */
    uint8_t svsm_guest_vmpl;                 /* 0x15C */
    uint8_t reserved_0x15d[3];
    uint32_t tsc_factor;                     /* 0x160 */
    uint8_t reserved_0x164[3740];
} __attribute__((packed));
_Static_assert(sizeof(struct snp_secrets_page) == 4096, "secrets page");
_Static_assert(__builtin_offsetof(struct snp_secrets_page, os_area) == 0xA0, "");
_Static_assert(__builtin_offsetof(struct snp_secrets_page, tsc_factor) == 0x160, "");

#endif
