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

struct guest_image {
    const uint8_t *data;
    size_t len;
    const char *name;   /* for messages: the file name or "built-in demo" */
};

/* Where the loader put things (all guest-physical). */
struct boot_layout {
    uint64_t free_end;      /* start of the loader's region */
    uint64_t bootinfo;
    uint64_t gdt;
    uint16_t gdt_limit;
    uint64_t cr3;
    uint64_t stack_top_base, stack_size;
    uint64_t ghcb_base, backing_base;
};

#define LOADER_GDT_CODE64 0x08
#define LOADER_GDT_DATA   0x10

/* Computes the loader's region for this RAM size and vCPU count. */
void loader_layout(uint64_t ram_size, unsigned vcpus, struct boot_layout *l);

/*
 * Checks the ELF image and copies its segments into RAM below l->free_end.
 * Returns 0 with *entry and *image_end set, or -1 with a one-line message
 * naming the image and the problem (exit status 65: malformed input).
 */
int loader_load_elf(struct mem *m, const struct guest_image *img, const struct boot_layout *l,
                    uint64_t *entry, uint64_t *image_end, char *err, size_t errlen);

/* Writes the identity map, GDT and boot-info block (bi is copied in). */
void loader_build(struct mem *m, const struct boot_layout *l, const struct snp_bootinfo *bi);

#endif
