/* SPDX-License-Identifier: MIT */
/*
 * Mixed-page compute benchmark: a load-modify-store loop whose data lies on
 * the same 4 KiB page as its own instructions, as in JIT output, kernel
 * trampolines or hand-written assembly with inline tables. Every store lands on
 * a page the model has decoded code from, the case issue 10 measured as the
 * slowest (each store used to trap into the model as possible self-modifying
 * code). bench_mixed_kernel is written in assembly so the layout is exact: the
 * code at the start of a page-aligned block in .text, bench_mixed_data (256
 * qwords) 2 KiB further on the same page. Like bench_compute's kernel it uses
 * nothing but its page and the stack (RDI = iterations, result in RAX), so
 * `snpref bench` can also run it in a bare Unicorn engine; bench_kernel and
 * bench_iterations name it for the bench (the same symbols as bench_compute).
 */
#include <sdk/sdk.h>

/* bench_kernel(100000) on a zeroed buffer, computed on the host with the
 * equivalent C loop (buf[i] = buf[i] * 3 + (256 - i); sum += buf[i]). */
#define MIXED_CHECKSUM 0xebc856415d308800ull

const volatile uint64_t bench_iterations __attribute__((used)) = 100000;

uint64_t bench_kernel(uint64_t iterations);

__asm__(
    "    .pushsection .text.mixed, \"ax\", @progbits\n"
    "    .balign 4096\n"
    "    .globl bench_kernel\n"
    "    .type bench_kernel, @function\n"
    "bench_kernel:\n"
    "    xor %eax, %eax\n"
    "1:  lea bench_mixed_data(%rip), %rdx\n"
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
    "    .size bench_kernel, . - bench_kernel\n"
    "    .balign 2048\n"
    "    .globl bench_mixed_data\n"
    "bench_mixed_data:\n"
    "    .zero 2048\n"
    "    .popsection\n");

int main(void)
{
    uint64_t iterations = bench_iterations;
    uint64_t t0 = rdtsc();
    uint64_t sum = bench_kernel(iterations);
    uint64_t t1 = rdtsc();
    printf("bench_mixed: %lu iterations over 256 qwords beside their code: checksum 0x%lx, "
           "%lu TSC ticks\n",
           iterations, sum, t1 - t0);
    if (iterations == 100000)
        GUEST_ASSERT_EQ(sum, MIXED_CHECKSUM);
    return 0;
}
