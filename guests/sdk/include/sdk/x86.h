/* SPDX-License-Identifier: MIT */
/*
 * One-instruction wrappers for what a guest kernel does to the CPU: MSRs, port
 * I/O, RFLAGS.IF, HLT, RDTSC, control registers, descriptor tables, INVLPG.
 * Under snpref, RDMSR/WRMSR, IN/OUT, RDTSC and HLT are intercepted and answered
 * by the reference hypervisor, so every wrapper is `asm volatile` with a memory
 * clobber: the compiler must neither drop nor reorder them around guest memory
 * accesses, because each is an observable event in the model's trace.
 */
#ifndef SDK_X86_H
#define SDK_X86_H

#include <stdbool.h>
#include <stdint.h>

#define X86_RFLAGS_IF (1ull << 9)

/* Exception vectors. */
enum {
    X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5,
    X86_UD = 6, X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11, X86_SS = 12,
    X86_GP = 13, X86_PF = 14, X86_MF = 16, X86_AC = 17, X86_MC = 18, X86_XM = 19,
    X86_VE = 20, X86_CP = 21, X86_VC = 29, X86_SX = 30,
};

/* #PF error-code bits. */
#define X86_PF_P     (1u << 0)
#define X86_PF_W     (1u << 1)
#define X86_PF_U     (1u << 2)
#define X86_PF_RSVD  (1u << 3)
#define X86_PF_I     (1u << 4)

/* MSRs the SDK uses outside the x2APIC range. */
#define MSR_IA32_APIC_BASE    0x0000001Bu
#define MSR_IA32_TSC_DEADLINE 0x000006E0u
#define MSR_IA32_GS_BASE      0xC0000101u

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "memory");
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }

/*
 * STI's one-instruction interrupt shadow makes "sti; hlt" atomic: an interrupt
 * already pending is taken after HLT, which then returns at once, so a
 * check-then-halt loop run with IF=0 cannot miss its wake-up.
 */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }

/*
 * Opens an interrupt window of exactly one instruction (the NOP): whatever is
 * pending and deliverable is taken there, as kvm-unit-tests' sti_nop_cli().
 */
static inline void sti_nop_cli(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

static inline uint64_t read_rflags(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
    return f;
}

static inline bool irqs_enabled(void) { return read_rflags() & X86_RFLAGS_IF; }

/* Disables interrupts and returns the old RFLAGS, for irq_restore(). */
static inline uint64_t irq_save(void)
{
    uint64_t f = read_rflags();
    cli();
    return f;
}

static inline void irq_restore(uint64_t flags)
{
    if (flags & X86_RFLAGS_IF)
        sti();
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* CPUID leaf/subleaf into r[0..3] = EAX, EBX, ECX, EDX (intercepted: #VC under SEV-ES). */
static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub) : "memory");
}

#define X86_CR4_OSXSAVE (1ull << 18)
#define X86_RFLAGS_TF   (1ull << 8)
#define X86_RFLAGS_DF   (1ull << 10)

static inline uint64_t xgetbv(uint32_t index)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_cr0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}


static inline uint64_t read_rsp(void)
{
    uint64_t v;
    __asm__ volatile("mov %%rsp, %0" : "=r"(v));
    return v;
}

static inline void invlpg(const volatile void *va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

struct __attribute__((packed)) x86_dtr {
    uint16_t limit;
    uint64_t base;
};

static inline void lgdt(const struct x86_dtr *d)
{
    __asm__ volatile("lgdt %0" : : "m"(*d) : "memory");
}

static inline void lidt(const struct x86_dtr *d)
{
    __asm__ volatile("lidt %0" : : "m"(*d) : "memory");
}
static inline void ltr(uint16_t sel) { __asm__ volatile("ltr %0" : : "rm"(sel) : "memory"); }

static inline void sidt(struct x86_dtr *d) { __asm__ volatile("sidt %0" : "=m"(*d)); }
static inline void sgdt(struct x86_dtr *d) { __asm__ volatile("sgdt %0" : "=m"(*d)); }

static inline uint16_t str(void)
{
    uint16_t sel;
    __asm__ volatile("str %0" : "=r"(sel));
    return sel;
}

/* (a * b) / c with a 128-bit intermediate; the caller keeps the quotient < 2^64. */
static inline uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t q, r;
    __asm__("mulq %3; divq %4" : "=a"(q), "=&d"(r) : "a"(a), "rm"(b), "rm"(c) : "cc");
    return q;
}

#endif
