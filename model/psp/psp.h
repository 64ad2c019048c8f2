/* SPDX-License-Identifier: MIT */
/*
 * The AMD Secure Processor (PSP) running the SEV-SNP firmware, as far as an SNP
 * launch needs it (docs/sev-snp-facts.md section 8; SEV-SNP Firmware ABI 56860,
 * which we know through the implementations that file cites): SNP_GCTX_CREATE,
 * SNP_ACTIVATE, SNP_LAUNCH_START, SNP_LAUNCH_UPDATE (every page type, the launch
 * digest), SNP_LAUNCH_FINISH (the ID block) and SNP_DECOMMISSION. The
 * hypervisor (KVM's order: GCTX_CREATE, LAUNCH_START, ACTIVATE, RMPUPDATE +
 * LAUNCH_UPDATE per page, LAUNCH_FINISH) calls psp_command() with a command
 * buffer laid out as Linux include/linux/psp-sev.h has it (docs/sev-snp-facts.md 8.1),
 * and gets the firmware's status code back.
 *
 * Guest contexts: a real PSP keeps each guest's context in a firmware-owned page
 * the hypervisor donated (RMP state "Firmware"), named by that page's SPA in
 * every command (`gctx_paddr`). The model keeps contexts in host memory inside
 * struct psp; `gctx_paddr` carries an opaque handle that SNP_GCTX_CREATE hands
 * out (an output in the model, where the real command takes it as input).
 *
 * The firmware sees guest memory in plaintext (it holds every key), so it reads
 * and writes RAM directly; it changes RMP entries only through rmp_fw_set().
 */
#ifndef SNPREF_PSP_H
#define SNPREF_PSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snpref/snp_msg.h"

struct mem;
struct rmp;
struct trc;

/* The layouts below are little-endian, as the firmware defines them. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "PSP structures assume a LE host");

/* ---- Command IDs (docs/sev-snp-facts.md 8.1; Linux include/linux/psp-sev.h enum sev_cmd) ----- */
#define SEV_CMD_SNP_INIT            0x081u
#define SEV_CMD_SNP_SHUTDOWN        0x082u
#define SEV_CMD_SNP_PLATFORM_STATUS 0x083u
#define SEV_CMD_SNP_DF_FLUSH        0x084u
#define SEV_CMD_SNP_INIT_EX         0x085u
#define SEV_CMD_SNP_PAGE_RECLAIM    0x0C7u
#define SEV_CMD_SNP_DECOMMISSION  0x090u
#define SEV_CMD_SNP_ACTIVATE      0x091u
#define SEV_CMD_SNP_GCTX_CREATE   0x093u
#define SEV_CMD_SNP_HV_REPORT_REQ 0x096u
#define SEV_CMD_SNP_LAUNCH_START  0x0A0u
#define SEV_CMD_SNP_LAUNCH_UPDATE 0x0A1u
#define SEV_CMD_SNP_LAUNCH_FINISH 0x0A2u

/*
 * ---- Status codes: Linux include/uapi/linux/psp-sev.h `sev_ret_code` --------------------
 * (torvalds/linux @ 4f38da1f). The SNP codes are the explicit values of the
 * upstream fix "crypto: ccp: Fix uapi definitions of PSP errors" (0x19..); the
 * "consecutive from 0x28" of docs/sev-snp-facts.md 8.1 is the older, wrong uapi
 * enum (its correction note there gives these values).
 */
#define SEV_RET_SUCCESS              0x00u
#define SEV_RET_INVALID_PLATFORM_STATE 0x01u /* SNP_INIT twice, a command before SNP_INIT */
#define SEV_RET_INVALID_GUEST_STATE  0x02u /* command out of order for the guest's state */
#define SEV_RET_POLICY_FAILURE       0x07u
#define SEV_RET_INACTIVE             0x08u /* the guest has no ASID (SNP_ACTIVATE) yet */
#define SEV_RET_INVALID_ADDRESS      0x09u
#define SEV_RET_BAD_MEASUREMENT      0x0Bu
#define SEV_RET_ASID_OWNED           0x0Cu
#define SEV_RET_INVALID_ASID         0x0Du
#define SEV_RET_DFFLUSH_REQUIRED     0x0Fu /* the ASID was decommissioned and not flushed */
#define SEV_RET_INVALID_GUEST        0x10u /* "Guest handle is invalid" */
#define SEV_RET_INVALID_COMMAND      0x11u
#define SEV_RET_UNSUPPORTED          0x15u
#define SEV_RET_INVALID_PARAM        0x16u
#define SEV_RET_RESOURCE_LIMIT       0x17u
#define SEV_RET_INVALID_PAGE_SIZE    0x19u
#define SEV_RET_INVALID_PAGE_STATE   0x1Au
#define SEV_RET_INVALID_PAGE_OWNER   0x1Cu

/* ---- Guest policy (docs/sev-snp-facts.md 8.4; virtee/sev GuestPolicy) ------------------------ */
#define SNP_POLICY_ABI_MINOR(p)      ((unsigned)((p) & 0xFF))
#define SNP_POLICY_ABI_MAJOR(p)      ((unsigned)(((p) >> 8) & 0xFF))
#define SNP_POLICY_SMT               (1ull << 16)
#define SNP_POLICY_RSVD_MBO          (1ull << 17) /* reserved, must be one */
#define SNP_POLICY_MIGRATE_MA        (1ull << 18)
#define SNP_POLICY_DEBUG             (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET     (1ull << 20)
#define SNP_POLICY_CXL_ALLOW         (1ull << 21)
#define SNP_POLICY_MEM_AES_256_XTS   (1ull << 22)
#define SNP_POLICY_RAPL_DIS          (1ull << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)
#define SNP_POLICY_MBZ               (~0ull << 26)

/* ---- Page types (docs/sev-snp-facts.md 8.1; psp-sev.h SNP_PAGE_TYPE_*) ----------------------- */
enum snp_page_type {
    SNP_PAGE_TYPE_NORMAL = 1,
    SNP_PAGE_TYPE_VMSA = 2,
    SNP_PAGE_TYPE_ZERO = 3,
    SNP_PAGE_TYPE_UNMEASURED = 4,
    SNP_PAGE_TYPE_SECRETS = 5,
    SNP_PAGE_TYPE_CPUID = 6,
};

/* ---- Command buffers (docs/sev-snp-facts.md 8.1; psp-sev.h sev_data_snp_*) ------------------- */

/* SNP_GCTX_CREATE (out: the handle) and SNP_DECOMMISSION (in). Linux sev_data_snp_addr. */
struct psp_snp_addr {
    uint64_t gctx_paddr;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_addr) == 8, "sev_data_snp_addr");

/* SNP_ACTIVATE: bind the guest to an ASID. */
struct psp_snp_activate {
    uint64_t gctx_paddr;
    uint32_t asid;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_activate) == 12, "sev_data_snp_activate");

#define PSP_LAUNCH_START_MA_EN  (1u << 0) /* a migration agent is associated */
#define PSP_LAUNCH_START_IMI_EN (1u << 1) /* launching an incoming migration image */

/* Linux include/linux/psp-sev.h struct sev_data_snp_launch_start, as it is
 * today: desired_tsc_khz (the hypervisor's wanted mean TSC rate for a Secure
 * TSC guest, 0 = the platform's) came between the flags and gosvw. */
struct psp_snp_launch_start {
    uint64_t gctx_paddr;      /* 0x00 */
    uint64_t policy;          /* 0x08 */
    uint64_t ma_gctx_paddr;   /* 0x10 */
    uint32_t flags;           /* 0x18 PSP_LAUNCH_START_*; the rest reserved */
    uint32_t desired_tsc_khz; /* 0x1C */
    uint8_t gosvw[16];        /* 0x20 guest OS-visible workarounds, copied to the secrets page */
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_launch_start) == 48, "sev_data_snp_launch_start");
_Static_assert(__builtin_offsetof(struct psp_snp_launch_start, flags) == 0x18, "");
_Static_assert(__builtin_offsetof(struct psp_snp_launch_start, desired_tsc_khz) == 0x1C, "");
_Static_assert(__builtin_offsetof(struct psp_snp_launch_start, gosvw) == 0x20, "");

/* flags: [0] page size (0 4 KiB, 1 2 MiB), [3:1] page type, [4] IMI page, rest reserved. */
#define PSP_UPDATE_PAGE_2M       (1u << 0)
#define PSP_UPDATE_TYPE(t)       ((uint32_t)(t) << 1)
#define PSP_UPDATE_TYPE_OF(f)    (((f) >> 1) & 7u)
#define PSP_UPDATE_IMI           (1u << 4)
#define PSP_UPDATE_FLAGS_RSVD    (~0u << 5)
/* perms: [7:0] reserved, [15:8] VMPL1, [23:16] VMPL2, [31:24] VMPL3 permission masks. */
#define PSP_UPDATE_PERMS(v1, v2, v3) \
    (((uint32_t)(v1) << 8) | ((uint32_t)(v2) << 16) | ((uint32_t)(v3) << 24))
#define PSP_UPDATE_PERM_OF(p, vmpl) ((uint8_t)((p) >> (8u * (vmpl))))

struct psp_snp_launch_update {
    uint64_t gctx_paddr;
    uint32_t flags;
    uint32_t reserved_0xc;
    uint64_t address;         /* SPA of the page (4 KiB or 2 MiB aligned) */
    uint32_t perms;
    uint32_t reserved_0x1c;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_launch_update) == 32, "sev_data_snp_launch_update");
_Static_assert(__builtin_offsetof(struct psp_snp_launch_update, address) == 16, "");
_Static_assert(__builtin_offsetof(struct psp_snp_launch_update, perms) == 24, "");

#define PSP_FINISH_ID_BLOCK_EN  (1ull << 0)
#define PSP_FINISH_AUTH_KEY_EN  (1ull << 1)
#define PSP_FINISH_VCEK_DISABLED (1ull << 2) /* KVM uapi; accepted, no effect in the model */
#define PSP_FINISH_FLAGS_RSVD   (~0ull << 3)

struct psp_snp_launch_finish {
    uint64_t gctx_paddr;
    uint64_t id_block_paddr;  /* SPA of a struct psp_id_block, if ID_BLOCK_EN */
    uint64_t id_auth_paddr;   /* SPA of a struct psp_id_auth, if ID_BLOCK_EN */
    uint64_t flags;           /* PSP_FINISH_* */
    uint8_t host_data[32];    /* not interpreted: goes to the attestation report */
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_launch_finish) == 64, "sev_data_snp_launch_finish");
_Static_assert(__builtin_offsetof(struct psp_snp_launch_finish, host_data) == 32, "");

/* SNP_INIT_EX (Linux psp-sev.h sev_data_snp_init_ex). flags: [0] INIT_RMP,
 * [1] LIST_PADDR_EN (a list of ranges to make HV-fixed), [2] RAPL_DIS,
 * [3] CIPHERTEXT_HIDING_EN, the rest reserved. */
#define PSP_INIT_EX_INIT_RMP      (1u << 0)
#define PSP_INIT_EX_LIST_PADDR_EN (1u << 1)
#define PSP_INIT_EX_RAPL_DIS      (1u << 2)
#define PSP_INIT_EX_CTH_EN        (1u << 3)
#define PSP_INIT_EX_FLAGS_RSVD    (~0u << 4)
struct psp_snp_init_ex {
    uint32_t flags;
    uint32_t reserved_0x4;
    uint64_t list_paddr;
    uint16_t max_snp_asid;    /* 0: every ASID the platform has */
    uint8_t reserved_0x12[54];
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_init_ex) == 72, "sev_data_snp_init_ex");

/* SNP_PLATFORM_STATUS: the SPA of the page the status is written to (sev_data_snp_addr). */
struct psp_snp_platform_status_buf {
    uint64_t status_paddr;
} __attribute__((packed));

/* What SNP_PLATFORM_STATUS writes (Linux uapi psp-sev.h sev_user_data_snp_status). */
enum psp_pstate { PSP_PSTATE_UNINIT = 0, PSP_PSTATE_INIT = 1 };
#define PSP_STATUS_RMP_INITIALIZED (1u << 0) /* rmp_flags */
struct psp_snp_status {
    uint8_t api_major, api_minor;
    uint8_t state;            /* enum psp_pstate */
    uint8_t rmp_flags;        /* PSP_STATUS_RMP_INITIALIZED */
    uint32_t build_id;
    uint32_t features;        /* [0] mask chip id, [1] mask chip key, [2] VLEK, [3] FEATURE_INFO,
                                 [4] RAPL disabled, [5] ciphertext hiding capable, [6] enabled */
    uint32_t guest_count;
    uint64_t current_tcb_version;
    uint64_t reported_tcb_version;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_status) == 32, "sev_user_data_snp_status");
_Static_assert(__builtin_offsetof(struct psp_snp_status, guest_count) == 12, "");

/* SNP_HV_REPORT_REQ (Linux psp-sev.h sev_data_snp_hv_report_req): the
 * hypervisor asks for its guest's attestation report, written as a
 * MSG_REPORT_RSP (status, size, report) to the page at rsp_paddr. */
struct psp_snp_hv_report_req {
    uint64_t rsp_paddr;
    uint32_t key_sel;         /* [1:0]: 0 VLEK if any else VCEK, 1 VCEK, 2 VLEK */
    uint32_t reserved_0xc;
    uint64_t gctx_paddr;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_snp_hv_report_req) == 24, "sev_data_snp_hv_report_req");

/* SNP_PAGE_RECLAIM (sev_data_snp_page_reclaim): paddr with bit 0 = 2 MiB page. */
#define PSP_RECLAIM_2M 1ull
struct psp_snp_page_reclaim {
    uint64_t paddr;
} __attribute__((packed));

/* ---- Structures the firmware reads or writes (docs/sev-snp-facts.md 8.2, 8.4) ---------------- */

#define PSP_DIGEST_SIZE     48                      /* SHA-384 */
#define PSP_DIGEST_HEX_SIZE (2 * PSP_DIGEST_SIZE + 1) /* lowercase hex + NUL */

/* What LD = SHA-384(PAGE_INFO) hashes for each 4 KiB page (docs/sev-snp-facts.md 8.2). */
struct psp_page_info {
    uint8_t digest_cur[PSP_DIGEST_SIZE];
    uint8_t contents[PSP_DIGEST_SIZE];
    uint16_t length;          /* 0x70 */
    uint8_t page_type;
    uint8_t imi_page;
    uint8_t vmpl3_perms, vmpl2_perms, vmpl1_perms;
    uint8_t reserved;
    uint64_t gpa;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_page_info) == 0x70, "PAGE_INFO is 0x70 bytes");
_Static_assert(__builtin_offsetof(struct psp_page_info, gpa) == 0x68, "");

/* ID block (docs/sev-snp-facts.md 8.2; sev-snp-measure id_block.py). */
#define PSP_ID_BLOCK_VERSION 1
struct psp_id_block {
    uint8_t ld[PSP_DIGEST_SIZE];
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_id_block) == 96, "ID block is 96 bytes (KVM uapi)");

#define PSP_ID_ALGO_ECDSA_P384_SHA384 1
struct psp_id_auth {
    uint32_t id_key_algo;
    uint32_t auth_key_algo;
    uint8_t reserved_0x8[56];
    uint8_t id_block_sig[512];   /* 0x040 */
    uint8_t id_key[1028];        /* 0x240 */
    uint8_t reserved_0x644[60];
    uint8_t id_key_sig[512];     /* 0x680 */
    uint8_t author_key[1028];    /* 0x880 */
    uint8_t reserved_0xc84[892];
} __attribute__((packed));
_Static_assert(sizeof(struct psp_id_auth) == 4096, "ID auth is 4096 bytes (KVM uapi)");
_Static_assert(__builtin_offsetof(struct psp_id_auth, author_key) == 0x880, "");

/* The secrets page layout (struct snp_secrets_page) is shared with the guest SDK:
 * snpref/snp_msg.h. The firmware fills it at LAUNCH_UPDATE. */
#define PSP_SECRETS_VERSION 3   /* UNCERTAIN: the version carrying tsc_factor */

/* CPUID page (docs/sev-snp-facts.md 8.4; Linux asm/sev.h snp_cpuid_table). */
#define PSP_CPUID_COUNT_MAX 64
struct psp_cpuid_fn {
    uint32_t eax_in, ecx_in;
    uint64_t xcr0_in, xss_in;
    uint32_t eax, ebx, ecx, edx;
    uint64_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct psp_cpuid_fn) == 48, "CPUID entry is 48 bytes");

struct psp_cpuid_page {
    uint32_t count;
    uint32_t reserved_0x4;
    uint64_t reserved_0x8;
    struct psp_cpuid_fn fn[PSP_CPUID_COUNT_MAX];
    uint8_t pad[4096 - 16 - PSP_CPUID_COUNT_MAX * 48];
} __attribute__((packed));
_Static_assert(sizeof(struct psp_cpuid_page) == 4096, "CPUID page");

/* ---- The PSP -------------------------------------------------------------------------- */

/* The platform the firmware runs on: what LAUNCH_START checks a policy against. */
struct psp_config {
    uint64_t seed;            /* VMPCKs are derived from it: runs stay reproducible */
    uint32_t fms;             /* secrets page FMS: the platform's CPUID Fn0000_0001 EAX */
    uint32_t max_asid;        /* SNP_ACTIVATE accepts ASIDs 1..max_asid */
    uint8_t api_major, api_minor; /* firmware ABI version */
    bool smt_enabled;         /* SMT on: a policy that does not allow SMT is refused */
    bool rapl_disabled;       /* required by policy RAPL_DIS */
    bool ciphertext_hiding;   /* required by policy CIPHERTEXT_HIDING */
    bool aes_256_xts;         /* required by policy MEM_AES_256_XTS */
    const char *cert_dir;     /* NULL/"": the ARK/ASK/VCEK chain derives from seed (psp_guest.h) */
};

/* The defaults: ABI 1.55, family 19h model 1 (the model's CPUID), ASIDs 1..1023
 * (the RMP's 10-bit field), no SMT, RAPL enabled, no ciphertext hiding,
 * AES-256-XTS available, seed 0. */
void psp_config_default(struct psp_config *c);

struct psp;

/*
 * A PSP acting on RAM m and its RMP r (neither owned; both outlive the PSP).
 * trace may be NULL (no events). Returns NULL only when out of memory.
 */
struct psp *psp_create(struct mem *m, struct rmp *r, struct trc *trace,
                       const struct psp_config *cfg);
/* Frees the PSP and every guest context it still holds. NULL is a no-op. */
void psp_destroy(struct psp *p);

/*
 * Runs firmware command cmd (SEV_CMD_SNP_*) on the command buffer buf (the
 * struct for that command, read and for GCTX_CREATE written). now is the
 * simulated time the launch_update / launch_finish trace events carry.
 * Returns SEV_RET_SUCCESS or the failure status; a failing command changes
 * neither the guest context nor the RMP nor guest memory. psp_why() says why.
 *
 * SNP_LAUNCH_UPDATE expects each page in the Pre-Guest state, as KVM leaves it
 * with rmp_make_private(..., immutable = true): assigned to the guest's ASID at
 * its own GPA (SPA = GPA in this model; a VMSA page may instead be assigned at
 * SNP_VMSA_MEASURE_GPA, as KVM does), immutable, not validated; the firmware
 * leaves it validated and mutable, with the VMSA bit for a VMSA page and the
 * command's VMPL1-3 permissions.
 */
uint32_t psp_command(struct psp *p, uint32_t cmd, void *buf, uint64_t now);

/*
 * The platform commands (psp_platform.c) go through psp_command() too. The
 * platform starts UNINIT: SNP_INIT or SNP_INIT_EX moves it to INIT, and every
 * other SNP command but SNP_PLATFORM_STATUS answers INVALID_PLATFORM_STATE
 * before that. SNP_INIT and SNP_DF_FLUSH take no buffer (buf may be NULL).
 */
enum psp_pstate psp_platform_state(const struct psp *p);

/*
 * Who issues a command. The PSP is one, but its callers are two: the
 * reference hypervisor (L0: psp_command) and the guest behind the mailbox
 * (an L1 acting as an SNP host, psp_command_at). L0 multiplexes them onto the
 * one firmware state, as Hyper-V does for an SNP-host VM (docs/psp.md
 * "Multiplexing"): each caller has its own view of SNP_INIT (the first one
 * initialises the platform, a later one's SNP_INIT only its view), a guest
 * context answers only to the caller that created it (INVALID_GUEST for the
 * other), and ASIDs are one space (ASID_OWNED across callers).
 */
enum psp_client { PSP_CLIENT_HV = 0, PSP_CLIENT_MBOX = 1, PSP_CLIENTS };
/* The view of caller c: PSP_PSTATE_INIT once its SNP_INIT succeeded. */
enum psp_pstate psp_client_state(const struct psp *p, enum psp_client c);

/*
 * A command through the mailbox face (psp_mbox.h): the command buffer is at
 * system-physical address buf_spa in RAM, read there and written back there,
 * as the Linux ccp driver hands it over. A buffer the firmware cannot use
 * answers before the command runs: outside RAM, not 8-byte aligned or
 * crossing a 4 KiB page INVALID_ADDRESS; in a page assigned to a guest
 * INVALID_PAGE_STATE. An unknown command id answers INVALID_COMMAND.
 */
uint32_t psp_command_at(struct psp *p, enum psp_client c, uint32_t cmd, uint64_t buf_spa,
                        uint64_t now);
/* psp_command() as caller c (psp_command is caller PSP_CLIENT_HV). */
uint32_t psp_command_as(struct psp *p, enum psp_client c, uint32_t cmd, void *buf, uint64_t now);

/* Why the last command failed (a static string; "" after a success). */
const char *psp_why(const struct psp *p);
/* "INVALID_PAGE_STATE" etc. for a status code; "UNKNOWN" for others. */
const char *psp_status_name(uint32_t status);
/* "normal", "vmsa", ... as the trace spells page types; NULL for an invalid type. */
const char *psp_page_type_name(unsigned type);

enum psp_gstate { PSP_GSTATE_INIT, PSP_GSTATE_LAUNCH, PSP_GSTATE_RUNNING };

/* What the firmware holds about one guest (for the CLI, attestation and tests). */
struct psp_guest_info {
    enum psp_gstate state;
    uint32_t asid;            /* 0 until SNP_ACTIVATE */
    uint64_t policy;
    uint8_t digest[PSP_DIGEST_SIZE]; /* the launch digest so far (final once RUNNING) */
    uint64_t pages_measured;  /* 4 KiB pages LAUNCH_UPDATE took */
    uint8_t host_data[32];
    bool id_block_en;
    struct psp_id_block id_block; /* as given at LAUNCH_FINISH, if id_block_en */
};

/* Fills *out for the guest with this handle; false if there is none. */
bool psp_guest(const struct psp *p, uint64_t handle, struct psp_guest_info *out);

/* Lowercase hex of a digest, NUL-terminated (96 characters). */
void psp_digest_hex(const uint8_t digest[PSP_DIGEST_SIZE], char out[PSP_DIGEST_HEX_SIZE]);

#endif
