/* SPDX-License-Identifier: MIT */
/*
 * The bench's QEMU image (boot.S is its entry): bench_kernels.h's kernels on
 * bare QEMU TCG, so that `snpref bench` can compare snpref with the emulator
 * its users would otherwise run on the same machine code. The multiboot
 * command line (`-append`) names the kernel: sieve, mixed or pingpong.
 * The image prints the same start and end lines as the SDK guests on COM1
 * and ends the run through QEMU's isa-debug-exit device at port 0xF4
 * (`-device isa-debug-exit`: QEMU exits with status 2 * value + 1, so 1 is
 * a pass and 3 a failure).
 *
 * What it needs of the machine is what the SDK provides under snpref: the
 * x2APIC (SDM vol. 3 10.12: IA32_APIC_BASE bits 10 and 11, then the MSRs at
 * 0x800), an IDT, and for pingpong the second processor, started by
 * INIT-SIPI-SIPI (SDM vol. 3 8.4.4.1) through the real-mode trampoline.
 */
#include <stddef.h>
#include <stdint.h>

#define X2APIC_MSR(off) (0x800u + ((off) >> 4))
#define APIC_EOI        0x0B0
#define APIC_SVR        0x0F0
#define APIC_ICR        0x300
#define MSR_APIC_BASE   0x1B
#define COM1            0x3F8
#define DEBUG_EXIT_PORT 0xF4
#define TRAMP_GPA       0x8000u /* SIPI vector 0x08 */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void bench_send_ipi(uint32_t apic_id, uint8_t vector)
{
    wrmsr(X2APIC_MSR(APIC_ICR), (uint64_t)apic_id << 32 | 0x4000u | vector); /* fixed, assert */
}
static inline void bench_eoi(void) { wrmsr(X2APIC_MSR(APIC_EOI), 0); }

#define BENCH_WITH_SIEVE
#define BENCH_WITH_MIXED
#define BENCH_WITH_PINGPONG
#include "../bench_kernels.h"

/* ---- console and exit ----------------------------------------------------- */

static void putc_com1(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (uint8_t)c);
}

static void puts_com1(const char *s)
{
    while (*s)
        putc_com1(*s++);
}

static void puthex(uint64_t v)
{
    puts_com1("0x");
    int shift = 60;
    while (shift > 0 && !((v >> shift) & 0xF))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        putc_com1("0123456789abcdef"[(v >> shift) & 0xF]);
}

static void putdec(uint64_t v)
{
    char buf[24];
    int n = 0;
    do
        buf[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 23);
    while (n)
        putc_com1(buf[--n]);
}

static __attribute__((noreturn)) void finish(int failed)
{
    outb(DEBUG_EXIT_PORT, failed ? 1 : 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static __attribute__((noreturn)) void fail(const char *why)
{
    puts_com1("bench_qemu: ");
    puts_com1(why);
    putc_com1('\n');
    finish(1);
}

/* ---- interrupts ----------------------------------------------------------- */

struct gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
};
static struct gate idt[256] __attribute__((aligned(16)));

#define VEC(n) extern char mb_vec_##n[];
VEC(0) VEC(1) VEC(2) VEC(3) VEC(4) VEC(5) VEC(6) VEC(7) VEC(8) VEC(9) VEC(10) VEC(11) VEC(12)
VEC(13) VEC(14) VEC(15) VEC(16) VEC(17) VEC(18) VEC(19) VEC(20) VEC(21) VEC(22) VEC(23) VEC(24)
VEC(25) VEC(26) VEC(27) VEC(28) VEC(29) VEC(30) VEC(31) VEC(64) VEC(65)
#undef VEC
static char *const exc_stub[32] = {
    mb_vec_0,  mb_vec_1,  mb_vec_2,  mb_vec_3,  mb_vec_4,  mb_vec_5,  mb_vec_6,  mb_vec_7,
    mb_vec_8,  mb_vec_9,  mb_vec_10, mb_vec_11, mb_vec_12, mb_vec_13, mb_vec_14, mb_vec_15,
    mb_vec_16, mb_vec_17, mb_vec_18, mb_vec_19, mb_vec_20, mb_vec_21, mb_vec_22, mb_vec_23,
    mb_vec_24, mb_vec_25, mb_vec_26, mb_vec_27, mb_vec_28, mb_vec_29, mb_vec_30, mb_vec_31,
};

static void set_gate(unsigned vec, const void *fn)
{
    uint64_t a = (uint64_t)fn;
    idt[vec] = (struct gate){.off_lo = (uint16_t)a, .sel = 0x08, .type = 0x8E,
                             .off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32)};
}

static void load_idt(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } p = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(p));
}

/* Called by boot.S's stubs. An exception (the error code, if any, stays on
 * the stack above the vector: the run ends anyway) fails the run. */
void mb_interrupt(uint64_t vector);
void mb_interrupt(uint64_t vector)
{
    if (vector == BENCH_PING_VECTOR)
        bench_ping();
    else if (vector == BENCH_PONG_VECTOR)
        bench_pong();
    else {
        puts_com1("bench_qemu: exception ");
        putdec(vector);
        putc_com1('\n');
        finish(1);
    }
}

/* x2APIC on, software-enabled, spurious vector 0xFF. */
static void x2apic_on(void)
{
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | 0xC00);
    wrmsr(X2APIC_MSR(APIC_SVR), 0x1FF);
}

/* ---- the application processor ------------------------------------------ */

extern char ap_tramp[], ap_tramp_end[];
extern uint64_t ap_stack_top;
static uint8_t ap_stack[16384] __attribute__((aligned(16)));
static volatile uint32_t ap_ready;

void mb_ap_main(void);
void mb_ap_main(void)
{
    load_idt();
    x2apic_on();
    ap_ready = 1;
    for (;;)
        __asm__ volatile("sti; hlt" ::: "memory");
}

static void start_ap(uint32_t apic_id)
{
    volatile uint8_t *dst = (volatile uint8_t *)(uintptr_t)TRAMP_GPA;
    for (const char *s = ap_tramp; s < ap_tramp_end; s++)
        *dst++ = (uint8_t)*s;
    ap_stack_top = (uint64_t)(ap_stack + sizeof(ap_stack));
    uint64_t dest = (uint64_t)apic_id << 32;
    wrmsr(X2APIC_MSR(APIC_ICR), dest | 0x4500); /* INIT, assert */
    for (volatile int i = 0; i < 100000; i++)
        ;
    for (int k = 0; k < 2; k++) {
        wrmsr(X2APIC_MSR(APIC_ICR), dest | 0x4600 | (TRAMP_GPA >> 12)); /* STARTUP */
        for (volatile int i = 0; i < 10000; i++)
            ;
    }
    for (uint64_t spins = 0; !ap_ready; spins++) {
        if (spins > (1ull << 32))
            fail("the AP never came up");
        __asm__ volatile("pause");
    }
}

/* ---- main ----------------------------------------------------------------- */

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The multiboot command line's last word (QEMU passes the kernel's path first
 * when -append is given; Multiboot 3.3: flags bit 2, cmdline at offset 16). */
static const char *kernel_name(uint32_t mbi)
{
    const uint32_t *info = (const uint32_t *)(uintptr_t)mbi;
    if (!(info[0] & 4))
        return "";
    const char *s = (const char *)(uintptr_t)info[4], *word = s;
    for (; *s; s++)
        if (*s == ' ' && s[1] && s[1] != ' ')
            word = s + 1;
    return word;
}

void mb_main(uint32_t mbi);
void mb_main(uint32_t mbi)
{
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, exc_stub[v]);
    set_gate(BENCH_PING_VECTOR, mb_vec_64);
    set_gate(BENCH_PONG_VECTOR, mb_vec_65);
    load_idt();
    /* SeaBIOS leaves the 8259s running with the PIT on IRQ 0 at vector 8:
     * masked, only the kernels' own interrupts arrive. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    const char *name = kernel_name(mbi);
    uint64_t sum, want;
    if (streq(name, "sieve")) {
        puts_com1(BENCH_MARK_START "\n");
        sum = sieve_kernel(BENCH_SIEVE_ITERATIONS);
        want = BENCH_SIEVE_CHECKSUM;
    } else if (streq(name, "mixed")) {
        puts_com1(BENCH_MARK_START "\n");
        sum = mixed_kernel(BENCH_MIXED_ITERATIONS);
        want = BENCH_MIXED_CHECKSUM;
    } else if (streq(name, "pingpong")) {
        uint32_t ecx;
        __asm__ volatile("cpuid" : "=c"(ecx) : "a"(1), "c"(0) : "ebx", "edx");
        if (!(ecx & (1u << 21)))
            fail("no x2APIC (run QEMU with -cpu max)");
        x2apic_on();
        uint32_t bsp = (uint32_t)rdmsr(X2APIC_MSR(0x020));
        start_ap(bsp ^ 1);
        puts_com1(BENCH_MARK_START "\n");
        sum = bench_pingpong(bsp, bsp ^ 1) ? 0 : bench_pongs;
        want = BENCH_PINGPONG_ROUNDS;
    } else {
        fail("the command line names no kernel (sieve, mixed, pingpong)");
    }
    puts_com1(BENCH_MARK_END " ");
    if (streq(name, "pingpong"))
        putdec(sum);
    else
        puthex(sum);
    putc_com1('\n');
    if (sum != want)
        fail("wrong result");
    finish(0);
}
