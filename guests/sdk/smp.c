/* SPDX-License-Identifier: MIT */
/*
 * AP bring-up in plain mode (INIT, then SIPI with vector 0x08, through the
 * x2APIC ICR; docs/guest-abi.md "Application processors"), the AP idle loop,
 * cross-vCPU calls and a barrier. The BSP does not wait 10 ms between INIT and
 * SIPI as the MP spec asks of real hardware: the model needs no settling time,
 * and a guest that wants it can call sdk_delay_us() itself.
 *
 * SEV-ES starts an AP the same way (its first SIPI runs the launch VMSA; a
 * parked AP wakes at the next SIPI). SNP creates it with AP_CREATION instead
 * (sev_smp.c).
 */
#include <sdk/sdk.h>

bool sdk_snp_start_ap(unsigned cpu);
void sdk_snp_reap(unsigned cpu);

#define CALL_CLAIMED ((void (*)(void *))1)   /* mailbox taken, fn not yet written */

void __attribute__((weak)) ap_main(unsigned cpu)
{
    (void)cpu;
}

void sdk_ap_idle(void)
{
    struct sdk_percpu *me = this_cpu();

    for (;;) {
        cli();
        void (*fn)(void *) = atomic_load(&me->call_fn);
        if (fn && fn != CALL_CLAIMED) {
            sti();
            fn(me->call_arg);
            cli();
            atomic_store(&me->call_fn, (void (*)(void *))0);
            continue;
        }
        safe_halt();
    }
}

unsigned sdk_cpus_online(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < sdk_cpu_count(); i++)
        n += atomic_load(&sdk_percpu[i].online) ? 1 : 0;
    return n;
}

/* What the real-mode AP trampoline needs (start.S sdk_ap_params). */
struct ap_params {
    uint64_t cr3;
    uint8_t gdtr[10], pad[6];     /* LGDT image: limit, then base */
    uint64_t bootinfo, apic_ids;
    uint32_t count, pad2;
    uint64_t stack_top_base, stack_size;
};
_Static_assert(sizeof(struct ap_params) == 64, "start.S offsets");
extern struct ap_params sdk_ap_params;

static void fill_ap_params(void)
{
    struct x86_dtr gdtr;
    sgdt(&gdtr);
    uint64_t cr3 = read_cr3();
    if (cr3 >> 32)
        sdk_fail(SDK_EXIT_SETUP, "CR3 %#lx is above 4 GiB: the AP trampoline loads it in 32-bit mode",
                 cr3);
    sdk_ap_params.cr3 = cr3;
    memcpy(sdk_ap_params.gdtr, &gdtr.limit, 2);
    memcpy(sdk_ap_params.gdtr + 2, &gdtr.base, 8);
    sdk_ap_params.bootinfo = (uintptr_t)sdk_bootinfo;
    sdk_ap_params.apic_ids = (uintptr_t)sdk_bootinfo->apic_id;
    sdk_ap_params.count = sdk_bootinfo->vcpu_count;
    sdk_ap_params.stack_top_base = sdk_bootinfo->stack_top_base;
    sdk_ap_params.stack_size = sdk_bootinfo->stack_size;
}

static void send_init_sipi(unsigned cpu)
{
    fill_ap_params();
    atomic_store(&sdk_percpu[cpu].online, 0u);
    x2apic_send_init(sdk_apic_id_of(cpu));
    x2apic_send_sipi(sdk_apic_id_of(cpu), SDK_SIPI_VECTOR);
}

/* Plain and SEV-ES: INIT + SIPI. SNP: AP_CREATE with a fresh VMSA. */
static bool kick(unsigned cpu)
{
    if (sdk_snp_active())
        return sdk_snp_start_ap(cpu);
    send_init_sipi(cpu);
    return true;
}

bool sdk_start_ap(unsigned cpu)
{
    uint32_t before = sdk_ap_boot_count(cpu);
    if (!kick(cpu))
        return false;
    bool ok = SDK_WAIT_FOR(sdk_ap_boot_count(cpu) != before && atomic_load(&sdk_percpu[cpu].online),
                           SDK_AP_TIMEOUT_US);
    if (ok && sdk_snp_active())
        sdk_snp_reap(cpu);
    return ok;
}

void sdk_start_aps(void)
{
    unsigned n = sdk_cpu_count();
    uint32_t before[SDK_MAX_CPUS];

    for (unsigned i = 1; i < n; i++) {
        before[i] = sdk_ap_boot_count(i);
        if (!kick(i))
            sdk_fail(SDK_EXIT_SETUP, "cpu %u (APIC ID %u) could not be created", i,
                     sdk_apic_id_of(i));
    }
    for (unsigned i = 1; i < n; i++)
        if (!SDK_WAIT_FOR(sdk_ap_boot_count(i) != before[i] && atomic_load(&sdk_percpu[i].online),
                          SDK_AP_TIMEOUT_US))
            sdk_fail(SDK_EXIT_SETUP, "cpu %u (APIC ID %u) did not start within %u us of %s",
                     i, sdk_apic_id_of(i), SDK_AP_TIMEOUT_US,
                     sdk_snp_active() ? "AP_CREATE" : "SIPI");
    if (sdk_snp_active())
        for (unsigned i = 1; i < n; i++)
            sdk_snp_reap(i);
}

void sdk_on_cpu_async(unsigned cpu, void (*fn)(void *), void *arg)
{
    struct sdk_percpu *p = &sdk_percpu[cpu];

    while (!atomic_cmpxchg(&p->call_fn, (void (*)(void *))0, CALL_CLAIMED))
        cpu_relax();
    p->call_arg = arg;
    atomic_store(&p->call_fn, fn);
    x2apic_send_ipi(sdk_apic_id_of(cpu), SDK_WAKE_VECTOR);
}

void sdk_on_cpu_wait(unsigned cpu)
{
    while (atomic_load(&sdk_percpu[cpu].call_fn))
        cpu_relax();
}

void sdk_on_cpu(unsigned cpu, void (*fn)(void *), void *arg)
{
    if (cpu == sdk_cpu()) {
        fn(arg);
        return;
    }
    sdk_on_cpu_async(cpu, fn, arg);
    sdk_on_cpu_wait(cpu);
}

void sdk_on_each_cpu(void (*fn)(void *), void *arg)
{
    unsigned me = sdk_cpu(), n = sdk_cpu_count();

    for (unsigned i = 0; i < n; i++)
        if (i != me && atomic_load(&sdk_percpu[i].online))
            sdk_on_cpu_async(i, fn, arg);
    fn(arg);
    for (unsigned i = 0; i < n; i++)
        if (i != me)
            sdk_on_cpu_wait(i);
}

void sdk_barrier_wait(struct sdk_barrier *b, unsigned n)
{
    uint32_t sense = READ_ONCE(b->sense);
    if (atomic_inc(&b->count) == n) {
        WRITE_ONCE(b->count, 0);
        atomic_store(&b->sense, sense ^ 1u);
    } else {
        while (READ_ONCE(b->sense) == sense)
            cpu_relax();
    }
}
