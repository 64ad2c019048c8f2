/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the `savic` fabric (apic/fab_savic.c; docs/sev-snp-facts.md
 * section 7): the REQUESTED_IRR merge swept over all 256 vectors x allowed/blocked under
 * both knob settings, every x2APIC MSR x read/write through the hardware's
 * accelerated / #VC / #GP decision (against a table written here from the
 * facts, not from the fabric), SAVIC_CONTROL, VMEXIT_BUSY, the
 * hypervisor's NMI and ALLOWED_NMI, the accelerated self-IPI / EOI / TPR path
 * and the forwarded ICR's doorbells.
 *
 * The fake host delivers sends at once and counts kicks and reenters; guest
 * RAM is a real struct mem (no RMP: the page check is then registration only).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "apic.h"
#include "fab_savic.h"
#include "fabric.h"
#include "mem.h"
#include "ck_run.h"

#define NV   2
#define PAGE0 0x10000ull
#define PAGE1 0x11000ull

static struct {
    struct fabric *f;
    struct mem mem;
    struct savic_knobs k;
    unsigned kicks[NV], reenters[NV], doorbells[NV], ipis[NV];
    unsigned neoib;
    uint8_t eoib_vec;
} fk;

static uint64_t fk_now(void *ctx, int vcpu)
{
    (void)ctx, (void)vcpu;
    return 0;
}

static void fk_send(void *ctx, int dst, const struct fab_msg *m)
{
    (void)ctx;
    if (m->src_kind == FAB_SRC_DOORBELL)
        fk.doorbells[dst]++;
    else if (m->src_kind == FAB_SRC_IPI)
        fk.ipis[dst]++;
    fk.f->ops->receive(fk.f, dst, m);
}

static void fk_timer_arm(void *ctx, int vcpu, uint64_t at)
{
    (void)ctx, (void)vcpu, (void)at;
}

static void fk_kick(void *ctx, int vcpu)
{
    (void)ctx;
    fk.kicks[vcpu]++;
}

static void fk_eoib(void *ctx, int vcpu, uint8_t vec)
{
    (void)ctx, (void)vcpu;
    fk.neoib++;
    fk.eoib_vec = vec;
}

static void fk_reenter(void *ctx, int vcpu)
{
    (void)ctx;
    fk.reenters[vcpu]++;
}

static const uint32_t ids[NV] = {0, 1};

static const struct fab_host fk_host = {NULL,    fk_now,  fk_send, fk_timer_arm,
                                        fk_kick, fk_eoib, NULL,    fk_reenter};

static struct fab_params fk_params(void)
{
    return (struct fab_params){.nvcpus = NV, .apic_ids = ids, .timer_cycles_per_tick = 1,
                               .tsc_cycles_num = 1, .tsc_cycles_den = 1, .mem = &fk.mem,
                               .asid = 1, .knobs = &fk.k};
}

/* The fabric under test: savic, or another ops table's create. */
static void make_from(const struct fabric_ops *ops)
{
    struct fab_params p = fk_params();
    char err[160];
    fk.f = ops->create(&p, &fk_host, err, sizeof(err));
    ck_assert_msg(fk.f != NULL, "%s", err);
}

static void make(void)
{
    make_from(&savic_fabric);
}

static void setup(void)
{
    memset(&fk, 0, sizeof(fk));
    char err[160];
    ck_assert_int_eq(mem_init(&fk.mem, 16u << 20, err, sizeof(err)), 0);
    savic_knobs_default(&fk.k);
    make();
}

static void teardown(void)
{
    fk.f->ops->destroy(fk.f);
    mem_destroy(&fk.mem);
}

static uint32_t page_reg(uint64_t page, unsigned off)
{
    return mem_ld32(&fk.mem, page + off);
}

static void page_set(uint64_t page, unsigned off, uint32_t v)
{
    mem_st32(&fk.mem, page + off, v);
}

static enum fab_access hw(int vcpu, uint32_t msr, bool write, uint64_t *val, struct fab_exit *x)
{
    memset(x, 0, sizeof(*x));
    return fk.f->ops->hw_msr(fk.f, vcpu, msr, write, val, x);
}

/* Registers and enables vCPU's page, software-enabled by its SPIV. */
static void enable(int vcpu, uint64_t page)
{
    uint64_t gpa = page, ctl = page | SAVIC_EN | SAVIC_ALLOWED_NMI;
    struct fab_exit x;
    ck_assert_int_eq(fk.f->ops->backing_page(fk.f, vcpu, true, &gpa), 0);
    page_set(page, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xFF);
    ck_assert_int_eq(hw(vcpu, MSR_SAVIC_CONTROL, true, &ctl, &x), FAB_OK);
    const char *why = NULL;
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, vcpu, &why), 0);
}

static void device_irq(int vcpu, uint8_t vec, bool level)
{
    struct fab_msg m = {FAB_SRC_DEVICE, -1, vec, APIC_DM_FIXED, level};
    fk.f->ops->receive(fk.f, vcpu, &m);
}

static void allow(uint64_t page, uint8_t vec, bool on)
{
    unsigned off = SAVIC_ALLOWED_IRR + 0x10u * (vec >> 5);
    uint32_t w = page_reg(page, off), bit = 1u << (vec & 31);
    page_set(page, off, on ? (w | bit) : (w & ~bit));
}

static bool page_vec(uint64_t page, unsigned base, uint8_t vec)
{
    return (page_reg(page, base + 0x10u * (vec >> 5)) >> (vec & 31)) & 1u;
}

/* ---- The REQUESTED_IRR merge ---------------------------------------------------------- */

/* _i = vector * 2 + allowed. */
START_TEST(every_vector_the_hypervisor_requests_is_merged_exactly_when_allowed_irr_allows_it)
{
    uint8_t vec = (uint8_t)(_i / 2);
    bool allowed = _i % 2;
    enable(0, PAGE0);
    allow(PAGE0, vec, allowed);
    unsigned before = fk.reenters[0];
    device_irq(0, vec, false);
    /* Vectors 0-15 are illegal (SDM 10.5.2): nothing is requested at all. */
    ck_assert_uint_eq(fk.reenters[0] - before, vec >= 16);
    const char *why = NULL;
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    bool merged = vec >= 16 && allowed;
    ck_assert_uint_eq(page_vec(PAGE0, APIC_IRR, vec), merged);
    struct fab_event ev = fk.f->ops->pending(fk.f, 0, 0);
    ck_assert_int_eq(ev.kind, merged ? FAB_EV_FIXED : FAB_EV_NONE);
    if (merged) {
        ck_assert_uint_eq(ev.vector, vec);
        fk.f->ops->ack(fk.f, 0, ev);
        ck_assert(page_vec(PAGE0, APIC_ISR, vec));
        ck_assert(!page_vec(PAGE0, APIC_IRR, vec));
    }
    /* Dropped (the default): allowing the vector afterwards brings nothing. */
    allow(PAGE0, vec, true);
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    ck_assert_uint_eq(page_vec(PAGE0, APIC_IRR, vec), false);
}
END_TEST

START_TEST(under_the_hold_knob_a_blocked_vector_waits_until_the_guest_allows_it)
{
    uint8_t vec = (uint8_t)(16 + _i);
    fk.f->ops->destroy(fk.f);
    fk.k.blocked = SAVIC_BLOCKED_HOLD;
    make();
    enable(0, PAGE0);
    device_irq(0, vec, false);
    const char *why = NULL;
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    ck_assert(!page_vec(PAGE0, APIC_IRR, vec));
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    ck_assert(!page_vec(PAGE0, APIC_IRR, vec));
    allow(PAGE0, vec, true);
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    ck_assert(page_vec(PAGE0, APIC_IRR, vec));
}
END_TEST

START_TEST(a_level_vector_brings_its_tmr_bit_and_its_forwarded_eoi_is_broadcast)
{
    enable(0, PAGE0);
    allow(PAGE0, 0x70, true);
    device_irq(0, 0x70, true);
    const char *why = NULL;
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    ck_assert(page_vec(PAGE0, APIC_TMR, 0x70));
    struct fab_event ev = fk.f->ops->pending(fk.f, 0, 0);
    fk.f->ops->ack(fk.f, 0, ev);
    /* The hardware does not accelerate the EOI of a level vector: a trap. */
    uint64_t zero = 0;
    struct fab_exit x;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_EOI), true, &zero, &x), FAB_EXIT);
    ck_assert_uint_eq(x.code, SVM_EXIT_AVIC_UNACCELERATED_ACCESS);
    ck_assert(x.trap);
    ck_assert(page_vec(PAGE0, APIC_ISR, 0x70)); /* the guest clears it itself */
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, 0, APIC_MSR(APIC_EOI), 0), FAB_OK);
    ck_assert_uint_eq(fk.neoib, 1);
    ck_assert_uint_eq(fk.eoib_vec, 0x70);
}
END_TEST

/* ---- The hardware's decision per x2APIC MSR --------------------------------------------- */

enum outcome { GP, OK, FAULT, TRAP };

/* Fact sheet 7.4 and the SDM's x2APIC table, for the default knobs. Writes
 * use a value valid for the register (0, or a self IPI for ICR/SELF_IPI). */
static enum outcome expected(unsigned off, bool write)
{
    static const struct {
        unsigned off, count;
        bool r, w;
    } regs[] = {
        {APIC_ID, 1, 1, 0},      {APIC_LVR, 1, 1, 0},     {APIC_TPR, 1, 1, 1},
        {APIC_PPR, 1, 1, 0},     {APIC_EOI, 1, 0, 1},     {APIC_LDR, 1, 1, 0},
        {APIC_SPIV, 1, 1, 1},    {APIC_ISR, 8, 1, 0},     {APIC_TMR, 8, 1, 0},
        {APIC_IRR, 8, 1, 0},     {APIC_ESR, 1, 1, 1},     {APIC_ICR, 1, 1, 1},
        {APIC_LVTT, 6, 1, 1},    {APIC_TMICT, 1, 1, 1},   {APIC_TMCCT, 1, 1, 0},
        {APIC_TDCR, 1, 1, 1},    {APIC_SELF_IPI, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        if (off < regs[i].off || off >= regs[i].off + 0x10 * regs[i].count)
            continue;
        if (write ? !regs[i].w : !regs[i].r)
            return GP;
        if (!write)
            return off == APIC_TMCCT ? FAULT : OK; /* every read but the current count */
        if (off == APIC_TPR || off == APIC_EOI || off == APIC_SELF_IPI || off == APIC_ICR)
            return OK;
        return TRAP; /* the fault set holds only read-only registers */
    }
    return GP;
}

/* _i = MSR index * 2 + write. */
START_TEST(every_x2apic_msr_read_and_write_takes_the_architectural_path)
{
    unsigned n = (unsigned)_i / 2, off = n << 4;
    bool write = _i % 2;
    uint32_t msr = 0x800 + n;
    enable(0, PAGE0);
    uint64_t val = 0;
    if (off == APIC_ICR)
        val = (uint64_t)APIC_SH_SELF << APIC_ICR_SH_SHIFT | 0x40; /* fixed self IPI */
    else if (off == APIC_SELF_IPI)
        val = 0x40;
    struct fab_exit x;
    enum fab_access r = hw(0, msr, write, &val, &x);
    enum outcome want = expected(off, write);
    switch (want) {
    case GP: ck_assert_int_eq(r, FAB_GP); break;
    case OK: ck_assert_int_eq(r, FAB_OK); break;
    case FAULT:
    case TRAP:
        ck_assert_int_eq(r, FAB_EXIT);
        ck_assert_uint_eq(x.code, SVM_EXIT_AVIC_UNACCELERATED_ACCESS);
        ck_assert_uint_eq(x.info1, off | (write ? 1ull << 32 : 0));
        ck_assert_int_eq(x.trap, want == TRAP);
        break;
    }
}
END_TEST

START_TEST(with_secure_avic_off_every_apic_msr_access_is_intercepted)
{
    uint32_t msr = 0x800 + (uint32_t)_i / 2;
    uint64_t val = 0;
    struct fab_exit x;
    ck_assert_int_eq(hw(1, msr, _i % 2, &val, &x), FAB_EXIT);
    ck_assert_uint_eq(x.code, SVM_EXIT_MSR);
}
END_TEST

START_TEST(an_icr_to_another_vcpu_traps_as_an_incomplete_ipi_with_the_icr_in_the_page)
{
    enable(0, PAGE0);
    uint64_t icr = 1ull << 32 | 0x41, val = icr;
    struct fab_exit x;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_ICR), true, &val, &x), FAB_EXIT);
    ck_assert_uint_eq(x.code, SVM_EXIT_AVIC_INCOMPLETE_IPI);
    ck_assert(x.trap);
    ck_assert_uint_eq(x.info1, icr);
    ck_assert_uint_eq(page_reg(PAGE0, APIC_ICR), 0x41);
    ck_assert_uint_eq(page_reg(PAGE0, 0x304), 1); /* ICR[63:32], Linux layout */
}
END_TEST

START_TEST(self_ipi_tpr_and_eoi_are_completed_in_the_page)
{
    enable(0, PAGE0);
    struct fab_exit x;
    uint64_t v = 0x55;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_SELF_IPI), true, &v, &x), FAB_OK);
    ck_assert(page_vec(PAGE0, APIC_IRR, 0x55));
    v = 0x60; /* TPR class 6 masks class 5 */
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_TPR), true, &v, &x), FAB_OK);
    ck_assert_uint_eq(page_reg(PAGE0, APIC_PPR), 0x60);
    ck_assert_int_eq(fk.f->ops->pending(fk.f, 0, 0).kind, FAB_EV_NONE);
    v = 0;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_TPR), true, &v, &x), FAB_OK);
    struct fab_event ev = fk.f->ops->pending(fk.f, 0, 0);
    ck_assert_int_eq(ev.kind, FAB_EV_FIXED);
    ck_assert_uint_eq(ev.vector, 0x55);
    fk.f->ops->ack(fk.f, 0, ev);
    ck_assert_uint_eq(page_reg(PAGE0, APIC_PPR), 0x50);
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_EOI), true, &v, &x), FAB_OK);
    ck_assert(!page_vec(PAGE0, APIC_ISR, 0x55));
    ck_assert_uint_eq(fk.reenters[0], 1); /* only the enable: nothing went through the hypervisor */
    /* A read is served from the page: the guest's own copy of the ID. */
    page_set(PAGE0, APIC_ID, 7);
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_ID), false, &v, &x), FAB_OK);
    ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(the_guest_writing_irr_directly_and_a_doorbell_make_the_vector_pending)
{
    enable(0, PAGE0);
    enable(1, PAGE1);
    page_set(PAGE1, APIC_IRR + 0x10 * (0x61 >> 5), 1u << (0x61 & 31));
    /* A store to the page is a store: the hardware sees it when it next looks
     * at the page (docs/sev-snp-facts.md 7.5), here the doorbell. */
    ck_assert_int_eq(fk.f->ops->pending(fk.f, 1, 0).kind, FAB_EV_NONE);
    uint64_t icr = 1ull << 32 | 0x61;
    ck_assert_int_eq(fk.f->ops->msr_write(fk.f, 0, APIC_MSR(APIC_ICR), icr), FAB_OK);
    ck_assert_uint_eq(fk.doorbells[1], 1);
    ck_assert_uint_eq(fk.ipis[1], 0);
    struct fab_event ev = fk.f->ops->pending(fk.f, 1, 0);
    ck_assert_int_eq(ev.kind, FAB_EV_FIXED);
    ck_assert_uint_eq(ev.vector, 0x61);
}
END_TEST

START_TEST(savic_control_rejects_reserved_bits_and_reads_back)
{
    struct fab_exit x;
    uint64_t v = PAGE0 | 4;
    ck_assert_int_eq(hw(0, MSR_SAVIC_CONTROL, true, &v, &x), FAB_GP);
    v = PAGE0 | SAVIC_ALLOWED_NMI;
    ck_assert_int_eq(hw(0, MSR_SAVIC_CONTROL, true, &v, &x), FAB_OK);
    v = 0;
    ck_assert_int_eq(hw(0, MSR_SAVIC_CONTROL, false, &v, &x), FAB_OK);
    ck_assert_uint_eq(v, PAGE0 | SAVIC_ALLOWED_NMI);
}
END_TEST

START_TEST(a_page_the_hypervisor_did_not_register_makes_every_vmrun_fail_busy)
{
    struct fab_exit x;
    uint64_t v = PAGE0 | SAVIC_EN;
    ck_assert_int_eq(hw(0, MSR_SAVIC_CONTROL, true, &v, &x), FAB_OK);
    ck_assert_uint_eq(fk.reenters[0], 1);
    const char *why = NULL;
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), -1);
    ck_assert(strstr(why, "VMEXIT_BUSY") != NULL);
    /* Registering it now does not help: the busy flag is sticky. */
    uint64_t gpa = PAGE0;
    ck_assert_int_eq(fk.f->ops->backing_page(fk.f, 0, true, &gpa), 0);
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), -1);
}
END_TEST

START_TEST(unregistering_a_page_in_use_makes_the_next_vmrun_fail_busy)
{
    enable(0, PAGE0);
    uint64_t gpa = 0;
    ck_assert_int_eq(fk.f->ops->backing_page(fk.f, 0, false, &gpa), 0);
    ck_assert_uint_eq(gpa, PAGE0);
    const char *why = NULL;
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), -1);
}
END_TEST

START_TEST(a_hypervisor_nmi_becomes_v_nmi_only_with_allowed_nmi)
{
    for (int allowed = 0; allowed < 2; allowed++) {
        fk.f->ops->destroy(fk.f);
        make();
        enable(0, PAGE0);
        struct fab_exit x;
        uint64_t v = PAGE0 | SAVIC_EN | (allowed ? SAVIC_ALLOWED_NMI : 0);
        ck_assert_int_eq(hw(0, MSR_SAVIC_CONTROL, true, &v, &x), FAB_OK);
        struct fab_msg m = {FAB_SRC_HV, -1, 0, APIC_DM_NMI, false};
        fk.f->ops->inject(fk.f, 0, &m);
        const char *why = NULL;
        ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
        ck_assert_int_eq(fk.f->ops->pending(fk.f, 0, 0).kind, allowed ? FAB_EV_NMI : FAB_EV_NONE);
    }
}
END_TEST

/* ---- Variants (fab_savic.h hooks) --------------------------------------------------------- */

static enum savic_blocked hold_even(struct savic *s, int vcpu, uint8_t vector)
{
    (void)s, (void)vcpu;
    return vector % 2 ? SAVIC_BLOCKED_DROP : SAVIC_BLOCKED_HOLD;
}

static bool never_nmi(struct savic *s, int vcpu)
{
    (void)s, (void)vcpu;
    return false;
}

static const struct savic_hooks test_hooks = {.blocked = hold_even, .nmi_allowed = never_nmi};

static struct fabric *variant_create(const struct fab_params *p, const struct fab_host *host,
                                     char *err, size_t errlen);
static const struct fabric_ops test_variant = {
    .name = "test-variant", .caps = SAVIC_CAPS, .create = variant_create, SAVIC_OPS};

static struct fabric *variant_create(const struct fab_params *p, const struct fab_host *host,
                                     char *err, size_t errlen)
{
    return savic_create(p, host, &test_variant, &test_hooks, err, errlen);
}

/* A variant's hooks decide what they name (blocked vectors: hold the even
 * ones, drop the odd; NMIs: never); everything else is savic's (a
 * cross-vCPU ICR still traps as an incomplete IPI). */
START_TEST(a_variants_hooks_override_their_decisions_and_leave_the_rest_to_savic)
{
    fk.f->ops->destroy(fk.f);
    make_from(&test_variant);
    ck_assert_ptr_eq(fk.f->ops, &test_variant);
    enable(0, PAGE0);
    device_irq(0, 0x40, false);
    device_irq(0, 0x41, false);
    const char *why = NULL;
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    allow(PAGE0, 0x40, true);
    allow(PAGE0, 0x41, true);
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    ck_assert(page_vec(PAGE0, APIC_IRR, 0x40));  /* held, then merged */
    ck_assert(!page_vec(PAGE0, APIC_IRR, 0x41)); /* dropped */
    struct fab_msg nmi = {FAB_SRC_HV, -1, 0, APIC_DM_NMI, false};
    fk.f->ops->inject(fk.f, 0, &nmi); /* ALLOWED_NMI is set by enable() */
    ck_assert_int_eq(fk.f->ops->vmrun(fk.f, 0, &why), 0);
    ck_assert_int_ne(fk.f->ops->pending(fk.f, 0, 0).kind, FAB_EV_NMI);
    uint64_t val = 1ull << 32 | 0x42;
    struct fab_exit x;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_ICR), true, &val, &x), FAB_EXIT);
    ck_assert_uint_eq(x.code, SVM_EXIT_AVIC_INCOMPLETE_IPI);
}
END_TEST

extern const struct fabric_ops savic_xipi_fabric;

/* savic-xipi: a fixed edge IPI to a vCPU with Secure AVIC on completes in
 * hardware, the vector lands in the target's page and is pending there; an
 * NMI IPI, or one to a vCPU without Secure AVIC, is still #VC 0x401. */
START_TEST(savic_xipi_carries_a_fixed_ipi_into_the_target_page_and_traps_the_rest)
{
    fk.f->ops->destroy(fk.f);
    make_from(&savic_xipi_fabric);
    enable(0, PAGE0);
    uint64_t val = 1ull << 32 | 0x41;
    struct fab_exit x;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_ICR), true, &val, &x), FAB_EXIT); /* cpu1 is off */
    ck_assert_uint_eq(x.code, SVM_EXIT_AVIC_INCOMPLETE_IPI);
    enable(1, PAGE1);
    val = 1ull << 32 | 0x41;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_ICR), true, &val, &x), FAB_OK);
    ck_assert(page_vec(PAGE1, APIC_IRR, 0x41));
    ck_assert(!page_vec(PAGE0, APIC_IRR, 0x41));
    struct fab_event ev = fk.f->ops->pending(fk.f, 1, 0);
    ck_assert_int_eq(ev.kind, FAB_EV_FIXED);
    ck_assert_uint_eq(ev.vector, 0x41);
    ck_assert_uint_eq(fk.doorbells[1], 0); /* no hypervisor on the way */
    val = 1ull << 32 | APIC_DM_NMI << 8;
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_ICR), true, &val, &x), FAB_EXIT);
    ck_assert_uint_eq(x.code, SVM_EXIT_AVIC_INCOMPLETE_IPI);
    val = 1ull << 32 | 1u << 15 | 0x43; /* level-triggered */
    ck_assert_int_eq(hw(0, APIC_MSR(APIC_ICR), true, &val, &x), FAB_EXIT);
}
END_TEST

START_TEST(nmi_request_in_the_page_is_an_nmi_and_taking_it_clears_the_request)
{
    enable(0, PAGE0);
    page_set(PAGE0, SAVIC_NMI_REQUEST, 1);
    ck_assert_int_eq(fk.f->ops->pending(fk.f, 0, 0).kind, FAB_EV_NONE); /* not seen yet */
    struct fab_msg bell = {FAB_SRC_DOORBELL, 1, 2, APIC_DM_NMI, false};
    fk.f->ops->receive(fk.f, 0, &bell);
    struct fab_event ev = fk.f->ops->pending(fk.f, 0, 0);
    ck_assert_int_eq(ev.kind, FAB_EV_NMI);
    ck_assert_int_eq(fk.f->ops->pending(fk.f, 0, FAB_SKIP_NMI).kind, FAB_EV_NONE);
    fk.f->ops->ack(fk.f, 0, ev);
    ck_assert_uint_eq(page_reg(PAGE0, SAVIC_NMI_REQUEST), 0);
}
END_TEST

START_TEST(register_sets_name_every_register_and_reject_unknown_names)
{
    struct fab_regset r;
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(fab_regset_add_name(&r, "TPR"), 0);
    ck_assert_int_eq(fab_regset_add_name(&r, "ISR"), 0);
    ck_assert_int_eq(fab_regset_add_name(&r, "APR"), -1); /* not an x2APIC register */
    ck_assert(fab_regset_has(&r, 0x808));
    for (uint32_t m = 0x810; m <= 0x817; m++)
        ck_assert(fab_regset_has(&r, m));
    char names[256];
    fab_regset_names(&r, names, sizeof(names));
    ck_assert_str_eq(names, "TPR,ISR0,ISR1,ISR2,ISR3,ISR4,ISR5,ISR6,ISR7");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("savic");
    TCase *tc = tcase_create("savic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(
        tc, every_vector_the_hypervisor_requests_is_merged_exactly_when_allowed_irr_allows_it, 0, 512);
    tcase_add_loop_test(tc, under_the_hold_knob_a_blocked_vector_waits_until_the_guest_allows_it, 0, 240);
    tcase_add_test(tc, a_level_vector_brings_its_tmr_bit_and_its_forwarded_eoi_is_broadcast);
    tcase_add_loop_test(tc, every_x2apic_msr_read_and_write_takes_the_architectural_path, 0, 512);
    tcase_add_loop_test(tc, with_secure_avic_off_every_apic_msr_access_is_intercepted, 0, 512);
    tcase_add_test(tc, an_icr_to_another_vcpu_traps_as_an_incomplete_ipi_with_the_icr_in_the_page);
    tcase_add_test(tc, self_ipi_tpr_and_eoi_are_completed_in_the_page);
    tcase_add_test(tc, the_guest_writing_irr_directly_and_a_doorbell_make_the_vector_pending);
    tcase_add_test(tc, savic_control_rejects_reserved_bits_and_reads_back);
    tcase_add_test(tc, a_page_the_hypervisor_did_not_register_makes_every_vmrun_fail_busy);
    tcase_add_test(tc, unregistering_a_page_in_use_makes_the_next_vmrun_fail_busy);
    tcase_add_test(tc, a_hypervisor_nmi_becomes_v_nmi_only_with_allowed_nmi);
    tcase_add_test(tc, nmi_request_in_the_page_is_an_nmi_and_taking_it_clears_the_request);
    tcase_add_test(tc, register_sets_name_every_register_and_reject_unknown_names);
    tcase_add_test(tc, a_variants_hooks_override_their_decisions_and_leave_the_rest_to_savic);
    tcase_add_test(tc, savic_xipi_carries_a_fixed_ipi_into_the_target_page_and_traps_the_rest);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
