/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the Linux boot-protocol loader (model/boot/linux.c) with a
 * synthetic bzImage built here: a setup header with the fields of
 * Documentation/arch/x86/boot.rst set at their bootparam.h offsets and a
 * patterned protected-mode kernel. It checks where the kernel, the initrd and
 * the command line go, the zero page the loader writes, the e820 map, the GDT
 * and identity map of the 64-bit boot protocol (walked here independently),
 * the entry state; and every refusal (not a bzImage, too old a protocol, no
 * 64-bit entry, a truncated kernel, an initrd or a kernel too large for RAM, a
 * command line too long): one line naming the file and the field, and RAM
 * left untouched.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "linux.h"
#include "loader.h"
#include "mem.h"
#include "ck_run.h"

#define MIB  (1ull << 20)
#define PAGE 4096ull
#define RAM  (64 * MIB)
#define SETUP_SECTS 3
#define PM_SIZE (64 * 1024)
#define IMG_LEN ((SETUP_SECTS + 1) * 512 + PM_SIZE)

static uint8_t g_img[IMG_LEN];
static uint8_t g_initrd[3 * PAGE + 123];
static struct mem g_m;
static char g_err[256];
static struct kernel_args g_ka;
static struct guest_image g_gi;
static struct boot_entry g_e;
static struct linux_placement g_pl;

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, (uint16_t)v), w16(p + 2, (uint16_t)(v >> 16)); }
static void w64(uint8_t *p, uint64_t v) { w32(p, (uint32_t)v), w32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t r16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t r32(const uint8_t *p) { return r16(p) | (uint32_t)r16(p + 2) << 16; }
static uint64_t r64(const uint8_t *p) { return r32(p) | (uint64_t)r32(p + 4) << 32; }

/* A protocol 2.15 bzImage like a distribution kernel's, scaled down. */
static void make_bzimage(void)
{
    memset(g_img, 0, sizeof(g_img));
    g_img[0x1F1] = SETUP_SECTS;
    w32(g_img + 0x1F4, PM_SIZE / 16);
    w16(g_img + 0x1FE, 0xAA55);
    g_img[0x200] = 0xEB, g_img[0x201] = 0x6A; /* header ends at 0x26C */
    memcpy(g_img + 0x202, "HdrS", 4);
    w16(g_img + 0x206, 0x020F);
    g_img[0x211] = 0x01;                  /* LOADED_HIGH */
    w32(g_img + 0x22C, 0x7FFFFFFF);       /* initrd_addr_max */
    w32(g_img + 0x230, 0x200000);         /* kernel_alignment */
    g_img[0x234] = 1;                     /* relocatable */
    g_img[0x235] = 21;
    w16(g_img + 0x236, 0x3);              /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
    w32(g_img + 0x238, 2047);             /* cmdline_size */
    w64(g_img + 0x258, 0x1000000);        /* pref_address */
    w32(g_img + 0x260, 8 * MIB);          /* init_size */
    for (size_t i = (SETUP_SECTS + 1) * 512; i < IMG_LEN; i++)
        g_img[i] = (uint8_t)(i * 7 + 1);
}

static void setup(void)
{
    ck_assert_int_eq(mem_init(&g_m, RAM, g_err, sizeof(g_err)), 0);
    make_bzimage();
    for (size_t i = 0; i < sizeof(g_initrd); i++)
        g_initrd[i] = (uint8_t)(i ^ 0x5A);
    g_ka = (struct kernel_args){g_initrd, sizeof(g_initrd), "initrd.img", "console=ttyS0 quiet"};
    g_gi = (struct guest_image){g_img, sizeof(g_img), "vmlinuz", &g_ka};
    memset(g_err, 0, sizeof(g_err));
}

static void teardown(void) { mem_destroy(&g_m); }

static int load(void)
{
    static const uint32_t ids[2] = {0, 1};
    return linux_load(&g_m, &g_gi, 2, ids, NULL, &g_e, &g_pl, g_err, sizeof(g_err));
}

static const uint8_t *zp(void) { return g_m.ram + LINUX_ZERO_PAGE; }

START_TEST(the_kernel_is_placed_at_pref_address_and_entered_at_plus_0x200)
{
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(g_pl.kernel, 0x1000000);
    ck_assert_uint_eq(g_pl.kernel_end, 0x1000000 + 8 * MIB);
    ck_assert_int_eq(memcmp(g_m.ram + 0x1000000, g_img + (SETUP_SECTS + 1) * 512, PM_SIZE), 0);
    ck_assert_uint_eq(g_e.rip, 0x1000200);
    ck_assert_uint_eq(g_e.rsi, LINUX_ZERO_PAGE);
    ck_assert_uint_eq(g_e.cs, 0x10);
    ck_assert_uint_eq(g_e.ds, 0x18);
    ck_assert_uint_eq(g_e.cr3, LINUX_PML4);
    ck_assert_uint_eq(g_e.gdt_base, LINUX_GDT);
    ck_assert_uint_eq(g_e.gdt_limit, 31);
}
END_TEST

START_TEST(a_kernel_aligned_above_pref_address_is_loaded_at_the_next_alignment)
{
    w64(g_img + 0x258, 0x1100000); /* not 2 MiB aligned: a relocatable kernel rounds up */
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(g_pl.kernel, 0x1200000);
    ck_assert_uint_eq(g_e.rip, 0x1200200);
    ck_assert_uint_eq(r32(zp() + 0x214), 0x1200000); /* code32_start */
}
END_TEST

START_TEST(the_zero_page_holds_the_setup_header_and_the_loader_fields)
{
    ck_assert_int_eq(load(), 0);
    const uint8_t *bp = zp();
    /* The header bytes of the file, 0x1F1 to 0x26C, except the fields written. */
    ck_assert_int_eq(memcmp(bp + 0x202, "HdrS", 4), 0);
    ck_assert_uint_eq(r16(bp + 0x206), 0x020F);
    ck_assert_uint_eq(r64(bp + 0x258), 0x1000000);
    ck_assert_uint_eq(r32(bp + 0x260), 8 * MIB);
    ck_assert_uint_eq(bp[0x1F1], SETUP_SECTS);
    ck_assert_uint_eq(r16(bp + 0x1FA), 0xFFFF);     /* vid_mode */
    ck_assert_uint_eq(bp[0x210], 0xFF);             /* type_of_loader */
    ck_assert_uint_eq(bp[0x211], 0x81);             /* LOADED_HIGH | CAN_USE_HEAP */
    ck_assert_uint_eq(r16(bp + 0x224), 0xDE00);     /* heap_end_ptr */
    ck_assert_uint_eq(r32(bp + 0x214), 0x1000000);  /* code32_start */
    ck_assert_uint_eq(r32(bp + 0x228), LINUX_CMDLINE);
    ck_assert_str_eq((const char *)g_m.ram + r32(bp + 0x228), "console=ttyS0 quiet");
    ck_assert_uint_eq(r32(bp + 0x0C8), 0);          /* ext_cmd_line_ptr */
    ck_assert_uint_eq(r32(bp + 0x21C), sizeof(g_initrd));
    ck_assert_uint_eq(r32(bp + 0x0C0), 0);          /* ext_ramdisk_image */
    ck_assert_uint_eq(r32(bp + 0x0C4), 0);          /* ext_ramdisk_size */
    uint64_t rsdp = r64(bp + 0x070);
    ck_assert_uint_eq(rsdp, ACPI_AREA_BASE);
    ck_assert_int_eq(memcmp(g_m.ram + rsdp, "RSD PTR ", 8), 0);
    ck_assert_uint_eq(bp[0x1EF], 0);                /* sentinel: a clean copy */
    ck_assert_uint_eq(r32(bp + 0x1E0), (RAM - MIB) / 1024); /* alt_mem_k */
    /* Nothing between the header's end and the e820 table. */
    for (unsigned i = 0x26C; i < 0x2D0; i++)
        ck_assert_uint_eq(bp[i], 0);
}
END_TEST

START_TEST(the_initrd_sits_page_aligned_at_the_top_of_ram)
{
    ck_assert_int_eq(load(), 0);
    uint64_t at = r32(zp() + 0x218);
    ck_assert_uint_eq(at, g_pl.initrd);
    ck_assert_uint_eq(at % PAGE, 0);
    ck_assert_uint_le(at + sizeof(g_initrd), RAM);
    ck_assert_uint_gt(at + sizeof(g_initrd) + PAGE, RAM);
    ck_assert_int_eq(memcmp(g_m.ram + at, g_initrd, sizeof(g_initrd)), 0);
}
END_TEST

START_TEST(the_initrd_ends_at_or_below_initrd_addr_max)
{
    w32(g_img + 0x22C, 0x2FFFFFF); /* highest byte 48 MiB - 1 */
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_le(g_pl.initrd + sizeof(g_initrd) - 1, 0x2FFFFFF);
    ck_assert_uint_gt(g_pl.initrd + sizeof(g_initrd) + PAGE, 0x3000000);
    ck_assert_uint_ge(g_pl.initrd, g_pl.kernel_end);
}
END_TEST

START_TEST(without_initrd_or_command_line_the_fields_are_zero_and_the_line_empty)
{
    g_gi.kernel = NULL;
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(r32(zp() + 0x218), 0);
    ck_assert_uint_eq(r32(zp() + 0x21C), 0);
    ck_assert_uint_eq(r32(zp() + 0x228), LINUX_CMDLINE); /* never 0: "no 2.02 loader" */
    ck_assert_uint_eq(g_m.ram[LINUX_CMDLINE], 0);
}
END_TEST

/* Whether [a, a+len) lies inside one e820 entry of the type. */
static bool in_e820(const uint8_t *bp, uint64_t a, uint64_t len, uint32_t type)
{
    for (unsigned i = 0; i < bp[0x1E8]; i++) {
        const uint8_t *e = bp + 0x2D0 + 20 * i;
        if (r32(e + 16) == type && a >= r64(e) && a + len <= r64(e) + r64(e + 8))
            return true;
    }
    return false;
}

START_TEST(the_e820_map_is_sorted_disjoint_and_reserves_the_loader_acpi_and_apic_pages)
{
    ck_assert_int_eq(load(), 0);
    const uint8_t *bp = zp();
    unsigned n = bp[0x1E8];
    ck_assert_uint_ge(n, 4);
    uint64_t end = 0, ram = 0;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = bp + 0x2D0 + 20 * i;
        ck_assert_uint_ge(r64(e), end);
        ck_assert_uint_gt(r64(e + 8), 0);
        end = r64(e) + r64(e + 8);
        if (r32(e + 16) == 1)
            ram += r64(e + 8);
    }
    /* All RAM but the loader's pages, the EBDA and the legacy hole 640K-1M. */
    ck_assert_uint_eq(ram, RAM - (0xA0000 - LINUX_LOW_RAM_END) - (0x100000 - 0xA0000));
    ck_assert(in_e820(bp, LINUX_ZERO_PAGE, PAGE, 2));
    ck_assert(in_e820(bp, LINUX_CMDLINE, PAGE, 2));
    ck_assert(in_e820(bp, LINUX_GDT, PAGE, 2));
    ck_assert(in_e820(bp, LINUX_PML4, LINUX_TABLES_END - LINUX_PML4, 2));
    ck_assert(in_e820(bp, ACPI_AREA_BASE, ACPI_AREA_SIZE, 2));
    ck_assert(in_e820(bp, 0xFEC00000, PAGE, 2));
    ck_assert(in_e820(bp, 0xFEE00000, PAGE, 2));
    ck_assert(in_e820(bp, g_pl.kernel, g_pl.kernel_end - g_pl.kernel, 1));
    ck_assert(in_e820(bp, g_pl.initrd, g_pl.initrd_len, 1));
    ck_assert(in_e820(bp, 0x1000, 0x8F000, 1)); /* low RAM for the AP trampoline */
    /* The BIOS data area points at the EBDA, as a kernel reads it. */
    ck_assert_uint_eq(r16(g_m.ram + 0x40E) << 4, LINUX_EBDA);
}
END_TEST

/* An independent 4-level walk (2 MiB or 1 GiB leaves allowed). */
static uint64_t walk(uint64_t cr3, uint64_t va)
{
    uint64_t t = cr3;
    for (int level = 4; level >= 1; level--) {
        uint64_t pte = r64(g_m.ram + t + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
        ck_assert_msg(pte & 1, "not present at level %d for %#llx", level, (unsigned long long)va);
        ck_assert_uint_eq(pte & 2, 2);
        uint64_t base = pte & 0x000FFFFFFFFFF000ull;
        if (level == 1 || (level <= 3 && (pte & 0x80))) {
            uint64_t span = 1ull << (12 + 9 * (level - 1));
            return (base & ~(span - 1)) | (va & (span - 1));
        }
        t = base;
    }
    return UINT64_MAX;
}

START_TEST(the_identity_map_covers_4_gib_and_the_gdt_has_flat_boot_cs_and_ds)
{
    ck_assert_int_eq(load(), 0);
    const uint64_t probes[] = {0, LINUX_ZERO_PAGE, LINUX_CMDLINE, g_pl.kernel,
                               g_pl.kernel_end - 1, g_pl.initrd, RAM - 1, 0xFEC00000,
                               0xFEE00000, 0xFFFFFFFF};
    for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        ck_assert_uint_eq(walk(g_e.cr3, probes[i]), probes[i]);
    const uint8_t *gdt = g_m.ram + g_e.gdt_base;
    uint64_t cs = r64(gdt + 0x10), ds = r64(gdt + 0x18);
    /* __BOOT_CS: present, code, execute/read, L=1 (64-bit), limit 4 GiB (G). */
    ck_assert_uint_eq((cs >> 40) & 0xFF, 0x9A);
    ck_assert_uint_eq((cs >> 53) & 1, 1);
    ck_assert_uint_eq((cs >> 55) & 1, 1);
    ck_assert_uint_eq((cs & 0xFFFF) | ((cs >> 32) & 0xF0000), 0xFFFFF);
    /* __BOOT_DS: present, data, read/write, flat. */
    ck_assert_uint_eq((ds >> 40) & 0xFF, 0x92);
    ck_assert_uint_eq((ds & 0xFFFF) | ((ds >> 32) & 0xF0000), 0xFFFFF);
    ck_assert_uint_eq((ds >> 55) & 1, 1);
}
END_TEST

static bool ram_is_zero(void)
{
    for (uint64_t i = 0; i < g_m.size; i++)
        if (g_m.ram[i])
            return false;
    return true;
}

/* A refusal: -1, one line starting with the file, naming the field; RAM untouched. */
static void refused(const char *file, const char *field)
{
    ck_assert_int_eq(load(), -1);
    ck_assert_msg(strncmp(g_err, file, strlen(file)) == 0 && g_err[strlen(file)] == ':',
                  "message does not start with %s: %s", file, g_err);
    ck_assert_msg(strstr(g_err, field), "message does not name %s: %s", field, g_err);
    ck_assert_ptr_null(strchr(g_err, '\n'));
    ck_assert(ram_is_zero());
}

START_TEST(a_file_without_hdrs_is_not_a_bzimage)
{
    memcpy(g_img + 0x202, "HdrX", 4);
    refused("vmlinuz", "'header'");
    ck_assert(strstr(g_err, "not a Linux bzImage"));
}
END_TEST

START_TEST(a_file_shorter_than_the_header_is_refused)
{
    g_gi.len = 0x100;
    refused("vmlinuz", "'header'");
}
END_TEST

START_TEST(a_protocol_older_than_2_12_is_refused)
{
    w16(g_img + 0x206, 0x020B);
    refused("vmlinuz", "'version'");
    ck_assert(strstr(g_err, "2.11"));
}
END_TEST

START_TEST(a_kernel_without_the_64_bit_entry_is_refused)
{
    w16(g_img + 0x236, 0x2);
    refused("vmlinuz", "'xloadflags'");
}
END_TEST

START_TEST(a_zimage_is_refused)
{
    g_img[0x211] = 0;
    refused("vmlinuz", "'loadflags'");
}
END_TEST

START_TEST(a_truncated_protected_mode_kernel_is_refused)
{
    g_gi.len = IMG_LEN - 16;
    refused("vmlinuz", "'syssize'");
}
END_TEST

START_TEST(a_kernel_whose_init_size_exceeds_ram_is_refused)
{
    w32(g_img + 0x260, 60 * MIB);
    refused("vmlinuz", "'init_size'");
}
END_TEST

START_TEST(an_initrd_too_large_for_ram_is_refused_naming_the_initrd)
{
    static uint8_t big[(40 << 20) + 1]; /* one byte more than fits above the kernel */
    g_ka.initrd = big;
    g_ka.initrd_len = sizeof(big);
    refused("initrd.img", "'initrd_addr_max'");
}
END_TEST

START_TEST(a_command_line_longer_than_cmdline_size_is_refused)
{
    static char line[2049];
    memset(line, 'a', 2048);
    g_ka.cmdline = line;
    refused("vmlinuz", "'cmdline_size'");
    line[2047] = '\0'; /* 2047 bytes: exactly cmdline_size */
    ck_assert_int_eq(load(), 0);
    ck_assert_uint_eq(strlen((const char *)g_m.ram + LINUX_CMDLINE), 2047);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader_linux");
    TCase *tc = tcase_create("bzimage");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_kernel_is_placed_at_pref_address_and_entered_at_plus_0x200);
    tcase_add_test(tc, a_kernel_aligned_above_pref_address_is_loaded_at_the_next_alignment);
    tcase_add_test(tc, the_zero_page_holds_the_setup_header_and_the_loader_fields);
    tcase_add_test(tc, the_initrd_sits_page_aligned_at_the_top_of_ram);
    tcase_add_test(tc, the_initrd_ends_at_or_below_initrd_addr_max);
    tcase_add_test(tc, without_initrd_or_command_line_the_fields_are_zero_and_the_line_empty);
    tcase_add_test(tc, the_e820_map_is_sorted_disjoint_and_reserves_the_loader_acpi_and_apic_pages);
    tcase_add_test(tc, the_identity_map_covers_4_gib_and_the_gdt_has_flat_boot_cs_and_ds);
    tcase_add_test(tc, a_file_without_hdrs_is_not_a_bzimage);
    tcase_add_test(tc, a_file_shorter_than_the_header_is_refused);
    tcase_add_test(tc, a_protocol_older_than_2_12_is_refused);
    tcase_add_test(tc, a_kernel_without_the_64_bit_entry_is_refused);
    tcase_add_test(tc, a_zimage_is_refused);
    tcase_add_test(tc, a_truncated_protected_mode_kernel_is_refused);
    tcase_add_test(tc, a_kernel_whose_init_size_exceeds_ram_is_refused);
    tcase_add_test(tc, an_initrd_too_large_for_ram_is_refused_naming_the_initrd);
    tcase_add_test(tc, a_command_line_longer_than_cmdline_size_is_refused);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
