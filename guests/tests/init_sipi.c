/* SPDX-License-Identifier: MIT */
/*
 * AP start-up in plain mode (docs/guest-abi.md "Application processors"):
 * INIT then SIPI starts each AP at vector << 12 in 64-bit mode with its own
 * boot stack, RSI = its index and IF = 0; INIT sent to a running AP puts it back
 * into wait-for-SIPI (it stops executing); a second SIPI restarts it from the
 * entry point; a SIPI to a running AP is ignored. Each AP's ap_main() spins
 * incrementing a heartbeat, which is how vCPU 0 sees whether it runs.
 */
#include <sdk/sdk.h>

/* Longer than a scheduling quantum of the model, so a running vCPU shows progress. */
#define QUIET_US 1000

static volatile uint64_t heartbeat[SDK_MAX_CPUS];

void ap_main(unsigned cpu)
{
    for (;;) {
        atomic_inc(&heartbeat[cpu]);
        cpu_relax();
    }
}

static void check_entry_state(unsigned cpu, uint32_t boots)
{
    const struct sdk_percpu *p = sdk_percpu_of(cpu);
    uint64_t stack_top = sdk_bootinfo->stack_top_base - cpu * sdk_bootinfo->stack_size;

    GUEST_ASSERT_EQ(sdk_ap_boot_count(cpu), boots);
    GUEST_ASSERT_EQ(p->entry_rsp, stack_top);
    GUEST_ASSERT_EQ(p->entry_rflags & X86_RFLAGS_IF, 0);
    GUEST_ASSERT_EQ(p->index, cpu);
    GUEST_ASSERT_EQ(p->apic_id, sdk_apic_id_of(cpu));
    printf("init_sipi: cpu%u (APIC ID %u) started, boot %u, RSP 0x%lx, RFLAGS 0x%lx\n", cpu,
           p->apic_id, boots, p->entry_rsp, p->entry_rflags);
}

static bool running(unsigned cpu)
{
    uint64_t h = heartbeat[cpu];
    return SDK_WAIT_FOR(heartbeat[cpu] != h, QUIET_US);
}

int main(void)
{
    unsigned n = sdk_cpu_count();
    if (n < 2)
        sdk_fail(SDK_EXIT_SETUP, "init_sipi needs at least 2 vCPUs, has %u", n);

    for (unsigned i = 1; i < n; i++) {
        GUEST_ASSERT_EQ(sdk_ap_boot_count(i), 0);
        GUEST_ASSERT(!running(i));               /* not started yet: waiting for INIT/SIPI */
        GUEST_ASSERT(sdk_start_ap(i));
        check_entry_state(i, 1);
        GUEST_ASSERT(running(i));
    }

    uint32_t apic1 = sdk_apic_id_of(1);
    x2apic_send_init(apic1);
    sdk_delay_us(QUIET_US);                      /* let the INIT land */
    GUEST_ASSERT(!running(1));
    GUEST_ASSERT_EQ(sdk_ap_boot_count(1), 1);
    printf("init_sipi: INIT stopped cpu1 (heartbeat %lu)\n", heartbeat[1]);

    x2apic_send_sipi(apic1, SDK_SIPI_VECTOR);
    GUEST_WAIT_FOR(sdk_ap_boot_count(1) == 2, SDK_AP_TIMEOUT_US);
    GUEST_WAIT_FOR(sdk_percpu_of(1)->online, SDK_AP_TIMEOUT_US);
    check_entry_state(1, 2);
    GUEST_ASSERT(running(1));
    printf("init_sipi: a second SIPI restarted cpu1\n");

    x2apic_send_sipi(apic1, SDK_SIPI_VECTOR);
    sdk_delay_us(QUIET_US);
    GUEST_ASSERT_EQ(sdk_ap_boot_count(1), 2);
    GUEST_ASSERT(running(1));
    printf("init_sipi: SIPI to running cpu1 ignored\n");

    for (unsigned i = 2; i < n; i++) {
        GUEST_ASSERT_EQ(sdk_ap_boot_count(i), 1);
        GUEST_ASSERT(running(i));
    }
    printf("init_sipi: PASS\n");
    return 0;
}
