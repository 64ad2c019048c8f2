/* SPDX-License-Identifier: MIT */
/*
 * Guest page walks at TLB-fill time (docs/unicorn.md: UC_TLB_VIRTUAL with
 * UC_HOOK_TLB_FILL). Unicorn does no x86 paging in this mode: every TLB miss
 * comes here with a page-aligned virtual address and the access type, and the
 * model walks the guest's 4- or 5-level tables itself, as the hardware does on
 * a TLB fill: present, reserved-bit, U/S, R/W (with CR0.WP), NX, SMEP and SMAP
 * checks, accessed and dirty bits, 4 KiB / 2 MiB / 1 GiB pages (SDM vol. 3
 * 4.5-4.8; APM vol. 2 5.3-5.6). A failed walk is remembered as a pending #PF
 * with its architectural error code; the engine stops at the faulting
 * instruction and vcpu_run() delivers it. Later the RMP and C-bit checks of
 * SEV-SNP join the walk here, so they too cost nothing per access.
 *
 * Write permission is granted only to pages already dirty (so the first write
 * refills and sets D) and never to pages of code not yet written (decode.c).
 * Execute permission is granted only to instruction-fetch fills, and write
 * permission never to them: Unicorn 2.1.4 keeps every store through a TLB
 * entry with execute permission on its slow path (notdirty_write in
 * accel/tcg/cputlb.c clears TLB_NOTDIRTY only for entries without it), which
 * made stores about ten times slower. A data access and a fetch of one page
 * then use separate fills, which costs only where Unicorn looks a block up by
 * its physical address (translation, a jump-cache miss).
 */
#include <string.h>

#include "cpu_int.h"

#define CR0_PG  (1ull << 31)
#define CR0_WP  (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NXE (1ull << 11)
#define EFER_LMA (1ull << 10)
#define RFLAGS_AC (1ull << 18)

/* MAXPHYADDR the model reports in CPUID 0x80000008 (bits above are reserved). */
#define PADDR_BITS 48
#define ADDR_MASK  (((1ull << PADDR_BITS) - 1) & ~0xFFFull)

static uint32_t pf_code(enum pg_access acc, bool user, bool present, bool nx_or_smep)
{
    uint32_t e = present ? PFERR_P : 0;
    if (acc == PG_WRITE)
        e |= PFERR_W;
    if (user)
        e |= PFERR_U;
    if (acc == PG_FETCH && nx_or_smep)
        e |= PFERR_I;
    return e;
}

/* Reserved bits of an entry at `level` (1 = PTE ... 5 = PML5E). Under SEV
 * the C-bit is an address bit the hardware strips, not a reserved one. */
static bool reserved(uint64_t pte, int level, bool nxe, uint64_t cbit)
{
    if (((pte & ~cbit) >> PADDR_BITS) & ((1ull << (52 - PADDR_BITS)) - 1))
        return true;
    if (!nxe && (pte & PTE_NX))
        return true;
    if (level >= 4 && (pte & PTE_PS))
        return true;
    if (level == 3 && (pte & PTE_PS) && (pte & 0x3FFFE000ull))
        return true;
    if (level == 2 && (pte & PTE_PS) && (pte & 0x1FE000ull))
        return true;
    return false;
}

static enum rmp_access rmp_acc(enum pg_access acc, bool user)
{
    if (acc == PG_FETCH)
        return user ? RMP_EXEC_USER : RMP_EXEC_SUPER;
    return acc == PG_WRITE ? RMP_WRITE : RMP_READ;
}

/* Fills r from an RMP verdict; returns -1 if the access may not proceed. */
static int rmp_verdict(const struct rmp_check *c, uint64_t gpa, struct pg_result *r)
{
    switch (c->verdict) {
    case RMP_ALLOW:
        return 0;
    case RMP_VC_NOT_VALIDATED:
        r->fault = PGF_VC;
        r->pf_error = (uint32_t)SVM_EXIT_PAGE_NOT_VALIDATED;
        return -1;
    case RMP_NPF:
        r->fault = PGF_NPF;
        r->npf_error = c->npf_error;
        r->npf_gpa = gpa;
        return -1;
    }
    return -1;
}

/* SNP: a guest page-table read (and the A/D write when set_ad) is a private
 * access to the table page (docs/sev-snp-facts.md 6.2, UNCERTAIN: "always private"). */
static int rmp_table_fault(struct vcpu *v, uint64_t pte_gpa, bool set_ad, struct pg_result *r)
{
    if (pte_gpa >= v->mem->size)
        return 0;
    struct rmp_check c = rmp_check_guest(v->mem->rmp, v->asid, v->vmpl, pte_gpa, true,
                                         set_ad ? RMP_WRITE : RMP_READ, true);
    return rmp_verdict(&c, pte_gpa, r);
}

/* SNP: the final access (instruction fetches are always private, docs/sev-snp-facts.md 6.2). */
static int rmp_final(struct vcpu *v, uint64_t gpa, enum pg_access acc, bool user,
                     struct pg_result *r)
{
    bool c = r->c_bit || acc == PG_FETCH;
    struct rmp_check chk = rmp_check_guest(v->mem->rmp, v->asid, v->vmpl, gpa, c,
                                           rmp_acc(acc, user), false);
    return rmp_verdict(&chk, gpa, r);
}

/* Whether the RMP allows another access kind on a page, so that a TLB entry
 * never lets through what the RMP would stop. */
static bool rmp_allows(struct vcpu *v, uint64_t gpa, bool c_bit, enum pg_access acc, bool user)
{
    bool c = c_bit || acc == PG_FETCH;
    return rmp_check_guest(v->mem->rmp, v->asid, v->vmpl, gpa, c, rmp_acc(acc, user), false)
               .verdict == RMP_ALLOW;
}

bool pg_denied(struct vcpu *v, enum pg_access acc, enum pg_priv priv, bool rw, bool us, bool nx)
{
    uint64_t cr0 = vcpu_get(v, VR_CR0), cr4 = vcpu_get(v, VR_CR4);
    bool user = priv == PG_USER;
    bool smap = !user && us && (cr4 & CR4_SMAP) && acc != PG_FETCH &&
                (priv == PG_IMPLICIT || !(vcpu_get(v, VR_RFLAGS) & RFLAGS_AC));
    return (user && !us) || smap || (acc == PG_WRITE && !rw && (user || (cr0 & CR0_WP))) ||
           (acc == PG_FETCH && (nx || (!user && us && (cr4 & CR4_SMEP))));
}

static bool canonical(uint64_t va, bool la57)
{
    int bits = la57 ? 57 : 48;
    int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == va;
}

int pg_walk(struct vcpu *v, uint64_t va, enum pg_access acc, enum pg_priv priv, bool set_ad,
            struct pg_result *r)
{
    memset(r, 0, sizeof(*r));
    bool user = priv == PG_USER;
    uint64_t cr0 = vcpu_get(v, VR_CR0);
    if (!(cr0 & CR0_PG)) {
        r->gpa = va;
        r->writable = r->executable = r->user = r->dirty = true;
        /* Without paging an SEV guest's accesses are private (APM vol. 2
         * 15.34.5: there is no C-bit to clear), as Linux's real-mode AP
         * trampoline relies on. */
        r->c_bit = v->cbit_pos != 0;
        return 0;
    }
    uint64_t cr4 = vcpu_get(v, VR_CR4), efer = vcpu_get(v, VR_EFER);
    if (!(efer & EFER_LMA))
        return pg_walk32(v, va, acc, priv, set_ad, r); /* 32-bit or PAE paging */
    bool nxe = efer & EFER_NXE, la57 = cr4 & CR4_LA57;
    if (!canonical(va, la57)) {
        r->fault = PGF_GP; /* not a #PF: #GP(0) */
        return -1;
    }
    bool nx_or_smep = nxe || (cr4 & CR4_SMEP);
    uint64_t cbit = v->cbit_pos ? 1ull << v->cbit_pos : 0;
    uint64_t table = vcpu_get(v, VR_CR3) & ADDR_MASK;
    bool rw = true, us = true, nx = false;
    int levels = la57 ? 5 : 4;
    for (int level = levels; level >= 1; level--) {
        uint64_t idx = (va >> (12 + 9 * (level - 1))) & 0x1FF;
        uint64_t pte_gpa = table + idx * 8;
        if (v->snp && rmp_table_fault(v, pte_gpa, set_ad, r) < 0)
            return -1;
        /* A table outside RAM reads as all ones: reserved bits set. */
        uint64_t pte = mem_contains(v->mem, pte_gpa, 8) ? mem_ld64(v->mem, pte_gpa) : ~0ull;
        if (!(pte & PTE_P)) {
            r->fault = PGF_PF;
            r->pf_error = pf_code(acc, user, false, nx_or_smep);
            return -1;
        }
        if (reserved(pte, level, nxe, cbit)) {
            r->fault = PGF_PF;
            r->pf_error = pf_code(acc, user, true, nx_or_smep) | PFERR_RSVD;
            return -1;
        }
        rw = rw && (pte & PTE_RW);
        us = us && (pte & PTE_US);
        nx = nx || (nxe && (pte & PTE_NX));
        if (set_ad && !(pte & PTE_A))
            mem_st64(v->mem, pte_gpa, pte |= PTE_A);
        bool leaf = level == 1 || ((level == 2 || level == 3) && (pte & PTE_PS));
        if (!leaf) {
            table = pte & ADDR_MASK;
            continue;
        }
        uint64_t page_mask = (1ull << (12 + 9 * (level - 1))) - 1;
        r->gpa = ((pte & ADDR_MASK) & ~page_mask) | (va & page_mask);
        r->c_bit = pte & cbit;
        r->writable = rw;
        r->executable = !nx;
        r->user = us;
        if (pg_denied(v, acc, priv, rw, us, nx)) {
            r->fault = PGF_PF;
            r->pf_error = pf_code(acc, user, true, nx_or_smep);
            return -1;
        }
        if (set_ad && acc == PG_WRITE && !(pte & PTE_D))
            mem_st64(v->mem, pte_gpa, pte |= PTE_D);
        r->dirty = pte & PTE_D;
        /* Supervisor writes to read-only pages with CR0.WP = 0 succeed. */
        if (!user && !(cr0 & CR0_WP))
            r->writable = true;
        return 0;
    }
    SNP_PANIC("page walk fell off the levels");
}

static enum pg_access to_access(uc_mem_type t)
{
    return t == UC_MEM_WRITE ? PG_WRITE : t == UC_MEM_FETCH ? PG_FETCH : PG_READ;
}

static void fill_fault(struct vcpu *v, const struct pg_result *r, uint64_t va, uc_mem_type type)
{
    v->fault = (struct pending_fault){.valid = true, .kind = r->fault, .error = r->pf_error,
                                      .npf_error = r->npf_error, .npf_gpa = r->npf_gpa,
                                      .va = va, .access = type};
}

bool pg_tlb_fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    v->stats.tlb_fills++;
    enum pg_access acc = to_access(type);
    bool user = vcpu_cpl(v) == 3;
    struct pg_result r;
    if (pg_walk(v, va, acc, user ? PG_USER : PG_SUPER, true, &r) < 0) {
        fill_fault(v, &r, va, type);
        return false;
    }
    uint64_t gpa = r.gpa & MEM_PAGE_MASK;
    bool in_ram = gpa < v->mem->size;
    if (!in_ram && gpa >= v->mmio_end) {
        /* Nothing lives there: no RAM, no MMIO. */
        r.fault = PGF_UNBACKED;
        fill_fault(v, &r, va, type);
        return false;
    }
    if (!in_ram && v->sev_es) {
        /* MMIO under SEV-ES/SNP: KVM marks the nested entry with reserved bits,
         * so the access becomes #VC 0x400 in the guest, which completes it with
         * MMIO_READ/MMIO_WRITE (docs/sev-snp-facts.md 5.1: NPF). */
        r.fault = PGF_VC;
        r.pf_error = SVM_EXIT_NPF;
        fill_fault(v, &r, va, type);
        return false;
    }
    if (in_ram && v->snp && rmp_final(v, gpa, acc, user, &r) < 0) {
        fill_fault(v, &r, va, type);
        return false;
    }
    if (in_ram && v->sev_es && !v->snp && r.c_bit)
        mem_set_owner(v->mem, gpa, v->asid);
    /* The first store to code: from now on its blocks are checked at entry. */
    if (in_ram && acc == PG_WRITE)
        mem_note_write(v->mem, gpa, 1);
    bool clean_code = in_ram && mem_code_clean(v->shared->code[gpa >> MEM_PAGE_SHIFT]);
    bool rmp = v->snp && in_ram;
    uint32_t perms = 0;
    if (!rmp || acc == PG_READ || rmp_allows(v, gpa, r.c_bit, PG_READ, user))
        perms |= UC_PROT_READ;
    if (acc == PG_FETCH)
        perms |= UC_PROT_EXEC; /* the walk checked NX and SMEP, the RMP its own */
    else if (r.writable && (acc == PG_WRITE || r.dirty) && !clean_code &&
             (!rmp || acc == PG_WRITE || rmp_allows(v, gpa, r.c_bit, PG_WRITE, user)))
        perms |= UC_PROT_WRITE;
    /* A C=0 read of a page that is still private sees its ciphertext: the
     * entry goes to the DRAM view, read-only (not writable even with a dirty
     * PTE), so a store fills again and takes the branch below. Fetches are
     * always C=1 (15.34.5). */
    if (in_ram && v->sev_es && !v->snp && !r.c_bit && acc == PG_READ &&
        mem_owner(v->mem, gpa) != 0) {
        e->paddr = VCPU_DRAM_VIEW_BASE + gpa;
        e->perms = UC_PROT_READ;
        return true;
    }
    /* A store through a C=0 mapping leaves plaintext in DRAM (APM vol. 2
     * 15.34.5): the page is shared from then on, as the GHCB that Linux's
     * decompressor maps decrypted and clears (set_page_decrypted). The
     * model keeps one owner per page, so the page's other bytes count as
     * plaintext too; a writable entry may take stores without a new fill. */
    if (in_ram && v->sev_es && !v->snp && !r.c_bit && (perms & UC_PROT_WRITE))
        mem_set_owner(v->mem, gpa, 0);
    e->paddr = gpa;
    e->perms = (uc_prot)perms;
    return true;
}

/* Copies between guest linear memory and a buffer, page by page, with the
 * permissions of an access of kind k (cpu_int.h: lin_kind). */
static int lin_copy(struct vcpu *v, uint64_t va, void *buf, size_t len, bool write,
                    enum lin_kind k, uint32_t *pf_error, uint64_t *fault_va)
{
    enum pg_access acc = write ? PG_WRITE : k == LIN_FETCH ? PG_FETCH : PG_READ;
    enum pg_priv priv = k == LIN_IMPLICIT ? PG_IMPLICIT : vcpu_cpl(v) == 3 ? PG_USER : PG_SUPER;
    uint8_t *p = buf;
    while (len) {
        struct pg_result r;
        int rc = pg_walk(v, va, acc, priv, true, &r);
        if (rc == 0 && v->snp && r.gpa < v->mem->size)
            rc = rmp_final(v, r.gpa & MEM_PAGE_MASK, acc, priv == PG_USER, &r);
        if (rc < 0) {
            /* The model's own accesses as the guest (IDT frames, string I/O)
             * report an RMP failure as a #PF with the RMP bit: XXX(model), the
             * hardware would give the hypervisor an #NPF in mid-delivery. */
            *pf_error = r.fault == PGF_GP   ? UINT32_MAX
                        : r.fault == PGF_PF ? r.pf_error
                                            : PFERR_P | PFERR_RMP | (write ? PFERR_W : 0u);
            *fault_va = va;
            return -1;
        }
        size_t chunk = MEM_PAGE_SIZE - (va & (MEM_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        if (!mem_contains(v->mem, r.gpa, chunk)) {
            *pf_error = PFERR_P | PFERR_RSVD; /* the model's choice: see docs/guest-abi.md */
            *fault_va = va;
            return -1;
        }
        /* mem_write() marks code it overwrites (decode.c checks it at entry). */
        if (write)
            SNP_ASSERT(mem_write(v->mem, r.gpa, p, chunk));
        else
            memcpy(p, v->mem->ram + r.gpa, chunk);
        va += chunk;
        p += chunk;
        len -= chunk;
    }
    return 0;
}

int lin_read(struct vcpu *v, uint64_t va, void *dst, size_t len, enum lin_kind k,
             uint32_t *pf_error, uint64_t *fault_va)
{
    return lin_copy(v, va, dst, len, false, k, pf_error, fault_va);
}

int lin_write(struct vcpu *v, uint64_t va, const void *src, size_t len, enum lin_kind k,
              uint32_t *pf_error, uint64_t *fault_va)
{
    return lin_copy(v, va, (void *)src, len, true, k, pf_error, fault_va);
}

int vcpu_read_lin(struct vcpu *v, uint64_t va, void *dst, size_t len, uint32_t *pf_error,
                  uint64_t *fault_va)
{
    return lin_copy(v, va, dst, len, false, LIN_IMPLICIT, pf_error, fault_va);
}

int vcpu_write_lin(struct vcpu *v, uint64_t va, const void *src, size_t len, uint32_t *pf_error,
                   uint64_t *fault_va)
{
    return lin_copy(v, va, (void *)src, len, true, LIN_IMPLICIT, pf_error, fault_va);
}
