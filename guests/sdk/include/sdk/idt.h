/* SPDX-License-Identifier: MIT */
/*
 * Interrupt and exception handling: one shared 256-gate IDT whose stubs (isr.S)
 * save every GPR and call a C dispatcher with a struct sdk_frame, per-vector
 * handler registration, and a kvm-unit-tests-style way to expect a fault:
 *
 *     asm volatile(ASM_TRY("1f") "ud2\n1:" ::: "memory");
 *     GUEST_ASSERT_EQ(sdk_ex_vector(), X86_UD);
 *
 * ASM_TRY records, per vCPU, the address of the instruction that follows it and
 * where to resume; if exactly that instruction faults and no handler is
 * registered for the vector, the dispatcher records vector, error code and CR2
 * and resumes at the fixup label. Matching the faulting RIP (not just "a fault
 * happened") means a stale ASM_TRY can never swallow an unrelated fault.
 * Handlers run with IF=0 (all gates are interrupt gates) and must EOI fixed
 * interrupts themselves, because tests need to control when EOI happens.
 */
#ifndef SDK_IDT_H
#define SDK_IDT_H

#include <stdbool.h>
#include <stdint.h>
#include <sdk/percpu.h>

/* Saved by isr.S in this order (r15 at the lowest address). */
struct sdk_regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
};

struct sdk_frame {
    struct sdk_regs regs;
    uint64_t vector;
    uint64_t error_code;          /* 0 where the CPU pushes none */
    /* What the CPU pushed. */
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*sdk_handler_t)(struct sdk_frame *f);

/* Installs fn for vector (NULL restores the default: report and exit 2). */
void sdk_set_handler(unsigned vector, sdk_handler_t fn);

/* Selects the IST stack (1..3, 0 = none) of a gate; the TSS holds the stacks. */
void sdk_set_ist(unsigned vector, unsigned ist);

/* [base, top) of this vCPU's IST stack n (1..3), for tests that check RSP. */
uint64_t sdk_ist_base(unsigned n);
uint64_t sdk_ist_top(unsigned n);

/* Whether the CPU pushes an error code for this vector. */
bool sdk_vector_has_error_code(unsigned vector);

/* Mnemonic of an exception vector ("#GP"), "INT" for >= 32. */
const char *sdk_vector_name(unsigned vector);

/* Prints the frame (vector, error code, RIP, CR2, GPRs) to the console. */
void sdk_dump_frame(const struct sdk_frame *f);

/* Spurious interrupts (SDK_SPURIOUS_VECTOR) taken so far, all vCPUs. */
uint32_t sdk_spurious_count(void);

/* Loads the IDT on this vCPU (done by the SDK at boot). */
void sdk_idt_load(void);

/* Arms the fixup: "catch" is an asm label (e.g. "1f") to resume at. */
#define ASM_TRY(catch)                                                     \
    "movl $-1, %%gs:" SDK_PCPU_EX_VECTOR "\n\t"                            \
    "movq $" catch ", %%gs:" SDK_PCPU_FIXUP_RIP "\n\t"                     \
    "movq $1111f, %%gs:" SDK_PCPU_TRY_RIP "\n\t"                           \
    "1111:\n\t"

/* Results of the last ASM_TRY on this vCPU: vector (-1 when nothing faulted). */
static inline int sdk_ex_vector(void) { return this_cpu()->ex_vector; }
static inline uint64_t sdk_ex_error_code(void) { return this_cpu()->ex_error_code; }
static inline uint64_t sdk_ex_cr2(void) { return this_cpu()->ex_cr2; }
static inline uint64_t sdk_ex_rip(void) { return this_cpu()->ex_rip; }

/*
 * For a handler that wants to check a fault itself and then resume as ASM_TRY
 * would: records the fault and jumps to the fixup. Returns false (and changes
 * nothing) when the faulting RIP is not the armed one.
 */
bool sdk_ex_fixup(struct sdk_frame *f);

/* Faulting accesses as functions: each returns the vector caught or -1. */
int sdk_try_rdmsr(uint32_t msr, uint64_t *val);
int sdk_try_wrmsr(uint32_t msr, uint64_t val);
int sdk_try_read64(const volatile void *addr, uint64_t *val);
int sdk_try_write64(volatile void *addr, uint64_t val);

#endif
