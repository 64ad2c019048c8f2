/* SPDX-License-Identifier: MIT */
/*
 * The Secure AVIC backing page over a vCPU's life (docs/sev-snp-facts.md 7.7):
 *  1. the backing-page NAE (0x8000001A) refuses nonsense with 2 / INVALID_INPUT:
 *     an unaligned page, a target APIC ID no vCPU has, an unknown request;
 *  2. teardown in the order of the Linux kexec patch (SAVIC_CONTROL 0, then
 *     UNREGISTER, which returns the page) and set-up again work on cpu0;
 *  3. cpu1 enables Secure AVIC on a page the hypervisor never registered: the
 *     hardware cannot reach it, and cpu1's next VMRUN fails with VMEXIT_BUSY,
 *     as does every one after it (cpu1 stops for good);
 *  4. teardown on cpu0 and cpu2, then a "following kernel" that knows nothing
 *     of Secure AVIC: cpu2 is destroyed and booted again without the driver,
 *     and IPIs between cpu0 and cpu2 and cpu0's timer go through the
 *     hypervisor's emulated x2APIC.
 * Needs 3 vCPUs; `--mode snp --apic savic` only.
 */
#include <sdk/sdk.h>

#define VEC_IPI   0x64
#define VEC_TIMER 0x65
#define VEC_SELF  0x66

static volatile uint64_t heartbeat[SDK_MAX_CPUS];
static volatile uint32_t got[SDK_MAX_CPUS][256];
static volatile uint64_t busy_page;
static volatile uint32_t go_busy, go_teardown;

static void handler(struct sdk_frame *f)
{
    got[sdk_cpu()][(uint8_t)f->vector]++;
    x2apic_eoi();
}

static void teardown(void *arg);

void ap_main(unsigned cpu)
{
    sti();
    for (;;) {
        heartbeat[cpu]++;
        if (cpu == 2 && go_teardown && sdk_savic_on()) {
            teardown(NULL);
            go_teardown = 0;
        }
        if (cpu == 1 && go_busy) {
            go_busy = 0;
            /* Never registered: the hypervisor does not keep it mapped. */
            wrmsr(MSR_SAVIC_CONTROL, busy_page | 1);
        }
        cpu_relax();
    }
}

static bool running(unsigned cpu)
{
    uint64_t h = heartbeat[cpu];
    return SDK_WAIT_FOR(heartbeat[cpu] != h, 2000);
}

static void refused(const char *what, uint32_t rc, uint64_t info2)
{
    printf("savic_lifecycle: 1. %-34s SW_EXITINFO1 %u SW_EXITINFO2 %lu\n", what, rc, info2);
    GUEST_ASSERT_EQ(rc, GHCB_HV_RESP_MALFORMED_INPUT);
    GUEST_ASSERT_EQ(info2, GHCB_ERR_INVALID_INPUT);
}

static void self_ipi_works(unsigned cpu)
{
    uint32_t n = got[cpu][VEC_SELF];
    x2apic_self_ipi(VEC_SELF);
    SDK_HALT_UNTIL(got[cpu][VEC_SELF] == n + 1);
    cli();
}

static void teardown(void *arg)
{
    (void)arg;
    uint64_t prev = 0;
    GUEST_ASSERT_EQ(sdk_savic_teardown(&prev), 0);
    GUEST_ASSERT_EQ(prev, (uint64_t)(uintptr_t)this_cpu()->savic_page);
    GUEST_ASSERT(!sdk_savic_on());
}

int main(void)
{
    uint64_t info2;
    GUEST_ASSERT(sdk_savic_on());
    for (unsigned v = VEC_IPI; v <= VEC_SELF; v++)
        sdk_set_handler(v, handler);

    /* 1 */
    uint64_t page = (uint64_t)(uintptr_t)this_cpu()->savic_page;
    uint32_t rc = sdk_savic_register(SVM_VMGEXIT_SAVIC_SELF, page + 8, &info2);
    refused("unaligned page", rc, info2);
    rc = sdk_savic_register(99, page, &info2);
    refused("APIC ID no vCPU has", rc, info2);
    {
        struct sdk_ghcb_state st;
        struct ghcb *g = sdk_ghcb_get(&st);
        GHCB_SET(g, rax, SVM_VMGEXIT_SAVIC_SELF);
        rc = sdk_ghcb_call(g, SVM_VMGEXIT_SAVIC, 7, 0);
        info2 = g->save.sw_exit_info_2;
        sdk_ghcb_put(&st);
        refused("request 7", rc, info2);
    }

    /* 2 */
    teardown(NULL);
    sdk_savic_cpu_init(this_cpu());
    GUEST_ASSERT(sdk_savic_on());
    self_ipi_works(0);
    printf("savic_lifecycle: 2. SAVIC_CONTROL 0 + UNREGISTER returned page 0x%lx; "
           "set up again, self IPI taken\n", page);

    /* 3 */
    GUEST_ASSERT(sdk_start_ap(1));
    GUEST_ASSERT(sdk_start_ap(2));
    GUEST_ASSERT(running(1) && running(2));
    busy_page = (uint64_t)(uintptr_t)sdk_alloc_pages(1);
    go_busy = 1;
    GUEST_WAIT_FOR(!go_busy, 10000);
    GUEST_ASSERT(!running(1));
    GUEST_ASSERT(running(2));
    printf("savic_lifecycle: 3. cpu1 enabled an unregistered page: VMEXIT_BUSY, it runs no more\n");

    /* 4 */
    go_teardown = 1;
    GUEST_WAIT_FOR(!go_teardown, 10000);
    teardown(NULL);
    GUEST_ASSERT_EQ(sdk_snp_ap_destroy(2, &info2), 0);
    sdk_savic_set_boot_enable(false);
    GUEST_ASSERT(sdk_start_ap(2));
    GUEST_ASSERT(!sdk_percpu_of(2)->savic_on);
    GUEST_ASSERT(running(2));
    x2apic_send_ipi(sdk_apic_id_of(2), VEC_IPI);   /* intercepted: the hypervisor's x2APIC */
    GUEST_WAIT_FOR(got[2][VEC_IPI] == 1, 10000);
    lapic_timer_oneshot(VEC_TIMER, lapic_us_to_count(20, 1), 1);
    SDK_HALT_UNTIL(got[0][VEC_TIMER] == 1);
    cli();
    self_ipi_works(0);
    printf("savic_lifecycle: 4. after teardown a kernel without the driver booted cpu2: "
           "IPI, timer and self IPI through the emulated x2APIC\n");
    printf("savic_lifecycle: PASS\n");
    return 0;
}
