/* SPDX-License-Identifier: MIT */
/*
 * The SEV-SNP reverse map table (docs/sev-snp-facts.md section 6; AMD APM vol. 2 15.36):
 * one 16-byte entry per 4 KiB page of system-physical memory saying who owns
 * the page and in what state. Two layers, as Linux arch/x86/virt/svm/sev.c has
 * them: the raw packed entries (the layout of the PPR for family 19h model 01h,
 * docs/sev-snp-facts.md 6.1) and the architectural view (struct rmp_entry) that
 * rmp_lookup() returns. State changes happen only through the instructions
 * below, each returning the status code the hardware puts in EAX.
 *
 * In this model system-physical equals guest-physical for RAM (the reference
 * hypervisor's nested page tables are the identity), so `spa` and `gpa` name
 * the same page; the entry's GPA field still has to match the guest's access.
 */
#ifndef SNPREF_RMP_H
#define SNPREF_RMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rmp_size { RMP_4K = 0, RMP_2M = 1 };

/* VMPL permission mask bits (docs/sev-snp-facts.md 6.1): VMPL0 always has all four. */
#define RMP_PERM_R  0x1u
#define RMP_PERM_W  0x2u
#define RMP_PERM_XU 0x4u  /* execute at CPL3 */
#define RMP_PERM_XS 0x8u  /* execute at CPL0-2 */
#define RMP_PERM_ALL 0xFu

/* The architectural view of the entry that governs one 4 KiB page. */
struct rmp_entry {
    bool assigned;
    enum rmp_size size;     /* 2M: the entry at the 2 MiB-aligned page governs all 512 */
    bool immutable;
    uint64_t gpa;           /* page-aligned GPA the page is assigned at */
    uint32_t asid;          /* owning guest (10 bits in the raw entry) */
    bool vmsa;              /* the page is a VMSA (set by RMPADJUST bit 16) */
    bool validated;         /* set by PVALIDATE */
    uint8_t perms[4];       /* per VMPL; perms[0] is RMP_PERM_ALL for an assigned page */
};

/* EAX status codes (docs/sev-snp-facts.md 6.3). */
enum rmp_rc {
    RMP_OK = 0,
    RMP_FAIL_INPUT = 1,
    RMP_FAIL_PERMISSION = 2,
    RMP_FAIL_INUSE = 3,
    RMP_FAIL_OVERLAP = 4,
    RMP_FAIL_SIZEMISMATCH = 6,
};

/* #NPF EXITINFO1 bits for RMP violations (docs/sev-snp-facts.md 6.2, KVM PFERR_*). */
#define NPF_P      (1ull << 0)
#define NPF_W      (1ull << 1)
#define NPF_U      (1ull << 2)
#define NPF_FETCH  (1ull << 4)
#define NPF_RMP    (1ull << 31)
#define NPF_FINAL  (1ull << 32)  /* fault on the final GPA */
#define NPF_PT     (1ull << 33)  /* fault on a guest page-table access */
#define NPF_ENC    (1ull << 34)  /* the access was encrypted (C=1) */
#define NPF_SIZEM  (1ull << 35)  /* page-size mismatch */
#define NPF_VMPL   (1ull << 36)  /* VMPL permission violation */

struct rmp;

/* One entry per 4 KiB page of [0, ram_size); all hypervisor-owned (unassigned). */
struct rmp *rmp_create(uint64_t ram_size);
void rmp_destroy(struct rmp *r);

/* The entry governing spa (a 4 KiB page, or the 2 MiB entry that covers it).
 * false if spa lies outside the table. */
bool rmp_lookup(const struct rmp *r, uint64_t spa, struct rmp_entry *out);

/*
 * The raw 16-byte entry of one 4 KiB slot, as the hardware stores it (for dumps
 * and tests). Low u64 as docs/sev-snp-facts.md 6.1: bit 0 assigned, 1 pagesize, 2
 * immutable, [50:12] GPA, [60:51] ASID, 61 VMSA, 62 validated. The high u64's
 * layout is UNCERTAIN in public sources (docs/sev-snp-facts.md 6.1, 12.4); the model's
 * choice: [3:0] VMPL1, [7:4] VMPL2, [11:8] VMPL3 permission masks (RMP_PERM_*),
 * bit 63 "a vCPU runs from this VMSA" (model bookkeeping, per 4 KiB slot, not
 * an RMP field). A 2 MiB entry sits in its 2 MiB-aligned slot; the other 511
 * slots read as zero while it exists.
 */
void rmp_raw(const struct rmp *r, uint64_t spa, uint64_t raw[2]);

/* ---- Hypervisor instructions ------------------------------------------------- */

/* RMPUPDATE's input (docs/sev-snp-facts.md 6.3: `rmp_state`). */
struct rmp_state {
    uint64_t gpa;
    bool assigned;
    enum rmp_size size;
    bool immutable;
    uint32_t asid;
};

/*
 * RMPUPDATE spa with st. A (re)assignment starts unvalidated, not a VMSA, with
 * no permissions for VMPL1-3; all-zero state except size makes a page shared.
 * FAIL_INPUT: spa outside the table or not aligned to st->size, asid beyond 10
 * bits, an assigned state whose gpa is not aligned to the size, an unassigned
 * one with gpa/asid/immutable set (XXX(model)); FAIL_PERMISSION:
 * the entry is immutable (only the PSP changes those: see rmp_fw_*); FAIL_INUSE:
 * the page is a VMSA a vCPU is running from; FAIL_OVERLAP: a 2 MiB update over
 * assigned 4 KiB entries that differ from it (not assigned to the same ASID at
 * the matching GPA with the same immutable bit: XXX(model)), or a 4 KiB update
 * inside an assigned 2 MiB entry. Checked in that order.
 */
enum rmp_rc rmp_update(struct rmp *r, uint64_t spa, const struct rmp_state *st);

/* PSMASH: split the assigned 2 MiB entry at spa (2 MiB aligned) into 512 4 KiB
 * entries that keep every field, the validated bit included. FAIL_INPUT if spa
 * is not 2 MiB aligned, outside the table, or not an assigned 2 MiB entry. */
enum rmp_rc rmp_psmash(struct rmp *r, uint64_t spa);

/* ---- Guest instructions ------------------------------------------------------ */

/* For these and rmp_check_guest: asid is a guest's (1..1023) and vmpl 0..3;
 * anything else is a model bug (SNP_ASSERT). */

/* An instruction outcome: either a status for EAX (with CF), or a nested page
 * fault the hypervisor sees instead (the instruction then does not complete). */
struct rmp_result {
    enum rmp_rc rc;
    bool cf;                /* PVALIDATE: validated already had the requested value */
    bool npf;               /* an #NPF with npf_error instead of a status */
    uint64_t npf_error;
    const char *reason;     /* what failed, for traces (static string) */
};

/*
 * PVALIDATE by guest asid at vmpl, for the page at gpa (the CPU translated the
 * guest VA), size 4K/2M, validate or rescind (docs/sev-snp-facts.md 6.3):
 *  - FAIL_INPUT: size not 0/1 or gpa not aligned to it;
 *  - FAIL_PERMISSION: vmpl is not 0 (XXX(model): APM detail UNCERTAIN), or
 *    the entry is immutable (XXX(model): conservative);
 *  - #NPF (P|RMP|ENC|FINAL, as every #NPF of PVALIDATE and RMPADJUST): the
 *    page is not assigned to asid at gpa;
 *  - #NPF (RMP|SIZEM): a 4K request on a 2 MiB entry (the hypervisor PSMASHes, retries);
 *  - FAIL_SIZEMISMATCH: a 2M request where the entries are 4 KiB;
 *  - OK with cf = true and nothing changed when validated already had that value.
 */
struct rmp_result rmp_pvalidate(struct rmp *r, uint32_t asid, unsigned vmpl, uint64_t gpa,
                                unsigned size, bool validate);

/*
 * RMPADJUST: attrs [7:0] target VMPL, [11:8] permissions, bit 16 VMSA. The
 * target must be less privileged than vmpl (FAIL_PERMISSION), the page assigned
 * to asid at gpa (#NPF otherwise), sizes as for PVALIDATE; clearing the VMSA
 * bit of a VMSA in use is FAIL_PERMISSION (coconut-svsm knows no FAIL_INUSE there).
 * Also FAIL_PERMISSION: granting a right
 * the caller's VMPL lacks itself, or an immutable entry; FAIL_INPUT: target
 * above 3, other attribute bits set, or the VMSA bit with a 2 MiB size
 * (XXX(model): conservative where the APM detail is UNCERTAIN).
 */
struct rmp_result rmp_rmpadjust(struct rmp *r, uint32_t asid, unsigned vmpl, uint64_t gpa,
                                unsigned size, uint64_t attrs);

/* ---- Access checks (at TLB fill, and for the hypervisor's own accesses) -------- */

enum rmp_access { RMP_READ, RMP_WRITE, RMP_EXEC_USER, RMP_EXEC_SUPER };

enum rmp_verdict {
    RMP_ALLOW,
    RMP_VC_NOT_VALIDATED,   /* #VC with error code 0x404 in the guest */
    RMP_NPF,                /* #NPF to the hypervisor with the error bits */
};

struct rmp_check {
    enum rmp_verdict verdict;
    uint64_t npf_error;     /* RMP_NPF: NPF_* bits */
    const char *reason;     /* static string for traces */
};

/*
 * A guest access by asid at vmpl to gpa, private (c_bit) or shared
 * (docs/sev-snp-facts.md 6.2). Private: assigned, same ASID, same GPA, VMPL permission, then
 * validated (else #VC 0x404), then no write to a VMSA a vCPU runs from.
 * Shared: the page must not be assigned. `pt` marks a guest page-table access
 * (NPF_PT instead of NPF_FINAL). Instruction fetches and page-table walks are
 * always private under SNP; the caller passes c_bit accordingly. An #NPF has
 * NPF_RMP, NPF_ENC if private, NPF_VMPL for a permission miss, and the access
 * bits: NPF_P always (the nested mapping exists, the RMP refused it), NPF_W
 * for writes, NPF_FETCH for fetches, NPF_U for user fetches (XXX(model): the
 * CPL of reads and writes is not an input). An address beyond the table
 * (MMIO) counts as an unassigned page.
 */
struct rmp_check rmp_check_guest(const struct rmp *r, uint32_t asid, unsigned vmpl, uint64_t gpa,
                                 bool c_bit, enum rmp_access acc, bool pt);

/* A hypervisor access: writes to an assigned page fault (verdict RMP_NPF, but
 * npf_error holds the host #PF error code P | W | bit 31 RMP, X86_PF_* style,
 * not NPF_* bits); reads are allowed (they yield ciphertext: keys.h). */
struct rmp_check rmp_check_host(const struct rmp *r, uint64_t spa, bool write);

/* ---- Firmware (PSP) and model bookkeeping ---------------------------------------- */

/* The PSP's own update during launch: may set immutable, validated and the
 * VMSA bit directly (SNP_LAUNCH_UPDATE pre-validates the pages it measures). */
void rmp_fw_set(struct rmp *r, uint64_t spa, const struct rmp_entry *e);

/* A vCPU runs from (or stopped running from) the VMSA at spa. */
void rmp_set_vmsa_in_use(struct rmp *r, uint64_t spa, bool in_use);
bool rmp_vmsa_in_use(const struct rmp *r, uint64_t spa);

#endif
