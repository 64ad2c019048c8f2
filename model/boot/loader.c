/* SPDX-License-Identifier: MIT */
/*
 * ELF64 loading and the boot environment of docs/guest-abi.md. Every check on
 * the image is a user-input check: a bad file gets one line naming it and the
 * problem, never a crash and never a partly loaded guest that runs.
 */
#include "loader.h"

#include <elf.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "snpref/base.h"

#define STACK_SIZE (16u * 1024)
#define PAGE 4096u

#define MIB2 (2ull << 20)

/* GHCB pages are mapped with 4 KiB pages: one page table per 2 MiB region they
 * touch (at most vcpus / 512 + 2 of them). */
static uint64_t ghcb_tables(unsigned vcpus) { return vcpus / 512 + 2; }

static uint64_t pages_for_tables(uint64_t ram_size, unsigned vcpus)
{
    uint64_t gib = (ram_size + (1ull << 30) - 1) >> 30;
    uint64_t pdpts = (gib + 511) / 512;
    return 1 /* PML4 */ + pdpts + gib /* PDs */ + 1 /* PT for the first 2 MiB */ +
           ghcb_tables(vcpus);
}

int loader_refuse(char *err, size_t errlen, const char *file, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "%s: ", file);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void loader_layout(uint64_t ram_size, unsigned vcpus, struct boot_layout *l)
{
    memset(l, 0, sizeof(*l));
    l->vcpus = vcpus;
    uint64_t top = ram_size;
    l->bootinfo = top -= PAGE;
    l->gdt = top -= PAGE;
    l->gdt_limit = 5 * 8 - 1;
    l->secrets = top -= PAGE;
    l->cpuid = top -= PAGE;
    l->table_pages = pages_for_tables(ram_size, vcpus);
    top -= l->table_pages * PAGE;
    l->cr3 = top;
    l->stack_size = STACK_SIZE;
    l->stack_top_base = top;
    top -= (uint64_t)vcpus * STACK_SIZE;
    /* One spare page lets the VMSAs step over a 2 MiB boundary. */
    top -= ((uint64_t)vcpus + 1) * PAGE;
    l->vmsa_base = top;
    uint64_t next2m = (top + MIB2 - 1) & ~(MIB2 - 1);
    l->vmsa_skip = next2m < top + ((uint64_t)vcpus + 1) * PAGE ? next2m : 0;
    l->backing_base = top -= (uint64_t)vcpus * PAGE;
    l->ghcb_base = top -= (uint64_t)vcpus * PAGE;
    l->free_end = top;
}

uint64_t loader_vmsa_gpa(const struct boot_layout *l, unsigned i)
{
    uint64_t a = l->vmsa_base + (uint64_t)i * PAGE;
    return l->vmsa_skip && a >= l->vmsa_skip ? a + PAGE : a;
}

void loader_for_each_page(const struct boot_layout *l, void (*fn)(void *ctx, uint64_t gpa),
                          void *ctx)
{
    for (uint64_t i = 0; i < l->table_pages; i++)
        fn(ctx, l->cr3 + i * PAGE);
    fn(ctx, l->gdt);
    fn(ctx, l->bootinfo);
}

#define ELF_FAIL(...) return loader_refuse(err, errlen, img->name, __VA_ARGS__)

static int check_header(const struct guest_image *img, const Elf64_Ehdr *eh, char *err,
                        size_t errlen)
{
    if (img->len < EI_NIDENT || memcmp(img->data, ELFMAG, SELFMAG) != 0)
        ELF_FAIL("not an ELF file");
    if (img->data[EI_CLASS] == ELFCLASS32)
        ELF_FAIL("32-bit ELF; snpref runs ELF64 x86-64 guests");
    if (img->data[EI_CLASS] != ELFCLASS64)
        ELF_FAIL("unknown ELF class %u", img->data[EI_CLASS]);
    if (img->len < sizeof(*eh))
        ELF_FAIL("truncated ELF header");
    if (img->data[EI_DATA] != ELFDATA2LSB)
        ELF_FAIL("big-endian ELF; x86-64 guests are little-endian");
    if (eh->e_machine != EM_X86_64)
        ELF_FAIL("ELF machine %u is not x86-64 (62)", eh->e_machine);
    if (eh->e_type != ET_EXEC)
        ELF_FAIL("ELF type %u is not ET_EXEC (a statically linked guest)", eh->e_type);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
        ELF_FAIL("no program headers");
    if (eh->e_phoff > img->len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > img->len - eh->e_phoff)
        ELF_FAIL("program headers lie outside the file (offset %#" PRIx64 ")", eh->e_phoff);
    return 0;
}

int loader_load_elf(struct mem *m, const struct guest_image *img, const struct boot_layout *l,
                    uint64_t *entry, uint64_t *image_end, char *err, size_t errlen)
{
    Elf64_Ehdr eh;
    memset(&eh, 0, sizeof(eh));
    memcpy(&eh, img->data, img->len < sizeof(eh) ? img->len : sizeof(eh));
    if (check_header(img, &eh, err, errlen) < 0)
        return -1;
    Elf64_Phdr ph[64];
    unsigned n = eh.e_phnum < 64 ? eh.e_phnum : 64;
    memcpy(ph, img->data + eh.e_phoff, n * sizeof(Elf64_Phdr));
    /* Validate everything before writing anything. */
    uint64_t end = 0;
    bool entry_ok = false;
    unsigned loads = 0;
    for (unsigned i = 0; i < n; i++) {
        const Elf64_Phdr *p = &ph[i];
        /* An empty PT_LOAD (a linker's placeholder for absent data) loads nothing. */
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        loads++;
        if (p->p_filesz > p->p_memsz)
            ELF_FAIL("segment %u: file size %#" PRIx64 " exceeds memory size %#" PRIx64, i,
                     p->p_filesz, p->p_memsz);
        if (p->p_offset > img->len || p->p_filesz > img->len - p->p_offset)
            ELF_FAIL("segment %u: data lies outside the file (offset %#" PRIx64 ")", i,
                     p->p_offset);
        if (p->p_paddr < PAGE || p->p_memsz > l->free_end || p->p_paddr > l->free_end - p->p_memsz)
            ELF_FAIL("segment %u (paddr %#" PRIx64 ", %#" PRIx64 " bytes) lies outside guest "
                     "RAM [0x1000, %#" PRIx64 ") (ram_mb too small?)",
                     i, p->p_paddr, p->p_memsz, l->free_end);
        if (eh.e_entry >= p->p_vaddr && eh.e_entry < p->p_vaddr + p->p_memsz && (p->p_flags & PF_X))
            entry_ok = true;
        if (p->p_paddr + p->p_memsz > end)
            end = p->p_paddr + p->p_memsz;
    }
    if (!loads)
        ELF_FAIL("no PT_LOAD segment");
    if (!entry_ok)
        ELF_FAIL("entry point %#" PRIx64 " is not in an executable segment", eh.e_entry);
    for (unsigned i = 0; i < n; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        SNP_ASSERT(mem_write(m, p->p_paddr, img->data + p->p_offset, p->p_filesz));
        memset(m->ram + p->p_paddr + p->p_filesz, 0, p->p_memsz - p->p_filesz);
    }
    *entry = eh.e_entry;
    *image_end = (end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    return 0;
}

void loader_for_each_segment(const struct guest_image *img,
                             void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx)
{
    Elf64_Ehdr eh;
    memcpy(&eh, img->data, sizeof(eh));
    for (unsigned i = 0; i < eh.e_phnum && i < 64; i++) {
        Elf64_Phdr p;
        memcpy(&p, img->data + eh.e_phoff + i * sizeof(p), sizeof(p));
        if (p.p_type == PT_LOAD && p.p_memsz)
            fn(ctx, p.p_paddr, p.p_paddr + p.p_memsz);
    }
}

#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

/* A 2 MiB region mapped with 4 KiB pages: page 0 of RAM is left unmapped
 * (NULL faults), GHCB pages are shared (no C-bit). */
static void build_pt(struct mem *m, const struct boot_layout *l, uint64_t pt, uint64_t region,
                     uint64_t c)
{
    uint64_t ghcb_end = l->ghcb_base + (uint64_t)l->vcpus * PAGE;
    for (uint64_t a = region; a < region + MIB2 && a < m->size; a += PAGE) {
        if (a == 0)
            continue;
        bool shared = a >= l->ghcb_base && a < ghcb_end;
        mem_st64(m, pt + ((a - region) >> 12) * 8, a | PTE_P | PTE_RW | (shared ? 0 : c));
    }
}

void loader_build(struct mem *m, const struct boot_layout *l, const struct snp_bootinfo *bi,
                  unsigned cbit_pos)
{
    uint64_t ram = m->size, c = cbit_pos ? 1ull << cbit_pos : 0;
    uint64_t gib = (ram + (1ull << 30) - 1) >> 30;
    uint64_t pdpts = (gib + 511) / 512;
    uint64_t pml4 = l->cr3, pdpt = pml4 + PAGE, pd = pdpt + pdpts * PAGE, pt = pd + gib * PAGE;
    memset(m->ram + pml4, 0, l->table_pages * PAGE);
    for (uint64_t i = 0; i < pdpts; i++)
        mem_st64(m, pml4 + i * 8, (pdpt + i * PAGE) | PTE_P | PTE_RW | c);
    for (uint64_t g = 0; g < gib; g++)
        mem_st64(m, pdpt + g * 8, (pd + g * PAGE) | PTE_P | PTE_RW | c);
    /* 4 KiB tables for region 0 and for the regions holding GHCB pages. */
    uint64_t first = l->ghcb_base & ~(MIB2 - 1), last = (l->ghcb_base + (uint64_t)l->vcpus * PAGE - 1) & ~(MIB2 - 1);
    uint64_t next_pt = pt + PAGE;
    for (uint64_t a = 0; a < ram; a += MIB2) {
        uint64_t slot = pd + (a >> 21) * 8;
        if (a == 0 || (a >= first && a <= last)) {
            uint64_t t = a == 0 ? pt : next_pt;
            if (a != 0)
                next_pt += PAGE;
            SNP_ASSERT(t < l->cr3 + l->table_pages * PAGE);
            build_pt(m, l, t, a, c);
            mem_st64(m, slot, t | PTE_P | PTE_RW | c);
        } else {
            mem_st64(m, slot, a | PTE_P | PTE_RW | PTE_PS | c);
        }
    }

    static const uint64_t gdt[5] = {
        0,
        0x00AF9A000000FFFFull, /* 0x08: 64-bit code, DPL 0 */
        0x00CF92000000FFFFull, /* 0x10: data, DPL 0 */
        0x00AFFA000000FFFFull, /* 0x18: 64-bit code, DPL 3 */
        0x00CFF2000000FFFFull, /* 0x20: data, DPL 3 */
    };
    SNP_ASSERT(mem_write(m, l->gdt, gdt, sizeof(gdt)));
    _Static_assert(sizeof(struct snp_bootinfo) <= PAGE, "boot info fits one page");
    SNP_ASSERT(mem_write(m, l->bootinfo, bi, sizeof(*bi)));
}
