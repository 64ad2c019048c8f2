/* SPDX-License-Identifier: MIT */
/*
 * Compute benchmark: a sieve of Eratosthenes over a 64 KiB buffer, repeated.
 * bench_kernel() is self-contained on purpose (no calls, no MSR or port I/O;
 * memory: only bench_buffer, plus the stack for its return address and saved
 * registers), so a benchmark can run exactly this function in a bare Unicorn
 * engine (map the ELF's PT_LOAD segments and a stack, RDI = iterations, result
 * in RAX) and compare with the full model. bench_kernel, bench_buffer and
 * bench_iterations (the count main() uses, read by `snpref bench` from the
 * image) are global symbols. It is store-heavy: every pass rewrites the buffer, the
 * path that Unicorn 2.0.x made slow (docs/unicorn.md).
 */
#include <sdk/sdk.h>

#define BENCH_BYTES      65536u
/* bench_kernel(200), computed on the host with the same C: a model that
 * mis-executes the loop fails the run instead of producing a fast wrong number. */
#define BENCH_CHECKSUM   0x33382a5a86292f10ull

uint8_t bench_buffer[BENCH_BYTES] __attribute__((aligned(4096), used));
/* volatile: main() must read it from the image, as `snpref bench` does. */
const volatile uint64_t bench_iterations __attribute__((used)) = 200;

uint64_t bench_kernel(uint64_t iterations) __attribute__((noinline, noclone, used));

/* Pass it: sieve the first BENCH_BYTES - (it & 255) numbers; fold the prime counts. */
uint64_t bench_kernel(uint64_t iterations)
{
    uint64_t sum = 0;

    for (uint64_t it = 0; it < iterations; it++) {
        uint32_t n = BENCH_BYTES - (uint32_t)(it & 255);
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

int main(void)
{
    uint64_t iterations = bench_iterations;
    uint64_t t0 = rdtsc();
    uint64_t sum = bench_kernel(iterations);
    uint64_t t1 = rdtsc();
    printf("bench_compute: %lu iterations of a %u-byte sieve: checksum 0x%lx, %lu TSC ticks\n",
           iterations, BENCH_BYTES, sum, t1 - t0);
    if (iterations == 200)
        GUEST_ASSERT_EQ(sum, BENCH_CHECKSUM);
    return 0;
}
