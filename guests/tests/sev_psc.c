/* SPDX-License-Identifier: MIT */
/*
 * SNP page-state changes and PVALIDATE (docs/sev-snp-facts.md 4.2, 4.3, 6.3), on pages
 * from the top of free RAM that the launch left hypervisor-owned:
 *  1. MSR protocol: one page to private; PVALIDATE validate (EAX 0, CF 0),
 *     again (EAX 0, CF 1: no change), use it, rescind (CF 0), again (CF 1),
 *     back to shared;
 *  2. #VC 0x404: a page made private but not validated faults on a private
 *     read (caught by ASM_TRY: vector 29, error code 0x404); validated it
 *     reads; rescinded it faults again;
 *  3. the PSC NAE with four 4 KiB entries, both ways;
 *  4. a 2 MiB region made private with 512 4 KiB entries (three NAE calls):
 *     PVALIDATE 2M answers FAIL_SIZEMISMATCH, 512 PVALIDATE 4K do it, then
 *     all of it back to shared;
 *  5. the same region by one 2 MiB entry: PVALIDATE 2M (or, if the
 *     hypervisor backed it with 4 KiB entries, FAIL_SIZEMISMATCH and 4K);
 *     rescinding one 4 KiB page inside the 2 MiB entry works (the hypervisor
 *     PSMASHes on the #NPF SIZEM) and leaves its neighbours validated;
 *  6. FAIL_INPUT: size 2, and a 2M PVALIDATE of an address not 2 MiB-aligned;
 *  7. sdk_make_shared / sdk_make_private of an allocated page round-trip;
 *  8. the SDK's allocator, crossing a 2 MiB boundary, accepts the next 2 MiB
 *     as one 2 MiB entry: PVALIDATE 2M there reports "already validated".
 */
#include <sdk/sdk.h>

#define SZ_2M (2ull << 20)

static void pv(uint64_t va, unsigned size, bool validate, int want_rc, bool want_cf)
{
    bool cf = !want_cf;
    int rc = sdk_pvalidate((uintptr_t)va, size, validate, &cf);
    if (rc != want_rc || cf != want_cf)
        sdk_fail(SDK_EXIT_ASSERT, "PVALIDATE 0x%lx %s %s: EAX %d CF %u, want EAX %d CF %u", va,
                 size ? "2M" : "4K", validate ? "validate" : "rescind", rc, cf, want_rc, want_cf);
}

static int try_read(uint64_t va, uint64_t *v)
{
    return sdk_try_read64((const volatile void *)(uintptr_t)va, v);
}

static void test_msr_psc(uint64_t a)
{
    GUEST_ASSERT_EQ(sdk_msr_psc(a, GHCB_MSR_PSC_OP_PRIVATE), 0);
    pv(a, SDK_RMP_PAGE_4K, true, 0, false);
    pv(a, SDK_RMP_PAGE_4K, true, 0, true);
    *(volatile uint64_t *)(uintptr_t)a = 0x5EC0DE;
    GUEST_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)a, 0x5EC0DE);
    pv(a, SDK_RMP_PAGE_4K, false, 0, false);
    pv(a, SDK_RMP_PAGE_4K, false, 0, true);
    GUEST_ASSERT_EQ(sdk_msr_psc(a, GHCB_MSR_PSC_OP_SHARED), 0);
    printf("sev_psc: 1. MSR PSC private, PVALIDATE 0/CF0, again 0/CF1, rescind 0/CF0, "
           "again 0/CF1, PSC shared\n");
}

static void test_not_validated(uint64_t a)
{
    uint64_t v;
    GUEST_ASSERT_EQ(sdk_msr_psc(a, GHCB_MSR_PSC_OP_PRIVATE), 0);
    uint32_t before = sdk_vc_count(SVM_EXIT_PAGE_NOT_VALIDATED);
    GUEST_ASSERT_EQ(try_read(a, &v), X86_VC);
    GUEST_ASSERT_EQ(sdk_ex_error_code(), SVM_EXIT_PAGE_NOT_VALIDATED);
    GUEST_ASSERT_EQ(sdk_vc_count(SVM_EXIT_PAGE_NOT_VALIDATED), before + 1);
    pv(a, SDK_RMP_PAGE_4K, true, 0, false);
    GUEST_ASSERT_EQ(try_read(a, &v), -1);
    pv(a, SDK_RMP_PAGE_4K, false, 0, false);
    GUEST_ASSERT_EQ(try_read(a, &v), X86_VC);
    GUEST_ASSERT_EQ(sdk_ex_error_code(), SVM_EXIT_PAGE_NOT_VALIDATED);
    GUEST_ASSERT_EQ(sdk_msr_psc(a, GHCB_MSR_PSC_OP_SHARED), 0);
    printf("sev_psc: 2. private but not validated: #VC 0x404 (caught); validated: reads; "
           "rescinded: #VC 0x404\n");
}

static void test_nae_4k(uint64_t a)
{
    uint64_t e[4];
    for (unsigned i = 0; i < 4; i++)
        e[i] = PSC_ENTRY((a >> 12) + i, PSC_OP_PRIVATE, 0);
    GUEST_ASSERT_EQ(sdk_psc_nae(e, 4), 0);
    for (unsigned i = 0; i < 4; i++) {
        pv(a + i * 4096, SDK_RMP_PAGE_4K, true, 0, false);
        *(volatile uint64_t *)(uintptr_t)(a + i * 4096) = i;
    }
    for (unsigned i = 0; i < 4; i++) {
        GUEST_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)(a + i * 4096), i);
        pv(a + i * 4096, SDK_RMP_PAGE_4K, false, 0, false);
        e[i] = PSC_ENTRY((a >> 12) + i, PSC_OP_SHARED, 0);
    }
    GUEST_ASSERT_EQ(sdk_psc_nae(e, 4), 0);
    printf("sev_psc: 3. PSC NAE, 4 entries of 4 KiB: private, validated, used, shared\n");
}

static void psc_4k_range(uint64_t a, unsigned pages, unsigned op)
{
    static uint64_t e[VMGEXIT_PSC_MAX_COUNT];
    for (unsigned done = 0; done < pages;) {
        unsigned n = pages - done < VMGEXIT_PSC_MAX_COUNT ? pages - done : VMGEXIT_PSC_MAX_COUNT;
        for (unsigned i = 0; i < n; i++)
            e[i] = PSC_ENTRY((a >> 12) + done + i, op, 0);
        GUEST_ASSERT_EQ(sdk_psc_nae(e, n), 0);
        done += n;
    }
}

static void test_2m(uint64_t r)
{
    /* 4 KiB entries under a 2 MiB PVALIDATE: size mismatch. */
    psc_4k_range(r, 512, PSC_OP_PRIVATE);
    pv(r, SDK_RMP_PAGE_2M, true, SDK_RMP_FAIL_SIZEMISMATCH, false);
    for (unsigned i = 0; i < 512; i++)
        pv(r + i * 4096ull, SDK_RMP_PAGE_4K, true, 0, false);
    *(volatile uint64_t *)(uintptr_t)(r + SZ_2M - 8) = 42;
    for (unsigned i = 0; i < 512; i++)
        pv(r + i * 4096ull, SDK_RMP_PAGE_4K, false, 0, false);
    psc_4k_range(r, 512, PSC_OP_SHARED);
    printf("sev_psc: 4. 2 MiB as 512 x 4 KiB entries: PVALIDATE 2M -> FAIL_SIZEMISMATCH (6), "
           "512 x 4K validate and rescind\n");

    /* One 2 MiB entry. */
    uint64_t e = PSC_ENTRY(r >> 12, PSC_OP_PRIVATE, 1);
    GUEST_ASSERT_EQ(sdk_psc_nae(&e, 1), 0);
    bool cf;
    int rc = sdk_pvalidate((uintptr_t)r, SDK_RMP_PAGE_2M, true, &cf);
    GUEST_ASSERT(rc == 0 || rc == SDK_RMP_FAIL_SIZEMISMATCH);
    if (rc == SDK_RMP_FAIL_SIZEMISMATCH) {
        printf("sev_psc: 5. a 2 MiB PSC entry got 4 KiB RMP entries: PVALIDATE 4K x512\n");
        for (unsigned i = 0; i < 512; i++)
            pv(r + i * 4096ull, SDK_RMP_PAGE_4K, true, 0, false);
    } else {
        GUEST_ASSERT(!cf);
        pv(r, SDK_RMP_PAGE_2M, true, 0, true);
        printf("sev_psc: 5. a 2 MiB PSC entry: PVALIDATE 2M 0/CF0, again 0/CF1\n");
    }
    uint64_t mid = r + 17 * 4096ull, v;
    *(volatile uint64_t *)(uintptr_t)(mid + 4096) = 7;
    pv(mid, SDK_RMP_PAGE_4K, false, 0, false);          /* inside a 2 MiB entry: PSMASH */
    pv(mid, SDK_RMP_PAGE_4K, false, 0, true);
    GUEST_ASSERT_EQ(try_read(mid, &v), X86_VC);
    GUEST_ASSERT_EQ(sdk_ex_error_code(), SVM_EXIT_PAGE_NOT_VALIDATED);
    GUEST_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)(mid + 4096), 7);
    printf("sev_psc: 5. rescinding one 4 KiB page inside it: 0/CF0, again 0/CF1; it faults "
           "0x404, its neighbour still reads\n");
    for (unsigned i = 0; i < 512; i++) {
        uint64_t a = r + i * 4096ull;
        if (a != mid)
            pv(a, SDK_RMP_PAGE_4K, false, 0, false);
    }
    e = PSC_ENTRY(r >> 12, PSC_OP_SHARED, 1);
    GUEST_ASSERT_EQ(sdk_psc_nae(&e, 1), 0);
}

static void test_fail_input(uint64_t r)
{
    uint64_t e = PSC_ENTRY(r >> 12, PSC_OP_PRIVATE, 0);
    GUEST_ASSERT_EQ(sdk_psc_nae(&e, 1), 0);
    pv(r, 2, true, SDK_RMP_FAIL_INPUT, false);
    pv(r + 4096, SDK_RMP_PAGE_2M, true, SDK_RMP_FAIL_INPUT, false);
    e = PSC_ENTRY(r >> 12, PSC_OP_SHARED, 0);
    GUEST_ASSERT_EQ(sdk_psc_nae(&e, 1), 0);
    printf("sev_psc: 6. PVALIDATE size 2 and 2M at a 4 KiB-aligned address: FAIL_INPUT (1)\n");
}

static void test_sdk_round_trip(void)
{
    volatile uint64_t *p = sdk_alloc_pages(2);
    p[0] = 1;
    p[512] = 2;
    sdk_make_shared((void *)p, 2);
    uint64_t gpa;
    bool enc = true;
    GUEST_ASSERT(sdk_virt_to_phys((uintptr_t)p, &gpa, &enc) && !enc);
    p[0] = 3;                                     /* a shared access to a shared page */
    GUEST_ASSERT_EQ(p[0], 3);
    sdk_make_private((void *)p, 2);
    GUEST_ASSERT(sdk_virt_to_phys((uintptr_t)p, &gpa, &enc) && enc);
    GUEST_ASSERT_EQ(p[0], 0);                     /* zeroed by sdk_make_private */
    p[512] = 4;
    GUEST_ASSERT_EQ(p[512], 4);
    printf("sev_psc: 7. sdk_make_shared / sdk_make_private of 2 allocated pages\n");
}

static void test_allocator(void)
{
    uint64_t p = (uint64_t)(uintptr_t)sdk_alloc_pages(1);
    uint64_t next = (p + SZ_2M) & ~(SZ_2M - 1);
    sdk_alloc_pages((next - p) / 4096);              /* ends at next: [next, next + 2M) accepted */
    pv(next, SDK_RMP_PAGE_2M, true, 0, true);
    *(volatile uint64_t *)(uintptr_t)(next + SZ_2M - 8) = 99;
    GUEST_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)(next + SZ_2M - 8), 99);
    printf("sev_psc: 8. the allocator accepted [0x%lx, +2 MiB) ahead of itself as one 2 MiB "
           "entry: PVALIDATE 2M 0/CF1\n", next);
}

int main(void)
{
    printf("sev_psc: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_snp_active());
    /* 4 MiB from the top of free RAM hold an aligned 2 MiB; the pages below it serve 1-3, 6. */
    uint64_t top = (uint64_t)(uintptr_t)sdk_alloc_pages_unaccepted(1024);
    uint64_t r = (top + SZ_2M - 1) & ~(SZ_2M - 1);
    uint64_t small = r - 16 * 4096ull;
    GUEST_ASSERT(small >= top);
    printf("sev_psc: pages at 0x%lx, 2 MiB region at 0x%lx\n", small, r);

    test_msr_psc(small);
    test_not_validated(small + 4096);
    test_nae_4k(small + 2 * 4096);
    test_2m(r);
    test_fail_input(small + 8 * 4096);
    test_sdk_round_trip();
    test_allocator();
    printf("sev_psc: PASS\n");
    return 0;
}
