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
 * The confidential boots: the same kernel and busybox /init (with
 * tests/linux/probe.c as /bin/probe, CPUID and RDTSC from ring 3) under
 * --mode sev-es and --mode snp on 1 and 4 vCPUs, where the loader acts as the
 * guest's firmware (docs/guest-abi.md "Linux boot"): the kernel's own #VC
 * handler and GHCB protocol, SEV-ES APs through the AP jump table and reset
 * hold, SNP APs through AP creation from the kernel's real-mode VMSAs.
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

#include <openssl/x509.h>

#include "scn.h"
#include "attest_check.h"
#include "ck_run.h"

#define KERNEL SNPREF_SOURCE_DIR "/../shared/guests/debian-6.1/vmlinuz"
#define SAVIC_DIR SNPREF_SOURCE_DIR "/../shared/guests/linux"

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

/* Builds the busybox initramfs of scripts/mkinitramfs.sh with probe as its
 * /bin/probe into path (/tmp/scn_NAME_PID.cpio.gz). */
static void build_initramfs(char *path, size_t len, const char *name, const char *probe)
{
    snprintf(path, len, "/tmp/scn_%s_%d.cpio.gz", name, (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "bash %s/scripts/mkinitramfs.sh %s %s", SNPREF_SOURCE_DIR, path,
             probe);
    ck_assert_msg(system(cmd) == 0, "%s failed: install busybox-static and cpio", cmd);
}

/* The initramfs with the ring-3 probe (tests/linux/probe.c), built once per process. */
static const char *initramfs(void)
{
    static char path[64];
    if (!path[0])
        build_initramfs(path, sizeof(path), "initramfs", SNPREF_LINUX_PROBE);
    return path;
}

/* #VC exceptions with this exit code, and how many of them came from ring 3
 * (a user-half RIP). */
static size_t vc_count(const struct scn_run *r, uint64_t code, size_t *user)
{
    size_t n = 0;
    *user = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const struct scn_event *e = &r->ev[i];
        if (!scn_is(e, "exception") || scn_u(e, "vector") != 29 || scn_u(e, "error_code") != code)
            continue;
        n++;
        if (scn_u(e, "rip") < 0x0000800000000000ull)
            (*user)++;
    }
    return n;
}

/* Boots the stock kernel with the busybox /init on n vCPUs in mode (plain,
 * sev-es, snp), as a user would: the command line holds nothing but
 * console=ttyS0. */
static void boot_to_init_in(const char *mode, unsigned n)
{
    require_kernel();
    char vcpus[8], online[32], procs[32], brought[48];
    snprintf(vcpus, sizeof(vcpus), "%u", n);
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", KERNEL, "--initrd", initramfs(), "--append",
                  "console=ttyS0", "--vcpus", vcpus, "--mode", mode, "--max-insns", "20000000000",
                  NULL);
    ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
    snprintf(online, sizeof(online), "online: 0%s", n > 1 ? "-" : "");
    if (n > 1)
        snprintf(online + strlen(online), sizeof(online) - strlen(online), "%u", n - 1);
    snprintf(procs, sizeof(procs), "processors: %u", n);
    snprintf(brought, sizeof(brought), "smp: Brought up 1 node, %u CPU", n);
    const char *const want[] = {
        "snpref-init: start", "uname: Linux (none) 6.1.0-57-cloud-amd64", online, procs,
        brought, "vendor_id\t: AuthenticAMD", "--- interrupts", "snpref-init: done",
        "probe: ring-3 cpuid 0: AuthenticAMD", "probe: ring-3 rdtsc advances",
        "ACPI: PM: Preparing to enter system sleep state S5",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(scn_has(r.out, want[i]), "console lacks \"%s\"", want[i]);
    static const char *const never[] = {"unchecked MSR", "Oops", "BUG:", "Call Trace",
                                        "RTC time", "Unable to read current time",
                                        "timeout", "Kernel panic", "RDRAND instruction not"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        ck_assert_msg(!scn_has(r.out, never[i]), "console has \"%s\"", never[i]);
    if (!strcmp(mode, "sev-es")) {
        /* The kernel runs as an SEV-ES guest, and its user program's CPUID
         * sees the SEV and SEV-ES bits (CPUID 0x8000001F EAX[1], [3]) and
         * the C-bit position 51 through the #VC handler. */
        ck_assert(scn_has(r.out, "Memory Encryption Features active: AMD SEV SEV-ES"));
        ck_assert(scn_has(r.out, "probe: ring-3 cpuid 0x8000001f: eax 0x0000000a ebx 0x00000073"));
    } else if (!strcmp(mode, "snp")) {
        /* An SNP guest: the decompressor found the CC blob in setup_data and
         * the kernel uses the CPUID page the PSP checked (17 standard and
         * extended leaves, and the hypervisor range 0x40000000-0x40000001);
         * the user program sees SNP too (0x8000001F EAX[4]). */
        ck_assert(scn_has(r.out, "Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP"));
        ck_assert(scn_has(r.out, "SEV: Using SNP CPUID table, 19 entries present."));
        ck_assert(scn_has(r.out, "SEV: SNP guest platform device initialized."));
        ck_assert(scn_has(r.out, "probe: ring-3 cpuid 0x8000001f: eax 0x0000001a ebx 0x00000073"));
        /* The launch measured the loader's pages and the BSP's VMSA. */
        ck_assert_uint_eq(scn_count(&r, "launch_finish", -2), 1);
        ck_assert_uint_ge(scn_count(&r, "launch_update", -2), 3000);
    } else {
        ck_assert(!scn_has(r.out, "Memory Encryption Features active"));
    }
    if (!strcmp(mode, "snp") && n > 1) {
        /* SNP SMP: the kernel creates each AP from a VMSA of its own
         * (SNP_AP_CREATION, VMGEXIT 0x80000013, request 1 = create), in real
         * mode at its trampoline, and each AP runs. */
        for (unsigned id = 1; id < n; id++) {
            size_t c = scn_find(&r, 0, "ap_create", 0, "apic_id", id);
            ck_assert_msg(c != SIZE_MAX, "no AP creation for APIC ID %u", id);
            ck_assert_str_eq(scn_s(&r.ev[c], "request"), "create");
            ck_assert_str_eq(scn_s(&r.ev[c], "result"), "ok");
            ck_assert_uint_ne(scn_find(&r, c, "vmexit", (int)id, NULL, 0), SIZE_MAX);
        }
    }
    /* The run ended by ACPI S5 through PM1a_CNT, and every vCPU retired code. */
    size_t pw = SIZE_MAX;
    for (int v = 0; v < (int)n && pw == SIZE_MAX; v++)
        pw = scn_find(&r, 0, "power", v, NULL, 0);
    ck_assert_msg(pw != SIZE_MAX, "no power event in the trace");
    ck_assert_str_eq(scn_s(&r.ev[pw], "state"), "off");
    if (!strcmp(mode, "sev-es") && n > 1) {
        /* SMP the SEV-ES way: the kernel GETs the AP jump table the firmware
         * set, and each AP leaves the firmware stub's AP reset hold (GHCB MSR
         * request 0x006, response 0x007 with a non-zero value) at its SIPI. */
        size_t get = scn_find(&r, 0, "vmgexit", 0, "exit_code", 0x80000005);
        ck_assert_msg(get != SIZE_MAX, "no AP_JUMP_TABLE VMGEXIT");
        ck_assert_uint_eq(scn_u(&r.ev[get], "info1"), 1); /* GET */
        size_t res = scn_find(&r, get, "vmgexit_result", 0, "exit_code", 0x80000005);
        ck_assert_uint_eq(scn_u(&r.ev[res], "info2"), 0x9C000);
        for (int v = 1; v < (int)n; v++) {
            size_t h = scn_find(&r, 0, "ghcb_msr", v, "request", 0x6);
            ck_assert_msg(h != SIZE_MAX, "vCPU %d never left AP reset hold", v);
            ck_assert_uint_eq(scn_u(&r.ev[h], "response"), 0x1007);
            size_t sipi = scn_find(&r, 0, "sipi", v, NULL, 0);
            ck_assert_msg(sipi != SIZE_MAX && sipi < h, "vCPU %d: no SIPI before the release", v);
        }
    }
    if (strcmp(mode, "plain")) {
        /* Each intercept went through #VC: CPUID and RDTSC from ring 0 and
         * from the probe in ring 3, IOIO (the UART, the PM timer), MSR and
         * MMIO (the IOAPIC: #VC 0x400 from the NPF). */
        static const uint64_t codes[] = {0x72, 0x6E, 0x7B, 0x7C, 0x400};
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
            size_t user, all = vc_count(&r, codes[i], &user);
            ck_assert_msg(all > 0, "no #VC %#llx in the trace", (unsigned long long)codes[i]);
            if (codes[i] == 0x72 || codes[i] == 0x6E)
                ck_assert_msg(user > 0 && user < all, "#VC %#llx: %zu of %zu from ring 3",
                              (unsigned long long)codes[i], user, all);
        }
    }
    scn_free(&r);
}

static void boot_to_init(unsigned n) { boot_to_init_in("plain", n); }

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

START_TEST(debian_kernel_boots_as_an_sev_es_guest_on_one_vcpu_with_ring_3_cpuid_through_vc)
{
    boot_to_init_in("sev-es", 1);
}
END_TEST

START_TEST(debian_kernel_boots_as_an_sev_es_guest_on_four_vcpus_through_the_ap_jump_table)
{
    boot_to_init_in("sev-es", 4);
}
END_TEST

START_TEST(debian_kernel_boots_as_an_snp_guest_on_one_vcpu_with_the_cc_blob_and_cpuid_page)
{
    boot_to_init_in("snp", 1);
}
END_TEST

START_TEST(debian_kernel_boots_as_an_snp_guest_on_four_vcpus_through_ap_creation)
{
    boot_to_init_in("snp", 4);
}
END_TEST

/* The bytes `od -An -v -tx1` printed after the line `start` and before the next "--- ". */
static size_t od_bytes(const char *out, const char *start, uint8_t *buf, size_t cap)
{
    const char *p = strstr(out, start);
    ck_assert_msg(p, "the console lacks \"%s\"", start);
    p = strchr(p, '\n') + 1;
    size_t n = 0;
    while (*p && strncmp(p, "--- ", 4)) {
        unsigned v;
        int used;
        if (sscanf(p, " %2x%n", &v, &used) == 1 && strchr(" \r\n", p[used])) {
            ck_assert(n < cap);
            buf[n++] = (uint8_t)v;
            p += used;
        } else {
            p = strchr(p, '\n');
            ck_assert(p);
            p++;
        }
    }
    return n;
}

/* The DER certificate the GHCB certificate table names by guid (GHCB
 * specification 4.1.8.1: 24-byte entries {GUID, offset, length}, ended by a
 * zero entry; offsets from the table's start). */
static X509 *table_cert(const uint8_t *t, size_t len, const uint8_t guid[16])
{
    static const uint8_t zero[16];
    for (size_t e = 0; e + 24 <= len && memcmp(t + e, zero, 16); e += 24) {
        uint32_t off, n;
        memcpy(&off, t + e + 16, 4);
        memcpy(&n, t + e + 20, 4);
        if (memcmp(t + e, guid, 16))
            continue;
        ck_assert_msg((size_t)off + n <= len, "a certificate entry points past the table");
        const unsigned char *p = t + off;
        X509 *x = d2i_X509(NULL, &p, (long)n);
        ck_assert_msg(x && p == t + off + n, "the table's entry is not one DER certificate");
        return x;
    }
    ck_abort_msg("the certificate table has no entry for a GUID it needs");
    return NULL;
}

/* Linux's own attestation path on the model: the 7.2 kernel (CONFIG_SEV_GUEST,
 * CONFIG_TSM_REPORTS) booted as an SNP guest with the golden APIC and
 * Linux's PAT in its VMSAs (sev.launch_pat: it lacks CONFIG_X86_PAT, see the
 * Secure AVIC tests below). Its /init (tests/linux/init) writes 64 bytes of
 * report data to configfs-tsm and prints the report and the certificate
 * table the sev-guest driver got through EXT_GUEST_REQUEST. The test checks
 * them as a relying party would: the report data and the launch digest of
 * the trace in the report, the chain ARK -> ASK -> VCEK from the table, the
 * signature with that VCEK, and that one changed bit fails it. */
START_TEST(linux_7_2_as_an_snp_guest_gets_a_report_through_configfs_tsm_that_verifies)
{
    ck_assert_msg(access(SAVIC_DIR "/bzImage", R_OK) == 0, "%s/bzImage is missing", SAVIC_DIR);
    char cfg[64];
    snprintf(cfg, sizeof(cfg), "/tmp/scn_tsm_%d.json", (int)getpid());
    FILE *f = fopen(cfg, "w");
    ck_assert(f && fputs("{\"sev\":{\"launch_pat\":\"0x0407050600070106\"}}\n", f) >= 0);
    fclose(f);
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", SAVIC_DIR "/bzImage", "--initrd", initramfs(), "--append",
                  "console=ttyS0", "--mode", "snp", "--vcpus", "2", "--config", cfg, "--max-insns",
                  "6000000000", NULL);
    remove(cfg);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert(scn_has(r.out, "Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP"));
    ck_assert(scn_has(r.out, "smp: Brought up 1 node, 2 CPUs"));
    ck_assert(scn_has(r.out, "sev-guest sev-guest: Initialized SEV guest driver (using VMPCK0"));
    ck_assert(scn_has(r.out, "tsm: provider sev_guest"));
    ck_assert(scn_has(r.out, "--- tsm end generation 1"));

    static struct snp_report rep;
    ck_assert_uint_eq(od_bytes(r.out, "--- tsm outblob", (uint8_t *)&rep, sizeof(rep)),
                      sizeof(rep));
    static uint8_t table[16384];
    size_t tlen = od_bytes(r.out, "--- tsm auxblob", table, sizeof(table));
    ck_assert_uint_gt(tlen, 4 * 24);
    ck_assert_mem_eq(rep.report_data, "snpref-tsm-report-data:0123456789abcdefghijklmnopqrstuvwxyz.....",
                     64);
    size_t lf = scn_find(&r, 0, "launch_finish", -2, NULL, 0);
    ck_assert_uint_ne(lf, SIZE_MAX);
    const char *d = scn_s(&r.ev[lf], "digest");
    for (int i = 0; i < 48; i++) {
        unsigned v;
        ck_assert(sscanf(d + 2 * i, "%2x", &v) == 1);
        ck_assert_uint_eq(rep.measurement[i], v);
    }
    ck_assert_uint_eq(rep.policy, scn_u(&r.ev[lf], "policy"));
    ck_assert_uint_eq(rep.vmpl, 0);
    ck_assert_uint_eq(rep.sig_algo, 1);

    /* GHCB specification 4.1.8.1: the GUIDs of the VCEK, ASK and ARK entries. */
    static const uint8_t vcek_g[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    static const uint8_t ask_g[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
    static const uint8_t ark_g[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
    X509 *vcek = table_cert(table, tlen, vcek_g), *ask = table_cert(table, tlen, ask_g),
         *ark = table_cert(table, tlen, ark_g);
    attest_assert_chain(ark, ask, vcek);
    ck_assert_msg(attest_sig_ok(&rep, X509_get0_pubkey(vcek)), "Linux's report does not verify");
    struct snp_report bad = rep;
    bad.report_data[0] ^= 1;
    ck_assert(!attest_sig_ok(&bad, X509_get0_pubkey(vcek)));
    attest_write_out("linux", &rep, ark, ask, vcek);
    X509_free(vcek), X509_free(ask), X509_free(ark);
    /* The trace: the driver's messages reached the PSP and succeeded. */
    size_t ext = 0;
    for (size_t i = 0; i < r.nev; i++)
        if (scn_is(&r.ev[i], "guest_request")) {
            ck_assert_uint_eq(scn_u(&r.ev[i], "status"), 0);
            ck_assert_uint_eq(scn_u(&r.ev[i], "msg_type"), 5);
            ext += !strcmp(scn_s(&r.ev[i], "kind"), "ext");
        }
    ck_assert_uint_ge(ext, 1);
    scn_free(&r);
}
END_TEST

/* How far the Linux 7.2 kernel with the Secure AVIC driver gets today under
 * --mode snp --apic savic on 4 vCPUs: its decompressor and early boot run as
 * an SNP guest, the driver probes (cc_platform_has(CC_ATTR_SNP_SECURE_AVIC)
 * from SEV_STATUS) and takes over APIC routing. Then the kernel BUGs in
 * __sme_early_enc_dec, on any SNP platform: that kernel is built from
 * tinyconfig with CONFIG_X86_PAT off, so early_memremap_encrypted_wp()
 * returns NULL (no write-protect PAT entry, x86_has_pat_wp()) when
 * sev_es_init_vc_handling() decrypts the per-CPU GHCBs: the VMSA's G_PAT is
 * the reset value, which has no WP entry either (the next test gives it one).
 * A kernel with X86_PAT is needed to go further on the defaults; this test
 * then fails on its last assertion. */
START_TEST(linux_7_2_probes_the_secure_avic_driver_then_stops_at_its_missing_pat)
{
    ck_assert_msg(access(SAVIC_DIR "/bzImage", R_OK) == 0 &&
                      access(SAVIC_DIR "/initramfs.cpio.gz", R_OK) == 0,
                  "%s/bzImage and initramfs.cpio.gz are missing", SAVIC_DIR);
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", SAVIC_DIR "/bzImage", "--initrd",
                  SAVIC_DIR "/initramfs.cpio.gz", "--append", "console=ttyS0 earlyprintk=ttyS0",
                  "--mode", "snp", "--apic", "savic", "--vcpus", "4", "--max-insns", "2000000000",
                  NULL);
    ck_assert(scn_has(r.out, "Linux version 7.2.13-snpref"));
    ck_assert(scn_has(r.out, "APIC: Switched APIC routing to: secure avic x2apic"));
    ck_assert(scn_has(r.out, "kernel BUG at __sme_early_enc_dec"));
    ck_assert(scn_has(r.out, "early_set_memory_enc_dec"));
    ck_assert(scn_has(r.out, "x86/PAT: PAT support disabled because CONFIG_X86_PAT is disabled"));
    /* The guest ran through its own #VC handler until then. */
    ck_assert_uint_gt(scn_count_where(&r, "exception", 0, "vector", 29), 1000);
    ck_assert_msg(r.status == 80, "status %d: the kernel got further than its missing PAT "
                  "allows (update this test)", r.status);
    scn_free(&r);
}
END_TEST

/* The same kernel launched with Linux's own PAT in its VMSAs (sev.launch_pat,
 * what a firmware that programs the PAT hands over): without CONFIG_X86_PAT
 * the kernel keeps the PAT it finds, so WP exists and the GHCBs are decrypted.
 * The next stop is the kernel's again, on any platform: it has no hypervisor
 * guest support (CONFIG_PARAVIRT and so KVM_GUEST off), so
 * x86_init.hyper.x2apic_available() is false, try_to_enable_x2apic() calls
 * x2apic_disable(), and its read_apic_id() goes through the Secure AVIC
 * driver's savic_read() before savic_probe() allocated the backing pages:
 * this_cpu_ptr(NULL) faults (CR2 = the per-CPU offset + 0x20, APIC_ID). */
START_TEST(linux_7_2_with_a_firmware_pat_gets_past_the_ghcbs_then_faults_in_savic_read)
{
    ck_assert_msg(access(SAVIC_DIR "/bzImage", R_OK) == 0 &&
                      access(SAVIC_DIR "/initramfs.cpio.gz", R_OK) == 0,
                  "%s/bzImage and initramfs.cpio.gz are missing", SAVIC_DIR);
    char cfg[64];
    snprintf(cfg, sizeof(cfg), "/tmp/scn_pat_%d.json", (int)getpid());
    FILE *f = fopen(cfg, "w");
    ck_assert(f && fputs("{\"sev\":{\"launch_pat\":\"0x0407050600070106\"}}\n", f) >= 0);
    fclose(f);
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", SAVIC_DIR "/bzImage", "--initrd",
                  SAVIC_DIR "/initramfs.cpio.gz", "--append", "console=ttyS0 earlyprintk=ttyS0",
                  "--mode", "snp", "--apic", "savic", "--vcpus", "4", "--config", cfg,
                  "--max-insns", "600000000", NULL);
    remove(cfg);
    ck_assert(scn_has(r.out, "x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT"));
    ck_assert(!scn_has(r.out, "kernel BUG at __sme_early_enc_dec"));
    ck_assert(scn_has(r.out, "APIC: Switched APIC routing to: secure avic x2apic"));
    ck_assert(scn_has(r.out, "x2apic: IRQ remapping doesn't support X2APIC mode"));
    ck_assert(scn_has(r.out, "BUG: unable to handle page fault"));
    ck_assert(scn_has(r.out, "RIP: 0010:savic_read"));
    ck_assert(scn_has(r.out, "enable_IR_x2apic"));
    /* The model answered every access architecturally: the fault is the
     * guest's own #PF (vector 14) on vCPU 0, which never started an AP. */
    ck_assert_uint_gt(scn_count_where(&r, "exception", 0, "vector", 14), 0);
    ck_assert_uint_gt(scn_count_where(&r, "exception", 0, "vector", 29), 1000);
    ck_assert_uint_eq(scn_count(&r, "ap_create", -2), 0);
    ck_assert_msg(r.status == 81, "status %d: the kernel got further than its missing "
                  "hypervisor support allows (update this test)", r.status);
    scn_free(&r);
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

/* The counts of one /proc/interrupts row (" RES:", " LOC:", ...) in the
 * table printed after `after`: how many CPUs it had (at most cap). */
static size_t irq_row(const char *out, const char *after, const char *row, unsigned long *v,
                      size_t cap)
{
    const char *p = strstr(out, after);
    ck_assert_msg(p, "console lacks \"%s\"", after);
    p = strstr(p, row);
    ck_assert_msg(p, "no %s row after \"%s\"", row, after);
    p += strlen(row);
    size_t n = 0;
    char *end;
    for (unsigned long x; n < cap && (x = strtoul(p, &end, 10), end != p); p = end)
        v[n++] = x;
    return n;
}

/* Events of one kind on vcpu whose string field equals value. */
static size_t count_str(const struct scn_run *r, const char *ev, int vcpu, const char *field,
                        const char *value)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++)
        if (scn_is(&r->ev[i], ev) && (vcpu < 0 || r->ev[i].r.vcpu == vcpu) &&
            !strcmp(scn_s(&r->ev[i], field), value))
            n++;
    return n;
}

/* The apic_hw events of vcpu for one MSR, all of which must be accelerated. */
static size_t accelerated(const struct scn_run *r, int vcpu, uint64_t msr)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const struct scn_event *e = &r->ev[i];
        if (!scn_is(e, "apic_hw") || e->r.vcpu != vcpu || scn_u(e, "msr") != msr)
            continue;
        ck_assert_str_eq(scn_s(e, "result"), "accelerated");
        n++;
    }
    return n;
}

/* The real Secure AVIC driver (arch/x86/kernel/apic/x2apic_savic.c) running
 * as written, on Linux 7.2.13 rebuilt from the shared asset's source and
 * recipe with CONFIG_X86_PAT and CONFIG_KVM_GUEST (scripts/build-savic-guest.sh,
 * `make savic-guest`): the shared kernel itself cannot get there (the two
 * tests above). The model names itself KVM (tests/linux/savic-kvm.json, a
 * CPUID override that the SNP CPUID page carries), as the driver's x2APIC
 * needs a hypervisor Linux knows. Its /bin/probe (tests/linux/ipi-workload.sh)
 * makes every CPU take rescheduling, function-call and irq_work self IPIs.
 * The trace shows which path each access took (docs/guest-abi.md "Linux's
 * Secure AVIC driver"). */
START_TEST(linux_7_2_runs_the_real_secure_avic_driver_with_ipis_and_timers_on_every_cpu)
{
    const char *kernel = SNPREF_SOURCE_DIR "/.cache/savic-guest/bzImage";
    ck_assert_msg(access(kernel, R_OK) == 0,
                  "%s is missing: `make savic-guest` builds it (make test does)", kernel);
    char ir[64];
    build_initramfs(ir, sizeof(ir), "ipi", SNPREF_SOURCE_DIR "/tests/linux/ipi-workload.sh");
    struct scn_run r;
    scn_run_guest(&r, NULL, "--kernel", kernel, "--initrd", ir, "--append", "console=ttyS0",
                  "--mode", "snp", "--apic", "savic", "--vcpus", "4", "--config",
                  SNPREF_SOURCE_DIR "/tests/linux/savic-kvm.json", "--max-insns", "20000000000",
                  NULL);
    remove(ir);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert(scn_has(r.out, "Linux version 7.2.13-snpref-kvm"));
    ck_assert(scn_has(r.out, "Hypervisor detected: KVM"));
    ck_assert(scn_has(r.out, "SEV: Status: SEV SEV-ES SEV-SNP SecureAVIC"));
    ck_assert(scn_has(r.out, "APIC: Switched APIC routing to: secure avic x2apic"));
    ck_assert(scn_has(r.out, "smp: Brought up 1 node, 4 CPUs"));
    ck_assert(scn_has(r.out, "online: 0-3"));
    ck_assert(!scn_has(r.out, "Call Trace"));
    ck_assert(scn_has(r.out, "snpref-init: done"));

    /* What the kernel counted after the workload, per CPU. */
    const char *after = "probe: ipi workload done on 4 cpus";
    static const char *const rows[] = {" LOC:", " RES:", " CAL:", " IWI:"};
    for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
        unsigned long v[8];
        ck_assert_uint_eq(irq_row(r.out, after, rows[k], v, 8), 4);
        for (unsigned c = 0; c < 4; c++)
            ck_assert_msg(v[c] > 0, "%s is 0 on CPU%u", rows[k], c);
    }

    for (int c = 0; c < 4; c++) {
        /* savic_setup(): the APIC ID through the hypervisor, the backing
         * page registered, SAVIC_CONTROL with EN; savic_update_vector() and
         * apic_setup() write ALLOWED_IRR and TPR into the page itself. */
        ck_assert_uint_eq(count_str(&r, "savic_page", c, "result", "ok"), 1);
        ck_assert_uint_ge(scn_count(&r, "savic_control", c), 1);
        ck_assert_uint_ge(scn_count_where(&r, "savic_page_write", c, "offset", 0x274), 1);
        ck_assert_uint_ge(scn_count_where(&r, "savic_page_write", c, "offset", 0x80), 1);
        /* Accelerated: every EOI (edge vectors, native_apic_msr_eoi) and the
         * SELF_IPI of irq_work, no exit; each delivery has its EOI. */
        size_t eois = accelerated(&r, c, 0x80B);
        ck_assert_uint_gt(eois, 0);
        ck_assert_uint_eq(eois, scn_count(&r, "eoi", c));
        ck_assert_uint_eq(scn_count(&r, "irq_deliver", c), scn_count(&r, "eoi", c));
        ck_assert_uint_ge(accelerated(&r, c, 0x83F), 1);
        /* IPIs to it: the sender set its IRR and the hypervisor rang its doorbell. */
        ck_assert_uint_gt(scn_count_where(&r, "avic_doorbell", -2, "apic_id", (uint64_t)c), 0);
    }
    /* Not accelerated: the ICR and the timer registers go through the GHCB
     * MSR protocol that savic_ghcb_msr_write() calls itself, so the driver
     * never takes #VC 0x401 or 0x402 (those paths are the SDK's,
     * test_secure_avic). */
    ck_assert_uint_gt(scn_count_where(&r, "msr", -2, "msr", 0x830), 50);
    ck_assert_uint_gt(scn_count_where(&r, "msr", -2, "msr", 0x838), 0); /* TMICT */
    ck_assert_uint_eq(scn_count_where(&r, "exception", -2, "error_code", 0x401), 0);
    ck_assert_uint_eq(scn_count_where(&r, "exception", -2, "error_code", 0x402), 0);
    ck_assert_uint_eq(scn_count(&r, "ap_create", -2), 3);
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
        {"sev_es_1vcpu",
         debian_kernel_boots_as_an_sev_es_guest_on_one_vcpu_with_ring_3_cpuid_through_vc},
        {"sev_es_4vcpu",
         debian_kernel_boots_as_an_sev_es_guest_on_four_vcpus_through_the_ap_jump_table},
        {"snp_1vcpu", debian_kernel_boots_as_an_snp_guest_on_one_vcpu_with_the_cc_blob_and_cpuid_page},
        {"snp_4vcpu", debian_kernel_boots_as_an_snp_guest_on_four_vcpus_through_ap_creation},
        {"snp_7_2_tsm", linux_7_2_as_an_snp_guest_gets_a_report_through_configfs_tsm_that_verifies},
        {"savic_7_2", linux_7_2_probes_the_secure_avic_driver_then_stops_at_its_missing_pat},
        {"savic_7_2_pat", linux_7_2_with_a_firmware_pat_gets_past_the_ghcbs_then_faults_in_savic_read},
        {"savic_driver", linux_7_2_runs_the_real_secure_avic_driver_with_ipis_and_timers_on_every_cpu},
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
