/* SPDX-License-Identifier: MIT */
/*
 * Exception delivery through the guest IDT: vector, error code, pushed RIP, CS,
 * SS, RSP and CR2, each checked in the handler. Faults (#DE, #UD, #GP from a
 * selector beyond the GDT limit and from WRMSR/RDMSR to an unknown MSR, #PF on
 * a not-present and on a read-only 4 KiB page) push the faulting RIP and resume
 * through ASM_TRY; traps (int3, int $0x80) push the next RIP and no error code;
 * a #UD routed to IST3 runs on the IST3 stack with the interrupted RSP in its
 * frame. References: SDM vol. 3 6.12-6.15, AMD APM vol. 2 8.2-8.4.
 */
#include <sdk/sdk.h>

#define BAD_MSR 0x12345678u
#define BAD_SEL 0x103          /* index 32 > GDT limit, RPL 3: error code 0x100 */

static struct {
    int vector;
    uint64_t error_code, cr2;
} expect;
static volatile unsigned faults;
static uint8_t pf_page[4096] __attribute__((aligned(4096)));

static void check_common(const struct sdk_frame *f)
{
    GUEST_ASSERT_EQ(f->cs, SDK_SEL_CODE);
    GUEST_ASSERT_EQ(f->ss, SDK_SEL_DATA);
    GUEST_ASSERT_EQ(f->rflags & X86_RFLAGS_IF, 0);
    GUEST_ASSERT(f->rflags & 2);                     /* bit 1 always reads 1 */
}

/* Handler for the faults: checks what was expected, then resumes at the ASM_TRY label. */
static void fault_handler(struct sdk_frame *f)
{
    check_common(f);
    GUEST_ASSERT_EQ(f->vector, expect.vector);
    GUEST_ASSERT_EQ(f->error_code, expect.error_code);
    if (f->vector == X86_PF)
        GUEST_ASSERT_EQ(read_cr2(), expect.cr2);
    GUEST_ASSERT(sdk_ex_fixup(f));                   /* RIP is the faulting instruction */
    faults++;
}

static void expect_fault(int vector, uint64_t error_code, uint64_t cr2)
{
    expect.vector = vector;
    expect.error_code = error_code;
    expect.cr2 = cr2;
}

static void done(const char *what)
{
    GUEST_ASSERT_EQ(sdk_ex_vector(), expect.vector);
    printf("exceptions: %-28s %s error 0x%lx rip 0x%lx%s", what, sdk_vector_name(expect.vector),
           sdk_ex_error_code(), sdk_ex_rip(), expect.vector == X86_PF ? "" : "\n");
    if (expect.vector == X86_PF)
        printf(" cr2 0x%lx\n", sdk_ex_cr2());
}

static void test_de_ud(void)
{
    uint32_t eax = 1, edx = 0, zero = 0;
    expect_fault(X86_DE, 0, 0);
    __asm__ volatile(ASM_TRY("1f") "divl %[z]\n1:"
                     : "+a"(eax), "+d"(edx) : [z] "r"(zero) : "memory");
    done("divide by zero");

    expect_fault(X86_UD, 0, 0);
    __asm__ volatile(ASM_TRY("1f") "ud2\n1:" ::: "memory");
    done("ud2");
}

static void test_gp(void)
{
    uint16_t sel = BAD_SEL, ds;
    expect_fault(X86_GP, BAD_SEL & 0xFFFC, 0);
    __asm__ volatile(ASM_TRY("1f") "movw %[s], %%ds\n1:" : : [s] "r"(sel) : "memory");
    done("mov 0x103 -> ds");
    __asm__ volatile("movw %%ds, %0" : "=r"(ds));
    GUEST_ASSERT_EQ(ds, SDK_SEL_DATA);

    expect_fault(X86_GP, 0, 0);
    __asm__ volatile(ASM_TRY("1f") "wrmsr\n1:" : : "c"(BAD_MSR), "a"(0), "d"(0) : "memory");
    done("wrmsr 0x12345678");
    __asm__ volatile(ASM_TRY("1f") "rdmsr\n1:" : : "c"(BAD_MSR) : "rax", "rdx", "memory");
    done("rdmsr 0x12345678");
}

static void test_pf(void)
{
    volatile uint64_t *p = (volatile uint64_t *)(pf_page + 0x18);
    uintptr_t va = (uintptr_t)p;
    uint64_t *pte = sdk_pte_4k(va), saved, v = 0;

    GUEST_ASSERT(va < 0x200000);
    GUEST_ASSERT(pte != 0);
    saved = *pte;
    *p = 0x1122334455667788ull;

    *pte = saved & ~PTE_P;
    invlpg(p);
    expect_fault(X86_PF, 0, va);
    __asm__ volatile(ASM_TRY("1f") "movq (%[a]), %[v]\n1:" : [v] "+r"(v) : [a] "r"(p) : "memory");
    done("read, page not present");
    expect_fault(X86_PF, X86_PF_W, va);
    __asm__ volatile(ASM_TRY("1f") "movq %[v], (%[a])\n1:" : : [v] "r"(v), [a] "r"(p) : "memory");
    done("write, page not present");

    *pte = saved & ~PTE_W;
    invlpg(p);
    GUEST_ASSERT_EQ(*p, 0x1122334455667788ull);      /* still readable */
    expect_fault(X86_PF, X86_PF_P | X86_PF_W, va);
    __asm__ volatile(ASM_TRY("1f") "movq %[v], (%[a])\n1:" : : [v] "r"(v), [a] "r"(p) : "memory");
    done("write, page read-only");

    *pte = saved;
    invlpg(p);
    *p = 42;
    GUEST_ASSERT_EQ(*p, 42);
}

static volatile uint64_t trap_rip, trap_vector, trap_error, trap_rsp;

static void trap_handler(struct sdk_frame *f)
{
    check_common(f);
    trap_rip = f->rip;
    trap_vector = f->vector;
    trap_error = f->error_code;
    trap_rsp = f->rsp;
}

static void test_traps(void)
{
    uint64_t after, rsp;

    __asm__ volatile("movq %%rsp, %1\n\tleaq 1f(%%rip), %0\n\tint3\n1:"
                     : "=&r"(after), "=&r"(rsp) : : "memory");
    GUEST_ASSERT_EQ(trap_vector, X86_BP);
    GUEST_ASSERT_EQ(trap_rip, after);
    GUEST_ASSERT_EQ(trap_rsp, rsp);
    printf("exceptions: %-28s #BP rip 0x%lx (the next instruction)\n", "int3", trap_rip);

    __asm__ volatile("movq %%rsp, %1\n\tleaq 1f(%%rip), %0\n\tint $0x80\n1:"
                     : "=&r"(after), "=&r"(rsp) : : "memory");
    GUEST_ASSERT_EQ(trap_vector, 0x80);
    GUEST_ASSERT_EQ(trap_rip, after);
    GUEST_ASSERT_EQ(trap_rsp, rsp);                  /* frame not shifted by an error code */
    GUEST_ASSERT_EQ(trap_error, 0);
    printf("exceptions: %-28s vector 0x80 rip 0x%lx, no error code\n", "int $0x80", trap_rip);
}

static volatile uint64_t ist_handler_rsp, ist_frame_rsp;

static void ist_handler(struct sdk_frame *f)
{
    ist_handler_rsp = read_rsp();
    ist_frame_rsp = f->rsp;
    GUEST_ASSERT((uint64_t)(uintptr_t)f >= sdk_ist_base(3) &&
                 (uint64_t)(uintptr_t)f < sdk_ist_top(3));
    fault_handler(f);
}

static void test_ist(void)
{
    uint64_t rsp;

    sdk_set_handler(X86_UD, ist_handler);
    sdk_set_ist(X86_UD, 3);
    expect_fault(X86_UD, 0, 0);
    __asm__ volatile("movq %%rsp, %0\n\t" ASM_TRY("1f") "ud2\n1:" : "=&r"(rsp) : : "memory");
    sdk_set_ist(X86_UD, 0);
    sdk_set_handler(X86_UD, fault_handler);
    GUEST_ASSERT(ist_handler_rsp >= sdk_ist_base(3) && ist_handler_rsp < sdk_ist_top(3));
    GUEST_ASSERT_EQ(ist_frame_rsp, rsp);
    done("ud2 on IST3");
}

int main(void)
{
    static const int fault_vectors[] = { X86_DE, X86_UD, X86_GP, X86_PF };
    for (unsigned i = 0; i < 4; i++)
        sdk_set_handler((unsigned)fault_vectors[i], fault_handler);
    sdk_set_handler(X86_BP, trap_handler);
    sdk_set_handler(0x80, trap_handler);

    test_de_ud();
    test_gp();
    test_pf();
    test_traps();
    test_ist();
    GUEST_ASSERT_EQ(faults, 9);
    printf("exceptions: PASS\n");
    return 0;
}
