/* SPDX-License-Identifier: MIT */
/*
 * Mixed-page compute benchmark under snpref: bench_kernels.h's loop whose
 * data shares a 4 KiB page with its instructions, the same body the bench's
 * QEMU image runs. Every store lands on a page the model has decoded code
 * from, the case issue 10 measured as the slowest (each store used to trap
 * into the model as possible self-modifying code). bench_kernel and
 * bench_iterations name it for `snpref bench`, as in bench_compute.
 */
#include <sdk/sdk.h>

#define BENCH_WITH_MIXED
#include "bench_kernels.h"

const volatile uint64_t bench_iterations __attribute__((used)) = BENCH_MIXED_ITERATIONS;

__asm__(".globl bench_kernel\n.set bench_kernel, mixed_kernel\n");

int main(void)
{
    uint64_t iterations = bench_iterations;
    printf(BENCH_MARK_START "\n");
    uint64_t sum = mixed_kernel(iterations);
    printf(BENCH_MARK_END " 0x%lx\n", sum);
    printf("bench_mixed: %lu iterations over 256 qwords beside their code: checksum 0x%lx\n",
           iterations, sum);
    if (iterations == BENCH_MIXED_ITERATIONS)
        GUEST_ASSERT_EQ(sum, BENCH_MIXED_CHECKSUM);
    return 0;
}
