/* SPDX-License-Identifier: MIT */
/*
 * Guest memory helpers: a bump page allocator over the boot info's free RAM,
 * and walks of the loader's 4-level page tables (find or split a 4 KiB PTE,
 * translate an address for the #VC handler's MMIO path, map MMIO, flip the
 * C-bit). RAM is identity-mapped, so table addresses are usable as pointers;
 * the C-bit, when there is one, is masked off them.
 *
 * The allocator hands out pages bottom-up from free_start. Under SNP free RAM
 * starts out hypervisor-owned, so the allocator accepts it ahead of itself
 * (snp.c: page-state change to private, then PVALIDATE) in runs that end on a
 * 2 MiB boundary, so that whole 2 MiB regions go as one 2 MiB entry. Pages
 * that must stay hypervisor-owned (sdk_alloc_pages_unaccepted) come from the
 * top of free RAM, which the accepted region never reaches. Plain mode gets
 * exactly the addresses it always got.
 */
#include <sdk/sdk.h>

extern char __image_end[];

#define SZ_2M (2ull << 20)

static struct spinlock alloc_lock;
static uint64_t alloc_next, alloc_top, accepted_end, free_list;

static struct spinlock pt_lock;

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static void alloc_init(void)
{
    alloc_next = sdk_bootinfo->free_start;
    if (alloc_next < (uint64_t)(uintptr_t)__image_end)
        alloc_next = (uint64_t)(uintptr_t)__image_end;
    alloc_next = round_up(alloc_next, SDK_PAGE_SIZE);
    alloc_top = sdk_bootinfo->free_end & ~(uint64_t)(SDK_PAGE_SIZE - 1);
    accepted_end = alloc_next;
}

/* SNP: makes [accepted_end, end) private and validated, rounded up to 2 MiB. */
static void accept_to(uint64_t end)
{
    if (!sdk_snp_active() || end <= accepted_end)
        return;
    uint64_t to = round_up(end, SZ_2M);
    if (to > alloc_top)
        to = alloc_top;
    int rc = sdk_snp_accept(accepted_end, (to - accepted_end) / SDK_PAGE_SIZE);
    if (rc)
        sdk_sev_terminate(SEV_TERM_SET_LINUX, (unsigned)rc);
    accepted_end = to;
}

static void __attribute__((noreturn)) exhausted(uint64_t flags, size_t npages, uint64_t at)
{
    spin_unlock_irqrestore(&alloc_lock, flags);
    sdk_fail(SDK_EXIT_SETUP, "out of free RAM: %zu pages at 0x%lx, free RAM ends at 0x%lx", npages,
             at, alloc_top);
}

void *sdk_alloc_pages_aligned(size_t npages, uint64_t align)
{
    uint64_t flags = spin_lock_irqsave(&alloc_lock);
    if (!alloc_next)
        alloc_init();
    if (npages == 1 && align <= SDK_PAGE_SIZE && free_list) {
        uint64_t p = free_list;
        free_list = *(uint64_t *)(uintptr_t)p;
        spin_unlock_irqrestore(&alloc_lock, flags);
        return (void *)(uintptr_t)p;
    }
    if (align < SDK_PAGE_SIZE)
        align = SDK_PAGE_SIZE;
    uint64_t p = round_up(alloc_next, align), end = p + npages * SDK_PAGE_SIZE;
    if (end > alloc_top || end < p)
        exhausted(flags, npages, p);
    accept_to(end);
    /* Pages skipped to reach the alignment are not lost. */
    for (uint64_t q = alloc_next; q < p; q += SDK_PAGE_SIZE) {
        *(uint64_t *)(uintptr_t)q = free_list;
        free_list = q;
    }
    alloc_next = end;
    spin_unlock_irqrestore(&alloc_lock, flags);
    return (void *)(uintptr_t)p;
}

void *sdk_alloc_pages(size_t npages)
{
    return sdk_alloc_pages_aligned(npages, SDK_PAGE_SIZE);
}

void sdk_free_pages(void *p, size_t npages)
{
    uint64_t flags = spin_lock_irqsave(&alloc_lock);
    for (size_t i = 0; i < npages; i++) {
        uint64_t q = (uint64_t)(uintptr_t)p + i * SDK_PAGE_SIZE;
        *(uint64_t *)(uintptr_t)q = free_list;
        free_list = q;
    }
    spin_unlock_irqrestore(&alloc_lock, flags);
}

void *sdk_alloc_pages_unaccepted(size_t npages)
{
    uint64_t flags = spin_lock_irqsave(&alloc_lock);
    if (!alloc_next)
        alloc_init();
    uint64_t floor = alloc_next > accepted_end ? alloc_next : accepted_end;
    uint64_t p = alloc_top - npages * SDK_PAGE_SIZE;
    if (npages * SDK_PAGE_SIZE > alloc_top || p < floor)
        exhausted(flags, npages, p);
    alloc_top = p;
    spin_unlock_irqrestore(&alloc_lock, flags);
    return (void *)(uintptr_t)p;
}

/* ---- Page tables ------------------------------------------------------------------------ */

static uint64_t addr_mask(void)
{
    uint64_t mask = 0x000FFFFFFFFFF000ull;
    if (sdk_bootinfo->cbit_pos)
        mask &= ~(1ull << sdk_bootinfo->cbit_pos);
    return mask;
}

static uint64_t *table_of(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & addr_mask());
}

uint64_t *sdk_pte_4k(uintptr_t va)
{
    uint64_t *table = table_of(read_cr3());

    for (int shift = 39; shift >= 21; shift -= 9) {
        uint64_t e = table[(va >> shift) & 511];
        if (!(e & PTE_P) || (shift < 39 && (e & PTE_PS)))
            return NULL;
        table = table_of(e);
    }
    return &table[(va >> 12) & 511];
}

bool sdk_virt_to_phys(uintptr_t va, uint64_t *gpa, bool *enc)
{
    uint64_t *table = table_of(read_cr3());
    uint64_t cbit = sdk_cbit_mask();

    for (int shift = 39;; shift -= 9) {
        uint64_t e = READ_ONCE(table[(va >> shift) & 511]);
        if (!(e & PTE_P))
            return false;
        if (shift == 12 || (shift <= 30 && (e & PTE_PS))) {
            uint64_t size = 1ull << shift;
            *gpa = (e & addr_mask() & ~(size - 1)) | (va & (size - 1));
            if (enc)
                *enc = cbit && (e & cbit);
            return true;
        }
        table = table_of(e);
    }
}

static uint64_t *new_table(void)
{
    uint64_t *t = sdk_alloc_pages(1);
    memset(t, 0, SDK_PAGE_SIZE);
    return t;
}

/* An entry pointing at a (private) table page: walks read tables with C=1. */
static uint64_t table_entry(const uint64_t *t, uint64_t flags)
{
    return (uint64_t)(uintptr_t)t | flags | sdk_cbit_mask();
}

/* Walks to the 4 KiB PTE of va with pt_lock held, splitting large pages and,
 * if create, adding missing tables. NULL if unmapped and !create. */
static uint64_t *walk_4k(uintptr_t va, bool create)
{
    uint64_t *table = table_of(read_cr3());

    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *ep = &table[(va >> shift) & 511];
        uint64_t e = *ep;
        if (!(e & PTE_P)) {
            if (!create)
                return NULL;
            uint64_t *t = new_table();
            WRITE_ONCE(*ep, table_entry(t, PTE_P | PTE_W));
        } else if (shift <= 30 && (e & PTE_PS)) {
            uint64_t size = 1ull << shift, child = size >> 9;
            uint64_t base = e & addr_mask() & ~(size - 1);
            uint64_t attrs = e & ~addr_mask();         /* flags, NX, C-bit */
            if (child == SDK_PAGE_SIZE)
                attrs &= ~PTE_PS;                      /* bit 7 is PAT in a 4 KiB PTE */
            uint64_t *t = new_table();
            for (unsigned i = 0; i < 512; i++)
                t[i] = (base + i * child) | attrs;
            WRITE_ONCE(*ep, table_entry(t, e & (PTE_P | PTE_W | PTE_U | PTE_NX)));
            invlpg((const void *)va);
        }
        table = table_of(*ep);
    }
    return &table[(va >> 12) & 511];
}

uint64_t *sdk_pte_4k_split(uintptr_t va)
{
    uint64_t flags = spin_lock_irqsave(&pt_lock);
    uint64_t *pte = walk_4k(va, false);
    spin_unlock_irqrestore(&pt_lock, flags);
    return pte;
}

volatile void *sdk_map_mmio(uint64_t gpa, size_t size)
{
    uint64_t flags = spin_lock_irqsave(&pt_lock);
    for (uint64_t a = gpa & ~0xFFFull; a < gpa + size; a += SDK_PAGE_SIZE) {
        uint64_t *pte = walk_4k(a, true);
        WRITE_ONCE(*pte, a | PTE_P | PTE_W | PTE_PWT | PTE_PCD | PTE_NX);
        invlpg((const void *)(uintptr_t)a);
    }
    spin_unlock_irqrestore(&pt_lock, flags);
    return (volatile void *)(uintptr_t)gpa;
}

void sdk_set_cbit(uintptr_t va, size_t npages, bool enc)
{
    uint64_t cbit = sdk_cbit_mask();
    if (!cbit)
        return;
    uint64_t flags = spin_lock_irqsave(&pt_lock);
    for (size_t i = 0; i < npages; i++) {
        uintptr_t a = va + i * SDK_PAGE_SIZE;
        uint64_t *pte = walk_4k(a, false);
        if (!pte || !(*pte & PTE_P)) {
            spin_unlock_irqrestore(&pt_lock, flags);
            sdk_fail(SDK_EXIT_ASSERT, "sdk_set_cbit: 0x%lx is not mapped", (uint64_t)a);
        }
        WRITE_ONCE(*pte, enc ? (*pte | cbit) : (*pte & ~cbit));
        invlpg((const void *)a);
    }
    spin_unlock_irqrestore(&pt_lock, flags);
}
