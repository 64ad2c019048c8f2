/* SPDX-License-Identifier: MIT */
/*
 * Loading a multiboot (version 1) image as a multiboot boot loader would
 * (The Multiboot Specification 0.6.96: 3.1 the OS image format, 3.2 the
 * machine state, 3.3 the boot information format): the header found in the
 * first 8 KiB, the image loaded from its ELF32 program headers or, with header
 * flag 16, from the header's own address fields (the "a.out kludge"), the
 * `--initrd` file as the one boot module, the command line, the memory map,
 * the ACPI tables (acpi.h) and the 32-bit protected-mode entry with paging
 * off. kvm-unit-tests' x86 `.flat` files are such images. docs/guest-abi.md
 * "Multiboot" has the memory map and the entry state.
 */
#ifndef SNPREF_MULTIBOOT_H
#define SNPREF_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"

struct mem;

#define MB_HEADER_MAGIC  0x1BADB002u /* 3.1.2 */
#define MB_LOADER_MAGIC  0x2BADB002u /* 3.2: EAX at the entry */
#define MB_SEARCH_BYTES  8192u       /* 3.1.1: the header lies in the first 8 KiB */

/* Header flags (3.1.2). Bits 0-15 are requirements: a loader that does not
 * understand one must refuse the image. */
#define MB_HF_PAGE_ALIGN 0x00000001u /* modules on 4 KiB boundaries */
#define MB_HF_MEMORY     0x00000002u /* mem_* and mmap_* in the info */
#define MB_HF_VIDEO      0x00000004u /* a video mode table */
#define MB_HF_AOUT_KLUDGE 0x00010000u /* the address fields at offsets 12-28 */

/* Info flags (3.3): which fields of the boot information are valid. */
#define MB_IF_MEMORY  0x001u
#define MB_IF_CMDLINE 0x004u
#define MB_IF_MODS    0x008u
#define MB_IF_MMAP    0x040u
#define MB_IF_LOADER  0x200u

/* Boot information offsets (3.3). */
#define MB_INFO_FLAGS       0
#define MB_INFO_MEM_LOWER   4
#define MB_INFO_MEM_UPPER   8
#define MB_INFO_CMDLINE     16
#define MB_INFO_MODS_COUNT  20
#define MB_INFO_MODS_ADDR   24
#define MB_INFO_MMAP_LENGTH 44
#define MB_INFO_MMAP_ADDR   48
#define MB_INFO_LOADER_NAME 64
#define MB_INFO_SIZE        120 /* through the framebuffer fields, all zero */

/* The loader's low pages, the range the Linux loader uses (reserved in the
 * memory map, linux_e820()): the boot information with the module list, the
 * memory map and the loader's name at MB_INFO, the command line at MB_CMDLINE,
 * the GDT at MB_GDT, and ESP at MB_STACK_TOP (3.2 leaves ESP undefined; it
 * points at a reserved page rather than anywhere). */
#define MB_INFO      0x90000ull
#define MB_MODS      (MB_INFO + 0x80)
#define MB_MMAP      (MB_INFO + 0x100)
#define MB_LOADER_NAME (MB_INFO + 0x400)
#define MB_MOD_STRING  (MB_INFO + 0x800) /* the module's string: the file name */
#define MB_CMDLINE   0x91000ull           /* one page */
#define MB_GDT       0x92000ull
#define MB_STACK_TOP 0x94000ull
#define MB_CODE32    0x08
#define MB_DATA32    0x10
#define MB_LOW_END   0x100000ull          /* images load at 1 MiB and above */

/* The header fields (3.1.2-3.1.3) and where the header lies in the file. */
struct mb_header {
    size_t offset; /* of the magic, 4-byte aligned, below MB_SEARCH_BYTES */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Whether the first 8 KiB of img hold a multiboot header (magic and a
 * checksum that makes magic + flags + checksum zero). Fills *h when non-NULL. */
bool multiboot_detect(const struct guest_image *img, struct mb_header *h);

/* Where multiboot_load() puts things, computed and checked before any write. */
struct mb_placement {
    bool aout;                   /* loaded by the a.out kludge, not ELF */
    uint64_t image, image_end;   /* [lowest, highest) byte loaded or zeroed */
    uint64_t entry;
    uint64_t module, module_len; /* 0, 0 without --initrd */
    size_t cmdline_len;
};

/*
 * Loads the multiboot image img (img->kernel, if any: the module and the
 * command line) into RAM for nvcpus vCPUs with these APIC IDs and sets *e to
 * the entry state of 3.2. Every check happens before the first write: on bad
 * input RAM is untouched and -1 comes back with one line naming the file and
 * the field (exit status 65).
 */
int multiboot_load(struct mem *m, const struct guest_image *img, unsigned nvcpus,
                   const uint32_t *apic_ids, struct boot_entry *e, struct mb_placement *pl,
                   char *err, size_t errlen);

#endif
