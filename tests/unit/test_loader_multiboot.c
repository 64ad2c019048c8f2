/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the multiboot v1 loader (model/boot/multiboot.c) with
 * images built here: an ELF32 i386 image like kvm-unit-tests' `.flat` (a text
 * segment holding the header and a data segment with bss) and an a.out-kludge
 * image (Multiboot Specification 0.6.96 3.1.3). It checks header detection
 * (alignment, checksum, the 8 KiB window), where segments and the module go,
 * the boot information of 3.3 read back field by field, the memory map against
 * the Linux loader's e820, the entry state of 3.2; and every refusal: one line
 * naming the file and the field, RAM untouched.
 */
#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux.h"
#include "loader.h"
#include "mem.h"
#include "multiboot.h"
#include "ck_run.h"
#include "test_loader_harness.h"

#define MIB  (1ull << 20)
#define PAGE 4096ull
#define RAM  (64 * MIB)

/* The ELF image: text at 4 MiB + 0xB0 (as apic.flat), data at 4 MiB + 0x9000
 * with a bss that ends at 4 MiB + 0x9000 + DATA_MEM. */
#define TEXT_PADDR 0x4000B0u
#define TEXT_OFF   0xB0u
#define TEXT_LEN   0x400u
#define DATA_PADDR 0x409000u
#define DATA_OFF   0x1000u
#define DATA_LEN   0x300u
#define DATA_MEM   0x5123u
#define ENTRY      (TEXT_PADDR + 0x0Cu)
#define ELF_LEN    (DATA_OFF + DATA_LEN)

static uint8_t g_img[16384];
static size_t g_len;
static uint8_t g_mod[2 * PAGE + 77];
static struct mem g_m;
static char g_err[256];
static struct kernel_args g_ka;
static struct guest_image g_gi;
static struct boot_entry g_e;
static struct mb_placement g_pl;

static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t r32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t r64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static const uint8_t *ram(uint64_t gpa) { return g_m.ram + gpa; }

static void put_header(size_t off, uint32_t flags)
{
    w32(g_img + off, MB_HEADER_MAGIC);
    w32(g_img + off + 4, flags);
    w32(g_img + off + 8, 0u - (MB_HEADER_MAGIC + flags));
}

static void make_elf32(void)
{
    memset(g_img, 0, sizeof(g_img));
    Elf32_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_386;
    eh.e_version = EV_CURRENT;
    eh.e_entry = ENTRY;
    eh.e_phoff = sizeof(eh);
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = sizeof(Elf32_Phdr);
    eh.e_phnum = 2;
    memcpy(g_img, &eh, sizeof(eh));
    Elf32_Phdr ph[2] = {
        {PT_LOAD, TEXT_OFF, TEXT_PADDR, TEXT_PADDR, TEXT_LEN, TEXT_LEN, PF_R | PF_X, 0x1000},
        {PT_LOAD, DATA_OFF, DATA_PADDR, DATA_PADDR, DATA_LEN, DATA_MEM, PF_R | PF_W, 0x1000},
    };
    memcpy(g_img + eh.e_phoff, ph, sizeof(ph));
    for (size_t i = TEXT_OFF; i < ELF_LEN; i++)
        g_img[i] = (uint8_t)(i * 13 + 5);
    put_header(TEXT_OFF, 0); /* kvm-unit-tests: flags 0, the header at the start of .text */
    g_len = ELF_LEN;
}

/* An a.out-kludge image: the file's byte 0 loads at 2 MiB; the header at
 * offset 0x40; 0x800 bytes loaded, bss to 2 MiB + 0x3000. */
#define AOUT_LOAD  0x200000u
#define AOUT_HOFF  0x40u
#define AOUT_END   (AOUT_LOAD + 0x800u)
#define AOUT_BSS   (AOUT_LOAD + 0x3000u)
#define AOUT_ENTRY (AOUT_LOAD + 0x100u)

static void make_aout(void)
{
    memset(g_img, 0, sizeof(g_img));
    for (size_t i = 0; i < 0x1000; i++)
        g_img[i] = (uint8_t)(i * 3 + 1);
    put_header(AOUT_HOFF, MB_HF_AOUT_KLUDGE | MB_HF_PAGE_ALIGN | MB_HF_MEMORY);
    w32(g_img + AOUT_HOFF + 12, AOUT_LOAD + AOUT_HOFF);
    w32(g_img + AOUT_HOFF + 16, AOUT_LOAD);
    w32(g_img + AOUT_HOFF + 20, AOUT_END);
    w32(g_img + AOUT_HOFF + 24, AOUT_BSS);
    w32(g_img + AOUT_HOFF + 28, AOUT_ENTRY);
    g_len = 0x1000;
}

static void setup(void)
{
    ck_assert_int_eq(mem_init(&g_m, RAM, g_err, sizeof(g_err)), 0);
    make_elf32();
    for (size_t i = 0; i < sizeof(g_mod); i++)
        g_mod[i] = (uint8_t)(i ^ 0xA5);
    g_ka = (struct kernel_args){g_mod, sizeof(g_mod), "env.txt", "-smp 2 foo"};
    g_gi = (struct guest_image){g_img, g_len, "apic.flat", &g_ka};
    memset(g_err, 0, sizeof(g_err));
}

static void teardown(void) { mem_destroy(&g_m); }

static int load(void)
{
    static const uint32_t ids[2] = {0, 1};
    g_gi.len = g_len;
    return multiboot_load(&g_m, &g_gi, 2, ids, &g_e, &g_pl, g_err, sizeof(g_err));
}

START_TEST(a_header_is_found_only_aligned_with_its_checksum_in_the_first_8_kib)
{
    struct mb_header h;
    ck_assert(multiboot_detect(&g_gi, &h));
    ck_assert_uint_eq(h.offset, TEXT_OFF);
    ck_assert_uint_eq(h.flags, 0);
    memmove(g_img + TEXT_OFF + 2, g_img + TEXT_OFF, 12); /* misaligned */
    memset(g_img + TEXT_OFF, 0, 2);
    ck_assert(!multiboot_detect(&g_gi, NULL));
    make_elf32();
    w32(g_img + TEXT_OFF + 8, r32(g_img + TEXT_OFF + 8) + 1); /* checksum off by one */
    ck_assert(!multiboot_detect(&g_gi, NULL));
    make_elf32();
    memset(g_img + TEXT_OFF, 0, 12);
    put_header(8192, 0); /* just past the window */
    g_gi.len = sizeof(g_img);
    ck_assert(!multiboot_detect(&g_gi, NULL));
    put_header(8180, 0); /* the last aligned slot that holds all 12 bytes inside it */
    ck_assert(multiboot_detect(&g_gi, &h));
    ck_assert_uint_eq(h.offset, 8180);
}
END_TEST

START_TEST(elf32_segments_load_at_their_physical_addresses_with_bss_zeroed)
{
    memset(g_m.ram + DATA_PADDR, 0xEE, DATA_MEM); /* stale bytes where the bss goes */
    ck_assert_int_eq(load(), 0);
    ck_assert(!g_pl.aout);
    ck_assert_int_eq(memcmp(ram(TEXT_PADDR), g_img + TEXT_OFF, TEXT_LEN), 0);
    ck_assert_int_eq(memcmp(ram(DATA_PADDR), g_img + DATA_OFF, DATA_LEN), 0);
    for (uint64_t a = DATA_PADDR + DATA_LEN; a < DATA_PADDR + DATA_MEM; a++)
        ck_assert_uint_eq(*ram(a), 0);
    ck_assert_uint_eq(g_pl.image, TEXT_PADDR);
    ck_assert_uint_eq(g_pl.image_end, DATA_PADDR + DATA_MEM);
    ck_assert_uint_eq(g_pl.entry, ENTRY);
}
END_TEST

START_TEST(the_entry_is_32_bit_protected_mode_with_the_magic_in_eax_and_the_info_in_ebx)
{
    ck_assert_int_eq(load(), 0);
    ck_assert_int_eq(g_e.mode, BOOT_ENTRY_PROT32);
    ck_assert_uint_eq(g_e.rip, ENTRY);
    ck_assert_uint_eq(g_e.rax, 0x2BADB002);
    ck_assert_uint_eq(g_e.rbx, MB_INFO);
    ck_assert_uint_eq(g_e.cs, MB_CODE32);
    ck_assert_uint_eq(g_e.ds, MB_DATA32);
    ck_assert_uint_eq(g_e.gdt_base, MB_GDT);
    ck_assert_uint_eq(g_e.gdt_limit, 23);
    /* 32-bit (D), 4 KiB granular, base 0, limit 0xFFFFF pages: flat 4 GiB. */
    ck_assert_uint_eq(r64(ram(MB_GDT + MB_CODE32)), 0x00CF9A000000FFFFull);
    ck_assert_uint_eq(r64(ram(MB_GDT + MB_DATA32)), 0x00CF92000000FFFFull);
}
END_TEST

START_TEST(the_boot_information_has_memory_command_line_module_map_and_loader_name)
{
    ck_assert_int_eq(load(), 0);
    const uint8_t *mbi = ram(MB_INFO);
    ck_assert_uint_eq(r32(mbi), MB_IF_MEMORY | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP |
                                    MB_IF_LOADER);
    ck_assert_uint_eq(r32(mbi + 4), 0x90000 >> 10);     /* mem_lower: RAM below the loader's pages */
    ck_assert_uint_eq(r32(mbi + 8), (RAM - MIB) >> 10); /* mem_upper: from 1 MiB */
    ck_assert_str_eq((const char *)ram(r32(mbi + 16)), "apic.flat -smp 2 foo");
    ck_assert_str_eq((const char *)ram(r32(mbi + 64)), "snpref");
    ck_assert_uint_eq(r32(mbi + 20), 1);
    const uint8_t *mod = ram(r32(mbi + 24));
    ck_assert_uint_eq(r32(mod), g_pl.module);
    ck_assert_uint_eq(r32(mod + 4) - r32(mod), sizeof(g_mod)); /* mod_end: the byte after it */
    ck_assert_str_eq((const char *)ram(r32(mod + 8)), "env.txt");
}
END_TEST

START_TEST(the_module_sits_page_aligned_after_the_image_and_holds_the_initrd)
{
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(g_pl.module, (DATA_PADDR + DATA_MEM + PAGE - 1) & ~(PAGE - 1));
    ck_assert_uint_eq(g_pl.module_len, sizeof(g_mod));
    ck_assert_int_eq(memcmp(ram(g_pl.module), g_mod, sizeof(g_mod)), 0);
}
END_TEST

START_TEST(the_memory_map_is_the_e820_map_in_multiboot_entries)
{
    ck_assert_int_eq(load(), 0);
    const uint8_t *mbi = ram(MB_INFO);
    struct e820_entry want[16];
    unsigned n = linux_e820(RAM, RAM, false, 0, want, 16);
    ck_assert_uint_eq(r32(mbi + 44), n * 24);
    const uint8_t *e = ram(r32(mbi + 48));
    for (unsigned i = 0; i < n; i++, e += 4 + r32(e)) {
        ck_assert_uint_eq(r32(e), 20);
        ck_assert_uint_eq(r64(e + 4), want[i].addr);
        ck_assert_uint_eq(r64(e + 12), want[i].size);
        ck_assert_uint_eq(r32(e + 20), want[i].type);
    }
    /* The image, the module and the loader's pages lie where the map says. */
    ck_assert(r32(mbi + 4) * 1024ull <= MB_INFO);
}
END_TEST

START_TEST(without_initrd_or_append_there_is_no_module_and_the_line_is_the_file_name)
{
    g_gi.kernel = NULL;
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(r32(ram(MB_INFO + 20)), 0);
    ck_assert_uint_eq(g_pl.module_len, 0);
    ck_assert_str_eq((const char *)ram(MB_CMDLINE), "apic.flat");
}
END_TEST

START_TEST(an_aout_kludge_image_loads_by_the_header_address_fields)
{
    make_aout();
    g_gi.kernel = NULL;
    ck_assert_int_eq(load(), 0);
    ck_assert(g_pl.aout);
    ck_assert_int_eq(memcmp(ram(AOUT_LOAD), g_img, AOUT_END - AOUT_LOAD), 0);
    for (uint64_t a = AOUT_END; a < AOUT_BSS; a++)
        ck_assert_uint_eq(*ram(a), 0);
    ck_assert_uint_eq(g_pl.image_end, AOUT_BSS);
    ck_assert_uint_eq(g_e.rip, AOUT_ENTRY);
    ck_assert_int_eq(g_e.mode, BOOT_ENTRY_PROT32);
}
END_TEST

START_TEST(an_aout_kludge_image_without_load_end_loads_the_rest_of_the_file)
{
    make_aout();
    w32(g_img + AOUT_HOFF + 20, 0);
    w32(g_img + AOUT_HOFF + 24, 0);
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(g_pl.image_end, AOUT_LOAD + g_len);
    ck_assert_int_eq(memcmp(ram(AOUT_LOAD), g_img, g_len), 0);
}
END_TEST

/* A refusal: -1, one line starting with the file, naming the field; RAM untouched. */
static void refused(const char *file, const char *field)
{
    check_refusal(load(), &g_m, g_err, file, field);
}

START_TEST(an_image_without_a_header_is_refused)
{
    memset(g_img + TEXT_OFF, 0, 12);
    refused("apic.flat", "multiboot header");
}
END_TEST

START_TEST(a_required_flag_the_loader_does_not_meet_is_refused)
{
    put_header(TEXT_OFF, MB_HF_VIDEO);
    refused("apic.flat", "'flags'");
    ck_assert(strstr(g_err, "video"));
    put_header(TEXT_OFF, 0x100);
    refused("apic.flat", "'flags' 0x100");
}
END_TEST

START_TEST(an_elf64_image_without_the_kludge_is_refused)
{
    g_img[EI_CLASS] = ELFCLASS64;
    refused("apic.flat", "ELF class 2");
}
END_TEST

START_TEST(an_elf32_image_for_another_machine_is_refused)
{
    g_img[18] = EM_ARM;
    refused("apic.flat", "'e_machine'");
}
END_TEST

START_TEST(a_segment_below_1_mib_or_past_ram_is_refused)
{
    Elf32_Phdr p;
    memcpy(&p, g_img + sizeof(Elf32_Ehdr) + sizeof(p), sizeof(p));
    p.p_paddr = 0x9F000;
    memcpy(g_img + sizeof(Elf32_Ehdr) + sizeof(p), &p, sizeof(p));
    refused("apic.flat", "'p_paddr'");
    p.p_paddr = (uint32_t)RAM - 0x1000;
    memcpy(g_img + sizeof(Elf32_Ehdr) + sizeof(p), &p, sizeof(p));
    refused("apic.flat", "ram_mb");
}
END_TEST

START_TEST(a_segment_past_the_end_of_the_file_is_refused)
{
    g_len = ELF_LEN - 1;
    refused("apic.flat", "'p_filesz'");
}
END_TEST

START_TEST(an_entry_outside_every_segment_is_refused)
{
    Elf32_Ehdr eh;
    memcpy(&eh, g_img, sizeof(eh));
    eh.e_entry = 0x300000;
    memcpy(g_img, &eh, sizeof(eh));
    refused("apic.flat", "'e_entry'");
}
END_TEST

START_TEST(aout_fields_that_contradict_each_other_are_refused)
{
    make_aout();
    w32(g_img + AOUT_HOFF + 12, AOUT_LOAD + 0x1000); /* the load start before byte 0 */
    refused("apic.flat", "'load_addr'");
    make_aout();
    w32(g_img + AOUT_HOFF + 20, AOUT_LOAD + 0x2000); /* beyond the file */
    refused("apic.flat", "'load_end_addr'");
    make_aout();
    w32(g_img + AOUT_HOFF + 24, AOUT_LOAD + 0x10); /* bss below the data's end */
    refused("apic.flat", "'bss_end_addr'");
    make_aout();
    w32(g_img + AOUT_HOFF + 28, AOUT_BSS); /* entry just past the loaded range */
    refused("apic.flat", "'entry_addr'");
}
END_TEST

START_TEST(a_module_too_large_for_ram_is_refused_naming_the_module)
{
    static uint8_t big[RAM];
    g_ka.initrd = big;
    g_ka.initrd_len = RAM - 0x40F000 + 1;
    refused("env.txt", "ram_mb");
    g_ka.initrd_len = RAM - 0x40F000; /* exactly to the end of RAM */
    ck_assert_int_eq(load(), 0);
}
END_TEST

START_TEST(a_command_line_longer_than_a_page_is_refused)
{
    static char line[4096];
    memset(line, 'a', sizeof(line) - 1);
    line[4095 - strlen("apic.flat ")] = '\0'; /* the name, a blank and this: 4095 bytes */
    g_ka.cmdline = line;
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(strlen((const char *)ram(MB_CMDLINE)), 4095);
    mem_destroy(&g_m);
    ck_assert_int_eq(mem_init(&g_m, RAM, g_err, sizeof(g_err)), 0);
    line[strlen(line)] = 'a';
    refused("apic.flat", "--append");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader_multiboot");
    TCase *tc = tcase_create("multiboot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_header_is_found_only_aligned_with_its_checksum_in_the_first_8_kib);
    tcase_add_test(tc, elf32_segments_load_at_their_physical_addresses_with_bss_zeroed);
    tcase_add_test(tc, the_entry_is_32_bit_protected_mode_with_the_magic_in_eax_and_the_info_in_ebx);
    tcase_add_test(tc, the_boot_information_has_memory_command_line_module_map_and_loader_name);
    tcase_add_test(tc, the_module_sits_page_aligned_after_the_image_and_holds_the_initrd);
    tcase_add_test(tc, the_memory_map_is_the_e820_map_in_multiboot_entries);
    tcase_add_test(tc, without_initrd_or_append_there_is_no_module_and_the_line_is_the_file_name);
    tcase_add_test(tc, an_aout_kludge_image_loads_by_the_header_address_fields);
    tcase_add_test(tc, an_aout_kludge_image_without_load_end_loads_the_rest_of_the_file);
    tcase_add_test(tc, an_image_without_a_header_is_refused);
    tcase_add_test(tc, a_required_flag_the_loader_does_not_meet_is_refused);
    tcase_add_test(tc, an_elf64_image_without_the_kludge_is_refused);
    tcase_add_test(tc, an_elf32_image_for_another_machine_is_refused);
    tcase_add_test(tc, a_segment_below_1_mib_or_past_ram_is_refused);
    tcase_add_test(tc, a_segment_past_the_end_of_the_file_is_refused);
    tcase_add_test(tc, an_entry_outside_every_segment_is_refused);
    tcase_add_test(tc, aout_fields_that_contradict_each_other_are_refused);
    tcase_add_test(tc, a_module_too_large_for_ram_is_refused_naming_the_module);
    tcase_add_test(tc, a_command_line_longer_than_a_page_is_refused);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
