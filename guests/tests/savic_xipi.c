/* SPDX-License-Identifier: MIT */
/*
 * Cross-vCPU IPIs under Secure AVIC, by both paths a guest has: a raw WRMSR
 * of the ICR, and the SDK driver's x2apic_icr(). Under `savic` the raw WRMSR
 * of a fixed IPI to another vCPU is #VC 0x401 (AVIC_INCOMPLETE_IPI) and the
 * #VC handler sets the vector in the target's page and forwards the ICR; the
 * driver does the same without the #VC. Under `savic-xipi` (apic/fab_savic_xipi.c)
 * the hardware delivers fixed edge IPIs itself: both paths are one WRMSR and
 * no exit. Lowest-priority and NMI IPIs take the #VC 0x401 path under both.
 *
 * Phases: ROUNDS raw IPIs to each AP, ROUNDS driver IPIs to each AP, one
 * raw all-excluding-self broadcast, one raw IPI that wakes a halted AP, one
 * lowest-priority and one NMI IPI to AP 1. Every receipt is counted and
 * checked exactly. Then it prints the median IPI round trip it measured with
 * RDTSC (send to the target's acknowledgement seen): a measured number,
 * different under each fabric, which `snpref compare --ignore console` lets
 * pass. Written for 3 vCPUs, works with 2 or more.
 */
#include <sdk/sdk.h>

#define VEC_RAW     0x71
#define VEC_DRIVER  0x72
#define VEC_BCAST   0x73
#define VEC_WAKE    0x74
#define VEC_LOWEST  0x75
#define ROUNDS      8
#define WAIT_US     20000

static volatile uint32_t got[SDK_MAX_CPUS][256], nmis[SDK_MAX_CPUS];
static volatile uint32_t halt_now, halted;
static volatile uint64_t heartbeat[SDK_MAX_CPUS];
static uint64_t rtt[2 * ROUNDS * SDK_MAX_CPUS];
static unsigned nrtt, ncpus;

static void ipi_handler(struct sdk_frame *f)
{
    atomic_inc(&got[sdk_cpu()][(uint8_t)f->vector]);
    x2apic_eoi();
}

static void nmi_handler(struct sdk_frame *f)
{
    (void)f;
    atomic_inc(&nmis[sdk_cpu()]);
}

void ap_main(unsigned cpu)
{
    sti();
    while (!(cpu == 1 && halt_now))
        heartbeat[cpu]++;
    halted = 1;
    SDK_HALT_UNTIL(got[1][VEC_WAKE] == 1);
    for (;;)
        heartbeat[cpu]++;
}

static void raw_icr(uint32_t low, uint32_t dest)
{
    wrmsr(APIC_ICR, (uint64_t)dest << 32 | low); /* not the driver: the instruction itself */
}

/* One IPI to cpu by raw WRMSR or by the driver; waits for it and records the round trip. */
static void ping(unsigned cpu, bool raw)
{
    uint8_t vec = raw ? VEC_RAW : VEC_DRIVER;
    uint32_t before = got[cpu][vec], low = APIC_DM_FIXED | APIC_LEVEL_ASSERT | vec;
    uint64_t t0 = rdtsc();
    if (raw)
        raw_icr(low, sdk_apic_id_of(cpu));
    else
        x2apic_icr(low, sdk_apic_id_of(cpu));
    GUEST_WAIT_FOR(got[cpu][vec] == before + 1, WAIT_US);
    rtt[nrtt++] = rdtsc() - t0;
}

static uint64_t median(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) /* insertion sort: a few dozen samples */
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? v[n / 2] : 0;
}

int main(void)
{
    GUEST_ASSERT(sdk_savic_on());
    ncpus = sdk_cpu_count();
    GUEST_ASSERT(ncpus >= 2);
    for (unsigned v = VEC_RAW; v <= VEC_LOWEST; v++)
        sdk_set_handler((uint8_t)v, ipi_handler);
    sdk_set_handler(X86_NMI, nmi_handler);
    for (unsigned c = 1; c < ncpus; c++) {
        GUEST_ASSERT(sdk_start_ap(c));
        uint64_t h = heartbeat[c];
        GUEST_WAIT_FOR(heartbeat[c] != h, SDK_AP_TIMEOUT_US);
    }
    bool hw = (sdk_bootinfo->fabric_caps & SNP_FABRIC_CAP_XIPI) != 0;
    printf("savic_xipi: hardware cross-vCPU IPIs: %s\n", hw ? "yes" : "no");

    for (int raw = 1; raw >= 0; raw--) {
        for (unsigned r = 0; r < ROUNDS; r++)
            for (unsigned c = 1; c < ncpus; c++)
                ping(c, raw);
        for (unsigned c = 1; c < ncpus; c++)
            GUEST_ASSERT_EQ(got[c][raw ? VEC_RAW : VEC_DRIVER], ROUNDS);
        printf("savic_xipi: %u %s IPIs to each of %u APs taken\n", ROUNDS,
               raw ? "raw WRMSR" : "driver", ncpus - 1);
    }

    raw_icr(APIC_SH_OTHERS | APIC_DM_FIXED | APIC_LEVEL_ASSERT | VEC_BCAST, 0);
    for (unsigned c = 1; c < ncpus; c++)
        GUEST_WAIT_FOR(got[c][VEC_BCAST] == 1, WAIT_US);
    GUEST_ASSERT_EQ(got[0][VEC_BCAST], 0);
    printf("savic_xipi: all-excluding-self broadcast taken once by each AP, not by cpu0\n");

    halt_now = 1;
    GUEST_WAIT_FOR(halted, WAIT_US);
    sdk_delay_us(50); /* let it reach HLT */
    raw_icr(APIC_DM_FIXED | APIC_LEVEL_ASSERT | VEC_WAKE, sdk_apic_id_of(1));
    GUEST_WAIT_FOR(got[1][VEC_WAKE] == 1, WAIT_US);
    printf("savic_xipi: halted cpu1 woke for 0x%x\n", VEC_WAKE);

    /* Not for the hardware: #VC 0x401 and the driver, under either fabric. */
    raw_icr(APIC_DM_LOWEST | APIC_LEVEL_ASSERT | VEC_LOWEST, sdk_apic_id_of(1));
    GUEST_WAIT_FOR(got[1][VEC_LOWEST] == 1, WAIT_US);
    raw_icr(APIC_DM_NMI | APIC_LEVEL_ASSERT, sdk_apic_id_of(1));
    GUEST_WAIT_FOR(nmis[1] == 1, WAIT_US);
    printf("savic_xipi: lowest-priority and NMI IPIs to cpu1 taken once each\n");

    printf("savic_xipi: median IPI round trip %llu TSC cycles over %u IPIs\n",
           (unsigned long long)median(rtt, nrtt), nrtt);
    printf("savic_xipi: PASS\n");
    return 0;
}
