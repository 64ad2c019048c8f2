/* SPDX-License-Identifier: MIT */
/*
 * Page walks outside long mode, at TLB fill like paging.c's (SDM vol. 3 4.3
 * 32-bit paging, 4.4 PAE paging; APM vol. 2 5.2-5.3 legacy mode):
 *  - 32-bit paging (CR4.PAE = 0): a page directory and page tables of 4-byte
 *    entries; a PDE with PS and CR4.PSE maps 4 MiB, its bits 20:13 holding
 *    physical address bits 39:32 (PSE-36); no execute-disable.
 *  - PAE paging: four PDPTEs at CR3[31:5], then 8-byte directory and table
 *    entries as in long mode (2 MiB pages, NX with EFER.NXE).
 * U/S, R/W with CR0.WP, NX, SMEP and SMAP apply to the leaf as in paging.c;
 * accessed and dirty bits are set as the walk goes. XXX(model): the PDPTEs are
 * read at each walk rather than loaded at the CR3 write, and under SEV the
 * table reads are not RMP-checked here (SEV guests run in long mode).
 */
#include <string.h>

#include "cpu_int.h"

#define CR0_WP (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NXE (1ull << 11)
#define RFLAGS_AC (1ull << 18)
#define PAE_ADDR 0x0000FFFFFFFFF000ull /* MAXPHYADDR 48, as paging.c */

struct walk {
    struct vcpu *v;
    enum pg_access acc;
    bool user, set_ad, nx_or_smep;
    bool rw, us, nx;
};

static int fault(struct walk *w, struct pg_result *r, bool present, bool rsvd)
{
    uint32_t e = present ? PFERR_P : 0;
    e |= w->acc == PG_WRITE ? PFERR_W : 0;
    e |= w->user ? PFERR_U : 0;
    e |= (w->acc == PG_FETCH && w->nx_or_smep) ? PFERR_I : 0;
    e |= rsvd ? PFERR_RSVD : 0;
    r->fault = PGF_PF;
    r->pf_error = e;
    return -1;
}

/* Reads the entry at gpa (4 or 8 bytes); a table outside RAM reads as all ones. */
static uint64_t entry(struct walk *w, uint64_t gpa, unsigned size)
{
    if (!mem_contains(w->v->mem, gpa, size))
        return ~0ull;
    return size == 8 ? mem_ld64(w->v->mem, gpa) : (uint64_t)mem_ld32(w->v->mem, gpa);
}

static void put(struct walk *w, uint64_t gpa, unsigned size, uint64_t val)
{
    if (size == 8)
        mem_st64(w->v->mem, gpa, val);
    else
        mem_st32(w->v->mem, gpa, (uint32_t)val);
}

/* A non-leaf or leaf entry: present and reserved checks, rights, A bit. */
static int step(struct walk *w, uint64_t gpa, unsigned size, uint64_t *pte, uint64_t rsvd,
                struct pg_result *r)
{
    *pte = entry(w, gpa, size);
    if (!(*pte & PTE_P))
        return fault(w, r, false, false);
    if (*pte & rsvd)
        return fault(w, r, true, true);
    w->rw = w->rw && (*pte & PTE_RW);
    w->us = w->us && (*pte & PTE_US);
    w->nx = w->nx || (size == 8 && (*pte & PTE_NX));
    if (w->set_ad && !(*pte & PTE_A))
        put(w, gpa, size, *pte |= PTE_A);
    return 0;
}

/* The leaf's permission checks (SDM vol. 3 4.6), D bit, result. */
static int leaf(struct walk *w, uint64_t gpa, unsigned size, uint64_t pte, uint64_t pa,
                struct pg_result *r)
{
    struct vcpu *v = w->v;
    uint64_t cr0 = vcpu_get(v, VR_CR0), cr4 = vcpu_get(v, VR_CR4);
    bool smap = !w->user && w->us && (cr4 & CR4_SMAP) && w->acc != PG_FETCH &&
                !(vcpu_get(v, VR_RFLAGS) & RFLAGS_AC);
    if ((w->user && !w->us) || smap ||
        (w->acc == PG_WRITE && !w->rw && (w->user || (cr0 & CR0_WP))) ||
        (w->acc == PG_FETCH && (w->nx || (!w->user && w->us && (cr4 & CR4_SMEP)))))
        return fault(w, r, true, false);
    if (w->set_ad && w->acc == PG_WRITE && !(pte & PTE_D))
        put(w, gpa, size, pte |= PTE_D);
    r->gpa = pa;
    r->writable = w->rw || (!w->user && !(cr0 & CR0_WP));
    r->executable = !w->nx;
    r->user = w->us;
    r->dirty = pte & PTE_D;
    return 0;
}

static int walk_32(struct walk *w, uint32_t va, uint64_t cr3, uint64_t cr4, struct pg_result *r)
{
    uint64_t pde_gpa = (cr3 & 0xFFFFF000u) + ((va >> 22) & 0x3FF) * 4, pde, pte;
    bool big = cr4 & CR4_PSE;
    /* A 4 MiB PDE: bit 21 is reserved (PSE-36 with 8 address bits). */
    if (step(w, pde_gpa, 4, &pde, 0, r) < 0)
        return -1;
    if (big && (pde & PTE_PS)) {
        if (pde & (1u << 21))
            return fault(w, r, true, true);
        uint64_t pa = (pde & 0xFFC00000u) | (((pde >> 13) & 0xFF) << 32) | (va & 0x3FFFFF);
        return leaf(w, pde_gpa, 4, pde, pa, r);
    }
    uint64_t pte_gpa = (pde & 0xFFFFF000u) + ((va >> 12) & 0x3FF) * 4;
    if (step(w, pte_gpa, 4, &pte, 0, r) < 0)
        return -1;
    return leaf(w, pte_gpa, 4, pte, (pte & 0xFFFFF000u) | (va & 0xFFF), r);
}

static int walk_pae(struct walk *w, uint32_t va, uint64_t cr3, bool nxe, struct pg_result *r)
{
    uint64_t hi = ~PAE_ADDR & ~0xFFFull & ~PTE_NX, nx_rsvd = nxe ? 0 : PTE_NX;
    uint64_t pdpte = entry(w, (cr3 & 0xFFFFFFE0u) + ((va >> 30) & 3) * 8, 8);
    if (!(pdpte & PTE_P))
        return fault(w, r, false, false);
    if (pdpte & (hi | PTE_NX | 0x1E6ull)) /* bits 2:1 and 8:5 are reserved */
        return fault(w, r, true, true);
    uint64_t pde_gpa = (pdpte & PAE_ADDR) + ((va >> 21) & 0x1FF) * 8, pde, pte;
    if (step(w, pde_gpa, 8, &pde, hi | nx_rsvd, r) < 0)
        return -1;
    if (pde & PTE_PS) {
        if (pde & 0x1FE000ull)
            return fault(w, r, true, true);
        return leaf(w, pde_gpa, 8, pde, (pde & PAE_ADDR & ~0x1FFFFFull) | (va & 0x1FFFFF), r);
    }
    uint64_t pte_gpa = (pde & PAE_ADDR) + ((va >> 12) & 0x1FF) * 8;
    if (step(w, pte_gpa, 8, &pte, hi | nx_rsvd, r) < 0)
        return -1;
    return leaf(w, pte_gpa, 8, pte, (pte & PAE_ADDR) | (va & 0xFFF), r);
}

int pg_walk32(struct vcpu *v, uint64_t va, enum pg_access acc, bool user, bool set_ad,
              struct pg_result *r)
{
    memset(r, 0, sizeof(*r));
    uint64_t cr3 = vcpu_get(v, VR_CR3), cr4 = vcpu_get(v, VR_CR4);
    bool nxe = vcpu_get(v, VR_EFER) & EFER_NXE;
    struct walk w = {v, acc, user, set_ad, nxe || (cr4 & CR4_SMEP), true, true, false};
    if (cr4 & CR4_PAE)
        return walk_pae(&w, (uint32_t)va, cr3, nxe, r);
    return walk_32(&w, (uint32_t)va, cr3, cr4, r);
}
