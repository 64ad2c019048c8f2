/* SPDX-License-Identifier: MIT */
/*
 * The Secure AVIC driver (savic.h; docs/sev-snp-facts.md section 7). The backing page is
 * the APIC: this file reads and writes it directly and asks the hardware
 * (accelerated WRMSR) or the hypervisor (the MSR NAE event) only for what
 * neither can do without the other, in the shape of Linux's x2apic_savic.c.
 */
#include <sdk/sdk.h>
#include <sdk/savic.h>

#define SAVIC_EN          (1ull << 0)
#define SAVIC_ALLOWED_NMI (1ull << 1)
#define BP_ISR            0x100u
#define BP_TMR            0x180u
#define BP_IRR            0x200u
#define BP_ALLOWED_IRR    0x204u  /* + 0x10 i (docs/sev-snp-facts.md 7.2) */
#define BP_NMI_REQUEST    0x278u
#define BP_ICR_HIGH       0x304u  /* the Linux layout: ICR as one u64 at 0x300 */
#define OFF(msr)          (((msr) - 0x800u) << 4)

/* Vectors allowed in every page (devices, the LAPIC timer and LVTs). */
static uint32_t allowed[8];
static volatile bool boot_disabled;

static volatile uint32_t *reg32(void *page, unsigned off)
{
    return (volatile uint32_t *)((uint8_t *)page + off);
}

static void vec_set(void *page, unsigned base, uint8_t v)
{
    __atomic_fetch_or(reg32(page, base + (v >> 5) * 0x10u), 1u << (v & 31), __ATOMIC_SEQ_CST);
}

static void vec_clear(void *page, unsigned base, uint8_t v)
{
    __atomic_fetch_and(reg32(page, base + (v >> 5) * 0x10u), ~(1u << (v & 31)), __ATOMIC_SEQ_CST);
}

static bool vec_test(void *page, unsigned base, uint8_t v)
{
    return (*reg32(page, base + (v >> 5) * 0x10u) >> (v & 31)) & 1u;
}

static int vec_highest(void *page, unsigned base)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = *reg32(page, base + (unsigned)i * 0x10u);
        if (w)
            return i * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

bool sdk_savic_active(void)
{
    return sdk_bootinfo->fabric == SNP_FABRIC_SAVIC &&
           (sdk_sev_status() & SEV_STATUS_SECURE_AVIC) != 0;
}

bool sdk_savic_on(void) { return this_cpu()->savic_on != 0; }
void *sdk_savic_page(unsigned cpu) { return sdk_percpu[cpu].savic_page; }

/* ---- The hypervisor: the backing-page NAE and the MSR NAE ---------------------------- */

uint32_t sdk_savic_register(uint64_t target, uint64_t gpa, uint64_t *info2)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    GHCB_SET(g, rax, target);
    GHCB_SET(g, rbx, gpa);
    uint32_t rc = sdk_ghcb_call(g, SVM_VMGEXIT_SAVIC, SVM_VMGEXIT_SAVIC_REGISTER, 0);
    *info2 = g->save.sw_exit_info_2;
    sdk_ghcb_put(&st);
    return rc;
}

uint32_t sdk_savic_unregister(uint64_t target, uint64_t *prev, uint64_t *info2)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    GHCB_SET(g, rax, target);
    uint32_t rc = sdk_ghcb_call(g, SVM_VMGEXIT_SAVIC, SVM_VMGEXIT_SAVIC_UNREGISTER, 0);
    *prev = GHCB_VALID(g, rbx) ? g->save.rbx : 0;
    *info2 = g->save.sw_exit_info_2;
    sdk_ghcb_put(&st);
    return rc;
}

static uint64_t hv_msr(uint32_t msr, bool write, uint64_t val)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    GHCB_SET(g, rcx, msr);
    if (write) {
        GHCB_SET(g, rax, val & 0xFFFFFFFFu);
        GHCB_SET(g, rdx, val >> 32);
    }
    uint32_t rc = sdk_ghcb_call(g, SVM_EXIT_MSR, write ? 1 : 0, 0);
    bool ok = rc == 0 && (write || (GHCB_VALID(g, rax) && GHCB_VALID(g, rdx)));
    uint64_t r = write ? 0 : (g->save.rdx << 32) | (uint32_t)g->save.rax;
    sdk_ghcb_put(&st);
    if (!ok) {
        printf("FAIL: cpu %u: Secure AVIC: the hypervisor refused %s of MSR 0x%x\n", sdk_cpu(),
               write ? "a write" : "a read", msr);
        sdk_sev_terminate(SEV_TERM_SET_LINUX, GHCB_TERM_SAVIC_FAIL);
    }
    return r;
}

uint64_t sdk_savic_hv_read(uint32_t msr) { return hv_msr(msr, false, 0); }
void sdk_savic_hv_write(uint32_t msr, uint64_t val) { hv_msr(msr, true, val); }

/* ---- Set-up and teardown ----------------------------------------------------------------- */

void sdk_savic_allow_vector(uint8_t vector, bool allow)
{
    if (!sdk_savic_active())
        return;
    if (allow)
        __atomic_fetch_or(&allowed[vector >> 5], 1u << (vector & 31), __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&allowed[vector >> 5], ~(1u << (vector & 31)), __ATOMIC_SEQ_CST);
    for (unsigned c = 0; c < sdk_cpu_count(); c++) {
        void *pg = sdk_percpu[c].savic_page;
        if (!pg)
            continue;
        if (allow)
            vec_set(pg, BP_ALLOWED_IRR, vector);
        else
            vec_clear(pg, BP_ALLOWED_IRR, vector);
    }
}

void sdk_savic_prepare(void)
{
    if (!sdk_savic_active())
        return;
    for (unsigned c = 0; c < sdk_cpu_count(); c++)
        sdk_percpu[c].savic_page = sdk_alloc_pages(1);
}

void sdk_savic_set_boot_enable(bool enable)
{
    boot_disabled = !enable;
}

void sdk_savic_cpu_init(struct sdk_percpu *p)
{
    p->savic_on = 0; /* a new VMSA starts with SAVIC_CONTROL 0 */
    if (!sdk_savic_active() || !p->savic_page || boot_disabled)
        return;
    uint8_t *pg = p->savic_page;
    memset(pg, 0, SDK_PAGE_SIZE);
    /* Before Secure AVIC is on, APIC reads are the hypervisor's
     * (docs/sev-snp-facts.md 7.4): the page gets the ID (Linux), and the version, logical ID and
     * SPIV, from it. */
    static const uint32_t copied[] = {APIC_ID, APIC_LVR, APIC_LDR, APIC_SPIV};
    for (unsigned i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        *reg32(pg, OFF(copied[i])) = (uint32_t)rdmsr(copied[i]);
    for (unsigned i = 0; i < 8; i++)
        *reg32(pg, BP_ALLOWED_IRR + 0x10u * i) = allowed[i];
    uint64_t gpa = (uint64_t)(uintptr_t)pg, info2;
    if (sdk_savic_register(SVM_VMGEXIT_SAVIC_SELF, gpa, &info2) != 0) {
        printf("FAIL: cpu %u: the hypervisor refused the Secure AVIC backing page (reason %lu)\n",
               p->index, info2);
        sdk_sev_terminate(SEV_TERM_SET_LINUX, GHCB_TERM_SAVIC_FAIL);
    }
    wrmsr(MSR_SAVIC_CONTROL, gpa | SAVIC_EN | SAVIC_ALLOWED_NMI);
    p->savic_on = 1;
}

uint32_t sdk_savic_teardown(uint64_t *prev)
{
    struct sdk_percpu *p = this_cpu();
    uint64_t info2;
    wrmsr(MSR_SAVIC_CONTROL, 0);
    p->savic_on = 0;
    return sdk_savic_unregister(SVM_VMGEXIT_SAVIC_SELF, prev, &info2);
}

/* ---- Register access ---------------------------------------------------------------------- */

/* The registers the hypervisor emulates for a Secure AVIC guest (docs/sev-snp-facts.md 7.4). */
static bool hv_owned(uint32_t msr)
{
    switch (msr) {
    case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC: case APIC_LVT0: case APIC_LVT1:
    case APIC_LVTERR: case APIC_TMICT: case APIC_TMCCT: case APIC_TDCR:
        return true;
    default:
        return false;
    }
}

static bool lvt(uint32_t msr)
{
    return msr == APIC_LVTT || msr == APIC_LVTTHMR || msr == APIC_LVTPC || msr == APIC_LVT0 ||
           msr == APIC_LVT1 || msr == APIC_LVTERR;
}

uint64_t sdk_savic_read(uint32_t msr)
{
    if (hv_owned(msr))
        return sdk_savic_hv_read(msr);
    void *pg = this_cpu()->savic_page;
    if (msr == APIC_ICR)
        return (uint64_t)*reg32(pg, BP_ICR_HIGH) << 32 | *reg32(pg, OFF(APIC_ICR));
    return *reg32(pg, OFF(msr));
}

/* Whether the vCPU cpu is a destination of an ICR's shorthand / destination
 * (x2APIC physical or cluster logical, SDM 10.12.9-10). */
static bool is_target(unsigned cpu, uint32_t low, uint32_t dest)
{
    uint32_t sh = low & (3u << 18), id = sdk_apic_id_of(cpu);
    if (sh == APIC_SH_ALL)
        return true;
    if (sh == APIC_SH_OTHERS)
        return cpu != sdk_cpu();
    if (sh == APIC_SH_SELF)
        return cpu == sdk_cpu();
    if (dest == APIC_BROADCAST)
        return true;
    if (!(low & APIC_DEST_LOGICAL))
        return id == dest;
    uint32_t ldr = x2apic_logical_id(id);
    return (ldr >> 16) == (dest >> 16) && (ldr & dest & 0xFFFFu);
}

/* An IPI (docs/sev-snp-facts.md 7.5): the vector into each target's page (NMI_REQUEST
 * for an NMI), then the ICR to the hypervisor, which rings their doorbells.
 * A target without Secure AVIC gets the IPI from the hypervisor instead. */
static void send_ipi(uint64_t icr)
{
    uint32_t low = (uint32_t)icr, dest = (uint32_t)(icr >> 32), mode = low & 0x700u;
    bool nmi = mode == APIC_DM_NMI, fixed = mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST;
    for (unsigned c = 0; (nmi || fixed) && c < sdk_cpu_count(); c++) {
        struct sdk_percpu *t = &sdk_percpu[c];
        if (!t->savic_on || !is_target(c, low, dest))
            continue;
        if (nmi) {
            __atomic_fetch_or(reg32(t->savic_page, BP_NMI_REQUEST), 1u, __ATOMIC_SEQ_CST);
        } else {
            /* TMR as an x2APIC would set it (SDM 10.8.4), so EOI takes the right path. */
            if (low & APIC_TRIG_LEVEL)
                vec_set(t->savic_page, BP_TMR, (uint8_t)low);
            else
                vec_clear(t->savic_page, BP_TMR, (uint8_t)low);
            vec_set(t->savic_page, BP_IRR, (uint8_t)low);
        }
        if (mode == APIC_DM_LOWEST)
            break; /* the guest picks one: the first match */
    }
    sdk_savic_hv_write(APIC_ICR, icr);
}

/* Whether the hardware may carry this IPI itself: the fabric says so
 * (bootinfo fabric_caps, docs/guest-abi.md) and it is a fixed, edge IPI. When
 * a target turns out to be out of its reach the WRMSR is #VC 0x401 and
 * sdk_savic_vc() sends it the usual way. */
static bool hw_ipi(uint64_t icr)
{
    uint32_t low = (uint32_t)icr;
    return (sdk_bootinfo->fabric_caps & SNP_FABRIC_CAP_XIPI) && (low & 0x700u) == APIC_DM_FIXED &&
           !(low & APIC_TRIG_LEVEL);
}

static void store_icr(uint64_t icr)
{
    void *pg = this_cpu()->savic_page;
    *reg32(pg, OFF(APIC_ICR)) = (uint32_t)icr;
    *reg32(pg, BP_ICR_HIGH) = (uint32_t)(icr >> 32);
}

/* EOI (Linux savic_eoi): a level vector's ISR bit is cleared here and the EOI
 * forwarded, so the hypervisor can broadcast it; an edge one is a WRMSR the
 * hardware completes. hw false: emulate without WRMSR (from #VC 0x402). */
static void eoi(bool hw)
{
    void *pg = this_cpu()->savic_page;
    int vec = vec_highest(pg, BP_ISR);
    if (vec >= 0 && vec_test(pg, BP_TMR, (uint8_t)vec)) {
        vec_clear(pg, BP_ISR, (uint8_t)vec);
        sdk_savic_hv_write(APIC_EOI, 0);
    } else if (hw) {
        wrmsr(APIC_EOI, 0);
    } else if (vec >= 0) {
        vec_clear(pg, BP_ISR, (uint8_t)vec);
        sdk_savic_hv_write(APIC_EOI, 0); /* lets the hardware re-evaluate at VMRUN */
    }
}

void sdk_savic_write(uint32_t msr, uint64_t val)
{
    switch (msr) {
    case APIC_TPR:
    case APIC_SELF_IPI:
        wrmsr(msr, val); /* accelerated */
        return;
    case APIC_EOI:
        eoi(true);
        return;
    case APIC_ICR:
        if ((val & (3u << 18)) == APIC_SH_SELF || hw_ipi(val)) {
            wrmsr(APIC_ICR, val); /* accelerated; else #VC 0x401, and the handler sends it */
        } else {
            send_ipi(val);
            store_icr(val);
        }
        return;
    default:
        break;
    }
    if (hv_owned(msr)) {
        /* An unmasked LVT vector comes from the hypervisor: allow it. */
        if (lvt(msr) && !(val & APIC_LVT_MASKED) && (val & 0xFF) >= 16)
            sdk_savic_allow_vector((uint8_t)val, true);
        sdk_savic_hv_write(msr, val);
        /* A copy in the page, for an RDMSR the hardware serves from it. */
        *reg32(this_cpu()->savic_page, OFF(msr)) = (uint32_t)val;
        return;
    }
    *reg32(this_cpu()->savic_page, OFF(msr)) = (uint32_t)val; /* SPIV, ESR, ...: the page */
}

/* ---- #VC 0x401 / 0x402 -------------------------------------------------------------------- */

/* Registers whose AVIC_UNACCELERATED_ACCESS is a fault (RIP on the
 * instruction): the default of the `savic.fault_on` knob (docs/sev-snp-facts.md 7.4). */
static bool noaccel_fault(uint32_t msr)
{
    return msr == APIC_LVR || msr == APIC_PPR || msr == APIC_TMCCT ||
           (msr >= APIC_ISR(0) && msr <= APIC_ISR(7)) || (msr >= APIC_TMR(0) && msr <= APIC_TMR(7)) ||
           (msr >= APIC_IRR(0) && msr <= APIC_IRR(7));
}

/* A write the hardware did not complete, done without WRMSR. */
static void emulate_write(uint32_t msr, uint64_t val)
{
    void *pg = this_cpu()->savic_page;
    switch (msr) {
    case APIC_EOI:
        eoi(false);
        return;
    case APIC_SELF_IPI:
        val = APIC_SH_SELF | (val & 0xFF);
        /* fall through */
    case APIC_ICR:
        if ((val & (3u << 18)) == APIC_SH_SELF && (val & 0x700u) == APIC_DM_FIXED) {
            vec_set(pg, BP_IRR, (uint8_t)val);
            sdk_savic_hv_write(APIC_ICR, val); /* the hypervisor rings our own doorbell */
        } else {
            send_ipi(val);
        }
        if (msr == APIC_ICR)
            store_icr(val);
        return;
    default:
        break;
    }
    if (hv_owned(msr))
        sdk_savic_write(msr, val);
    else
        *reg32(pg, OFF(msr)) = (uint32_t)val; /* TPR too: PPR follows at the next evaluation */
}

bool sdk_savic_vc(struct sdk_frame *f)
{
    if (!sdk_savic_on())
        return false;
    uint32_t msr = (uint32_t)f->regs.rcx;
    uint64_t val = (f->regs.rdx << 32) | (uint32_t)f->regs.rax;
    if (f->error_code == SVM_EXIT_AVIC_INCOMPLETE_IPI) {
        /* A trap after WRMSR ICR: the ICR is already in the page. */
        const uint8_t *ip = (const uint8_t *)(f->rip - 2);
        if (msr != APIC_ICR || ip[0] != 0x0F || ip[1] != 0x30)
            return false;
        send_ipi(val);
        return true;
    }
    if (f->error_code != SVM_EXIT_AVIC_UNACCELERATED_ACCESS)
        return false;
    bool fault = noaccel_fault(msr);
    const uint8_t *ip = (const uint8_t *)(fault ? f->rip : f->rip - 2);
    if (ip[0] != 0x0F || (ip[1] != 0x30 && ip[1] != 0x32))
        return false;
    if (ip[1] == 0x30) {
        emulate_write(msr, val);
    } else {
        uint64_t r = sdk_savic_read(msr);
        f->regs.rax = (uint32_t)r;
        f->regs.rdx = r >> 32;
    }
    if (fault)
        f->rip += 2;
    return true;
}
