/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the guest loader (model/boot/loader.c) against docs/guest-abi.md:
 * the loader's region for several RAM sizes and vCPU counts; every refusal of
 * an ELF image with its one-line message, and that a refused image writes
 * nothing to RAM; a good image placed at p_paddr with its .bss zeroed; and
 * loader_build(): the identity map walked here with an independent 4-level
 * walk (every 2 MiB of RAM, every 4 KiB page of the first 2 MiB, page 0 not
 * present, nothing mapped past RAM), the GDT descriptors and the boot-info copy.
 */
#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "loader.h"
#include "mem.h"

#define KIB  1024ull
#define MIB  (1ull << 20)
#define GIB  (1ull << 30)
#define PAGE 4096ull

/* ---- Layout ----------------------------------------------------------------- */

/* Page-table pages the layout must reserve: PML4, PDPTs, one PD per GiB, one
 * PT for the first 2 MiB, and 4 KiB tables for the GHCB pages' regions. */
static uint64_t table_pages(uint64_t ram, unsigned vcpus)
{
    uint64_t gib = (ram + GIB - 1) / GIB;
    return 1 + (gib + 511) / 512 + gib + 1 + (vcpus / 512 + 2);
}

static const struct {
    uint64_t ram;
    unsigned vcpus;
} layouts[] = {
    {8 * MIB, 1},  {64 * MIB, 4},   {64 * MIB, 256}, {1 * GIB, 2},
    {1026 * MIB, 16}, {4 * GIB, 64}, {1024 * GIB, 256},
};

START_TEST(layout_regions_are_ordered_page_aligned_disjoint_and_inside_ram)
{
    uint64_t ram = layouts[_i].ram;
    unsigned n = layouts[_i].vcpus;
    struct boot_layout l;
    memset(&l, 0xA5, sizeof(l));
    loader_layout(ram, n, &l);

    /* Top down: boot info, GDT, secrets and CPUID pages, page tables, stacks,
     * launch VMSAs (one spare page), backing pages, GHCBs. */
    ck_assert_uint_eq(l.bootinfo, ram - PAGE);
    ck_assert_uint_eq(l.gdt, ram - 2 * PAGE);
    ck_assert_uint_eq(l.gdt_limit, 5 * 8 - 1);
    ck_assert_uint_eq(l.secrets, ram - 3 * PAGE);
    ck_assert_uint_eq(l.cpuid, ram - 4 * PAGE);
    ck_assert_uint_eq(l.table_pages, table_pages(ram, n));
    ck_assert_uint_eq(l.cr3, l.cpuid - table_pages(ram, n) * PAGE);
    ck_assert_uint_eq(l.stack_size, 16 * KIB);
    ck_assert_uint_eq(l.stack_top_base, l.cr3);
    uint64_t stacks_bottom = l.stack_top_base - n * l.stack_size;
    ck_assert_uint_eq(l.vmsa_base, stacks_bottom - (n + 1) * PAGE);
    for (unsigned i = 0; i < n; i++) {
        uint64_t v = loader_vmsa_gpa(&l, i);
        ck_assert_msg(v % (2 * MIB) != 0, "VMSA %u at %#llx is 2 MiB-aligned", i,
                      (unsigned long long)v);
        ck_assert(v >= l.vmsa_base && v + PAGE <= stacks_bottom);
        if (i)
            ck_assert_uint_gt(v, loader_vmsa_gpa(&l, i - 1));
    }
    ck_assert_uint_eq(l.backing_base, l.vmsa_base - n * PAGE);
    ck_assert_uint_eq(l.ghcb_base, l.backing_base - n * PAGE);
    ck_assert_uint_eq(l.free_end, l.ghcb_base);

    const uint64_t addr[] = {l.free_end, l.ghcb_base, l.backing_base, l.stack_top_base,
                             l.cr3, l.gdt, l.bootinfo, l.stack_size, l.vmsa_base,
                             l.secrets, l.cpuid};
    for (unsigned k = 0; k < sizeof(addr) / sizeof(addr[0]); k++)
        ck_assert_msg(addr[k] % PAGE == 0, "value %u (%#llx) is not page aligned", k,
                      (unsigned long long)addr[k]);
    /* Each region ends where the next begins, and all lie in RAM above the
     * first 2 MiB that guest images use. */
    ck_assert_uint_le(l.ghcb_base + n * PAGE, l.backing_base);
    ck_assert_uint_le(l.backing_base + n * PAGE, stacks_bottom);
    ck_assert_uint_le(l.stack_top_base, l.cr3);
    ck_assert_uint_le(l.cr3 + table_pages(ram, n) * PAGE, l.cpuid);
    ck_assert_uint_le(l.gdt + PAGE, l.bootinfo);
    ck_assert_uint_le(l.bootinfo + PAGE, ram);
    ck_assert_uint_gt(l.free_end, 2 * MIB);
}
END_TEST

START_TEST(layout_region_sizes_grow_with_the_vcpu_count_only_below_the_tables)
{
    struct boot_layout a, b;
    loader_layout(64 * MIB, 1, &a);
    loader_layout(64 * MIB, 9, &b);
    ck_assert_uint_eq(a.cr3, b.cr3);
    ck_assert_uint_eq(a.gdt, b.gdt);
    ck_assert_uint_eq(a.bootinfo, b.bootinfo);
    /* Eight more vCPUs: eight more stacks, VMSA, GHCB and backing pages. */
    ck_assert_uint_eq(a.free_end - b.free_end, 8 * (16 * KIB + 3 * PAGE));
}
END_TEST

/* ---- ELF images ------------------------------------------------------------- */

#define RAM  (8 * MIB)
#define NPH  3

/* An ELF64 x86-64 executable: header, program headers, then segment data. */
struct img {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[NPH];
    uint8_t text[64];
    uint8_t data[32];
};
_Static_assert(sizeof(struct img) == 64 + NPH * 56 + 64 + 32, "struct img has no padding");

#define TEXT_OFF offsetof(struct img, text)
#define DATA_OFF offsetof(struct img, data)
#define TEXT_PA  0x100000ull
#define TEXT_VA  0xFFFFFFFF80100000ull
#define DATA_PA  0x180000ull
#define BSS_SIZE 0x2000ull

static struct img g_img;
static struct mem g_m;
static struct boot_layout g_l;
static char g_err[256];

/* A good two-segment image: text (R X) linked high and loaded at TEXT_PA, data
 * (R W) with a .bss of BSS_SIZE, and a PT_NOTE the loader must ignore. */
static void good_image(void)
{
    memset(&g_img, 0, sizeof(g_img));
    Elf64_Ehdr *eh = &g_img.eh;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = TEXT_VA + 0x10;
    eh->e_phoff = offsetof(struct img, ph);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = NPH;
    g_img.ph[0] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = TEXT_OFF,
                               .p_vaddr = TEXT_VA, .p_paddr = TEXT_PA,
                               .p_filesz = sizeof(g_img.text), .p_memsz = sizeof(g_img.text)};
    g_img.ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0xFFFFFF, .p_paddr = 0,
                               .p_filesz = 0x100000, .p_memsz = 1};
    g_img.ph[2] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = DATA_OFF,
                               .p_vaddr = DATA_PA, .p_paddr = DATA_PA,
                               .p_filesz = sizeof(g_img.data),
                               .p_memsz = sizeof(g_img.data) + BSS_SIZE};
    for (unsigned i = 0; i < sizeof(g_img.text); i++)
        g_img.text[i] = (uint8_t)(0x90 + i);
    for (unsigned i = 0; i < sizeof(g_img.data); i++)
        g_img.data[i] = (uint8_t)(0xD0 + i);
}

static void setup_elf(void)
{
    char err[128];
    ck_assert_int_eq(mem_init(&g_m, RAM, err, sizeof(err)), 0);
    loader_layout(RAM, 2, &g_l);
    good_image();
    memset(g_err, 0, sizeof(g_err));
}

static void teardown_elf(void) { mem_destroy(&g_m); }

static int load(size_t len, uint64_t *entry, uint64_t *end)
{
    struct guest_image gi = {(const uint8_t *)&g_img, len, "guest.elf", NULL};
    return loader_load_elf(&g_m, &gi, &g_l, entry, end, g_err, sizeof(g_err));
}

static bool ram_is_zero(void)
{
    for (uint64_t i = 0; i < g_m.size; i++)
        if (g_m.ram[i])
            return false;
    return true;
}

START_TEST(a_good_image_lands_at_p_paddr_with_its_bss_zeroed)
{
    /* Old contents where .bss goes: the loader must clear them. */
    memset(g_m.ram + DATA_PA, 0xEE, sizeof(g_img.data) + BSS_SIZE + 16);
    uint64_t entry = 0, end = 0;
    ck_assert_int_eq(load(sizeof(g_img), &entry, &end), 0);
    ck_assert_mem_eq(g_m.ram + TEXT_PA, g_img.text, sizeof(g_img.text));
    ck_assert_mem_eq(g_m.ram + DATA_PA, g_img.data, sizeof(g_img.data));
    for (uint64_t i = 0; i < BSS_SIZE; i++)
        ck_assert_msg(g_m.ram[DATA_PA + sizeof(g_img.data) + i] == 0, "bss byte %llu not zero",
                      (unsigned long long)i);
    /* The byte after p_memsz is not part of the segment. */
    ck_assert_uint_eq(g_m.ram[DATA_PA + sizeof(g_img.data) + BSS_SIZE], 0xEE);
    /* Nothing went to the virtual address or between the segments. */
    ck_assert_uint_eq(g_m.ram[TEXT_PA - 1], 0);
    ck_assert_uint_eq(g_m.ram[TEXT_PA + sizeof(g_img.text)], 0);
    ck_assert_uint_eq(entry, TEXT_VA + 0x10);
    ck_assert_uint_eq(end, (DATA_PA + sizeof(g_img.data) + BSS_SIZE + PAGE - 1) & ~(PAGE - 1));
}
END_TEST

START_TEST(a_segment_ending_exactly_at_free_end_is_accepted)
{
    g_img.ph[2].p_paddr = g_l.free_end - g_img.ph[2].p_memsz;
    uint64_t entry, end;
    ck_assert_int_eq(load(sizeof(g_img), &entry, &end), 0);
    ck_assert_uint_eq(end, g_l.free_end);
    ck_assert_mem_eq(g_m.ram + g_img.ph[2].p_paddr, g_img.data, sizeof(g_img.data));
}
END_TEST

START_TEST(an_empty_load_segment_at_address_zero_is_skipped)
{
    /* What a linker emits for a guest without writable data: memsz 0 at 0. */
    g_img.ph[2].p_paddr = g_img.ph[2].p_vaddr = 0;
    g_img.ph[2].p_filesz = g_img.ph[2].p_memsz = 0;
    uint64_t entry, end;
    ck_assert_msg(load(sizeof(g_img), &entry, &end) == 0, "%s", g_err);
    ck_assert_uint_eq(g_m.ram[0], 0);
    ck_assert_mem_eq(g_m.ram + TEXT_PA, g_img.text, sizeof(g_img.text));
}
END_TEST

/* One refusal: how to spoil the good image, the length given, the message. */
struct refusal {
    const char *what;
    void (*spoil)(size_t *len);
    const char *msg;
};

static void sp_not_elf(size_t *len) { (void)len, g_img.eh.e_ident[EI_MAG1] = 'e'; }
static void sp_tiny(size_t *len) { *len = 3; }
static void sp_32bit(size_t *len) { (void)len, g_img.eh.e_ident[EI_CLASS] = ELFCLASS32; }
static void sp_class(size_t *len) { (void)len, g_img.eh.e_ident[EI_CLASS] = 7; }
static void sp_truncated(size_t *len) { *len = sizeof(Elf64_Ehdr) - 1; }
static void sp_big_endian(size_t *len) { (void)len, g_img.eh.e_ident[EI_DATA] = ELFDATA2MSB; }
static void sp_machine(size_t *len) { (void)len, g_img.eh.e_machine = EM_386; }
static void sp_dyn(size_t *len) { (void)len, g_img.eh.e_type = ET_DYN; }
static void sp_rel(size_t *len) { (void)len, g_img.eh.e_type = ET_REL; }
static void sp_no_phdrs(size_t *len) { (void)len, g_img.eh.e_phnum = 0; }
static void sp_phentsize(size_t *len) { (void)len, g_img.eh.e_phentsize = 32; }
static void sp_phoff(size_t *len) { (void)len, g_img.eh.e_phoff = sizeof(g_img) - 100; }
static void sp_phoff_huge(size_t *len) { (void)len, g_img.eh.e_phoff = UINT64_MAX - 8; }
static void sp_filesz(size_t *len) { (void)len, g_img.ph[2].p_filesz = g_img.ph[2].p_memsz + 1; }
static void sp_data_out(size_t *len) { (void)len, g_img.ph[2].p_offset = sizeof(g_img) - 8; }
static void sp_data_wrap(size_t *len)
{
    (void)len;
    g_img.ph[2].p_offset = UINT64_MAX - 4;
}
static void sp_below_1000(size_t *len) { (void)len, g_img.ph[2].p_paddr = 0x800; }
static void sp_past_free_end(size_t *len)
{
    (void)len;
    g_img.ph[2].p_paddr = g_l.free_end - g_img.ph[2].p_memsz + 1;
}
static void sp_paddr_wrap(size_t *len)
{
    (void)len;
    g_img.ph[2].p_paddr = UINT64_MAX - 0xFFF;
}
static void sp_entry_data(size_t *len) { (void)len, g_img.eh.e_entry = DATA_PA + 4; }
static void sp_entry_end(size_t *len) { (void)len, g_img.eh.e_entry = TEXT_VA + sizeof(g_img.text); }
static void sp_entry_paddr(size_t *len) { (void)len, g_img.eh.e_entry = TEXT_PA; }
static void sp_no_load(size_t *len)
{
    (void)len;
    g_img.ph[0].p_type = PT_NOTE;
    g_img.ph[2].p_type = PT_GNU_STACK;
}

static const struct refusal refusals[] = {
    {"bad magic", sp_not_elf, "guest.elf: not an ELF file"},
    {"shorter than e_ident", sp_tiny, "guest.elf: not an ELF file"},
    {"ELFCLASS32", sp_32bit, "guest.elf: 32-bit ELF; snpref runs ELF64 x86-64 guests"},
    {"class 7", sp_class, "guest.elf: unknown ELF class 7"},
    {"header cut short", sp_truncated, "guest.elf: truncated ELF header"},
    {"big-endian", sp_big_endian, "guest.elf: big-endian ELF; x86-64 guests are little-endian"},
    {"EM_386", sp_machine, "guest.elf: ELF machine 3 is not x86-64 (62)"},
    {"ET_DYN", sp_dyn, "guest.elf: ELF type 3 is not ET_EXEC (a statically linked guest)"},
    {"ET_REL", sp_rel, "guest.elf: ELF type 1 is not ET_EXEC (a statically linked guest)"},
    {"e_phnum 0", sp_no_phdrs, "guest.elf: no program headers"},
    {"e_phentsize 32", sp_phentsize, "guest.elf: no program headers"},
    {"phdrs past the end", sp_phoff, "guest.elf: program headers lie outside the file (offset 0xe4)"},
    {"phoff near 2^64", sp_phoff_huge,
     "guest.elf: program headers lie outside the file (offset 0xfffffffffffffff7)"},
    {"filesz > memsz", sp_filesz,
     "guest.elf: segment 2: file size 0x2021 exceeds memory size 0x2020"},
    {"data past the end", sp_data_out,
     "guest.elf: segment 2: data lies outside the file (offset 0x140)"},
    {"data offset near 2^64", sp_data_wrap,
     "guest.elf: segment 2: data lies outside the file (offset 0xfffffffffffffffb)"},
    {"paddr below 0x1000", sp_below_1000,
     "guest.elf: segment 2 (paddr 0x800, 0x2020 bytes) lies outside guest RAM [0x1000, 0x7e7000) "
     "(ram_mb too small?)"},
    {"one byte past free_end", sp_past_free_end,
     "guest.elf: segment 2 (paddr 0x7e4fe1, 0x2020 bytes) lies outside guest RAM [0x1000, 0x7e7000) "
     "(ram_mb too small?)"},
    {"paddr near 2^64", sp_paddr_wrap,
     "guest.elf: segment 2 (paddr 0xfffffffffffff000, 0x2020 bytes) lies outside guest RAM "
     "[0x1000, 0x7e7000) (ram_mb too small?)"},
    {"entry in a data segment", sp_entry_data,
     "guest.elf: entry point 0x180004 is not in an executable segment"},
    {"entry one past the text", sp_entry_end,
     "guest.elf: entry point 0xffffffff80100040 is not in an executable segment"},
    {"entry at the physical address", sp_entry_paddr,
     "guest.elf: entry point 0x100000 is not in an executable segment"},
    {"no PT_LOAD", sp_no_load, "guest.elf: no PT_LOAD segment"},
};

START_TEST(every_bad_image_is_refused_with_its_message_and_writes_nothing)
{
    const struct refusal *r = &refusals[_i];
    size_t len = sizeof(g_img);
    r->spoil(&len);
    uint64_t entry = 0x1111, end = 0x2222;
    ck_assert_msg(load(len, &entry, &end) == -1, "%s: accepted", r->what);
    ck_assert_msg(strcmp(g_err, r->msg) == 0, "%s:\n  got      \"%s\"\n  expected \"%s\"", r->what,
                  g_err, r->msg);
    ck_assert_msg(ram_is_zero(), "%s: the refused image wrote to RAM", r->what);
    ck_assert_uint_eq(entry, 0x1111);
    ck_assert_uint_eq(end, 0x2222);
}
END_TEST

/* ---- loader_build ------------------------------------------------------------ */

#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

/* An independent 4-level walk: the physical address of va, or -1 when some
 * level is not present. Every present entry must be supervisor, writable and
 * executable (docs/guest-abi.md: CR3 row). */
static int64_t walk(const struct mem *m, uint64_t cr3, uint64_t va, int *leaf_level)
{
    uint64_t table = cr3 & PTE_ADDR;
    for (int level = 4; level >= 1; level--) {
        uint64_t idx = (va >> (12 + 9 * (level - 1))) & 511;
        ck_assert(mem_contains(m, table + idx * 8, 8));
        uint64_t e = mem_ld64(m, table + idx * 8);
        if (!(e & PTE_P))
            return -1;
        ck_assert_msg((e & (PTE_RW | PTE_US | PTE_NX)) == PTE_RW,
                      "level %d entry %#llx for va %#llx", level, (unsigned long long)e,
                      (unsigned long long)va);
        if (level == 4)
            ck_assert_uint_eq(e & PTE_PS, 0);
        if (level == 1 || (e & PTE_PS)) {
            *leaf_level = level;
            uint64_t mask = (1ull << (12 + 9 * (level - 1))) - 1;
            return (int64_t)(((e & PTE_ADDR) & ~mask) | (va & mask));
        }
        table = e & PTE_ADDR;
    }
    return -1;
}

static const uint64_t build_rams[] = {8 * MIB, 64 * MIB, 1026 * MIB};

static struct snp_bootinfo sample_bootinfo(uint64_t ram)
{
    struct snp_bootinfo bi;
    memset(&bi, 0, sizeof(bi));
    bi.magic = SNP_BOOTINFO_MAGIC;
    bi.version = SNP_BOOTINFO_VERSION;
    bi.vcpu_count = 3;
    bi.ram_size = ram;
    bi.core_hz = 2000000000;
    bi.free_start = 0x123000;
    bi.stack_size = 16 * KIB;
    for (unsigned i = 0; i < SNP_MAX_VCPUS; i++)
        bi.apic_id[i] = i * 2 + 1;
    return bi;
}

START_TEST(build_identity_maps_every_2_mib_of_ram_and_every_4_kib_page_but_page_0)
{
    uint64_t ram = build_rams[_i];
    struct mem m;
    char err[128];
    ck_assert_int_eq(mem_init(&m, ram, err, sizeof(err)), 0);
    struct boot_layout l;
    loader_layout(ram, 4, &l);
    /* Garbage where the tables go: the loader must clear what it does not set. */
    memset(m.ram + l.cr3, 0xFF, table_pages(ram, l.vcpus) * PAGE);
    struct snp_bootinfo bi = sample_bootinfo(ram);
    loader_build(&m, &l, &bi, 0);

    int level;
    /* 2 MiB pages, except the regions holding GHCB pages: 4 KiB there, so
     * that those pages can be mapped shared under SEV. */
    uint64_t g0 = l.ghcb_base & ~(2 * MIB - 1), g1 = (l.ghcb_base + 4 * PAGE - 1) & ~(2 * MIB - 1);
    for (uint64_t a = 2 * MIB; a < ram; a += 2 * MIB) {
        ck_assert_int_eq(walk(&m, l.cr3, a, &level), (int64_t)a);
        ck_assert_int_eq(level, a >= g0 && a <= g1 ? 1 : 2);
        ck_assert_int_eq(walk(&m, l.cr3, a + 0x1FFFFF, &level), (int64_t)(a + 0x1FFFFF));
    }
    ck_assert_int_eq(walk(&m, l.cr3, 0, &level), -1);
    ck_assert_int_eq(walk(&m, l.cr3, 0xFFF, &level), -1);
    for (uint64_t a = PAGE; a < 2 * MIB; a += PAGE) {
        ck_assert_int_eq(walk(&m, l.cr3, a, &level), (int64_t)a);
        ck_assert_int_eq(level, 1);
        ck_assert_int_eq(walk(&m, l.cr3, a + 0xABC, &level), (int64_t)(a + 0xABC));
    }
    /* Nothing past RAM, in this GiB or the next. */
    ck_assert_int_eq(walk(&m, l.cr3, ram, &level), -1);
    ck_assert_int_eq(walk(&m, l.cr3, ((ram + GIB - 1) & ~(GIB - 1)) + 2 * MIB, &level), -1);
    ck_assert_int_eq(walk(&m, l.cr3, 512 * GIB, &level), -1);
    mem_destroy(&m);
}
END_TEST

START_TEST(build_writes_the_documented_gdt_and_copies_the_boot_info)
{
    struct mem m;
    char err[128];
    ck_assert_int_eq(mem_init(&m, 64 * MIB, err, sizeof(err)), 0);
    struct boot_layout l;
    loader_layout(m.size, 4, &l);
    struct snp_bootinfo bi = sample_bootinfo(m.size);
    loader_build(&m, &l, &bi, 0);

    /* docs/guest-abi.md: 0x08 64-bit code DPL0, 0x10 data DPL0, 0x18 64-bit code
     * DPL3, 0x20 data DPL3; flat, present, 4 KiB granular. */
    ck_assert_uint_eq(mem_ld64(&m, l.gdt + 0x00), 0);
    ck_assert_uint_eq(mem_ld64(&m, l.gdt + 0x08), 0x00AF9A000000FFFFull);
    ck_assert_uint_eq(mem_ld64(&m, l.gdt + 0x10), 0x00CF92000000FFFFull);
    ck_assert_uint_eq(mem_ld64(&m, l.gdt + 0x18), 0x00AFFA000000FFFFull);
    ck_assert_uint_eq(mem_ld64(&m, l.gdt + 0x20), 0x00CFF2000000FFFFull);
    ck_assert_uint_eq(LOADER_GDT_CODE64, 0x08);
    ck_assert_uint_eq(LOADER_GDT_DATA, 0x10);
    ck_assert_uint_eq(l.gdt_limit + 1u, 5 * 8);
    /* Decoded: code is L=1 D=0, data is writable, DPLs as documented. */
    uint64_t code0 = mem_ld64(&m, l.gdt + 0x08), code3 = mem_ld64(&m, l.gdt + 0x18);
    ck_assert_uint_eq((code0 >> 53) & 1, 1);
    ck_assert_uint_eq((code0 >> 54) & 1, 0);
    ck_assert_uint_eq((code0 >> 45) & 3, 0);
    ck_assert_uint_eq((code3 >> 45) & 3, 3);
    ck_assert_uint_eq((mem_ld64(&m, l.gdt + 0x20) >> 45) & 3, 3);

    ck_assert_mem_eq(m.ram + l.bootinfo, &bi, sizeof(bi));
    ck_assert_uint_eq(mem_ld32(&m, l.bootinfo), 0x42504e53u);
    mem_destroy(&m);
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("layout");
    tcase_add_loop_test(tc, layout_regions_are_ordered_page_aligned_disjoint_and_inside_ram, 0,
                        (int)(sizeof(layouts) / sizeof(layouts[0])));
    tcase_add_test(tc, layout_region_sizes_grow_with_the_vcpu_count_only_below_the_tables);
    suite_add_tcase(s, tc);

    tc = tcase_create("elf");
    tcase_add_checked_fixture(tc, setup_elf, teardown_elf);
    tcase_add_test(tc, a_good_image_lands_at_p_paddr_with_its_bss_zeroed);
    tcase_add_test(tc, a_segment_ending_exactly_at_free_end_is_accepted);
    tcase_add_test(tc, an_empty_load_segment_at_address_zero_is_skipped);
    tcase_add_loop_test(tc, every_bad_image_is_refused_with_its_message_and_writes_nothing, 0,
                        (int)(sizeof(refusals) / sizeof(refusals[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("build");
    tcase_add_loop_test(tc, build_identity_maps_every_2_mib_of_ram_and_every_4_kib_page_but_page_0,
                        0, (int)(sizeof(build_rams) / sizeof(build_rams[0])));
    tcase_add_test(tc, build_writes_the_documented_gdt_and_copies_the_boot_info);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(loader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
