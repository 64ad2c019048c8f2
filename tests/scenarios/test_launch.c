/* SPDX-License-Identifier: MIT */
/*
 * The SNP launch digest (docs/sev-snp-facts.md 8.2), end to end: a fixed guest image is
 * launched by `snpref run --mode snp`; the digest it prints is pinned, and the
 * trace's launch_update events let this test recompute it independently:
 * every PAGE_INFO is rebuilt here from the events (and, for the image's own
 * pages, from the ELF's bytes) and hashed with SHA-384.
 */
#include <check.h>
#include <elf.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"

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

int main(void)
{
    Suite *s = suite_create("snp launch");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, the_launch_digest_is_pinned_and_recomputes_from_the_trace);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
