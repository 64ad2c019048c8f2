/* SPDX-License-Identifier: MIT */
/*
 * Malformed GHCB requests and the hypervisor's answers (docs/sev-snp-facts.md 4.1, 5.3):
 * SW_EXITINFO1 = 2 with the reason in SW_EXITINFO2, the guest resumes.
 *  - a required valid bit missing (MSR without RCX, CPUID without RAX,
 *    SW_EXITINFO2 itself, a string IOIO without SW_SCRATCH): 4 MISSING_INPUT;
 *  - a bad scratch area: inside the GHCB but not in the shared buffer, in the
 *    shared buffer but running past its end, outside the GHCB but longer than
 *    16 pages (MMIO_READ, and a REP INSB of 64 KiB + 1): 3 INVALID_SCRATCH_AREA;
 *  - an unknown exit code: 6 INVALID_EVENT;
 *  - ghcb_usage != 0: 2 INVALID_USAGE.
 * After each, an ordinary request (CPUID) still works. The requests are built
 * by hand in the vCPU's own GHCB (sdk_ghcb_get keeps the #VC handler out).
 * A well-formed MMIO_READ into a shared page outside the GHCB comes first, as
 * the control: it succeeds and the data is there.
 */
#include <sdk/sdk.h>

#define SHARED_OFF __builtin_offsetof(struct ghcb, shared_buffer)

struct answer {
    uint64_t info1, info2;
};

enum kind { MSR_NO_RCX, CPUID_NO_RAX, NO_INFO2, IOIO_NO_SCRATCH, SCRATCH_IN_SAVE_AREA,
            SCRATCH_PAST_END, SCRATCH_TOO_BIG, IOIO_TOO_BIG, UNKNOWN_EVENT, BAD_USAGE };

static struct answer request(enum kind k, uint64_t arg)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    uint64_t gpa = sdk_ghcb_gpa();
    uint64_t code = 0, i1 = 0, i2 = 0;
    /* IOIO "rep insb" from COM1 LSR, 8 bytes: IN | STR | REP | SZ8 | A64, port in [31:16]. */
    uint64_t ins = SVM_IOIO_TYPE_IN | SVM_IOIO_STR | SVM_IOIO_REP | SVM_IOIO_SZ8 | SVM_IOIO_A64 |
                   (uint64_t)SNP_PORT_COM1_LSR << 16;

    switch (k) {
    case MSR_NO_RCX:
        g->save.rcx = APIC_TPR;                 /* value there, valid bit not */
        code = SVM_EXIT_MSR;
        break;
    case CPUID_NO_RAX:
        GHCB_SET(g, rcx, 0);
        code = SVM_EXIT_CPUID;
        break;
    case NO_INFO2:
        GHCB_SET(g, rax, 0);
        GHCB_SET(g, rcx, 0);
        code = SVM_EXIT_CPUID;
        break;
    case IOIO_NO_SCRATCH:
        code = SVM_EXIT_IOIO, i1 = ins, i2 = 8;
        break;
    case SCRATCH_IN_SAVE_AREA:
        GHCB_SET(g, sw_scratch, gpa + 0x100);
        code = SVM_EXIT_IOIO, i1 = ins, i2 = 8;
        break;
    case SCRATCH_PAST_END:
        GHCB_SET(g, sw_scratch, gpa + SHARED_OFF + GHCB_SHARED_BUF_SIZE - 4);
        code = SVM_VMGEXIT_MMIO_READ, i1 = SNP_MMIODEV_BASE, i2 = 8;
        break;
    case SCRATCH_TOO_BIG:
        GHCB_SET(g, sw_scratch, arg);
        code = SVM_VMGEXIT_MMIO_READ, i1 = SNP_MMIODEV_BASE, i2 = GHCB_SCRATCH_AREA_LIMIT + 4096;
        break;
    case IOIO_TOO_BIG:
        GHCB_SET(g, sw_scratch, arg);
        code = SVM_EXIT_IOIO, i1 = ins, i2 = GHCB_SCRATCH_AREA_LIMIT + 1;
        break;
    case UNKNOWN_EVENT:
        code = 0x12345678;
        break;
    case BAD_USAGE:
        GHCB_SET(g, rax, 0);
        GHCB_SET(g, rcx, 0);
        code = SVM_EXIT_CPUID;
        break;
    }
    g->protocol_version = (uint16_t)sdk_ghcb_version();
    g->ghcb_usage = k == BAD_USAGE ? 1 : GHCB_DEFAULT_USAGE;
    GHCB_SET(g, sw_exit_code, code);
    GHCB_SET(g, sw_exit_info_1, i1);
    GHCB_SET(g, sw_exit_info_2, i2);
    if (k == NO_INFO2)
        ghcb_clear_valid(g, GHCB_BIT(sw_exit_info_2));
    sdk_ghcb_vmgexit_raw(g);
    struct answer a = { g->save.sw_exit_info_1, g->save.sw_exit_info_2 };
    g->ghcb_usage = GHCB_DEFAULT_USAGE;
    sdk_ghcb_put(&st);
    return a;
}

static unsigned wrong;

/* Every case runs and prints; a wrong answer fails the guest at the end. */
static void expect(const char *what, enum kind k, uint64_t arg, uint64_t reason)
{
    struct answer a = request(k, arg);
    bool ok = (uint32_t)a.info1 == GHCB_HV_RESP_MALFORMED_INPUT && a.info2 == reason;
    printf("sev_ghcb_errors: %-44s SW_EXITINFO1 0x%lx SW_EXITINFO2 0x%lx%s\n", what, a.info1,
           a.info2, ok ? "" : " WRONG");
    if (!ok) {
        printf("  want SW_EXITINFO1 0x2 SW_EXITINFO2 0x%lx\n", reason);
        wrong++;
    }
    uint32_t r[4];
    cpuid_count(0, 0, r);
    GUEST_ASSERT_EQ(r[1], 0x68747541);
}

int main(void)
{
    printf("sev_ghcb_errors: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT(sdk_sev_es_active());
    volatile uint64_t *outside = sdk_alloc_shared_pages(1);

    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    GHCB_SET(g, sw_scratch, (uint64_t)(uintptr_t)outside);
    uint32_t rc = sdk_ghcb_call(g, SVM_VMGEXIT_MMIO_READ, SNP_MMIODEV_BASE, 8);
    sdk_ghcb_put(&st);
    printf("sev_ghcb_errors: control: MMIO_READ into shared page 0x%lx: %u, data 0x%lx\n",
           (uint64_t)(uintptr_t)outside, rc, outside[0]);
    GUEST_ASSERT_EQ(rc, 0);
    GUEST_ASSERT_EQ(outside[0], SNP_MMIODEV_SIGNATURE);

    expect("MSR without RCX valid", MSR_NO_RCX, 0, GHCB_ERR_MISSING_INPUT);
    expect("CPUID without RAX valid", CPUID_NO_RAX, 0, GHCB_ERR_MISSING_INPUT);
    expect("SW_EXITINFO2 not valid", NO_INFO2, 0, GHCB_ERR_MISSING_INPUT);
    expect("rep insb without SW_SCRATCH valid", IOIO_NO_SCRATCH, 0, GHCB_ERR_MISSING_INPUT);
    expect("rep insb, scratch in the save area", SCRATCH_IN_SAVE_AREA, 0,
           GHCB_ERR_INVALID_SCRATCH_AREA);
    expect("MMIO_READ 8 bytes, scratch 4 before 0xFF0", SCRATCH_PAST_END, 0,
           GHCB_ERR_INVALID_SCRATCH_AREA);
    expect("MMIO_READ of 17 pages outside the GHCB", SCRATCH_TOO_BIG,
           (uint64_t)(uintptr_t)outside, GHCB_ERR_INVALID_SCRATCH_AREA);
    expect("rep insb of 64 KiB + 1 outside the GHCB", IOIO_TOO_BIG, (uint64_t)(uintptr_t)outside,
           GHCB_ERR_INVALID_SCRATCH_AREA);
    expect("exit code 0x12345678", UNKNOWN_EVENT, 0, GHCB_ERR_INVALID_EVENT);
    expect("ghcb_usage 1", BAD_USAGE, 0, GHCB_ERR_INVALID_USAGE);
    GUEST_ASSERT_EQ(wrong, 0);
    printf("sev_ghcb_errors: PASS\n");
    return 0;
}
