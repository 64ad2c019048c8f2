/* SPDX-License-Identifier: MIT */
/*
 * Guest image loading and the loader's region (docs/guest-abi.md): PT_LOAD
 * segments at their physical addresses; the identity map, GDT, boot-info
 * block, boot stacks and suggested GHCB/backing pages at the top of RAM.
 */
#ifndef SNPREF_LOADER_H
#define SNPREF_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "snpref/abi.h"

struct mem;

/* What `--initrd` and `--append` give a boot loader (guest_image.kernel): the
 * Linux loader's initrd and command line, or a multiboot image's first module
 * and command line. */
struct kernel_args {
    const uint8_t *initrd;   /* NULL: no initrd */
    size_t initrd_len;
    const char *initrd_name; /* for messages */
    const char *cmdline;     /* NULL: empty */
};

struct guest_image {
    const uint8_t *data;
    size_t len;
    const char *name;   /* for messages: the file name or "built-in demo" */
    /* Non-NULL: the image came with `--kernel`: a multiboot image (multiboot.h)
     * if it carries a multiboot header, else a Linux bzImage to boot by the x86
     * boot protocol (linux.h), with this initrd and command line. A guest given
     * without `--kernel` (NULL here) is a multiboot image if it carries the
     * header, else an SDK ELF64 guest. */
    const struct kernel_args *kernel;
};

/* How a boot loader leaves the boot vCPU (`--kernel` or a multiboot image):
 * the Linux loader's 64-bit entry (linux.h) or a multiboot entry in 32-bit
 * protected mode with paging off (multiboot.h). */
enum boot_entry_mode {
    BOOT_ENTRY_LONG64 = 0,
    BOOT_ENTRY_PROT32,
};

/* The boot vCPU's entry state a boot loader chose (docs/guest-abi.md "Linux
 * boot", "Multiboot"). cr3 is unused in PROT32 (paging is off). */
struct boot_entry {
    enum boot_entry_mode mode;
    uint64_t rip, rsp, rsi, rax, rbx, cr3, gdt_base;
    uint16_t gdt_limit, cs, ds;
};

/* Where the loader put things (all guest-physical). */
struct boot_layout {
    unsigned vcpus;
    uint64_t free_end;      /* start of the loader's region */
    uint64_t bootinfo;
    uint64_t gdt;
    uint16_t gdt_limit;
    uint64_t secrets, cpuid;        /* SNP launch pages (unused otherwise) */
    uint64_t cr3;                   /* first page of the tables */
    uint64_t table_pages;
    uint64_t stack_top_base, stack_size;
    uint64_t vmsa_base, vmsa_skip;  /* launch VMSAs: loader_vmsa_gpa() */
    uint64_t ghcb_base, backing_base;
};

#define LOADER_GDT_CODE64 0x08
#define LOADER_GDT_DATA   0x10

/* A refusal of a loader: "FILE: message" as one line in err. Returns -1. */
int loader_refuse(char *err, size_t errlen, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Computes the loader's region for this RAM size and vCPU count. */
void loader_layout(uint64_t ram_size, unsigned vcpus, struct boot_layout *l);

/* The launch VMSA page of vCPU i: never 2 MiB-aligned (the erratum of fact
 * sheet 6.3: a VMSA on a 2 MiB boundary can raise a spurious RMP #PF). */
uint64_t loader_vmsa_gpa(const struct boot_layout *l, unsigned i);

/*
 * Checks the ELF image and copies its segments into RAM below l->free_end.
 * Returns 0 with *entry and *image_end set, or -1 with a one-line message
 * naming the image and the problem (exit status 65: malformed input).
 */
int loader_load_elf(struct mem *m, const struct guest_image *img, const struct boot_layout *l,
                    uint64_t *entry, uint64_t *image_end, char *err, size_t errlen);

/*
 * Writes the identity map, GDT and boot-info block (bi is copied in). With
 * cbit_pos != 0 (SEV-ES/SNP) every RAM mapping carries the C-bit except the
 * GHCB pages, which are mapped 4 KiB and shared (docs/guest-abi.md).
 */
void loader_build(struct mem *m, const struct boot_layout *l, const struct snp_bootinfo *bi,
                  unsigned cbit_pos);

/* The [start, end) guest-physical range of each non-empty PT_LOAD segment of a
 * valid image (one loader_load_elf accepted), in file order. */
void loader_for_each_segment(const struct guest_image *img,
                             void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx);

/* Guest-physical pages the loader wrote, for the launch to measure: the
 * tables, GDT and boot info (NORMAL pages). Calls fn for each page. */
void loader_for_each_page(const struct boot_layout *l, void (*fn)(void *ctx, uint64_t gpa),
                          void *ctx);

#endif
