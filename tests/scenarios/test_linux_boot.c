/* SPDX-License-Identifier: MIT */
/*
 * Scenario suite: `snpref run --kernel` on Debian 12's stock kernel
 * (debian-6.1/vmlinuz among the guest kernels beside the source tree; the
 * suite fails, not skips, when it is absent) and on bad input.
 *
 * The boot test asserts how far the kernel gets today with the default four
 * vCPUs in 600 M instructions: the decompressor runs from the 64-bit entry (its
 * first exit lies inside the loaded kernel's init_size), the kernel proper
 * prints its banner and the command line the loader passed, the e820 map the
 * loader built, the initrd where the loader put it, the ACPI tables at the
 * addresses the loader chose, the MADT's CPU count and the PM timer from the
 * FADT. What stops it later (no IOAPIC, no xAPIC mode,
 * no RTC) is other work of issue 8; a later stage only adds to this output.
 *
 * The refusals: a file that is not a bzImage, an initrd too large for RAM, a
 * command line too long, RAM too small for the kernel's init_size (65, one
 * line naming the file and the field, no trace written); the option mistakes
 * and RAM above 3 GiB (64) and a missing kernel (66).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"

#define KERNEL SNPREF_SOURCE_DIR "/../shared/guests/debian-6.1/vmlinuz"

static void require_kernel(void)
{
    ck_assert_msg(access(KERNEL, R_OK) == 0,
                  "%s is missing: the Linux boot scenarios need Debian's 6.1 kernel there", KERNEL);
}

START_TEST(debian_kernel_decompresses_and_reports_the_loaders_e820_acpi_and_command_line)
{
    require_kernel();
    /* An initrd of 10000 bytes: the loader puts it page-aligned just below the
     * end of the 256 MiB of RAM; the kernel reports it page-rounded. */
    char initrd[] = "/tmp/scn_initrdXXXXXX";
    int fd = mkstemp(initrd);
    ck_assert_int_ge(fd, 0);
    static char junk[10000];
    memset(junk, 0x5A, sizeof(junk));
    ck_assert_int_eq(write(fd, junk, sizeof(junk)), (int)sizeof(junk));
    close(fd);
    uint64_t rd = (0x10000000 - sizeof(junk)) & ~0xFFFull;
    char ramdisk[64];
    snprintf(ramdisk, sizeof(ramdisk), "RAMDISK: [mem %#010llx-%#010llx]", (unsigned long long)rd,
             (unsigned long long)(((rd + sizeof(junk) + 0xFFF) & ~0xFFFull) - 1));
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--initrd", initrd, "--append",
                  "console=ttyS0 earlyprintk=ttyS0", "--max-insns", "600000000", NULL);
    unlink(initrd);
    ck_assert_msg(r.status == 81, "status %d, stderr: %s", r.status, r.err);
    ck_assert_msg(scn_has(r.out, ramdisk), "console lacks \"%s\"", ramdisk);
    /* The first exit (a CPUID of the decompressor) is inside [0x1000000,
     * 0x1000000 + init_size): the 64-bit entry at 0x1000200 ran. */
    size_t first = scn_find(&r, 0, "vmexit", 0, NULL, 0);
    ck_assert_uint_ne(first, SIZE_MAX);
    uint64_t rip = scn_u(&r.ev[first], "rip");
    ck_assert_uint_ge(rip, 0x1000000);
    ck_assert_uint_lt(rip, 0x1000000 + 0x3378000);
    static const char *const lines[] = {
        "Linux version 6.1.0-57-cloud-amd64",
        "Command line: console=ttyS0 earlyprintk=ttyS0",
        "BIOS-e820: [mem 0x0000000000000000-0x000000000008ffff] usable",
        "BIOS-e820: [mem 0x0000000000090000-0x000000000009ffff] reserved",
        "BIOS-e820: [mem 0x00000000000e0000-0x00000000000fffff] reserved",
        "BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable",
        "BIOS-e820: [mem 0x00000000fec00000-0x00000000fec00fff] reserved",
        "BIOS-e820: [mem 0x00000000fee00000-0x00000000fee00fff] reserved",
        "ACPI: RSDP 0x00000000000E0000 000024 (v02 SNPREF)",
        "ACPI: FACP 0x",
        "ACPI: DSDT 0x",
        "ACPI: FACS 0x",
        "ACPI: APIC 0x",
        "ACPI: PM-Timer IO Port: 0x608",
        "ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)",
        "ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)",
        "ACPI: Using ACPI (MADT) for SMP configuration information",
        "smpboot: Allowing 4 CPUs, 0 hotplug CPUs",
        "Kernel command line: console=ttyS0 earlyprintk=ttyS0",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        ck_assert_msg(scn_has(r.out, lines[i]), "console lacks \"%s\"", lines[i]);
    /* No ACPICA complaint about the tables. */
    ck_assert(!scn_has(r.out, "ACPI BIOS Error"));
    ck_assert(!scn_has(r.out, "ACPI BIOS Warning"));
    ck_assert(!scn_has(r.out, "ACPI Error"));
    ck_assert(!scn_has(r.out, "Incorrect checksum"));
    scn_free(&r);
}
END_TEST

/* The busybox initramfs of scripts/mkinitramfs.sh, built once per process. */
static const char *initramfs(void)
{
    static char path[64];
    if (path[0])
        return path;
    snprintf(path, sizeof(path), "/tmp/scn_initramfs_%d.cpio.gz", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "bash %s/scripts/mkinitramfs.sh %s", SNPREF_SOURCE_DIR, path);
    ck_assert_msg(system(cmd) == 0, "%s failed: install busybox-static and cpio", cmd);
    return path;
}

/* Boots the stock kernel with the busybox /init on n vCPUs, as a user would:
 * the command line holds nothing but console=ttyS0. */
static void boot_to_init(unsigned n)
{
    require_kernel();
    char vcpus[8], online[32], procs[32], brought[48];
    snprintf(vcpus, sizeof(vcpus), "%u", n);
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--initrd", initramfs(), "--append",
                  "console=ttyS0", "--vcpus", vcpus, "--max-insns", "20000000000", NULL);
    ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
    snprintf(online, sizeof(online), "online: 0%s", n > 1 ? "-" : "");
    if (n > 1)
        snprintf(online + strlen(online), sizeof(online) - strlen(online), "%u", n - 1);
    snprintf(procs, sizeof(procs), "processors: %u", n);
    snprintf(brought, sizeof(brought), "smp: Brought up 1 node, %u CPU", n);
    const char *const want[] = {
        "snpref-init: start", "uname: Linux (none) 6.1.0-57-cloud-amd64", online, procs,
        brought, "vendor_id\t: AuthenticAMD", "--- interrupts", "snpref-init: done",
        "ACPI: PM: Preparing to enter system sleep state S5",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(scn_has(r.out, want[i]), "console lacks \"%s\"", want[i]);
    static const char *const never[] = {"unchecked MSR", "Oops", "BUG:", "Call Trace",
                                        "RTC time", "Unable to read current time",
                                        "timeout", "Kernel panic"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        ck_assert_msg(!scn_has(r.out, never[i]), "console has \"%s\"", never[i]);
    /* The run ended by ACPI S5 through PM1a_CNT, and every vCPU retired code. */
    size_t pw = SIZE_MAX;
    for (int v = 0; v < (int)n && pw == SIZE_MAX; v++)
        pw = scn_find(&r, 0, "power", v, NULL, 0);
    ck_assert_msg(pw != SIZE_MAX, "no power event in the trace");
    ck_assert_str_eq(scn_s(&r.ev[pw], "state"), "off");
    scn_free(&r);
}

START_TEST(debian_kernel_boots_busybox_init_on_one_vcpu_and_powers_off_with_status_0)
{
    boot_to_init(1);
}
END_TEST

START_TEST(debian_kernel_boots_busybox_init_on_four_vcpus_all_online_and_powers_off)
{
    boot_to_init(4);
}
END_TEST

/* A refused run: the status, one line on stderr naming what, no trace file. */
static void refused(struct scn_run *r, int status, const char *what)
{
    ck_assert_msg(r->status == status, "status %d, stderr: %s", r->status, r->err);
    ck_assert_msg(scn_has(r->err, what), "stderr lacks \"%s\": %s", what, r->err);
    char *nl = strchr(r->err, '\n');
    ck_assert(nl && nl[1] == '\0');
    ck_assert_int_ne(access(r->trace_path, F_OK), 0);
}

START_TEST(an_elf_guest_given_as_kernel_is_refused_as_not_a_bzimage)
{
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", scn_guest_path("demo"), NULL);
    refused(&r, 65, "field 'header' at 0x202 is not \"HdrS\": not a Linux bzImage");
    scn_free(&r);
}
END_TEST

START_TEST(an_initrd_larger_than_the_ram_above_the_kernel_is_refused_naming_the_initrd)
{
    require_kernel();
    struct scn_run r;
    /* 72 MiB of RAM: the kernel needs up to 0x4378000, the 14 MB initrd does not fit. */
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--initrd", KERNEL, "--ram-mb", "72", NULL);
    refused(&r, 65, KERNEL ": 14190528 bytes do not fit");
    ck_assert(scn_has(r.err, "'initrd_addr_max'"));
    scn_free(&r);
}
END_TEST

START_TEST(a_command_line_longer_than_the_kernels_cmdline_size_is_refused)
{
    require_kernel();
    static char line[2049];
    memset(line, 'x', 2048);
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--append", line, NULL);
    refused(&r, 65, "'cmdline_size' at 0x238 allows 2047");
    scn_free(&r);
}
END_TEST

START_TEST(ram_below_the_kernels_init_size_is_refused_with_the_size_it_needs)
{
    require_kernel();
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--ram-mb", "64", NULL);
    refused(&r, 65, "field 'init_size' at 0x260");
    ck_assert(scn_has(r.err, "it needs at least 68)"));
    scn_free(&r);
}
END_TEST

START_TEST(kernel_option_mistakes_are_usage_errors_and_a_missing_kernel_is_66)
{
    struct scn_run r;
    scn_run_guest(&r, NULL, "--initrd", "x.img", NULL);
    refused(&r, 64, "--initrd needs --kernel");
    scn_free(&r);
    scn_run_guest(&r, "demo", "--kernel", "vmlinuz", NULL);
    refused(&r, 64, "exclude each other");
    scn_free(&r);
    scn_run_guest(&r, NULL, "--kernel", "/nonexistent/vmlinuz", NULL);
    refused(&r, 66, "/nonexistent/vmlinuz: cannot open");
    scn_free(&r);
    require_kernel();
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--mode", "snp", NULL);
    refused(&r, 64, "--kernel: the Linux boot protocol runs in mode plain");
    scn_free(&r);
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--ram-mb", "4096", NULL);
    refused(&r, 64, "ram_mb 4096: a Linux guest has at most 3072 MiB");
    scn_free(&r);
}
END_TEST

/* One tcase per real-software run, so that each is a ctest test of its own
 * (tests/scenarios/CMakeLists.txt selects it with CK_RUN_CASE). */
/* With the PSP device (docs/psp.md) the stock kernel lists the ASPT among the
 * tables of the XSDT: signature, length 136, revision 1, checksum accepted. */
START_TEST(a_psp_device_adds_an_aspt_that_the_stock_kernel_lists_without_complaint)
{
    require_kernel();
    char cfg[64];
    snprintf(cfg, sizeof(cfg), "/tmp/scn_psp_%d.json", (int)getpid());
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"psp\": {\"enable\": true}}\n", f);
    fclose(f);
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--append", "console=ttyS0", "--max-insns",
                  "250000000", "--config", cfg, NULL);
    unlink(cfg);
    ck_assert_msg(r.status == 81, "status %d, stderr: %s", r.status, r.err);
    ck_assert_msg(scn_has(r.out, "ACPI: ASPT 0x00000000000E0238 000088 (v01 SNPREF"), "%s", r.out);
    ck_assert(scn_has(r.out, "BIOS-e820: [mem 0x00000000feb00000-0x00000000feb00fff] reserved"));
    ck_assert(scn_has(r.out, "ACPI: APIC 0x"));
    ck_assert(!scn_has(r.out, "Incorrect checksum"));
    ck_assert(!scn_has(r.out, "ACPI BIOS Warning"));
    scn_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("linux_boot");
    const struct {
        const char *name;
        const TTest *test;
    } boots[] = {
        {"decompress_4vcpu",
         debian_kernel_decompresses_and_reports_the_loaders_e820_acpi_and_command_line},
        {"busybox_1vcpu", debian_kernel_boots_busybox_init_on_one_vcpu_and_powers_off_with_status_0},
        {"busybox_4vcpu", debian_kernel_boots_busybox_init_on_four_vcpus_all_online_and_powers_off},
        {"psp_aspt", a_psp_device_adds_an_aspt_that_the_stock_kernel_lists_without_complaint},
    };
    for (size_t i = 0; i < sizeof(boots) / sizeof(boots[0]); i++) {
        TCase *b = tcase_create(boots[i].name);
        tcase_set_timeout(b, 300);
        tcase_add_test(b, boots[i].test);
        suite_add_tcase(s, b);
    }
    TCase *tc = tcase_create("refusals");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, an_elf_guest_given_as_kernel_is_refused_as_not_a_bzimage);
    tcase_add_test(tc, an_initrd_larger_than_the_ram_above_the_kernel_is_refused_naming_the_initrd);
    tcase_add_test(tc, a_command_line_longer_than_the_kernels_cmdline_size_is_refused);
    tcase_add_test(tc, ram_below_the_kernels_init_size_is_refused_with_the_size_it_needs);
    tcase_add_test(tc, kernel_option_mistakes_are_usage_errors_and_a_missing_kernel_is_66);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
