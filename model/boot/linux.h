/* SPDX-License-Identifier: MIT */
/*
 * Loading a Linux bzImage by the x86 boot protocol (Linux
 * Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"; the structures of
 * arch/x86/include/uapi/asm/bootparam.h), as a boot loader would: the setup
 * header checked, the protected-mode kernel placed, the zero page (struct
 * boot_params) with the e820 map, the command line and the initrd, the ACPI
 * tables (acpi.h), a GDT and an identity map, and the 64-bit entry state.
 * docs/guest-abi.md "Linux boot" has the memory map.
 */
#ifndef SNPREF_LINUX_H
#define SNPREF_LINUX_H

#include <stddef.h>
#include <stdint.h>

struct mem;
struct acpi_aspt;
struct guest_image;

/* What `--initrd` and `--append` give the loader (guest_image.kernel). */
struct kernel_args {
    const uint8_t *initrd;   /* NULL: no initrd */
    size_t initrd_len;
    const char *initrd_name; /* for messages */
    const char *cmdline;     /* NULL: empty */
};

/* The loader's own pages: reserved in the e820 map, below the EBDA. */
#define LINUX_ZERO_PAGE  0x90000ull
#define LINUX_CMDLINE    0x91000ull /* one page: command lines up to 4095 bytes */
#define LINUX_GDT        0x92000ull
#define LINUX_STACK_TOP  0x94000ull /* one page below it */
#define LINUX_PML4       0x94000ull /* PML4, PDPT, 4 PDs: 4 GiB in 2 MiB pages */
#define LINUX_TABLES_END 0x9A000ull
#define LINUX_EBDA       0x9FC00ull /* 1 KiB, as SeaBIOS; reserved to 0xA0000 */
#define LINUX_LOW_RAM_END 0x90000ull
#define LINUX_BOOT_CS    0x10       /* __BOOT_CS and __BOOT_DS of boot.rst */
#define LINUX_BOOT_DS    0x18
/* RAM must end below the 32-bit MMIO hole (the test MMIO page at 0xF0000000,
 * the IOAPIC, the local APIC): at most 3 GiB, as QEMU's PC below 4 GiB. */
#define LINUX_MAX_RAM    (3ull << 30)
#define LINUX_DEFAULT_RAM_MB 256

/* The boot vCPU's entry state the loader chose (docs/guest-abi.md "Linux boot"). */
struct boot_entry {
    uint64_t rip, rsp, rsi, cr3, gdt_base;
    uint16_t gdt_limit, cs, ds;
};

/* The setup header fields the loader uses (boot.rst "The Real-Mode Kernel Header"). */
struct linux_header {
    unsigned setup_sects;      /* 0x1F1, 0 meaning 4 */
    uint32_t syssize;          /* 0x1F4, 16-byte paragraphs */
    uint16_t version;          /* 0x206 */
    uint8_t loadflags;         /* 0x211 */
    uint32_t initrd_addr_max;  /* 0x22C */
    uint32_t kernel_alignment; /* 0x230 */
    uint8_t relocatable;       /* 0x234 */
    uint16_t xloadflags;       /* 0x236 */
    uint32_t cmdline_size;     /* 0x238 */
    uint64_t pref_address;     /* 0x258 */
    uint32_t init_size;        /* 0x260 */
    size_t hdr_end;            /* 0x202 + the jump's offset byte at 0x201 */
    size_t pm_offset, pm_size; /* the protected-mode kernel in the file */
};

/* Checks that img is a bzImage with a 64-bit entry. Returns 0, or -1 with one
 * line naming the file and the field. */
int linux_parse(const struct guest_image *img, struct linux_header *h, char *err, size_t errlen);

/* Where linux_load() puts things, computed and checked before anything is written. */
struct linux_placement {
    uint64_t kernel, kernel_end; /* [load address, + max(init_size, image)) */
    uint64_t initrd, initrd_len; /* 0, 0 without an initrd */
    size_t cmdline_len;
};

/*
 * Loads the bzImage in img (img->kernel: initrd and command line) into RAM for
 * nvcpus vCPUs with these APIC IDs (and an ASPT when aspt is not NULL) and sets *e. Every check happens before the
 * first write: on bad input RAM is untouched and -1 comes back with one line
 * naming the file and the field (exit status 65).
 */
int linux_load(struct mem *m, const struct guest_image *img, unsigned nvcpus,
               const uint32_t *apic_ids, const struct acpi_aspt *aspt, struct boot_entry *e, struct linux_placement *pl,
               char *err, size_t errlen);

/* The e820 map linux_load() gives for ram bytes of RAM (boot_params.e820_table). */
struct e820_entry {
    uint64_t addr, size;
    uint32_t type; /* 1 RAM, 2 reserved */
};
#define E820_RAM      1
#define E820_RESERVED 2
/* psp_page: the PSP device's page, reserved too (0: none). */
unsigned linux_e820(uint64_t ram, uint64_t psp_page, struct e820_entry *out, unsigned cap);

#endif
