/* SPDX-License-Identifier: MIT */
/*
 * Compute benchmark under snpref: bench_kernels.h's store-heavy sieve, the
 * same body the bench's QEMU image runs (qemu/mb_main.c). bench_kernel and
 * bench_iterations are the symbols `snpref bench` reads from the image to run
 * the kernel alone in a bare Unicorn engine (map the ELF's PT_LOAD segments
 * and a stack, RDI = iterations, result in RAX).
 */
#include <sdk/sdk.h>

#define BENCH_WITH_SIEVE
#include "bench_kernels.h"

/* volatile: main() must read it from the image, as `snpref bench` does. */
const volatile uint64_t bench_iterations __attribute__((used)) = BENCH_SIEVE_ITERATIONS;

__asm__(".globl bench_kernel\n.set bench_kernel, sieve_kernel\n");

int main(void)
{
    uint64_t iterations = bench_iterations;
    printf(BENCH_MARK_START "\n");
    uint64_t sum = sieve_kernel(iterations);
    printf(BENCH_MARK_END " 0x%lx\n", sum);
    printf("bench_compute: %lu iterations of a %u-byte sieve: checksum 0x%lx\n", iterations,
           BENCH_SIEVE_BYTES, sum);
    if (iterations == BENCH_SIEVE_ITERATIONS)
        GUEST_ASSERT_EQ(sum, BENCH_SIEVE_CHECKSUM);
    return 0;
}
