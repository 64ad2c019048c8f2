/* SPDX-License-Identifier: MIT */
/*
 * SNP memory: PVALIDATE and RMPADJUST, page-state changes (the GHCB MSR
 * protocol for one page, the PSC NAE for more), accepting pages and giving
 * them back, and pages shared with the hypervisor (sev.h; docs/sev-snp-facts.md 4.2,
 * 4.3, 6.3; Linux arch/x86/coco/sev/core.c set_pages_state / pvalidate_pages).
 *
 * Accepting [gpa, +n): page-state change to private first (2 MiB entries for
 * each aligned 2 MiB inside the range), then PVALIDATE (2 MiB where the entry
 * was 2 MiB; FAIL_SIZEMISMATCH means the hypervisor backed it with 4 KiB
 * entries, so the SDK validates the 512 pages one by one, as Linux does).
 * Giving back: PVALIDATE rescind, then page-state change to shared. A
 * PVALIDATE that reports "no change" (CF = 1) is an error here, as in Linux
 * (PVALIDATE_FAIL_NOUPDATE): the SDK's own bookkeeping was wrong.
 */
#include <sdk/sdk.h>

#define SZ_2M (2ull << 20)
#define PAGES_2M 512u

int sdk_pvalidate(uintptr_t va, unsigned size, bool validate, bool *unchanged)
{
    uint32_t rc;
    uint8_t cf;
    __asm__ volatile(".byte 0xf2, 0x0f, 0x01, 0xff\n\t"
                     "setc %1"
                     : "=a"(rc), "=qm"(cf)
                     : "a"((uint64_t)va), "c"(size), "d"(validate ? 1u : 0u)
                     : "memory", "cc");
    if (unchanged)
        *unchanged = cf;
    return (int)rc;
}

int sdk_rmpadjust(uintptr_t va, unsigned size, uint64_t attrs)
{
    uint32_t rc;
    __asm__ volatile(".byte 0xf3, 0x0f, 0x01, 0xfe"
                     : "=a"(rc)
                     : "a"((uint64_t)va), "c"((uint64_t)size), "d"(attrs)
                     : "memory", "cc");
    return (int)rc;
}

uint64_t sdk_psc_nae(const uint64_t *entries, unsigned n)
{
    if (n == 0)
        return 0;
    if (n > VMGEXIT_PSC_MAX_COUNT)
        return ~0ull;

    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    struct psc_hdr *h = (struct psc_hdr *)(void *)g->shared_buffer;
    uint64_t *e = (uint64_t *)(void *)(g->shared_buffer + sizeof(*h));
    uint64_t scratch = (uint64_t)(uintptr_t)g->shared_buffer;
    uint64_t result = 0;
    unsigned stalls = 0;

    h->cur_entry = 0;
    h->end_entry = (uint16_t)(n - 1);
    h->reserved = 0;
    for (unsigned i = 0; i < n; i++)
        e[i] = entries[i];
    /* The hypervisor may stop early; it advances cur_entry past what it did. */
    while (h->cur_entry <= h->end_entry) {
        uint16_t cur = h->cur_entry;
        ghcb_invalidate(g);
        GHCB_SET(g, sw_scratch, scratch);
        if (sdk_ghcb_call(g, SVM_VMGEXIT_PSC, 0, 0) != 0) {
            result = ~0ull;
            break;
        }
        if (g->save.sw_exit_info_2) {
            result = g->save.sw_exit_info_2;
            break;
        }
        if (h->reserved || h->end_entry != n - 1 || h->cur_entry < cur ||
            (h->cur_entry == cur && ++stalls > 4)) {
            result = ~0ull;    /* going backwards or not at all */
            break;
        }
    }
    sdk_ghcb_put(&st);
    return result;
}

/* Page-state change of a range: MSR protocol for one page, else NAE batches. */
static int psc_range(uint64_t gpa, size_t npages, unsigned op)
{
    uint64_t end = gpa + npages * SDK_PAGE_SIZE;

    if (npages == 1) {
        uint64_t err = sdk_msr_psc(gpa, op);
        if (err) {
            printf("FAIL: page-state change (MSR protocol) of 0x%lx to %s: error 0x%lx\n", gpa,
                   op == PSC_OP_PRIVATE ? "private" : "shared", err);
            return SDK_TERM_PSC;
        }
        return 0;
    }
    uint64_t batch[VMGEXIT_PSC_MAX_COUNT];
    unsigned n = 0;
    for (uint64_t a = gpa; a < end;) {
        bool big = !(a & (SZ_2M - 1)) && a + SZ_2M <= end;
        batch[n++] = PSC_ENTRY(a >> 12, op, big ? 1 : 0);
        a += big ? SZ_2M : SDK_PAGE_SIZE;
        if (n == VMGEXIT_PSC_MAX_COUNT || a >= end) {
            uint64_t err = sdk_psc_nae(batch, n);
            if (err) {
                printf("FAIL: page-state change (NAE) of [0x%lx, 0x%lx) to %s: error 0x%lx\n", gpa,
                       end, op == PSC_OP_PRIVATE ? "private" : "shared", err);
                return SDK_TERM_PSC;
            }
            n = 0;
        }
    }
    return 0;
}

static int pvalidate_one(uint64_t a, unsigned size, bool validate)
{
    bool unchanged;
    int rc = sdk_pvalidate((uintptr_t)a, size, validate, &unchanged);
    if (rc == SDK_RMP_FAIL_SIZEMISMATCH && size == SDK_RMP_PAGE_2M) {
        for (unsigned i = 0; i < PAGES_2M; i++)
            if ((rc = pvalidate_one(a + i * SDK_PAGE_SIZE, SDK_RMP_PAGE_4K, validate)))
                return rc;
        return 0;
    }
    if (rc || unchanged) {
        printf("FAIL: PVALIDATE 0x%lx %s %s: EAX %d CF %u\n", a, size ? "2M" : "4K",
               validate ? "validate" : "rescind", rc, unchanged);
        return SDK_TERM_PVALIDATE;
    }
    return 0;
}

static int pvalidate_range(uint64_t gpa, size_t npages, bool validate)
{
    uint64_t end = gpa + npages * SDK_PAGE_SIZE;
    for (uint64_t a = gpa; a < end;) {
        bool big = npages > 1 && !(a & (SZ_2M - 1)) && a + SZ_2M <= end;
        int rc = pvalidate_one(a, big ? SDK_RMP_PAGE_2M : SDK_RMP_PAGE_4K, validate);
        if (rc)
            return rc;
        a += big ? SZ_2M : SDK_PAGE_SIZE;
    }
    return 0;
}

int sdk_snp_accept(uint64_t gpa, size_t npages)
{
    if (!npages)
        return 0;
    int rc = psc_range(gpa, npages, PSC_OP_PRIVATE);
    return rc ? rc : pvalidate_range(gpa, npages, true);
}

int sdk_snp_unaccept(uint64_t gpa, size_t npages)
{
    if (!npages)
        return 0;
    int rc = pvalidate_range(gpa, npages, false);
    return rc ? rc : psc_range(gpa, npages, PSC_OP_SHARED);
}

/* ---- Shared pages ------------------------------------------------------------------------ */

void sdk_make_shared(void *va, size_t npages)
{
    uint64_t a = (uint64_t)(uintptr_t)va;
    if (sdk_snp_active()) {
        int rc = sdk_snp_unaccept(a, npages);
        if (rc)
            sdk_sev_terminate(SEV_TERM_SET_LINUX, (unsigned)rc);
    }
    if (sdk_sev_es_active()) {
        sdk_set_cbit((uintptr_t)va, npages, false);
        memset(va, 0, npages * SDK_PAGE_SIZE);
    }
}

void sdk_make_private(void *va, size_t npages)
{
    uint64_t a = (uint64_t)(uintptr_t)va;
    if (!sdk_sev_es_active())
        return;
    sdk_set_cbit((uintptr_t)va, npages, true);
    if (sdk_snp_active()) {
        int rc = sdk_snp_accept(a, npages);
        if (rc)
            sdk_sev_terminate(SEV_TERM_SET_LINUX, (unsigned)rc);
    }
    memset(va, 0, npages * SDK_PAGE_SIZE);
}

void *sdk_alloc_shared_pages(size_t npages)
{
    void *p;
    if (sdk_snp_active())
        p = sdk_alloc_pages_unaccepted(npages);
    else
        p = sdk_alloc_pages(npages);
    if (sdk_sev_es_active())
        sdk_set_cbit((uintptr_t)p, npages, false);
    memset(p, 0, npages * SDK_PAGE_SIZE);
    return p;
}
