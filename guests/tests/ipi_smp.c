/* SPDX-License-Identifier: MIT */
/*
 * Fixed IPIs between vCPUs in every addressing form of the x2APIC ICR (SDM
 * 10.6.1, 10.12.9-10): physical destination, logical destination (x2APIC
 * cluster: LDR = cluster << 16 | 1 << (id & 15)), physical broadcast
 * 0xFFFFFFFF, the all-including-self, all-excluding-self and self shorthands,
 * and lowest-priority delivery to a logical set. Each phase uses its own vector;
 * every vCPU counts what it receives and vCPU 0 checks the exact count of each
 * vCPU after the phase has settled. Written for 4 vCPUs, works with 2 or more.
 */
#include <sdk/sdk.h>

enum { PH_PHYS, PH_LOGICAL, PH_BCAST, PH_OTHERS, PH_ALL, PH_SELF, PH_LOWEST, NPHASES };
static const char *const phase_name[NPHASES] = {
    "physical ring", "logical clusters", "broadcast 0xFFFFFFFF", "all-excluding-self",
    "all-including-self", "self", "lowest priority",
};
#define VECTOR(ph) (0x40 + (ph))
#define SETTLE_US  50
#define WAIT_US    20000

static volatile uint32_t recv[SDK_MAX_CPUS][NPHASES];
static volatile uint32_t ldr[SDK_MAX_CPUS];
static unsigned ncpus;

static void handler(struct sdk_frame *f)
{
    atomic_inc(&recv[sdk_cpu()][f->vector - VECTOR(0)]);
    x2apic_eoi();
}

static unsigned total(unsigned ph)
{
    unsigned t = 0;
    for (unsigned i = 0; i < ncpus; i++)
        t += recv[i][ph];
    return t;
}

/* Waits for the phase's total, lets stray extras arrive, then prints and checks each vCPU. */
static void check_phase(unsigned ph, const uint32_t *want)
{
    unsigned sum = 0;
    for (unsigned i = 0; i < ncpus; i++)
        sum += want[i];
    GUEST_WAIT_FOR(total(ph) >= sum, WAIT_US);
    sdk_delay_us(SETTLE_US);
    char line[256];
    int len = snprintf(line, sizeof(line), "ipi_smp: %-22s vector 0x%x:", phase_name[ph],
                       VECTOR(ph));
    for (unsigned i = 0; i < ncpus && len < (int)sizeof(line); i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, " cpu%u=%u", i, recv[i][ph]);
    printf("%s\n", line);
    for (unsigned i = 0; i < ncpus; i++)
        GUEST_ASSERT_EQ(recv[i][ph], want[i]);
}

static void send_ring(void *arg)
{
    (void)arg;
    x2apic_send_ipi(sdk_apic_id_of((sdk_cpu() + 1) % ncpus), VECTOR(PH_PHYS));
}

static void read_ldr(void *arg)
{
    (void)arg;
    ldr[sdk_cpu()] = x2apic_ldr();
}

static void send_self(void *arg)
{
    (void)arg;
    x2apic_send_shorthand(APIC_SH_SELF, APIC_DM_FIXED, VECTOR(PH_SELF));
}

static void set_tpr(void *arg)
{
    x2apic_set_tpr((uint8_t)(uintptr_t)arg);
}

/* One logical IPI per x2APIC cluster covering every AP (vCPU 0 excluded). */
static void send_logical(uint32_t mode, uint8_t vector, bool first_cluster_only)
{
    for (unsigned i = 1; i < ncpus; i++) {
        uint32_t cluster = ldr[i] & 0xFFFF0000u, bits = 0;
        bool seen = false;
        for (unsigned j = 1; j < i; j++)
            seen |= (ldr[j] & 0xFFFF0000u) == cluster;
        if (seen)
            continue;
        for (unsigned j = 1; j < ncpus; j++)
            if ((ldr[j] & 0xFFFF0000u) == cluster)
                bits |= ldr[j] & 0xFFFFu;
        x2apic_icr(APIC_DEST_LOGICAL | mode | APIC_LEVEL_ASSERT | vector, cluster | bits);
        if (first_cluster_only)
            return;
    }
}

int main(void)
{
    uint32_t want[SDK_MAX_CPUS];

    ncpus = sdk_cpu_count();
    if (ncpus < 2)
        sdk_fail(SDK_EXIT_SETUP, "ipi_smp needs at least 2 vCPUs (--vcpus 4), has %u", ncpus);
    for (unsigned ph = 0; ph < NPHASES; ph++)
        sdk_set_handler(VECTOR(ph), handler);
    sdk_start_aps();
    printf("ipi_smp: %u vCPUs online\n", sdk_cpus_online());
    sti();

    sdk_on_each_cpu(send_ring, 0);
    for (unsigned i = 0; i < ncpus; i++)
        want[i] = 1;
    check_phase(PH_PHYS, want);

    sdk_on_each_cpu(read_ldr, 0);
    for (unsigned i = 0; i < ncpus; i++)
        GUEST_ASSERT_EQ(ldr[i], x2apic_logical_id(sdk_apic_id_of(i)));
    send_logical(APIC_DM_FIXED, VECTOR(PH_LOGICAL), false);
    want[0] = 0;
    check_phase(PH_LOGICAL, want);

    x2apic_icr(APIC_DM_FIXED | APIC_LEVEL_ASSERT | VECTOR(PH_BCAST), APIC_BROADCAST);
    want[0] = 1;
    check_phase(PH_BCAST, want);

    x2apic_send_shorthand(APIC_SH_OTHERS, APIC_DM_FIXED, VECTOR(PH_OTHERS));
    want[0] = 0;
    check_phase(PH_OTHERS, want);

    x2apic_send_shorthand(APIC_SH_ALL, APIC_DM_FIXED, VECTOR(PH_ALL));
    want[0] = 1;
    check_phase(PH_ALL, want);

    sdk_on_each_cpu(send_self, 0);
    check_phase(PH_SELF, want);

    /* Lowest priority to the APs of the first cluster: exactly one of them takes it.
     * The last AP of that cluster has TPR 0, the others 0x20, so an arbitration by
     * priority picks it; which one is taken is printed, not asserted. */
    unsigned last = 1;
    for (unsigned i = 1; i < ncpus; i++) {
        bool in_first = (ldr[i] & 0xFFFF0000u) == (ldr[1] & 0xFFFF0000u);
        if (in_first)
            last = i;
        sdk_on_cpu(i, set_tpr, (void *)(uintptr_t)0x20);
    }
    sdk_on_cpu(last, set_tpr, (void *)(uintptr_t)0);
    send_logical(APIC_DM_LOWEST, VECTOR(PH_LOWEST), true);
    GUEST_WAIT_FOR(total(PH_LOWEST) >= 1, WAIT_US);
    sdk_delay_us(SETTLE_US);
    GUEST_ASSERT_EQ(total(PH_LOWEST), 1);
    GUEST_ASSERT_EQ(recv[0][PH_LOWEST], 0);
    for (unsigned i = 1; i < ncpus; i++)
        if (recv[i][PH_LOWEST])
            printf("ipi_smp: %-22s vector 0x%x: taken by cpu%u (lowest TPR: cpu%u)\n",
                   phase_name[PH_LOWEST], VECTOR(PH_LOWEST), i, last);
    for (unsigned i = 1; i < ncpus; i++)
        sdk_on_cpu(i, set_tpr, 0);

    printf("ipi_smp: PASS\n");
    return 0;
}
