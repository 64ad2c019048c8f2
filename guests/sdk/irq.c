/* SPDX-License-Identifier: MIT */
/*
 * The C side of interrupt and exception entry: the per-vector handler table,
 * the dispatcher isr.S calls, ASM_TRY fixups, the default handler (report the
 * frame and exit 2) and the try-helpers for faulting MSR and memory accesses.
 * The dispatcher adds nothing to what the handler sees: EOI, nesting and IF
 * are the handler's business, so tests observe the APIC exactly.
 */
#include <sdk/sdk.h>

void sdk_isr_dispatch(struct sdk_frame *f);
void sdk_irq_init(void);

/* ASM_TRY and this_cpu() address these fields by fixed %gs offsets. */
_Static_assert(offsetof(struct sdk_percpu, self) == 0, "this_cpu() reads %gs:0");
_Static_assert(offsetof(struct sdk_percpu, try_rip) == 8, "SDK_PCPU_TRY_RIP");
_Static_assert(offsetof(struct sdk_percpu, fixup_rip) == 16, "SDK_PCPU_FIXUP_RIP");
_Static_assert(offsetof(struct sdk_percpu, ex_vector) == 24, "SDK_PCPU_EX_VECTOR");

/* #VC has a handler from the start: the first CPUID at boot may raise it (sev.c). */
static sdk_handler_t handlers[256] = { [X86_VC] = sdk_vc_handler };
static uint32_t spurious_count;

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
    "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *sdk_vector_name(unsigned vector)
{
    return vector < 32 ? exc_names[vector] : "INT";
}

bool sdk_vector_has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

void sdk_set_handler(unsigned vector, sdk_handler_t fn)
{
    if (vector > 255)
        sdk_fail(SDK_EXIT_ASSERT, "sdk_set_handler: vector %u", vector);
    if (vector == X86_VC && !fn)
        fn = sdk_vc_handler;
    WRITE_ONCE(handlers[vector], fn);
}

bool sdk_ex_fixup(struct sdk_frame *f)
{
    struct sdk_percpu *p = this_cpu();

    if (p->try_rip == 0 || f->rip != p->try_rip)
        return false;
    p->ex_vector = (int32_t)f->vector;
    p->ex_error_code = f->error_code;
    p->ex_cr2 = f->vector == X86_PF ? read_cr2() : 0;
    p->ex_rip = f->rip;
    p->try_rip = 0;
    f->rip = p->fixup_rip;
    return true;
}

void sdk_dump_frame(const struct sdk_frame *f)
{
    const struct sdk_regs *r = &f->regs;

    printf("  vector %lu (%s) error 0x%lx rip 0x%lx cs 0x%lx rflags 0x%lx\n"
           "  rsp 0x%lx ss 0x%lx cr2 0x%lx\n"
           "  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n"
           "  rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n"
           "  r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n"
           "  r13 %016lx r14 %016lx r15 %016lx\n",
           f->vector, sdk_vector_name((unsigned)f->vector), f->error_code, f->rip, f->cs,
           f->rflags, f->rsp, f->ss, read_cr2(), r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi,
           r->rbp, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15);
}

static void __attribute__((noreturn)) unexpected(struct sdk_frame *f)
{
    printf("FAIL: cpu %u: unexpected %s %lu (%s)\n", sdk_cpu(),
           f->vector < 32 ? "exception" : "interrupt", f->vector,
           sdk_vector_name((unsigned)f->vector));
    sdk_dump_frame(f);
    sdk_exit(SDK_EXIT_UNEXPECTED);
}

void sdk_isr_dispatch(struct sdk_frame *f)
{
    sdk_handler_t h = READ_ONCE(handlers[f->vector & 0xFF]);

    if (h)
        h(f);
    else if (f->vector >= 32 || !sdk_ex_fixup(f))
        unexpected(f);
}

/* A spurious interrupt sets no ISR bit, so it takes no EOI (SDM 10.9). */
static void spurious_handler(struct sdk_frame *f)
{
    (void)f;
    atomic_inc(&spurious_count);
}

uint32_t sdk_spurious_count(void)
{
    return atomic_load(&spurious_count);
}

/* SDK_WAKE_VECTOR (smp.c) only interrupts HLT in sdk_ap_idle(). */
static void wake_handler(struct sdk_frame *f)
{
    (void)f;
    x2apic_eoi();
}

void sdk_irq_init(void)
{
    sdk_set_handler(SDK_SPURIOUS_VECTOR, spurious_handler);
    sdk_set_handler(SDK_WAKE_VECTOR, wake_handler);
}

static int try_done(void)
{
    struct sdk_percpu *p = this_cpu();
    p->try_rip = 0;
    return p->ex_vector;
}

int sdk_try_rdmsr(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile(ASM_TRY("1f") "rdmsr\n1:" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *val = ((uint64_t)hi << 32) | lo;
    return try_done();
}

int sdk_try_wrmsr(uint32_t msr, uint64_t val)
{
    __asm__ volatile(ASM_TRY("1f") "wrmsr\n1:"
                     : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)) : "memory");
    return try_done();
}

int sdk_try_read64(const volatile void *addr, uint64_t *val)
{
    uint64_t v = 0;
    __asm__ volatile(ASM_TRY("1f") "movq (%1), %0\n1:" : "+r"(v) : "r"(addr) : "memory");
    *val = v;
    return try_done();
}

int sdk_try_write64(volatile void *addr, uint64_t val)
{
    __asm__ volatile(ASM_TRY("1f") "movq %1, (%0)\n1:" : : "r"(addr), "r"(val) : "memory");
    return try_done();
}
