/* SPDX-License-Identifier: MIT */
/*
 * Ending a run and checking conditions. sdk_exit() writes the status to the
 * exit port (0xF4), which ends the whole system whichever vCPU writes it; the
 * asserts print file:line and the values (hex and decimal) and exit with
 * SDK_EXIT_ASSERT. Status values: 0 pass, 1 assertion, 2 unexpected exception
 * or interrupt, 3 the boot info or a requirement (e.g. vCPU count) is not met.
 */
#ifndef SDK_TEST_H
#define SDK_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sdk/x86.h>

#define SDK_EXIT_PASS       0
#define SDK_EXIT_ASSERT     1
#define SDK_EXIT_UNEXPECTED 2
#define SDK_EXIT_SETUP      3

void sdk_exit(uint32_t status) __attribute__((noreturn));

/* Prints "FAIL: <message>" and exits with status. */
void sdk_fail(uint32_t status, const char *fmt, ...)
    __attribute__((noreturn, format(__printf__, 2, 3)));

void sdk_assert_fail(const char *file, int line, const char *expr) __attribute__((noreturn));
void sdk_assert_eq_fail(const char *file, int line, const char *a, const char *b,
                        uint64_t va, uint64_t vb) __attribute__((noreturn));

#define GUEST_ASSERT(cond)                                                    \
    do {                                                                      \
        if (__builtin_expect(!(cond), 0))                                     \
            sdk_assert_fail(__FILE__, __LINE__, #cond);                       \
    } while (0)

#define GUEST_ASSERT_EQ(a, b)                                                 \
    do {                                                                      \
        uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);                    \
        if (__builtin_expect(__a != __b, 0))                                  \
            sdk_assert_eq_fail(__FILE__, __LINE__, #a, #b, __a, __b);         \
    } while (0)

/* TSC ticks in us microseconds (boot info tsc_hz). */
uint64_t sdk_us_to_tsc(uint64_t us);

/* Spins (interrupts as they are) for us microseconds of simulated TSC time. */
void sdk_delay_us(uint64_t us);

/*
 * Spins until cond holds or timeout_us of TSC time pass; evaluates to whether
 * cond held. Interrupts stay as the caller left them.
 */
#define SDK_WAIT_FOR(cond, timeout_us) ({                                     \
        uint64_t __dl = rdtsc() + sdk_us_to_tsc(timeout_us);                  \
        bool __ok;                                                            \
        for (;;) {                                                            \
            if (cond) { __ok = true; break; }                                 \
            if (rdtsc() >= __dl) { __ok = (cond); break; }                    \
            cpu_relax();                                                      \
        }                                                                     \
        __ok;                                                                 \
    })

/* GUEST_ASSERT on SDK_WAIT_FOR, naming the condition that never came true. */
#define GUEST_WAIT_FOR(cond, timeout_us)                                      \
    do {                                                                      \
        if (!SDK_WAIT_FOR(cond, timeout_us))                                  \
            sdk_assert_fail(__FILE__, __LINE__, "timed out waiting for " #cond); \
    } while (0)

/*
 * Halts until cond holds, re-checking after every interrupt: cond is tested
 * with IF=0 and "sti; hlt" closes the race with an interrupt that would make
 * it true. Returns with IF=1. Use it when an interrupt is certain to come (the
 * model halts a vCPU for good otherwise); SDK_WAIT_FOR when it may not.
 */
#define SDK_HALT_UNTIL(cond)                                                  \
    do {                                                                      \
        cli();                                                                \
        while (!(cond)) {                                                     \
            safe_halt();                                                      \
            cli();                                                            \
        }                                                                     \
        sti();                                                                \
    } while (0)

#endif
