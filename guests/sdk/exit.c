/* SPDX-License-Identifier: MIT */
/*
 * Ending the run (a 32-bit OUT to the exit port, which stops every vCPU) and
 * the failure reporters behind GUEST_ASSERT / GUEST_ASSERT_EQ / sdk_fail, plus
 * the TSC-based delays that tests use for timeouts.
 */
#include <sdk/sdk.h>

void sdk_exit(uint32_t status)
{
    outl(SNP_PORT_EXIT, status);
    /* The model stops at the OUT; if it ever did not, park here rather than run on. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void sdk_fail(uint32_t status, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    sdk_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("FAIL: %s\n", buf);
    sdk_exit(status);
}

void sdk_assert_fail(const char *file, int line, const char *expr)
{
    printf("FAIL: %s:%d: cpu %u: assertion failed: %s\n", file, line, sdk_cpu(), expr);
    sdk_exit(SDK_EXIT_ASSERT);
}

void sdk_assert_eq_fail(const char *file, int line, const char *a, const char *b,
                        uint64_t va, uint64_t vb)
{
    printf("FAIL: %s:%d: cpu %u: %s == %s: 0x%lx (%ld) != 0x%lx (%ld)\n", file, line, sdk_cpu(),
           a, b, va, (int64_t)va, vb, (int64_t)vb);
    sdk_exit(SDK_EXIT_ASSERT);
}

uint64_t sdk_us_to_tsc(uint64_t us)
{
    return muldiv64(us, sdk_bootinfo->tsc_hz, 1000000);
}

void sdk_delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + sdk_us_to_tsc(us);
    while (rdtsc() < end)
        cpu_relax();
}
