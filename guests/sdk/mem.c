/* SPDX-License-Identifier: MIT */
/*
 * Guest memory helpers: a bump page allocator over the boot info's free RAM
 * (the SDK needs it only for per-vCPU stacks, allocated once by vCPU 0), and a
 * walk of the loader's 4-level page tables to find a 4 KiB PTE, for tests that
 * change a mapping (exceptions.c). RAM is identity-mapped, so table addresses
 * are usable as pointers; the C-bit, when there is one, is masked off.
 */
#include <sdk/sdk.h>

extern char __image_end[];

static struct spinlock alloc_lock;
static uint64_t alloc_next;

void *sdk_alloc_pages(size_t npages)
{
    uint64_t flags = spin_lock_irqsave(&alloc_lock);
    if (!alloc_next) {
        alloc_next = sdk_bootinfo->free_start;
        if (alloc_next < (uint64_t)(uintptr_t)__image_end)
            alloc_next = (uint64_t)(uintptr_t)__image_end;
        alloc_next = (alloc_next + SDK_PAGE_SIZE - 1) & ~(uint64_t)(SDK_PAGE_SIZE - 1);
    }
    uint64_t p = alloc_next, end = p + npages * SDK_PAGE_SIZE;
    if (end > sdk_bootinfo->free_end) {
        spin_unlock_irqrestore(&alloc_lock, flags);
        sdk_fail(SDK_EXIT_SETUP, "out of free RAM: %zu pages at 0x%lx, free_end 0x%lx", npages,
                 p, sdk_bootinfo->free_end);
    }
    alloc_next = end;
    spin_unlock_irqrestore(&alloc_lock, flags);
    return (void *)(uintptr_t)p;
}

static uint64_t *table_of(uint64_t entry)
{
    uint64_t mask = 0x000FFFFFFFFFF000ull;
    if (sdk_bootinfo->cbit_pos)
        mask &= ~(1ull << sdk_bootinfo->cbit_pos);
    return (uint64_t *)(uintptr_t)(entry & mask);
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
