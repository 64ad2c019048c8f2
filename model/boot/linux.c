/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 boot protocol, loader side (linux.h). Field offsets are those
 * of struct setup_header and struct boot_params in Linux
 * arch/x86/include/uapi/asm/bootparam.h; what a loader must write is
 * Documentation/arch/x86/boot.rst ("Details of Header Fields", "64-bit Boot
 * Protocol"). Every check on the kernel, the initrd and the command line is a
 * user-input check done before the first byte goes into RAM.
 */
#include "linux.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "loader.h"
#include "mem.h"
#include "snpref/base.h"

#define PAGE 4096ull
#define MIB  (1ull << 20)

/* setup_header offsets (bootparam.h; the same in the file and in boot_params). */
#define HDR_SETUP_SECTS   0x1F1
#define HDR_SYSSIZE       0x1F4
#define HDR_VID_MODE      0x1FA
#define HDR_BOOT_FLAG     0x1FE
#define HDR_JUMP          0x200
#define HDR_HEADER        0x202
#define HDR_VERSION       0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS     0x211
#define HDR_CODE32_START  0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE  0x21C
#define HDR_HEAP_END_PTR  0x224
#define HDR_CMD_LINE_PTR  0x228
#define HDR_INITRD_MAX    0x22C
#define HDR_KERNEL_ALIGN  0x230
#define HDR_RELOCATABLE   0x234
#define HDR_XLOADFLAGS    0x236
#define HDR_CMDLINE_SIZE  0x238
#define HDR_PREF_ADDRESS  0x258
#define HDR_INIT_SIZE     0x260
#define HDR_MIN_END       0x264 /* through init_size: what this loader reads */
#define HDR_MAX_END       0x290 /* boot_params room for it (_pad7 ends at 0x290) */

/* boot_params offsets outside the header (bootparam.h, struct boot_params). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE  0x0C4
#define BP_EXT_CMD_LINE_PTR  0x0C8
#define BP_ALT_MEM_K      0x1E0
#define BP_E820_ENTRIES   0x1E8
#define BP_E820_TABLE     0x2D0
#define E820_MAX_ZEROPAGE 128

#define LOADED_HIGH   0x01
#define QUIET_FLAG    0x20
#define CAN_USE_HEAP  0x80
#define XLF_KERNEL_64 0x01

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v), wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v), wr32(p + 4, (uint32_t)(v >> 32)); }

#define FAIL(file, ...)                                                                            \
    do {                                                                                           \
        int n_ = snprintf(err, errlen, "%s: ", (file));                                            \
        if (n_ >= 0 && (size_t)n_ < errlen)                                                        \
            snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);                                  \
        return -1;                                                                                 \
    } while (0)

/* ---- The setup header ------------------------------------------------------------ */

static void read_header(const uint8_t *d, struct linux_header *h)
{
    h->setup_sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4; /* boot.rst note (1) */
    h->syssize = rd32(d + HDR_SYSSIZE);
    h->loadflags = d[HDR_LOADFLAGS];
    h->initrd_addr_max = rd32(d + HDR_INITRD_MAX);
    h->kernel_alignment = rd32(d + HDR_KERNEL_ALIGN);
    h->relocatable = d[HDR_RELOCATABLE];
    h->xloadflags = rd16(d + HDR_XLOADFLAGS);
    h->cmdline_size = rd32(d + HDR_CMDLINE_SIZE);
    h->pref_address = rd64(d + HDR_PREF_ADDRESS);
    h->init_size = rd32(d + HDR_INIT_SIZE);
    h->pm_offset = (size_t)(h->setup_sects + 1) * 512;
    h->pm_size = (size_t)h->syssize * 16;
}

int linux_parse(const struct guest_image *img, struct linux_header *h, char *err, size_t errlen)
{
    const uint8_t *d = img->data;
    const char *f = img->name;
    memset(h, 0, sizeof(*h));
    if (img->len < HDR_VERSION + 2 || memcmp(d + HDR_HEADER, "HdrS", 4) != 0)
        FAIL(f, "field 'header' at 0x202 is not \"HdrS\": not a Linux bzImage");
    h->version = rd16(d + HDR_VERSION);
    /* xloadflags and the 64-bit entry at +0x200 came with protocol 2.12. */
    if (h->version < 0x020C)
        FAIL(f, "field 'version' at 0x206 is %u.%02u: the 64-bit entry needs boot protocol 2.12 or "
                "later", h->version >> 8, h->version & 0xFF);
    h->hdr_end = HDR_HEADER + d[HDR_JUMP + 1];
    if (d[HDR_JUMP] != 0xEB || h->hdr_end < HDR_MIN_END || h->hdr_end > HDR_MAX_END ||
        h->hdr_end > img->len)
        FAIL(f, "field 'jump' at 0x200: the setup header would end at %#zx, not between 0x264 "
                "(init_size) and 0x290 inside the file", h->hdr_end);
    if (rd16(d + HDR_BOOT_FLAG) != 0xAA55)
        FAIL(f, "field 'boot_flag' at 0x1FE is %#x, not 0xAA55", rd16(d + HDR_BOOT_FLAG));
    read_header(d, h);
    if (!(h->loadflags & LOADED_HIGH))
        FAIL(f, "field 'loadflags' at 0x211 has LOADED_HIGH clear: a zImage, not a bzImage");
    if (!(h->xloadflags & XLF_KERNEL_64))
        FAIL(f, "field 'xloadflags' at 0x236 has XLF_KERNEL_64 clear: no 64-bit entry point");
    if (!h->pm_size || h->pm_offset > img->len || h->pm_size > img->len - h->pm_offset)
        FAIL(f, "field 'syssize' at 0x1F4: %#" PRIx32 " paragraphs from offset %#zx (setup_sects "
                "%u) do not lie inside the file's %zu bytes",
             h->syssize, h->pm_offset, h->setup_sects, img->len);
    if (h->relocatable && (h->kernel_alignment < PAGE ||
                           (h->kernel_alignment & (h->kernel_alignment - 1))))
        FAIL(f, "field 'kernel_alignment' at 0x230 is %#" PRIx32 ", not a power of two of at least "
                "4 KiB", h->kernel_alignment);
    return 0;
}

/* ---- Placement ------------------------------------------------------------------- */

static int place_kernel(const struct guest_image *img, const struct linux_header *h,
                        uint64_t ram, struct linux_placement *pl, char *err, size_t errlen)
{
    /* boot.rst "init_size": a relocatable kernel runs at its load address
     * aligned up to kernel_alignment, the others at pref_address. */
    uint64_t load = h->pref_address ? h->pref_address : 16 * MIB;
    if (h->relocatable)
        load = (load + h->kernel_alignment - 1) & ~(uint64_t)(h->kernel_alignment - 1);
    if (load < MIB)
        FAIL(img->name, "field 'pref_address' at 0x258 is %#" PRIx64 ", below 1 MiB", load);
    uint64_t need = h->init_size > h->pm_size ? h->init_size : h->pm_size;
    uint64_t need_mb = (load + need + MIB - 1) >> 20;
    if (load + need > ram)
        FAIL(img->name, "field 'init_size' at 0x260: the kernel needs [%#" PRIx64 ", %#" PRIx64
                        ") but RAM ends at %#" PRIx64 " (ram_mb %" PRIu64 "; it needs at least %"
                        PRIu64 ")",
             load, load + need, ram, ram >> 20, need_mb + (need_mb & 1));
    pl->kernel = load;
    pl->kernel_end = load + need;
    return 0;
}

static int place_extras(const struct guest_image *img, const struct linux_header *h,
                        uint64_t ram, struct linux_placement *pl, char *err, size_t errlen)
{
    const struct kernel_args *ka = img->kernel;
    const char *cmd = ka && ka->cmdline ? ka->cmdline : "";
    pl->cmdline_len = strlen(cmd);
    /* cmdline_size excludes the NUL (boot.rst); the loader's buffer is one page. */
    uint64_t limit = h->cmdline_size < PAGE - 1 ? h->cmdline_size : PAGE - 1;
    if (pl->cmdline_len > limit)
        FAIL(img->name, "--append: the command line has %zu bytes; field 'cmdline_size' at 0x238 "
                        "allows %" PRIu32 "%s",
             pl->cmdline_len, h->cmdline_size,
             limit < h->cmdline_size ? " (this loader: 4095)" : "");
    if (!ka || !ka->initrd || !ka->initrd_len)
        return 0;
    /* The initrd goes as high as allowed (boot.rst "initrd_addr_max": the highest
     * byte it may occupy), page-aligned, above the kernel's init_size. */
    uint64_t top = (uint64_t)h->initrd_addr_max + 1 < ram ? (uint64_t)h->initrd_addr_max + 1 : ram;
    uint64_t start = ka->initrd_len <= top ? (top - ka->initrd_len) & ~(PAGE - 1) : 0;
    if (ka->initrd_len > top || start < pl->kernel_end)
        FAIL(ka->initrd_name, "%zu bytes do not fit between the kernel's end at %#" PRIx64
                              " and %#" PRIx64 " (field 'initrd_addr_max' %#" PRIx32
                              " of %s; RAM ends at %#" PRIx64 ")",
             ka->initrd_len, pl->kernel_end, top, h->initrd_addr_max, img->name, ram);
    pl->initrd = start;
    pl->initrd_len = ka->initrd_len;
    return 0;
}

/* ---- The memory map --------------------------------------------------------------- */

unsigned linux_e820(uint64_t ram, uint64_t psp_page, struct e820_entry *out, unsigned cap)
{
    const struct e820_entry map[] = {
        {0, LINUX_LOW_RAM_END, E820_RAM},
        /* The loader's pages (zero page, command line, GDT, stack, page tables)
         * and the EBDA. */
        {LINUX_LOW_RAM_END, 0xA0000 - LINUX_LOW_RAM_END, E820_RESERVED},
        /* The BIOS area: the ACPI tables and the RSDP (acpi.h). */
        {ACPI_AREA_BASE, ACPI_AREA_SIZE, E820_RESERVED},
        {MIB, ram - MIB, E820_RAM},
        {ACPI_IOAPIC_BASE, PAGE, E820_RESERVED},
        {ACPI_LAPIC_BASE, PAGE, E820_RESERVED},
    };
    unsigned n = sizeof(map) / sizeof(map[0]);
    SNP_ASSERT(n + 1 <= cap && ram > MIB);
    memcpy(out, map, sizeof(map));
    /* The PSP device's page (docs/psp.md), reserved like the other MMIO pages
     * so that the kernel maps it only through the ASPT's driver. */
    if (psp_page)
        out[n++] = (struct e820_entry){psp_page, PAGE, E820_RESERVED};
    return n;
}

/* ---- Writing ---------------------------------------------------------------------- */

/* The zero page: the file's setup header in a zeroed struct boot_params, then
 * the fields boot.rst marks "write (obligatory)" and the 64-bit extensions. */
static void build_zero_page(uint8_t *bp, const struct guest_image *img,
                            const struct linux_header *h, const struct linux_placement *pl,
                            uint64_t ram, uint64_t rsdp, uint64_t psp_page)
{
    memset(bp, 0, PAGE);
    memcpy(bp + HDR_SETUP_SECTS, img->data + HDR_SETUP_SECTS, h->hdr_end - HDR_SETUP_SECTS);
    wr16(bp + HDR_VID_MODE, 0xFFFF);         /* "normal" (boot.rst, vga=) */
    bp[HDR_TYPE_OF_LOADER] = 0xFF;           /* no assigned loader ID */
    bp[HDR_LOADFLAGS] = (uint8_t)((h->loadflags | CAN_USE_HEAP) & ~QUIET_FLAG);
    wr16(bp + HDR_HEAP_END_PTR, 0xE000 - 0x200); /* boot.rst sample configuration */
    wr32(bp + HDR_CODE32_START, (uint32_t)pl->kernel); /* relocated: the load address */
    wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)pl->initrd);
    wr32(bp + HDR_RAMDISK_SIZE, (uint32_t)pl->initrd_len);
    wr32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(pl->initrd >> 32));
    wr32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(pl->initrd_len >> 32));
    wr32(bp + HDR_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE);
    wr32(bp + BP_EXT_CMD_LINE_PTR, 0);
    wr64(bp + BP_ACPI_RSDP_ADDR, rsdp);
    wr32(bp + BP_ALT_MEM_K, (uint32_t)((ram - MIB) >> 10));
    struct e820_entry map[E820_MAX_ZEROPAGE];
    unsigned n = linux_e820(ram, psp_page, map, E820_MAX_ZEROPAGE);
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i; /* struct boot_e820_entry, packed */
        wr64(e, map[i].addr);
        wr64(e + 8, map[i].size);
        wr32(e + 16, map[i].type);
    }
}

#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

/* GDT with the two descriptors boot.rst requires, 4 GiB flat: __BOOT_CS a
 * 64-bit execute/read code segment, __BOOT_DS a read/write data segment; and an
 * identity map of the low 4 GiB in 2 MiB pages (RAM, the loader's pages and the
 * APIC/IOAPIC pages all lie in it). */
static void build_gdt_and_tables(struct mem *m)
{
    static const uint64_t gdt[4] = {0, 0, 0x00AF9A000000FFFFull, 0x00CF92000000FFFFull};
    SNP_ASSERT(mem_write(m, LINUX_GDT, gdt, sizeof(gdt)));
    uint64_t pdpt = LINUX_PML4 + PAGE, pd = pdpt + PAGE;
    memset(m->ram + LINUX_PML4, 0, LINUX_TABLES_END - LINUX_PML4);
    mem_st64(m, LINUX_PML4, pdpt | PTE_P | PTE_RW);
    for (uint64_t g = 0; g < 4; g++) {
        mem_st64(m, pdpt + g * 8, (pd + g * PAGE) | PTE_P | PTE_RW);
        for (uint64_t i = 0; i < 512; i++)
            mem_st64(m, pd + g * PAGE + i * 8, ((g << 30) | (i << 21)) | PTE_P | PTE_RW | PTE_PS);
    }
    SNP_ASSERT(pd + 4 * PAGE == LINUX_TABLES_END);
}

/* The BIOS data area fields a kernel reads for the low-memory ceiling: the
 * EBDA segment (0x40E) and the base memory size in KiB (0x413). */
static void build_bda(struct mem *m)
{
    uint16_t ebda_seg = (uint16_t)(LINUX_EBDA >> 4), base_kib = (uint16_t)(LINUX_EBDA >> 10);
    SNP_ASSERT(mem_write(m, 0x40E, &ebda_seg, 2) && mem_write(m, 0x413, &base_kib, 2));
}

int linux_load(struct mem *m, const struct guest_image *img, unsigned nvcpus,
               const uint32_t *apic_ids, const struct acpi_aspt *aspt, struct boot_entry *e, struct linux_placement *pl,
               char *err, size_t errlen)
{
    struct linux_header h;
    memset(pl, 0, sizeof(*pl));
    SNP_ASSERT(m->size <= LINUX_MAX_RAM && m->size >= 2 * MIB); /* the system checked */
    if (linux_parse(img, &h, err, errlen) < 0 ||
        place_kernel(img, &h, m->size, pl, err, errlen) < 0 ||
        place_extras(img, &h, m->size, pl, err, errlen) < 0)
        return -1;
    /* Nothing has been written so far. */
    SNP_ASSERT(mem_write(m, pl->kernel, img->data + h.pm_offset, h.pm_size));
    if (pl->initrd_len)
        SNP_ASSERT(mem_write(m, pl->initrd, img->kernel->initrd, pl->initrd_len));
    const char *cmd = img->kernel && img->kernel->cmdline ? img->kernel->cmdline : "";
    SNP_ASSERT(mem_write(m, LINUX_CMDLINE, cmd, pl->cmdline_len + 1));
    struct acpi_platform ap = {nvcpus, apic_ids, aspt};
    uint64_t rsdp = acpi_install(m, &ap);
    uint8_t bp[PAGE];
    build_zero_page(bp, img, &h, pl, m->size, rsdp, aspt ? aspt->feature & ~(PAGE - 1) : 0);
    SNP_ASSERT(mem_write(m, LINUX_ZERO_PAGE, bp, sizeof(bp)));
    build_gdt_and_tables(m);
    build_bda(m);
    /* boot.rst "64-bit Boot Protocol": the entry is the load address + 0x200,
     * RSI the zero page, CS __BOOT_CS, DS/ES/SS __BOOT_DS, interrupts off (the
     * system's RFLAGS is 0x2). */
    *e = (struct boot_entry){
        .rip = pl->kernel + 0x200,
        .rsp = LINUX_STACK_TOP,
        .rsi = LINUX_ZERO_PAGE,
        .cr3 = LINUX_PML4,
        .gdt_base = LINUX_GDT,
        .gdt_limit = 4 * 8 - 1,
        .cs = LINUX_BOOT_CS,
        .ds = LINUX_BOOT_DS,
    };
    return 0;
}
