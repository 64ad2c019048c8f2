/* SPDX-License-Identifier: MIT */
/*
 * Small host-side basics every module may use: the model-bug assertion (the
 * third error tier, after a guest's mistakes and API or config errors: a broken
 * invariant of the model itself, never a guest or user mistake), and a few
 * macros. Header-only, depends on nothing.
 */
#ifndef SNPREF_BASE_H
#define SNPREF_BASE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x)     __builtin_expect(!!(x), 1)
#define unlikely(x)   __builtin_expect(!!(x), 0)

/* Exit status for an internal model error (docs/design.md section 3). */
#define SNP_EXIT_INTERNAL 70

__attribute__((noreturn, format(printf, 3, 4), cold)) static inline void
snp_panic_at(const char *file, int line, const char *fmt, ...);

#include <stdarg.h>
static inline void snp_panic_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "snpref: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(SNP_EXIT_INTERNAL);
}

/* Always on, in every build type: a model bug must never pass silently. */
#define SNP_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (unlikely(!(cond)))                                                                     \
            snp_panic_at(__FILE__, __LINE__, "assertion failed: %s", #cond);                       \
    } while (0)
#define SNP_PANIC(...) snp_panic_at(__FILE__, __LINE__, __VA_ARGS__)

#endif
