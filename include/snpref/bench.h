/* SPDX-License-Identifier: MIT */
/*
 * What `snpref bench` (tools/bench.c) and its guests agree on, shared
 * unchanged by the tool (host C) and the freestanding kernels of
 * guests/bench/bench_kernels.h, like abi.h: the console lines that bracket a
 * kernel, the amount of work each kernel does and the checksum it must
 * produce, and the ping-pong's rounds and vectors. Both the SDK guests and
 * the bench's QEMU image do exactly this work, so their times compare.
 */
#ifndef SNPREF_BENCH_ABI_H
#define SNPREF_BENCH_ABI_H

/* Printed, each on a line of its own, just before and just after a kernel
 * (the end line with the kernel's result); the bench timestamps them. */
#define BENCH_MARK_START "bench: start"
#define BENCH_MARK_END   "bench: end"

#define BENCH_SIEVE_BYTES      65536u
#define BENCH_SIEVE_ITERATIONS 600u
/* sieve_kernel(600) computed on the host with the same C: a machine that
 * mis-executes the loop fails the run instead of producing a fast wrong number. */
#define BENCH_SIEVE_CHECKSUM   0xe69cdf0247aa8991ull

#define BENCH_MIXED_ITERATIONS 50000u
/* mixed_kernel(50000) on a zeroed buffer, computed on the host with the
 * equivalent C loop (buf[i] = buf[i] * 3 + (256 - i); sum += buf[i]). */
#define BENCH_MIXED_CHECKSUM   0xfbe18e1afb154400ull

#define BENCH_PINGPONG_ROUNDS 10000u
#define BENCH_PING_VECTOR     0x40
#define BENCH_PONG_VECTOR     0x41

#endif
