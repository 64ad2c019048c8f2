/* SPDX-License-Identifier: MIT */
/*
 * The multiboot v1 loader (multiboot.h). Section numbers are those of The
 * Multiboot Specification 0.6.96. Every check on the image, the module and the
 * command line is a user-input check done before the first byte goes into RAM;
 * what a check refuses is named by the file and the header or ELF field.
 */
#include "multiboot.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "linux.h"
#include "mem.h"
#include "snpref/base.h"

#define PAGE 4096ull
#define MAX_PHDRS 64

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define FAIL(file, ...) return loader_refuse(err, errlen, (file), __VA_ARGS__)

bool multiboot_detect(const struct guest_image *img, struct mb_header *h)
{
    size_t end = img->len < MB_SEARCH_BYTES ? img->len : MB_SEARCH_BYTES;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        const uint8_t *p = img->data + off;
        if (rd32(p) != MB_HEADER_MAGIC || (uint32_t)(rd32(p) + rd32(p + 4) + rd32(p + 8)) != 0)
            continue;
        if (h) {
            memset(h, 0, sizeof(*h));
            h->offset = off;
            h->flags = rd32(p + 4);
            /* The address fields only exist with the kludge flag (3.1.3). */
            if ((h->flags & MB_HF_AOUT_KLUDGE) && off + 32 <= img->len) {
                h->header_addr = rd32(p + 12);
                h->load_addr = rd32(p + 16);
                h->load_end_addr = rd32(p + 20);
                h->bss_end_addr = rd32(p + 24);
                h->entry_addr = rd32(p + 28);
            }
        }
        return true;
    }
    return false;
}

/* ---- Placement --------------------------------------------------------------------- */

/* [start, start + len) inside [MB_LOW_END, ram): the usable RAM above 1 MiB. */
static bool in_upper_ram(uint64_t start, uint64_t len, uint64_t ram)
{
    return start >= MB_LOW_END && len <= ram && start <= ram - len;
}

/* 3.1.3: the header's address fields say where the file's bytes go. */
static int place_aout(const struct guest_image *img, const struct mb_header *h, uint64_t ram,
                      struct mb_placement *pl, char *err, size_t errlen)
{
    const char *f = img->name;
    if (img->len < h->offset + 32)
        FAIL(f, "multiboot header at %#zx: flag 16 (a.out kludge) set but the file ends before "
                "entry_addr", h->offset);
    if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > h->offset)
        FAIL(f, "multiboot field 'load_addr' %#" PRIx32 " with 'header_addr' %#" PRIx32
                " puts the load start before the file's first byte (header at offset %#zx)",
             h->load_addr, h->header_addr, h->offset);
    size_t file_off = h->offset - (h->header_addr - h->load_addr);
    uint64_t file_len = img->len - file_off;
    if (h->load_end_addr) {
        if (h->load_end_addr <= h->load_addr || h->load_end_addr - h->load_addr > file_len)
            FAIL(f, "multiboot field 'load_end_addr' %#" PRIx32 ": not above 'load_addr' %#" PRIx32
                    " within the file's %" PRIu64 " bytes from offset %#zx",
                 h->load_end_addr, h->load_addr, file_len, file_off);
        file_len = h->load_end_addr - h->load_addr;
    }
    uint64_t end = h->load_addr + file_len;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < end)
            FAIL(f, "multiboot field 'bss_end_addr' %#" PRIx32 " lies below the loaded data's "
                    "end %#" PRIx64, h->bss_end_addr, end);
        end = h->bss_end_addr;
    }
    if (!in_upper_ram(h->load_addr, end - h->load_addr, ram))
        FAIL(f, "multiboot fields 'load_addr'..'bss_end_addr' [%#" PRIx32 ", %#" PRIx64 ") lie "
                "outside RAM [0x100000, %#" PRIx64 ") (ram_mb too small?)",
             h->load_addr, end, ram);
    if (h->entry_addr < h->load_addr || h->entry_addr >= end)
        FAIL(f, "multiboot field 'entry_addr' %#" PRIx32 " is not in the loaded range [%#" PRIx32
                ", %#" PRIx64 ")", h->entry_addr, h->load_addr, end);
    *pl = (struct mb_placement){.aout = true, .image = h->load_addr, .image_end = end,
                                .entry = h->entry_addr};
    return 0;
}

static int elf32_header(const struct guest_image *img, Elf32_Ehdr *eh, char *err, size_t errlen)
{
    const char *f = img->name;
    if (img->len < sizeof(*eh) || memcmp(img->data, ELFMAG, SELFMAG) != 0)
        FAIL(f, "multiboot image without header flag 16 (a.out kludge) is not an ELF file");
    if (img->data[EI_CLASS] != ELFCLASS32)
        FAIL(f, "multiboot image is ELF class %u; without header flag 16 (a.out kludge) a "
                "multiboot loader takes ELF32 only", img->data[EI_CLASS]);
    memcpy(eh, img->data, sizeof(*eh));
    if (img->data[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_386)
        FAIL(f, "ELF field 'e_machine' %u: a multiboot ELF image is little-endian i386 (3)",
             eh->e_machine);
    if (eh->e_type != ET_EXEC)
        FAIL(f, "ELF field 'e_type' %u is not ET_EXEC (2)", eh->e_type);
    if (eh->e_phentsize != sizeof(Elf32_Phdr) || eh->e_phnum == 0 || eh->e_phnum > MAX_PHDRS)
        FAIL(f, "ELF fields 'e_phentsize' %u / 'e_phnum' %u: not 1..%u program headers of 32 bytes",
             eh->e_phentsize, eh->e_phnum, MAX_PHDRS);
    if (eh->e_phoff > img->len || (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > img->len - eh->e_phoff)
        FAIL(f, "ELF field 'e_phoff' %#" PRIx32 ": the program headers lie outside the file",
             eh->e_phoff);
    return 0;
}

/* The PT_LOAD segments at their physical addresses; the entry is e_entry, a
 * virtual address, taken to the physical one of the segment that holds it. */
static int place_elf(const struct guest_image *img, uint64_t ram, struct mb_placement *pl,
                     char *err, size_t errlen)
{
    const char *f = img->name;
    Elf32_Ehdr eh;
    if (elf32_header(img, &eh, err, errlen) < 0)
        return -1;
    *pl = (struct mb_placement){.image = UINT64_MAX, .entry = UINT64_MAX};
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf32_Phdr p;
        memcpy(&p, img->data + eh.e_phoff + i * sizeof(p), sizeof(p));
        if (p.p_type != PT_LOAD || p.p_memsz == 0)
            continue;
        if (p.p_filesz > p.p_memsz || p.p_offset > img->len || p.p_filesz > img->len - p.p_offset)
            FAIL(f, "ELF segment %u: 'p_offset' %#" PRIx32 " / 'p_filesz' %#" PRIx32 " lie "
                    "outside the file or exceed 'p_memsz' %#" PRIx32,
                 i, p.p_offset, p.p_filesz, p.p_memsz);
        if (!in_upper_ram(p.p_paddr, p.p_memsz, ram))
            FAIL(f, "ELF segment %u: 'p_paddr' %#" PRIx32 " + %#" PRIx32 " bytes lie outside RAM "
                    "[0x100000, %#" PRIx64 ") (ram_mb too small?)",
                 i, p.p_paddr, p.p_memsz, ram);
        if (eh.e_entry >= p.p_vaddr && eh.e_entry - p.p_vaddr < p.p_memsz)
            pl->entry = (uint64_t)p.p_paddr + (eh.e_entry - p.p_vaddr);
        if (p.p_paddr < pl->image)
            pl->image = p.p_paddr;
        if ((uint64_t)p.p_paddr + p.p_memsz > pl->image_end)
            pl->image_end = (uint64_t)p.p_paddr + p.p_memsz;
    }
    if (pl->image == UINT64_MAX)
        FAIL(f, "ELF image has no PT_LOAD segment");
    if (pl->entry == UINT64_MAX)
        FAIL(f, "ELF field 'e_entry' %#" PRIx32 " lies in no PT_LOAD segment", eh.e_entry);
    return 0;
}

/* The module goes page-aligned after the image (what QEMU's loader does too),
 * which also honours header flag 0. */
static int place_extras(const struct guest_image *img, uint64_t ram, struct mb_placement *pl,
                        char *err, size_t errlen)
{
    const struct kernel_args *ka = img->kernel;
    size_t name_len = strlen(img->name);
    pl->cmdline_len = name_len + (ka && ka->cmdline ? 1 + strlen(ka->cmdline) : 0);
    if (pl->cmdline_len > PAGE - 1)
        FAIL(img->name, "--append: the multiboot command line (the file name, a blank and the "
                        "arguments) has %zu bytes; this loader allows 4095", pl->cmdline_len);
    if (!ka || !ka->initrd)
        return 0;
    SNP_ASSERT(ka->initrd_name); /* the caller names every file it passes */
    if (strlen(ka->initrd_name) > MB_CMDLINE - MB_MOD_STRING - 1)
        FAIL(ka->initrd_name, "--initrd: the module's name is longer than %llu bytes",
             MB_CMDLINE - MB_MOD_STRING - 1);
    uint64_t start = (pl->image_end + PAGE - 1) & ~(PAGE - 1);
    if (!in_upper_ram(start, ka->initrd_len, ram))
        FAIL(ka->initrd_name, "%zu bytes do not fit between the multiboot image's end at %#" PRIx64
                              " and the end of RAM at %#" PRIx64 " (ram_mb too small?)",
             ka->initrd_len, start, ram);
    pl->module = start;
    pl->module_len = ka->initrd_len;
    return 0;
}

/* ---- Writing ------------------------------------------------------------------------ */

static void load_image(struct mem *m, const struct guest_image *img, const struct mb_header *h,
                       const struct mb_placement *pl)
{
    memset(m->ram + pl->image, 0, pl->image_end - pl->image);
    if (pl->aout) {
        size_t off = h->offset - (h->header_addr - h->load_addr);
        uint64_t len = h->load_end_addr ? h->load_end_addr - h->load_addr : img->len - off;
        SNP_ASSERT(mem_write(m, h->load_addr, img->data + off, len));
        return;
    }
    Elf32_Ehdr eh;
    memcpy(&eh, img->data, sizeof(eh));
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf32_Phdr p;
        memcpy(&p, img->data + eh.e_phoff + i * sizeof(p), sizeof(p));
        if (p.p_type == PT_LOAD && p.p_memsz)
            SNP_ASSERT(mem_write(m, p.p_paddr, img->data + p.p_offset, p.p_filesz));
    }
}

/* 3.3 "mmap_*": entries of a 4-byte size (20, excluding itself), the 64-bit
 * base and length and the type (1 RAM, 2 reserved): the map the Linux loader
 * gives as e820. Returns the map's length in bytes. */
static uint32_t build_mmap(struct mem *m, uint32_t *mem_lower_kib, uint32_t *mem_upper_kib)
{
    struct e820_entry map[16];
    /* All RAM usable above 1 MiB (no firmware reserve, not confidential) and
     * no PSP page: a multiboot boot has no ASPT. */
    unsigned n = linux_e820(m->size, m->size, false, 0, map, 16);
    uint8_t buf[16 * 24];
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = buf + 24 * i;
        uint32_t size = 20;
        memcpy(e, &size, 4);
        memcpy(e + 4, &map[i].addr, 8);
        memcpy(e + 12, &map[i].size, 8);
        memcpy(e + 20, &map[i].type, 4);
        /* mem_lower: usable RAM from 0; mem_upper: from 1 MiB (3.3, in KiB). */
        if (map[i].type == E820_RAM && map[i].addr == 0)
            *mem_lower_kib = (uint32_t)(map[i].size >> 10);
        if (map[i].type == E820_RAM && map[i].addr == MB_LOW_END)
            *mem_upper_kib = (uint32_t)(map[i].size >> 10);
    }
    SNP_ASSERT(MB_MMAP + n * 24 <= MB_LOADER_NAME);
    SNP_ASSERT(mem_write(m, MB_MMAP, buf, n * 24));
    return n * 24;
}

static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* The boot information (3.3), the module list, the strings and the GDT. The
 * command line is the file name, then a blank and the arguments, as GRUB and
 * QEMU pass it (kvm-unit-tests take argv[0] from it). */
static void build_info(struct mem *m, const struct guest_image *img, const struct mb_placement *pl)
{
    const struct kernel_args *ka = img->kernel;
    uint8_t info[MB_INFO_SIZE] = {0};
    uint32_t flags = MB_IF_MEMORY | MB_IF_CMDLINE | MB_IF_MMAP | MB_IF_LOADER | MB_IF_MODS;
    uint32_t lower = 0, upper = 0, mmap_len = build_mmap(m, &lower, &upper);
    char cmd[PAGE];
    snprintf(cmd, sizeof(cmd), "%s%s%s", img->name, ka && ka->cmdline ? " " : "",
             ka && ka->cmdline ? ka->cmdline : "");
    SNP_ASSERT(strlen(cmd) == pl->cmdline_len);
    SNP_ASSERT(mem_write(m, MB_CMDLINE, cmd, pl->cmdline_len + 1));
    static const char name[] = "snpref";
    SNP_ASSERT(mem_write(m, MB_LOADER_NAME, name, sizeof(name)));
    if (ka && ka->initrd) {
        uint8_t mod[16] = {0};
        wr32(mod, (uint32_t)pl->module);
        wr32(mod + 4, (uint32_t)(pl->module + pl->module_len)); /* the first byte after it */
        wr32(mod + 8, (uint32_t)MB_MOD_STRING);
        SNP_ASSERT(mem_write(m, MB_MODS, mod, sizeof(mod)));
        SNP_ASSERT(mem_write(m, MB_MOD_STRING, ka->initrd_name, strlen(ka->initrd_name) + 1));
        wr32(info + MB_INFO_MODS_COUNT, 1);
    }
    wr32(info + MB_INFO_FLAGS, flags);
    wr32(info + MB_INFO_MEM_LOWER, lower);
    wr32(info + MB_INFO_MEM_UPPER, upper);
    wr32(info + MB_INFO_CMDLINE, (uint32_t)MB_CMDLINE);
    wr32(info + MB_INFO_MODS_ADDR, (uint32_t)MB_MODS);
    wr32(info + MB_INFO_MMAP_LENGTH, mmap_len);
    wr32(info + MB_INFO_MMAP_ADDR, (uint32_t)MB_MMAP);
    wr32(info + MB_INFO_LOADER_NAME, (uint32_t)MB_LOADER_NAME);
    SNP_ASSERT(mem_write(m, MB_INFO, info, sizeof(info)));
    /* 3.2 asks for flat 4 GiB 32-bit code and data segments; the GDT holding
     * them may be gone once the OS runs, so the image loads its own. */
    static const uint64_t gdt[3] = {0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull};
    SNP_ASSERT(mem_write(m, MB_GDT, gdt, sizeof(gdt)));
}

int multiboot_load(struct mem *m, const struct guest_image *img, unsigned nvcpus,
                   const uint32_t *apic_ids, struct boot_entry *e, struct mb_placement *pl,
                   char *err, size_t errlen)
{
    struct mb_header h;
    memset(pl, 0, sizeof(*pl));
    SNP_ASSERT(m->size <= LINUX_MAX_RAM && m->size >= 2 * MB_LOW_END); /* the system checked */
    if (!multiboot_detect(img, &h))
        FAIL(img->name, "no multiboot header (magic 0x1BADB002 with its checksum) in the first "
                        "8192 bytes");
    /* 3.1.2: bits 0-15 are requirements; this loader meets bits 0 and 1 (it
     * always gives the memory fields) and offers no video mode (bit 2). */
    uint32_t unmet = h.flags & 0xFFFFu & ~(MB_HF_PAGE_ALIGN | MB_HF_MEMORY);
    if (unmet)
        FAIL(img->name, "multiboot header 'flags' %#" PRIx32 " require bit%s %#" PRIx32 "%s, "
                        "which this loader does not provide",
             h.flags, unmet & (unmet - 1) ? "s" : "", unmet,
             (unmet & MB_HF_VIDEO) ? " (bit 2: a video mode; snpref has no display)" : "");
    int rc = (h.flags & MB_HF_AOUT_KLUDGE)
                 ? place_aout(img, &h, m->size, pl, err, errlen)
                 : place_elf(img, m->size, pl, err, errlen);
    if (rc < 0 || place_extras(img, m->size, pl, err, errlen) < 0)
        return -1;
    /* Nothing has been written so far. */
    load_image(m, img, &h, pl);
    if (pl->module_len)
        SNP_ASSERT(mem_write(m, pl->module, img->kernel->initrd, pl->module_len));
    build_info(m, img, pl);
    struct acpi_platform ap = {nvcpus, apic_ids, NULL};
    acpi_install(m, &ap);
    /* 3.2: EAX the loader magic, EBX the information's physical address, CS
     * and the data segments flat 32-bit, paging off, interrupts off (the
     * system's RFLAGS is 0x2). */
    *e = (struct boot_entry){
        .mode = BOOT_ENTRY_PROT32,
        .rip = pl->entry,
        .rsp = MB_STACK_TOP,
        .rax = MB_LOADER_MAGIC,
        .rbx = MB_INFO,
        .gdt_base = MB_GDT,
        .gdt_limit = 3 * 8 - 1,
        .cs = MB_CODE32,
        .ds = MB_DATA32,
    };
    return 0;
}
