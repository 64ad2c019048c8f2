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
#include "snpref/snp_msg.h"

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
