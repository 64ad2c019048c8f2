/* SPDX-License-Identifier: MIT */
/*
 * The SEV-SNP reverse map table (see rmp.h; docs/sev-snp-facts.md sections 6.1-6.3, AMD
 * APM vol. 2 15.36 and vol. 3 for RMPUPDATE, PSMASH, PVALIDATE, RMPADJUST).
 * Entries are kept in the raw 16-byte form the hardware stores (low u64 as in
 * the PPR for family 19h model 01h); every reader decodes them through
 * rmp_lookup(), every change goes through one of the instructions or the
 * PSP's rmp_fw_set(), as Linux arch/x86/virt/svm/sev.c does.
 *
 * The high u64 is the model's own (its layout is UNCERTAIN in public sources,
 * docs/sev-snp-facts.md 6.1 and open point 12.4):
 *   [3:0]  VMPL1 permission mask (RMP_PERM_*)
 *   [7:4]  VMPL2 permission mask
 *   [11:8] VMPL3 permission mask
 *   63     model bookkeeping, not an RMP field: a vCPU runs from this page as
 *          its VMSA (rmp_set_vmsa_in_use). Kept per 4 KiB slot, whatever entry
 *          governs the page, and never touched by the instructions.
 * VMPL0 has no mask: it always holds every permission on an assigned page.
 *
 * A 2 MiB entry lives in the 2 MiB-aligned slot and governs all 512 pages; the
 * other 511 slots are cleared when it is written and ignored while it exists.
 */
#include "rmp.h"

#include "snpref/base.h"

#include <stdlib.h>
#include <string.h>

/* ---- Raw encoding (docs/sev-snp-facts.md 6.1) ----------------------------------------------- */

#define RAW_ASSIGNED   (1ull << 0)
#define RAW_PAGESIZE   (1ull << 1)
#define RAW_IMMUTABLE  (1ull << 2)
#define RAW_GPA_MASK   0x0007FFFFFFFFF000ull /* [50:12] */
#define RAW_ASID_SHIFT 51
#define RAW_ASID_MASK  (0x3FFull << RAW_ASID_SHIFT) /* [60:51] */
#define RAW_VMSA       (1ull << 61)
#define RAW_VALIDATED  (1ull << 62)

#define RAW_HI_PERM_SHIFT(vmpl) (4u * ((vmpl)-1u)) /* vmpl 1..3 */
#define RAW_HI_PERMS_MASK       0xFFFull
#define RAW_HI_IN_USE           (1ull << 63)

#define RMP_ASID_LIMIT  1024u /* 10-bit ASID field */
#define PAGES_PER_2M    512u
#define SIZE_4K         0x1000ull
#define SIZE_2M         0x200000ull

/* RMPADJUST attributes (docs/sev-snp-facts.md 6.3). */
#define ADJ_TARGET_MASK 0xFFull
#define ADJ_PERM_SHIFT  8
#define ADJ_PERM_MASK   (0xFull << ADJ_PERM_SHIFT)
#define ADJ_VMSA        (1ull << 16)

struct rmp_slot {
    uint64_t lo, hi;
};

struct rmp {
    uint64_t npages;
    struct rmp_slot *slot;
};

static uint64_t size_bytes(enum rmp_size s) { return s == RMP_2M ? SIZE_2M : SIZE_4K; }
static uint64_t size_pages(enum rmp_size s) { return s == RMP_2M ? PAGES_PER_2M : 1; }

static struct rmp_entry decode(const struct rmp_slot *s)
{
    struct rmp_entry e;
    memset(&e, 0, sizeof(e));
    e.assigned = s->lo & RAW_ASSIGNED;
    e.size = (s->lo & RAW_PAGESIZE) ? RMP_2M : RMP_4K;
    e.immutable = s->lo & RAW_IMMUTABLE;
    e.gpa = s->lo & RAW_GPA_MASK;
    e.asid = (uint32_t)((s->lo & RAW_ASID_MASK) >> RAW_ASID_SHIFT);
    e.vmsa = s->lo & RAW_VMSA;
    e.validated = s->lo & RAW_VALIDATED;
    if (e.assigned) {
        e.perms[0] = RMP_PERM_ALL;
        for (unsigned v = 1; v < 4; v++)
            e.perms[v] = (uint8_t)((s->hi >> RAW_HI_PERM_SHIFT(v)) & RMP_PERM_ALL);
    }
    return e;
}

/* Stores e into slot s; the model's in-use bit of the slot stays as it was. */
static void encode(struct rmp_slot *s, const struct rmp_entry *e)
{
    SNP_ASSERT(e->asid < RMP_ASID_LIMIT && (e->gpa & ~RAW_GPA_MASK) == 0);
    uint64_t lo = 0, hi = s->hi & RAW_HI_IN_USE;
    lo |= e->assigned ? RAW_ASSIGNED : 0;
    lo |= e->size == RMP_2M ? RAW_PAGESIZE : 0;
    lo |= e->immutable ? RAW_IMMUTABLE : 0;
    lo |= e->gpa;
    lo |= (uint64_t)e->asid << RAW_ASID_SHIFT;
    lo |= e->vmsa ? RAW_VMSA : 0;
    lo |= e->validated ? RAW_VALIDATED : 0;
    for (unsigned v = 1; v < 4; v++)
        hi |= (uint64_t)(e->perms[v] & RMP_PERM_ALL) << RAW_HI_PERM_SHIFT(v);
    s->lo = lo;
    s->hi = hi;
}

/* ---- Table ------------------------------------------------------------------------ */

struct rmp *rmp_create(uint64_t ram_size)
{
    SNP_ASSERT(ram_size % SIZE_4K == 0);
    struct rmp *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->npages = ram_size / SIZE_4K;
    r->slot = calloc(r->npages ? r->npages : 1, sizeof(*r->slot));
    if (!r->slot) {
        free(r);
        return NULL;
    }
    return r;
}

void rmp_destroy(struct rmp *r)
{
    if (!r)
        return;
    free(r->slot);
    free(r);
}

/* true if the npages slots from spa's page lie inside the table. */
static bool in_table(const struct rmp *r, uint64_t spa, uint64_t npages)
{
    uint64_t first = spa / SIZE_4K;
    return first < r->npages && npages <= r->npages - first;
}

static bool head_is_assigned_2m(const struct rmp *r, uint64_t slot)
{
    uint64_t lo = r->slot[slot & ~(uint64_t)(PAGES_PER_2M - 1)].lo;
    return (lo & RAW_ASSIGNED) && (lo & RAW_PAGESIZE);
}

/* The slot whose entry governs 4 KiB slot `slot`: its 2 MiB head if that holds
 * an assigned 2 MiB entry, else the slot itself. */
static uint64_t governing(const struct rmp *r, uint64_t slot)
{
    return head_is_assigned_2m(r, slot) ? slot & ~(uint64_t)(PAGES_PER_2M - 1) : slot;
}

bool rmp_lookup(const struct rmp *r, uint64_t spa, struct rmp_entry *out)
{
    if (!in_table(r, spa, 1))
        return false;
    *out = decode(&r->slot[governing(r, spa / SIZE_4K)]);
    return true;
}

void rmp_raw(const struct rmp *r, uint64_t spa, uint64_t raw[2])
{
    SNP_ASSERT(in_table(r, spa, 1));
    raw[0] = r->slot[spa / SIZE_4K].lo;
    raw[1] = r->slot[spa / SIZE_4K].hi;
}

/* Writes e at its (size-aligned) slot; a 2 MiB entry clears the 511 slots it
 * governs so that nothing stale shows up if it is later unassigned. */
static void store(struct rmp *r, uint64_t slot, const struct rmp_entry *e)
{
    static const struct rmp_entry none;
    encode(&r->slot[slot], e);
    if (e->size == RMP_2M)
        for (uint64_t i = 1; i < PAGES_PER_2M; i++)
            encode(&r->slot[slot + i], &none);
}

/* ---- RMPUPDATE and PSMASH --------------------------------------------------------------- */

static bool update_input_ok(const struct rmp *r, uint64_t spa, const struct rmp_state *st)
{
    if (st->size != RMP_4K && st->size != RMP_2M)
        return false;
    uint64_t align = size_bytes(st->size);
    if (spa % align || !in_table(r, spa, size_pages(st->size)) || st->asid >= RMP_ASID_LIMIT)
        return false;
    if (st->assigned)
        return st->gpa % align == 0 && (st->gpa & ~RAW_GPA_MASK) == 0;
    /* XXX(model): APM detail UNCERTAIN (docs/sev-snp-facts.md 12.4). A hypervisor-owned
     * entry has nothing to say about a guest, so state that claims one (GPA,
     * ASID, immutable without assigned) is refused rather than stored. */
    return st->gpa == 0 && st->asid == 0 && !st->immutable;
}

/* An assigned 4 KiB entry inside the 2 MiB range that a 2 MiB update would
 * change: not the same guest page it will be part of. */
static bool differs_from_2m(const struct rmp_entry *sub, const struct rmp_state *st, uint64_t i)
{
    return !st->assigned || sub->asid != st->asid || sub->gpa != st->gpa + i * SIZE_4K ||
           sub->immutable != st->immutable;
}

static enum rmp_rc update_conflicts(const struct rmp *r, uint64_t slot, const struct rmp_state *st)
{
    uint64_t n = size_pages(st->size);
    for (uint64_t i = 0; i < n; i++)
        if (r->slot[governing(r, slot + i)].lo & RAW_IMMUTABLE)
            return RMP_FAIL_PERMISSION;
    for (uint64_t i = 0; i < n; i++)
        if (r->slot[slot + i].hi & RAW_HI_IN_USE)
            return RMP_FAIL_INUSE;
    bool in_2m = head_is_assigned_2m(r, slot);
    if (st->size == RMP_4K)
        return in_2m ? RMP_FAIL_OVERLAP : RMP_OK;
    if (in_2m)
        return RMP_OK; /* replaces the 2 MiB entry itself */
    /* XXX(model): which 4 KiB states a 2 MiB RMPUPDATE accepts is UNCERTAIN
     * (docs/sev-snp-facts.md 12.4); only entries that already are the matching pages of
     * the same guest are taken over, any other assigned one is an overlap. */
    for (uint64_t i = 0; i < n; i++) {
        struct rmp_entry sub = decode(&r->slot[slot + i]);
        if (sub.assigned && differs_from_2m(&sub, st, i))
            return RMP_FAIL_OVERLAP;
    }
    return RMP_OK;
}

enum rmp_rc rmp_update(struct rmp *r, uint64_t spa, const struct rmp_state *st)
{
    if (!update_input_ok(r, spa, st))
        return RMP_FAIL_INPUT;
    uint64_t slot = spa / SIZE_4K;
    enum rmp_rc rc = update_conflicts(r, slot, st);
    if (rc != RMP_OK)
        return rc;
    /* A (re)assignment starts unvalidated, not a VMSA, with no VMPL1-3 rights. */
    struct rmp_entry e;
    memset(&e, 0, sizeof(e));
    e.assigned = st->assigned;
    e.size = st->size;
    e.immutable = st->immutable;
    e.gpa = st->gpa;
    e.asid = st->asid;
    store(r, slot, &e);
    return RMP_OK;
}

/* XXX(model): PSMASH's FAIL_INUSE (a concurrent RMP update, docs/sev-snp-facts.md 6.3)
 * cannot happen here: the model updates the RMP from one thread. */
enum rmp_rc rmp_psmash(struct rmp *r, uint64_t spa)
{
    if (spa % SIZE_2M || !in_table(r, spa, PAGES_PER_2M))
        return RMP_FAIL_INPUT;
    uint64_t head = spa / SIZE_4K;
    if (!head_is_assigned_2m(r, head))
        return RMP_FAIL_INPUT;
    struct rmp_entry e = decode(&r->slot[head]);
    e.size = RMP_4K;
    uint64_t gpa = e.gpa;
    for (uint64_t i = 0; i < PAGES_PER_2M; i++) {
        e.gpa = gpa + i * SIZE_4K;
        encode(&r->slot[head + i], &e);
    }
    return RMP_OK;
}

/* ---- PVALIDATE and RMPADJUST ------------------------------------------------------------ */

static struct rmp_result status(enum rmp_rc rc, const char *reason)
{
    return (struct rmp_result){.rc = rc, .reason = reason};
}

/* The #NPF a guest RMP instruction takes instead of completing: the nested
 * translation is present (P), the access is private (ENC: KVM reads that bit
 * to tell a private fault from a shared one) and on the final GPA.
 * XXX(model): which access bits (W?) hardware adds here is UNCERTAIN. */
static struct rmp_result instr_npf(uint64_t extra, const char *reason)
{
    return (struct rmp_result){.npf = true,
                               .npf_error = NPF_P | NPF_RMP | NPF_ENC | NPF_FINAL | extra,
                               .reason = reason};
}

static bool instr_size_ok(unsigned size, uint64_t gpa)
{
    return (size == RMP_4K || size == RMP_2M) && gpa % size_bytes((enum rmp_size)size) == 0;
}

/* Why the entry e (governing gpa) does not belong to asid at gpa, or NULL. */
static const char *ownership_failure(const struct rmp_entry *e, uint32_t asid, uint64_t gpa)
{
    if (!e->assigned)
        return "not assigned";
    if (e->asid != asid)
        return "assigned to another ASID";
    if (e->gpa != (gpa & ~(size_bytes(e->size) - 1)))
        return "assigned at another GPA";
    return NULL;
}

/*
 * The entry a PVALIDATE/RMPADJUST of `size` at gpa works on, in *slot and *e,
 * or the outcome that stops it: #NPF when the page is not this guest's at this
 * GPA (an address outside the table counts as not assigned), #NPF SIZEM for a
 * 4 KiB request on a 2 MiB entry, FAIL_SIZEMISMATCH for a 2 MiB request on
 * 4 KiB entries. res->reason is NULL when the instruction may go on.
 */
static struct rmp_result instr_target(const struct rmp *r, uint32_t asid, uint64_t gpa,
                                      unsigned size, uint64_t *slot, struct rmp_entry *e)
{
    SNP_ASSERT(asid > 0 && asid < RMP_ASID_LIMIT);
    if (!rmp_lookup(r, gpa, e))
        return instr_npf(0, "not assigned");
    const char *why = ownership_failure(e, asid, gpa);
    if (why)
        return instr_npf(0, why);
    if (size == RMP_4K && e->size == RMP_2M)
        return instr_npf(NPF_SIZEM, "4K request on a 2M entry");
    if (size == RMP_2M && e->size == RMP_4K)
        return status(RMP_FAIL_SIZEMISMATCH, "2M request on 4K entries");
    *slot = governing(r, gpa / SIZE_4K);
    return status(RMP_OK, NULL);
}

struct rmp_result rmp_pvalidate(struct rmp *r, uint32_t asid, unsigned vmpl, uint64_t gpa,
                                unsigned size, bool validate)
{
    SNP_ASSERT(vmpl < 4);
    if (!instr_size_ok(size, gpa))
        return status(RMP_FAIL_INPUT, "bad size or alignment");
    /* XXX(model): the APM detail is UNCERTAIN; Linux and SVSMs only PVALIDATE
     * at VMPL0, so anything else is refused. */
    if (vmpl != 0)
        return status(RMP_FAIL_PERMISSION, "PVALIDATE above VMPL0");
    uint64_t slot;
    struct rmp_entry e;
    struct rmp_result res = instr_target(r, asid, gpa, size, &slot, &e);
    if (res.reason)
        return res;
    /* XXX(model): immutable entries belong to the PSP (docs/sev-snp-facts.md 6.2); the
     * conservative reading refuses to change them from the guest too. */
    if (e.immutable)
        return status(RMP_FAIL_PERMISSION, "immutable");
    if (e.validated == validate) {
        res.cf = true; /* CF=1: the RMP was not changed */
        return res;
    }
    e.validated = validate;
    encode(&r->slot[slot], &e);
    return res;
}

static bool adjust_input_ok(unsigned size, uint64_t gpa, uint64_t attrs)
{
    if (!instr_size_ok(size, gpa))
        return false;
    if (attrs & ~(ADJ_TARGET_MASK | ADJ_PERM_MASK | ADJ_VMSA))
        return false; /* XXX(model): reserved attribute bits refused */
    if ((attrs & ADJ_TARGET_MASK) > 3)
        return false;
    /* XXX(model): a VMSA is a 4 KiB page (docs/sev-snp-facts.md 6.3 erratum); a 2 MiB
     * request with the VMSA bit is refused. */
    return !((attrs & ADJ_VMSA) && size == RMP_2M);
}

/* The state checks of RMPADJUST once the entry is found (see rmp.h). */
static struct rmp_result adjust_allowed(const struct rmp *r, uint64_t slot,
                                        const struct rmp_entry *e, unsigned vmpl, uint8_t perms,
                                        bool vmsa)
{
    if (e->immutable)
        return status(RMP_FAIL_PERMISSION, "immutable"); /* XXX(model): as PVALIDATE */
    /* A VMPL can grant a less privileged one only rights it holds itself. */
    if (perms & ~e->perms[vmpl])
        return status(RMP_FAIL_PERMISSION, "grants rights the caller lacks");
    if (e->vmsa && !vmsa && (r->slot[slot].hi & RAW_HI_IN_USE))
        return status(RMP_FAIL_PERMISSION, "clearing the VMSA bit of a VMSA in use");
    return status(RMP_OK, NULL);
}

struct rmp_result rmp_rmpadjust(struct rmp *r, uint32_t asid, unsigned vmpl, uint64_t gpa,
                                unsigned size, uint64_t attrs)
{
    SNP_ASSERT(vmpl < 4);
    if (!adjust_input_ok(size, gpa, attrs))
        return status(RMP_FAIL_INPUT, "bad size, alignment or attributes");
    unsigned target = (unsigned)(attrs & ADJ_TARGET_MASK);
    if (target <= vmpl)
        return status(RMP_FAIL_PERMISSION, "target VMPL not below the caller");
    uint8_t perms = (uint8_t)((attrs & ADJ_PERM_MASK) >> ADJ_PERM_SHIFT);
    bool vmsa = attrs & ADJ_VMSA;
    uint64_t slot;
    struct rmp_entry e;
    struct rmp_result res = instr_target(r, asid, gpa, size, &slot, &e);
    if (res.reason)
        return res;
    res = adjust_allowed(r, slot, &e, vmpl, perms, vmsa);
    if (res.rc != RMP_OK)
        return res;
    e.perms[target] = perms;
    e.vmsa = vmsa;
    encode(&r->slot[slot], &e);
    return res;
}

/* ---- Access checks ---------------------------------------------------------------------- */

static const uint8_t perm_needed[] = {
    [RMP_READ] = RMP_PERM_R,
    [RMP_WRITE] = RMP_PERM_W,
    [RMP_EXEC_USER] = RMP_PERM_XU,
    [RMP_EXEC_SUPER] = RMP_PERM_XS,
};

/*
 * The #NPF error bits an access contributes: P (the nested translation is
 * there, the RMP refused it), W for writes, FETCH (and U for a CPL3 fetch)
 * for fetches, FINAL or PT for where in the walk it happened.
 * XXX(model): the caller does not pass the CPL of reads and writes, so U is
 * set only for user fetches; hardware may report it for every CPL3 access.
 */
static uint64_t access_bits(enum rmp_access acc, bool pt)
{
    uint64_t e = NPF_P | (pt ? NPF_PT : NPF_FINAL);
    if (acc == RMP_WRITE)
        e |= NPF_W;
    if (acc == RMP_EXEC_USER)
        e |= NPF_U | NPF_FETCH;
    if (acc == RMP_EXEC_SUPER)
        e |= NPF_FETCH;
    return e;
}

static struct rmp_check npf(uint64_t error, const char *reason)
{
    return (struct rmp_check){.verdict = RMP_NPF, .npf_error = error, .reason = reason};
}

static struct rmp_check check_private(const struct rmp *r, const struct rmp_entry *e,
                                      uint32_t asid, unsigned vmpl, uint64_t gpa,
                                      enum rmp_access acc, uint64_t bits)
{
    bits |= NPF_RMP | NPF_ENC;
    const char *why = ownership_failure(e, asid, gpa);
    if (why)
        return npf(bits, why);
    if (!(e->perms[vmpl] & perm_needed[acc]))
        return npf(bits | NPF_VMPL, "VMPL permission");
    if (!e->validated)
        return (struct rmp_check){.verdict = RMP_VC_NOT_VALIDATED, .reason = "not validated"};
    if (acc == RMP_WRITE && e->vmsa && rmp_vmsa_in_use(r, gpa))
        return npf(bits, "VMSA in use");
    return (struct rmp_check){.verdict = RMP_ALLOW};
}

struct rmp_check rmp_check_guest(const struct rmp *r, uint32_t asid, unsigned vmpl, uint64_t gpa,
                                 bool c_bit, enum rmp_access acc, bool pt)
{
    SNP_ASSERT(asid > 0 && asid < RMP_ASID_LIMIT && vmpl < 4);
    SNP_ASSERT((unsigned)acc < ARRAY_SIZE(perm_needed));
    struct rmp_entry e;
    /* XXX(model): the RMP covers RAM only; an address beyond it (MMIO) is
     * treated as a hypervisor-owned page. */
    if (!rmp_lookup(r, gpa, &e))
        memset(&e, 0, sizeof(e));
    uint64_t bits = access_bits(acc, pt);
    if (c_bit)
        return check_private(r, &e, asid, vmpl, gpa, acc, bits);
    if (e.assigned)
        return npf(bits | NPF_RMP, "shared access to an assigned page");
    return (struct rmp_check){.verdict = RMP_ALLOW};
}

/* Host #PF error code bits (docs/sev-snp-facts.md 6.2, Linux X86_PF_*). */
#define HOST_PF_P   (1ull << 0)
#define HOST_PF_W   (1ull << 1)
#define HOST_PF_RMP (1ull << 31)

struct rmp_check rmp_check_host(const struct rmp *r, uint64_t spa, bool write)
{
    struct rmp_entry e;
    if (write && rmp_lookup(r, spa, &e) && e.assigned)
        return npf(HOST_PF_P | HOST_PF_W | HOST_PF_RMP, "host write to an assigned page");
    return (struct rmp_check){.verdict = RMP_ALLOW};
}

/* ---- Firmware and bookkeeping ------------------------------------------------------------ */

void rmp_fw_set(struct rmp *r, uint64_t spa, const struct rmp_entry *e)
{
    SNP_ASSERT(e->size == RMP_4K || e->size == RMP_2M);
    SNP_ASSERT(spa % size_bytes(e->size) == 0 && in_table(r, spa, size_pages(e->size)));
    SNP_ASSERT(e->gpa % size_bytes(e->size) == 0);
    /* A 4 KiB entry under an assigned 2 MiB one would be shadowed by it. */
    SNP_ASSERT(e->size == RMP_2M || !head_is_assigned_2m(r, spa / SIZE_4K));
    store(r, spa / SIZE_4K, e);
}

void rmp_set_vmsa_in_use(struct rmp *r, uint64_t spa, bool in_use)
{
    SNP_ASSERT(in_table(r, spa, 1));
    struct rmp_slot *s = &r->slot[spa / SIZE_4K];
    s->hi = in_use ? s->hi | RAW_HI_IN_USE : s->hi & ~RAW_HI_IN_USE;
}

bool rmp_vmsa_in_use(const struct rmp *r, uint64_t spa)
{
    return in_table(r, spa, 1) && (r->slot[spa / SIZE_4K].hi & RAW_HI_IN_USE);
}
