/* SPDX-License-Identifier: MIT */
/*
 * The SNP launch digest (docs/sev-snp-facts.md 8.2), end to end: a fixed guest image is
 * launched by `snpref run --mode snp`; the digest it prints is pinned, and the
 * trace's launch_update events let this test recompute it independently:
 * every PAGE_INFO is rebuilt here from the events (and, for the image's own
 * pages, from the ELF's bytes) and hashed with SHA-384. A 4-vCPU launch with
 * a VMSA per vCPU is recomputed from the measured pages themselves (run
 * --measured-pages), each VMSA built here, field by field, from the ABI's entry
 * state at the offsets of the APM's VMSA table.
 */
#include <check.h>
#include <elf.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "ck_run.h"
#include "snpref/abi.h"

/* Pinned: the digest of the image below under the default config with one
 * vCPU. It covers the model's loader pages too (page tables, GDT, boot info),
 * so any change to what a launch measures shows up here. */
#define PINNED_DIGEST                                                                              \
    "68df69ba6cb3057d0395bd7aafaefd043dca602f5ba96588758db5c1043eaa45decc7f2d35401b54b1ef21091fed5980"

static char dir[64], elf_path[128];
static uint8_t image[8192];

/* A one-page guest at 0x200000: terminate through the GHCB MSR protocol. */
static void write_image(void)
{
    struct {
        Elf64_Ehdr eh;
        Elf64_Phdr ph;
    } h;
    memset(&h, 0, sizeof(h));
    memset(image, 0, sizeof(image));
    memcpy(h.eh.e_ident, ELFMAG, SELFMAG);
    h.eh.e_ident[EI_CLASS] = ELFCLASS64;
    h.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    h.eh.e_ident[EI_VERSION] = EV_CURRENT;
    h.eh.e_type = ET_EXEC;
    h.eh.e_machine = EM_X86_64;
    h.eh.e_version = EV_CURRENT;
    h.eh.e_entry = 0x200000;
    h.eh.e_phoff = sizeof(Elf64_Ehdr);
    h.eh.e_ehsize = sizeof(Elf64_Ehdr);
    h.eh.e_phentsize = sizeof(Elf64_Phdr);
    h.eh.e_phnum = 1;
    h.ph.p_type = PT_LOAD;
    h.ph.p_flags = PF_R | PF_X;
    h.ph.p_offset = 4096;
    h.ph.p_vaddr = h.ph.p_paddr = 0x200000;
    h.ph.p_filesz = h.ph.p_memsz = 4096;
    memcpy(image, &h, sizeof(h));
    /* mov ecx, 0xC0010130; mov eax, 0x00421100 (terminate: set 1, code 0x42);
     * xor edx, edx; wrmsr; rep vmmcall; a recognisable pattern after it */
    static const uint8_t code[] = {0xB9, 0x30, 0x01, 0x01, 0xC0, 0xB8, 0x00, 0x11, 0x42, 0x00,
                                   0x31, 0xD2, 0x0F, 0x30, 0xF3, 0x0F, 0x01, 0xD9, 0xF4};
    memcpy(image + 4096, code, sizeof(code));
    for (int i = 64; i < 4096; i++)
        image[4096 + i] = (uint8_t)(i * 7);
    snprintf(dir, sizeof(dir), "/tmp/snpref_launchXXXXXX");
    ck_assert(mkdtemp(dir));
    snprintf(elf_path, sizeof(elf_path), "%s/fixed.elf", dir);
    FILE *f = fopen(elf_path, "wb");
    ck_assert(f && fwrite(image, 1, sizeof(image), f) == sizeof(image));
    fclose(f);
}

static void sha384(const void *p, size_t n, uint8_t out[48])
{
    unsigned len = 0;
    ck_assert(EVP_Digest(p, n, out, &len, EVP_sha384(), NULL) == 1 && len == 48);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
    ck_assert_uint_eq(strlen(s), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert(sscanf(s + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
}

static unsigned type_code(const char *t)
{
    static const char *const names[] = {"", "normal", "vmsa", "zero", "unmeasured", "secrets", "cpuid"};
    for (unsigned i = 1; i < 7; i++)
        if (!strcmp(t, names[i]))
            return i;
    ck_abort_msg("unknown page type %s", t);
    return 0;
}

START_TEST(the_launch_digest_is_pinned_and_recomputes_from_the_trace)
{
    write_image();
    struct scn_run r;
    char trace[160];
    snprintf(trace, sizeof(trace), "%s/t.jsonl", dir);
    scn_run_tool(&r, "run", elf_path, "--mode", "snp", "--vcpus", "1", "--trace", trace, NULL);
    ck_assert_msg(r.status == 80, "status %d: %s", r.status, r.err);
    ck_assert_msg(scn_has(r.err, "reason set 1, code 66"), "%s", r.err);
    const char *p = strstr(r.err, "SNP launch digest ");
    ck_assert_msg(p != NULL, "%s", r.err);
    char printed[97];
    snprintf(printed, sizeof(printed), "%.96s", p + strlen("SNP launch digest "));
    scn_free(&r);

    /* Recompute the chain from the events alone. */
    char err[256];
    struct trc_reader *rd = trc_reader_open(trace, err, sizeof(err));
    ck_assert_msg(rd, "%s", err);
    uint8_t ld[48] = {0};
    struct trc_rec rec;
    unsigned pages = 0, image_pages = 0;
    char final_hex[97] = "";
    while (trc_reader_next(rd, &rec, err, sizeof(err)) == 1) {
        if (rec.ev == TRC_EV_launch_finish) {
            snprintf(final_hex, sizeof(final_hex), "%s", rec.v[0].s);
            continue;
        }
        if (rec.ev != TRC_EV_launch_update)
            continue;
        uint64_t gpa = rec.v[0].u;
        unsigned type = type_code(rec.v[1].s);
        uint8_t page_info[0x70] = {0}, contents[48];
        unhex(rec.v[2].s, contents, 48);
        if (gpa == 0x200000) {
            /* The image's page: its contents hash comes from the ELF itself. */
            uint8_t mine[48];
            sha384(image + 4096, 4096, mine);
            ck_assert_mem_eq(contents, mine, 48);
            image_pages++;
        }
        if (type != 1 && type != 2) {
            static const uint8_t zero[48];
            ck_assert_mem_eq(contents, zero, 48);
        }
        if (type == 2)
            ck_assert_uint_eq(gpa, 0x0000FFFFFFFFF000ull);
        memcpy(page_info, ld, 48);
        memcpy(page_info + 0x30, contents, 48);
        page_info[0x60] = 0x70;
        page_info[0x62] = (uint8_t)type;
        memcpy(page_info + 0x68, &gpa, 8);
        sha384(page_info, sizeof(page_info), ld);
        uint8_t after[48];
        unhex(rec.v[3].s, after, 48);
        ck_assert_mem_eq(ld, after, 48);
        pages++;
    }
    trc_reader_close(rd);
    ck_assert_uint_eq(image_pages, 1);
    ck_assert_uint_gt(pages, 8);
    char mine[97];
    hex(ld, 48, mine);
    ck_assert_str_eq(mine, final_hex);
    ck_assert_str_eq(mine, printed);
    ck_assert_str_eq(printed, PINNED_DIGEST);
    unlink(trace);
    unlink(elf_path);
    rmdir(dir);
}
END_TEST

/* ---- A 4-vCPU launch, one VMSA per vCPU, from the pages' contents ----------------------- */

static void put8(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

/* A VMSA segment record (APM vol. 2 table B-4 "VMSA layout", the save-state
 * segment format of table B-2): selector, attributes, limit, base. */
static void seg(uint8_t *a, size_t off, uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
    memcpy(a + off, &sel, 2);
    memcpy(a + off + 2, &attr, 2);
    memcpy(a + off + 4, &limit, 4);
    memcpy(a + off + 8, &base, 8);
}

/* vCPU k's launch VMSA as docs/guest-abi.md "Entry state" describes it,
 * written without the model's struct: offsets from APM vol. 2 table B-4 (and
 * Linux's struct sev_es_save_area, arch/x86/include/asm/svm.h). */
static void expected_vmsa(uint8_t page[4096], unsigned k, const struct snp_bootinfo *bi,
                          uint64_t bootinfo_gpa, uint64_t gdt, uint64_t entry)
{
    memset(page, 0, 4096);
    const uint16_t code = 0xA9B, data = 0xC93; /* G L P S type B / G D P S type 3 */
    seg(page, 0x000, 0x10, data, 0xFFFFFFFF, 0);  /* ES */
    seg(page, 0x010, 0x08, code, 0xFFFFFFFF, 0);  /* CS */
    seg(page, 0x020, 0x10, data, 0xFFFFFFFF, 0);  /* SS */
    seg(page, 0x030, 0x10, data, 0xFFFFFFFF, 0);  /* DS */
    seg(page, 0x040, 0x10, data, 0xFFFFFFFF, 0);  /* FS */
    seg(page, 0x050, 0x10, data, 0xFFFFFFFF, 0);  /* GS */
    seg(page, 0x060, 0, 0, 5 * 8 - 1, gdt);        /* GDTR: the loader's five descriptors */
    seg(page, 0x070, 0, 0x82, 0xFFFF, 0);          /* LDTR: present, LDT type */
    seg(page, 0x090, 0, 0x8B, 0xFFFF, 0);          /* TR: present, busy 64-bit TSS type */
    put8(page, 0x0D0, 0xD01 | 0x1000);             /* EFER: SCE LME LMA NXE, and SVME */
    put8(page, 0x148, 0x6A0);                      /* CR4 */
    put8(page, 0x150, bi->page_table_root);        /* CR3 */
    put8(page, 0x158, 0x80010033);                 /* CR0 */
    put8(page, 0x160, 0x400);                      /* DR7 reset value */
    put8(page, 0x168, 0xFFFF0FF0);                 /* DR6 reset value */
    put8(page, 0x170, 0x2);                        /* RFLAGS */
    put8(page, 0x178, entry);                      /* RIP */
    put8(page, 0x1D8, bi->stack_top_base - k * bi->stack_size); /* RSP */
    put8(page, 0x268, 0x0007040600070406ull);      /* G_PAT: the PAT's reset value */
    put8(page, 0x330, k);                          /* RSI: the vCPU's index */
    put8(page, 0x338, bootinfo_gpa);               /* RDI: the boot info */
    put8(page, 0x3B0, bi->sev_status >> 2);        /* SEV_FEATURES = SEV_STATUS[63:2] */
    put8(page, 0x3B8, (1ull << 9) | (1ull << 26)); /* VINTR_CTRL: V_GIF, V_NMI_ENABLE */
    put8(page, 0x3E8, 1);                          /* XCR0: x87 */
    uint32_t mxcsr = 0x1F80;
    uint16_t fcw = 0x37F;
    memcpy(page + 0x408, &mxcsr, 4);
    memcpy(page + 0x410, &fcw, 2);
}

static const char *write_config(const char *name, const char *json)
{
    static char path[192];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert(f && fputs(json, f) >= 0);
    fclose(f);
    return path;
}

START_TEST(a_four_vcpu_launch_with_a_vmsa_per_vcpu_recomputes_from_the_measured_pages)
{
    write_image();
    char trace[160], pages_path[160];
    snprintf(trace, sizeof(trace), "%s/t4.jsonl", dir);
    snprintf(pages_path, sizeof(pages_path), "%s/pages.bin", dir);
    const char *cfg = write_config("all.json", "{\"sev\":{\"launch_vmsas\":\"all\"}}\n");
    struct scn_run r;
    scn_run_tool(&r, "run", elf_path, "--mode", "snp", "--vcpus", "4", "--config", cfg, "--trace",
                 trace, "--measured-pages", pages_path, NULL);
    ck_assert_msg(r.status == 80, "status %d: %s", r.status, r.err);
    const char *p = strstr(r.err, "SNP launch digest ");
    ck_assert_msg(p != NULL, "%s", r.err);
    char printed[97];
    snprintf(printed, sizeof(printed), "%.96s", p + strlen("SNP launch digest "));
    scn_free(&r);

    FILE *pf = fopen(pages_path, "rb");
    ck_assert_msg(pf, "%s was not written", pages_path);
    fseek(pf, 0, SEEK_END);
    long size = ftell(pf);
    rewind(pf);
    ck_assert(size > 0 && size % 4096 == 0);
    size_t npages = (size_t)size / 4096;
    uint8_t *pages = malloc((size_t)size);
    ck_assert(pages && fread(pages, 1, (size_t)size, pf) == (size_t)size);
    fclose(pf);

    /* The events in order: each page's GPA and type. */
    char err[256];
    struct trc_reader *rd = trc_reader_open(trace, err, sizeof(err));
    ck_assert_msg(rd, "%s", err);
    uint64_t *gpas = calloc(npages, sizeof(*gpas));
    unsigned *types = calloc(npages, sizeof(*types));
    size_t n = 0;
    char final_hex[97] = "";
    struct trc_rec rec;
    while (trc_reader_next(rd, &rec, err, sizeof(err)) == 1) {
        if (rec.ev == TRC_EV_launch_finish)
            snprintf(final_hex, sizeof(final_hex), "%s", rec.v[0].s);
        if (rec.ev != TRC_EV_launch_update)
            continue;
        ck_assert_uint_lt(n, npages);
        gpas[n] = rec.v[0].u;
        types[n++] = type_code(rec.v[1].s);
    }
    trc_reader_close(rd);
    ck_assert_uint_eq(n, npages);

    /* What the VMSAs hold comes from the measured boot info and GDT pages. */
    const struct snp_bootinfo *bi = NULL;
    uint64_t bi_gpa = 0, gdt = 0;
    static const uint64_t code64 = 0x00AF9A000000FFFFull; /* the GDT's 0x08 descriptor */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *pg = pages + i * 4096;
        uint32_t magic;
        uint64_t d0, d1;
        memcpy(&magic, pg, 4);
        memcpy(&d0, pg, 8);
        memcpy(&d1, pg + 8, 8);
        if (types[i] == 1 && magic == SNP_BOOTINFO_MAGIC)
            bi = (const struct snp_bootinfo *)pg, bi_gpa = gpas[i];
        if (types[i] == 1 && d0 == 0 && d1 == code64)
            gdt = gpas[i];
    }
    ck_assert_msg(bi && gdt, "no boot info or GDT page among the measured ones");
    ck_assert_uint_eq(bi->vcpu_count, 4);

    uint8_t ld[48] = {0};
    unsigned vmsas = 0, image_pages = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *pg = pages + i * 4096;
        uint8_t contents[48] = {0};
        if (types[i] == 1) {
            sha384(pg, 4096, contents);
            if (gpas[i] == 0x200000) {
                ck_assert_mem_eq(pg, image + 4096, 4096);
                image_pages++;
            }
        } else if (types[i] == 2) {
            /* The VMSAs come last, one per vCPU in order, all at the one GPA. */
            uint8_t want[4096];
            expected_vmsa(want, vmsas, bi, bi_gpa, gdt, 0x200000);
            for (size_t b = 0; b < 4096; b++)
                ck_assert_msg(pg[b] == want[b], "VMSA of vCPU %u: byte 0x%zx is 0x%02x, want 0x%02x",
                              vmsas, b, pg[b], want[b]);
            sha384(want, 4096, contents);
            ck_assert_uint_eq(gpas[i], 0x0000FFFFFFFFF000ull);
            ck_assert_uint_eq(i, n - 4 + vmsas);
            vmsas++;
        }
        uint8_t page_info[0x70] = {0};
        memcpy(page_info, ld, 48);
        memcpy(page_info + 0x30, contents, 48);
        page_info[0x60] = 0x70;
        page_info[0x62] = (uint8_t)types[i];
        memcpy(page_info + 0x68, &gpas[i], 8);
        sha384(page_info, sizeof(page_info), ld);
    }
    ck_assert_uint_eq(vmsas, 4);
    ck_assert_uint_eq(image_pages, 1);
    char mine[97];
    hex(ld, 48, mine);
    ck_assert_str_eq(mine, final_hex);
    ck_assert_str_eq(mine, printed);
    /* Not the 1-vCPU digest: the APs' VMSAs and stacks are in it. */
    ck_assert_str_ne(mine, PINNED_DIGEST);
    free(pages);
    free(gpas);
    free(types);
    unlink(trace);
    unlink(pages_path);
    unlink(cfg);
    unlink(elf_path);
    rmdir(dir);
}
END_TEST

/* The APs' launch VMSAs run at their first SIPI; without them the SIPI cannot. */
START_TEST(snp_aps_start_at_a_sipi_only_when_the_launch_gave_them_a_vmsa)
{
    write_image();
    const char *all = write_config("all.json", "{\"sev\":{\"launch_vmsas\":\"all\"}}\n");
    for (int with = 0; with < 2; with++) {
        struct scn_run r;
        scn_run_guest(&r, "snp_launch_vmsa", "--mode", "snp", "--vcpus", "4", with ? "--config" : NULL,
                      all, NULL);
        ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
        ck_assert(scn_has(r.out, with ? "3 of 3 APs had a launch VMSA" : "0 of 3 APs had a launch VMSA"));
        ck_assert_uint_eq(scn_count_where(&r, "launch_update", -1, "gpa", 0x0000FFFFFFFFF000ull),
                          with ? 4 : 1);
        for (int cpu = 1; cpu < 4; cpu++) {
            ck_assert_uint_eq(scn_count(&r, "vmrun_fail", cpu), with ? 0 : 1);
            ck_assert_uint_eq(scn_count(&r, "vmentry", cpu) > 0, with);
        }
        scn_free(&r);
    }
    unlink(all);
    unlink(elf_path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("snp launch");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, the_launch_digest_is_pinned_and_recomputes_from_the_trace);
    tcase_add_test(tc, a_four_vcpu_launch_with_a_vmsa_per_vcpu_recomputes_from_the_measured_pages);
    tcase_add_test(tc, snp_aps_start_at_a_sipi_only_when_the_launch_gave_them_a_vmsa);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
