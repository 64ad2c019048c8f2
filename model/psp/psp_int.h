/* SPDX-License-Identifier: MIT */
/*
 * Inside the PSP model (psp.h): the guest context the firmware keeps per guest
 * (in firmware-owned pages on a real PSP, in host memory here) and what
 * psp.c (contexts, START/ACTIVATE/FINISH/DECOMMISSION) shares with
 * psp_launch.c (SNP_LAUNCH_UPDATE and the launch digest).
 */
#ifndef SNPREF_PSP_INT_H
#define SNPREF_PSP_INT_H

#include "psp.h"

#define PSP_MAX_GUESTS 64   /* contexts alive at once; more is RESOURCE_LIMIT */

struct psp_gctx {
    uint64_t handle;
    enum psp_gstate state;
    uint32_t asid;                        /* 0 until SNP_ACTIVATE */
    uint64_t policy;
    uint8_t gosvw[16];
    uint32_t desired_tsc_khz; /* LAUNCH_START's; XXX(model): Secure TSC is not modelled */
    uint8_t ld[PSP_DIGEST_SIZE];          /* launch digest so far */
    uint64_t pages;                       /* 4 KiB pages measured */
    uint8_t vmpck[4][SNP_VMPCK_SIZE];     /* derived at GCTX_CREATE */
    uint8_t host_data[32];
    bool id_block_en;
    struct psp_id_block id_block;
    uint8_t id_key_digest[PSP_DIGEST_SIZE];     /* SHA-384 of the ID public key (0 without) */
    uint8_t author_key_digest[PSP_DIGEST_SIZE]; /* of the author key, with AUTH_KEY_EN */
    enum psp_client owner;                /* the caller that created it */
    uint64_t msg_seqno[4];                /* last sequence number used per VMPCK (psp_guest.c) */
};

struct psp {
    struct mem *mem;
    struct rmp *rmp;
    struct trc *trace;
    struct psp_config cfg;
    struct psp_gctx *guests[PSP_MAX_GUESTS];
    uint64_t next_handle;                 /* handles are never reused */
    const char *why;                      /* reason of the last failure */
    struct psp_chain *chain;              /* ARK/ASK/VCEK, made on first use (psp_cert.c) */
    /* psp_platform.c: the SNP platform state machine. */
    enum psp_pstate pstate;               /* the firmware's own */
    bool client_init[PSP_CLIENTS];        /* each caller's view (psp.h psp_client) */
    enum psp_client caller;               /* of the command running now */
    uint32_t max_snp_asid;                /* from SNP_INIT_EX; cfg.max_asid otherwise */
    uint64_t asid_dirty[1024 / 64];       /* decommissioned, awaiting SNP_DF_FLUSH */
};

/* psp_guest.c: SNP_HV_REPORT_REQ for guest g. */
uint32_t psp_hv_report(struct psp *p, struct psp_gctx *g, const struct psp_snp_hv_report_req *c);
/* psp_platform.c: the page is in the RMP's Firmware state (assigned, ASID 0, immutable). */
bool psp_firmware_page(const struct psp *p, uint64_t spa);
/* psp_platform.c: runs cmd if it is a platform command (*handled set). */
uint32_t psp_platform_command(struct psp *p, uint32_t cmd, void *buf, bool *handled);
/* An ASID freed by SNP_DECOMMISSION needs SNP_DF_FLUSH before reuse. */
void psp_asid_mark_dirty(struct psp *p, uint32_t asid);
bool psp_asid_dirty(const struct psp *p, uint32_t asid);

/* Records why a command fails and returns its status. */
static inline uint32_t psp_fail(struct psp *p, uint32_t status, const char *why)
{
    p->why = why;
    return status;
}

/* SHA-384 (OpenSSL EVP); a failure of OpenSSL itself is a model bug. */
void psp_sha384(const void *data, size_t len, uint8_t out[PSP_DIGEST_SIZE]);

/* The guest context with this handle, or NULL (psp.c). */
struct psp_gctx *psp_find_guest(const struct psp *p, uint64_t handle);

/* psp_launch.c: SNP_LAUNCH_UPDATE for guest g (state and ASID already checked). */
uint32_t psp_launch_update(struct psp *p, struct psp_gctx *g,
                           const struct psp_snp_launch_update *c, uint64_t now);

#endif
