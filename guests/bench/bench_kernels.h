/* SPDX-License-Identifier: MIT */
/*
 * The benchmark kernels, shared by the SDK guests snpref runs
 * (bench_compute.c, bench_mixed.c, bench_pingpong.c) and by the multiboot
 * image QEMU TCG runs (qemu/mb_main.c), so that `snpref bench` compares the
 * same machine code doing the same amount of work on both sides (issue 10).
 * Include it in exactly one translation unit of an image, after defining
 * BENCH_WITH_SIEVE, BENCH_WITH_MIXED and/or BENCH_WITH_PINGPONG for the
 * kernels it runs: it defines their functions and data.
 *
 * Each image prints BENCH_MARK_START just before a kernel and BENCH_MARK_END
 * (with the kernel's checksum) just after it, each on its own console line
 * (include/snpref/bench.h holds what the tool and the kernels agree on);
 * the bench timestamps those lines as they reach the host, so neither
 * side's start-up (SeaBIOS and the multiboot loader, the model's own set-up)
 * is counted in the kernel's time.
 *
 *  - sieve_kernel: a sieve of Eratosthenes over a 64 KiB buffer, repeated:
 *    store-heavy, the path Unicorn keeps slow when a TLB entry is executable
 *    (docs/unicorn.md). Self-contained (no calls, no MSR or port I/O; memory:
 *    bench_buffer and the stack), so the bench can run it alone in a bare
 *    Unicorn engine too.
 *  - mixed_kernel: a load-modify-store loop whose 256 qwords lie on the same
 *    4 KiB page as its instructions (JIT output, trampolines, inline tables),
 *    in assembly so that the layout is exact; self-contained as well.
 *  - pingpong: the bootstrap processor sends a fixed IPI to the other, whose
 *    handler answers with another, BENCH_PINGPONG_ROUNDS times; both sides
 *    wait halted, so the interrupt path is measured rather than spinning. The
 *    includer defines bench_send_ipi() and bench_eoi() (x2APIC MSR writes on
 *    both sides) before including this file.
 */
#ifndef BENCH_KERNELS_H
#define BENCH_KERNELS_H

#include <stdint.h>

#include "snpref/bench.h" /* the amounts of work, the checksums and the marks */

/* ---- sieve ---------------------------------------------------------------- */
#ifdef BENCH_WITH_SIEVE

uint8_t bench_buffer[BENCH_SIEVE_BYTES] __attribute__((aligned(4096), used));

uint64_t sieve_kernel(uint64_t iterations) __attribute__((noinline, noclone, used));

/* Pass it: sieve the first BENCH_SIEVE_BYTES - (it & 255) numbers; fold the prime counts. */
uint64_t sieve_kernel(uint64_t iterations)
{
    uint64_t sum = 0;

    for (uint64_t it = 0; it < iterations; it++) {
        uint32_t n = BENCH_SIEVE_BYTES - (uint32_t)(it & 255);
        for (uint32_t i = 0; i < n; i++)
            bench_buffer[i] = 1;
        bench_buffer[0] = bench_buffer[1] = 0;
        for (uint32_t p = 2; p * p < n; p++)
            if (bench_buffer[p])
                for (uint32_t m = p * p; m < n; m += p)
                    bench_buffer[m] = 0;
        uint32_t count = 0;
        for (uint32_t i = 0; i < n; i++)
            count += bench_buffer[i];
        sum = sum * 31 + count;
    }
    return sum;
}

#endif

/* ---- mixed: code and data on one page -------------------------------------- */
#ifdef BENCH_WITH_MIXED

uint64_t mixed_kernel(uint64_t iterations);

__asm__(
    "    .pushsection .text.mixed, \"ax\", @progbits\n"
    "    .balign 4096\n"
    "    .globl mixed_kernel\n"
    "    .type mixed_kernel, @function\n"
    "mixed_kernel:\n"
    "    xor %eax, %eax\n"
    "1:  lea mixed_data(%rip), %rdx\n"
    "    mov $256, %ecx\n"
    "2:  mov (%rdx), %r8\n"
    "    lea (%r8,%r8,2), %r8\n"
    "    add %rcx, %r8\n"
    "    mov %r8, (%rdx)\n"
    "    add %r8, %rax\n"
    "    add $8, %rdx\n"
    "    dec %ecx\n"
    "    jnz 2b\n"
    "    dec %rdi\n"
    "    jnz 1b\n"
    "    ret\n"
    "    .size mixed_kernel, . - mixed_kernel\n"
    "    .balign 2048\n"
    "    .globl mixed_data\n"
    "mixed_data:\n"
    "    .zero 2048\n"
    "    .popsection\n");

#endif

/* ---- pingpong --------------------------------------------------------------- */
#ifdef BENCH_WITH_PINGPONG

static volatile uint32_t bench_pings, bench_pongs;
static uint32_t bench_bsp_apic_id;

/* Halts until cond holds: cond is tested with IF=0 and "sti; hlt" closes the
 * race with the interrupt that makes it true. Returns with IF=0. */
#define BENCH_HALT_UNTIL(cond)                                              \
    do {                                                                    \
        __asm__ volatile("cli" ::: "memory");                               \
        while (!(cond))                                                     \
            __asm__ volatile("sti; hlt; cli" ::: "memory");                 \
    } while (0)

static void bench_ping(void) /* the handler of BENCH_PING_VECTOR, on the peer */
{
    bench_pings++;
    bench_eoi();
    bench_send_ipi(bench_bsp_apic_id, BENCH_PONG_VECTOR);
}

static void bench_pong(void) /* the handler of BENCH_PONG_VECTOR, on the BSP */
{
    bench_pongs++;
    bench_eoi();
}

/* On the BSP, with both handlers installed and the peer waiting with IF=1:
 * returns 0 when every ping was answered. */
static int bench_pingpong(uint32_t bsp_apic_id, uint32_t peer_apic_id)
{
    bench_bsp_apic_id = bsp_apic_id;
    for (uint32_t i = 0; i < BENCH_PINGPONG_ROUNDS; i++) {
        bench_send_ipi(peer_apic_id, BENCH_PING_VECTOR);
        BENCH_HALT_UNTIL(bench_pongs == i + 1);
    }
    return bench_pings == BENCH_PINGPONG_ROUNDS && bench_pongs == BENCH_PINGPONG_ROUNDS ? 0 : 1;
}
#endif

#endif
