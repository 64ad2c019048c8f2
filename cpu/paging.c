/* SPDX-License-Identifier: MIT */
/*
 * Guest page walks at TLB-fill time (notes/unicorn.md: UC_TLB_VIRTUAL with
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
 * refills and sets D) and never to pages holding decoded code (decode.c).
 */
#include <string.h>

#include "cpu_int.h"

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)

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

/* Reserved bits of an entry at `level` (1 = PTE ... 5 = PML5E). */
static bool reserved(uint64_t pte, int level, bool nxe)
{
    if ((pte >> PADDR_BITS) & ((1ull << (52 - PADDR_BITS)) - 1))
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

static bool canonical(uint64_t va, bool la57)
{
    int bits = la57 ? 57 : 48;
    int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == va;
}

int pg_walk(struct vcpu *v, uint64_t va, enum pg_access acc, bool user, bool set_ad,
            struct pg_result *r)
{
    memset(r, 0, sizeof(*r));
    uint64_t cr0 = vcpu_get(v, VR_CR0);
    if (!(cr0 & CR0_PG)) {
        r->gpa = va;
        r->writable = r->executable = r->user = r->dirty = true;
        return 0;
    }
    uint64_t cr4 = vcpu_get(v, VR_CR4), efer = vcpu_get(v, VR_EFER);
    bool nxe = efer & EFER_NXE, la57 = cr4 & CR4_LA57;
    if (!canonical(va, la57)) {
        r->pf_error = UINT32_MAX; /* not a #PF: #GP(0) */
        return -1;
    }
    bool nx_or_smep = nxe || (cr4 & CR4_SMEP);
    uint64_t table = vcpu_get(v, VR_CR3) & ADDR_MASK;
    bool rw = true, us = true, nx = false;
    int levels = la57 ? 5 : 4;
    for (int level = levels; level >= 1; level--) {
        uint64_t idx = (va >> (12 + 9 * (level - 1))) & 0x1FF;
        uint64_t pte_gpa = table + idx * 8;
        /* A table outside RAM reads as all ones: reserved bits set. */
        uint64_t pte = mem_contains(v->mem, pte_gpa, 8) ? mem_ld64(v->mem, pte_gpa) : ~0ull;
        if (!(pte & PTE_P)) {
            r->pf_error = pf_code(acc, user, false, nx_or_smep);
            return -1;
        }
        if (reserved(pte, level, nxe)) {
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
        r->writable = rw;
        r->executable = !nx;
        r->user = us;
        /* Permission checks (SDM 4.6). */
        bool smap = !user && us && (cr4 & CR4_SMAP) && acc != PG_FETCH &&
                    !(vcpu_get(v, VR_RFLAGS) & RFLAGS_AC);
        bool fault = (user && !us) || smap ||
                     (acc == PG_WRITE && !rw && (user || (cr0 & CR0_WP))) ||
                     (acc == PG_FETCH && (nx || (!user && us && (cr4 & CR4_SMEP))));
        if (fault) {
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

bool pg_tlb_fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    v->stats.tlb_fills++;
    enum pg_access acc = to_access(type);
    struct pg_result r;
    if (pg_walk(v, va, acc, vcpu_cpl(v) == 3, true, &r) < 0) {
        v->fault = (struct pending_fault){true, r.pf_error == UINT32_MAX ? X86_GP : X86_PF,
                                          r.pf_error == UINT32_MAX ? 0 : r.pf_error, va, type};
        return false;
    }
    uint64_t gpa = r.gpa & MEM_PAGE_MASK;
    if (gpa >= v->mem->size && gpa >= v->mmio_end) {
        /* Nothing lives there: no RAM, no MMIO. */
        v->fault = (struct pending_fault){true, 0xFF, 0, va, type};
        return false;
    }
    bool in_ram = gpa < v->mem->size;
    if (in_ram && acc == PG_WRITE && smc_is_code(v->shared, gpa))
        smc_page_written(v->shared, v, gpa);
    uint32_t perms = UC_PROT_READ;
    if (r.executable)
        perms |= UC_PROT_EXEC;
    if (r.writable && (acc == PG_WRITE || r.dirty) && !(in_ram && smc_is_code(v->shared, gpa)))
        perms |= UC_PROT_WRITE;
    e->paddr = gpa;
    e->perms = (uc_prot)perms;
    return true;
}

/* Copies between guest linear memory and a buffer, page by page, as an
 * implicit supervisor access (used for IDT delivery and string I/O). */
static int lin_copy(struct vcpu *v, uint64_t va, void *buf, size_t len, bool write,
                    uint32_t *pf_error, uint64_t *fault_va)
{
    uint8_t *p = buf;
    while (len) {
        struct pg_result r;
        if (pg_walk(v, va, write ? PG_WRITE : PG_READ, false, true, &r) < 0) {
            *pf_error = r.pf_error;
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
        if (write) {
            if (smc_is_code(v->shared, r.gpa))
                smc_page_written(v->shared, NULL, r.gpa);
            memcpy(v->mem->ram + r.gpa, p, chunk);
        } else {
            memcpy(p, v->mem->ram + r.gpa, chunk);
        }
        va += chunk;
        p += chunk;
        len -= chunk;
    }
    return 0;
}

int vcpu_read_lin(struct vcpu *v, uint64_t va, void *dst, size_t len, uint32_t *pf_error,
                  uint64_t *fault_va)
{
    return lin_copy(v, va, dst, len, false, pf_error, fault_va);
}

int vcpu_write_lin(struct vcpu *v, uint64_t va, const void *src, size_t len, uint32_t *pf_error,
                   uint64_t *fault_va)
{
    return lin_copy(v, va, (void *)src, len, true, pf_error, fault_va);
}
