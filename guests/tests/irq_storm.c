/* SPDX-License-Identifier: MIT */
/*
 * A seeded random interrupt storm for `snpref compare` (issue 4): every vCPU
 * runs its LAPIC timer in periodic mode and, for ROUNDS rounds chosen by a
 * xorshift generator seeded with SEED + its index, sends a fixed IPI to a
 * random other vCPU, fires the test device at a random vCPU on a device
 * vector (vCPU 0 only), raises and lowers its TPR, or spins a random while. At the end
 * every IPI and device interrupt sent must have been taken exactly once, by
 * its target, on its vector. A last phase fires a device vector while the
 * guest blocks it in ALLOWED_IRR (Secure AVIC only; a no-op elsewhere) and
 * allows it after: whether it then arrives is the `savic.blocked_vectors`
 * knob's business, so the guest accepts either and does not print it. The
 * console is the same under every fabric. Needs up to 4 vCPUs.
 */
#include <sdk/sdk.h>

#define SEED        0x5EED2026u
#define ROUNDS      40
#define MAXC        4
#define TIMER_VEC   0x30
#define IPI_VEC0    0x40 /* 0x40..0x47 */
#define DEV_VEC0    0x70 /* 0x70..0x73 */
#define LATE_VEC    0x7E
#define PERIOD_US   40

static volatile uint32_t sent[MAXC][256], got[MAXC][256], inflight[MAXC][256];
static struct sdk_barrier bar;
static unsigned ncpus;

static uint32_t next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void handler(struct sdk_frame *f)
{
    __atomic_fetch_add(&got[sdk_cpu()][(uint8_t)f->vector], 1u, __ATOMIC_SEQ_CST);
    __atomic_store_n(&inflight[sdk_cpu()][(uint8_t)f->vector], 0u, __ATOMIC_SEQ_CST);
    x2apic_eoi();
}

/* An edge interrupt whose vector is still pending collapses into it (one IRR
 * bit, SDM 10.8.4): a sender claims (target, vector) until the target took the
 * last one, so that every one sent is one taken. */
static void claim(unsigned cpu, uint8_t vec)
{
    uint32_t free_ = 0;
    while (!__atomic_compare_exchange_n(&inflight[cpu][vec], &free_, 1u, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
        free_ = 0;
        cpu_relax();
    }
    __atomic_fetch_add(&sent[cpu][vec], 1u, __ATOMIC_SEQ_CST);
}

static void device_to(unsigned cpu, uint8_t vec)
{
    claim(cpu, vec);
    irqdev_config(sdk_apic_id_of(cpu), vec, APIC_DM_FIXED, false);
    irqdev_set_line(true);
    irqdev_set_line(false);
}

static void storm(unsigned me)
{
    uint32_t s = SEED + me * 0x9E3779B9u;
    sdk_barrier_wait(&bar, ncpus); /* all online: an IPI to a vCPU not started is lost */
    lapic_timer_periodic(TIMER_VEC, lapic_us_to_count(PERIOD_US + 7 * me, 1), 1);
    sti();
    for (unsigned round = 0; round < ROUNDS; round++) {
        uint32_t r = next(&s);
        unsigned other = ncpus > 1 ? (me + 1 + r % (ncpus - 1)) % ncpus : me;
        switch ((r >> 8) % 4) {
        case 0:
            if (other != me) {
                uint8_t vec = (uint8_t)(IPI_VEC0 + (r >> 12) % 8);
                claim(other, vec);
                x2apic_send_ipi(sdk_apic_id_of(other), vec);
            }
            break;
        case 1:
            /* vCPU 0 drives the one test device. XXX(model): accesses of
             * several vCPUs to one device are ordered by quantum, and a trace
             * by time; the replay of such a trace could see another order. */
            if (me == 0)
                device_to((r >> 16) % ncpus, (uint8_t)(DEV_VEC0 + (r >> 20) % 4));
            break;
        case 2:
            x2apic_set_tpr(0x50); /* masks the IPI and device classes for a while */
            for (volatile unsigned i = 0; i < 50 + (r >> 24); i++)
                cpu_relax();
            x2apic_set_tpr(0);
            break;
        default:
            for (volatile unsigned i = 0; i < 100 + ((r >> 16) & 0x3FF); i++)
                cpu_relax();
            break;
        }
    }
    sdk_barrier_wait(&bar, ncpus);
    lapic_timer_stop();
    sdk_delay_us(300); /* everything in flight arrives */
    cli();
}

static void check(unsigned cpu)
{
    for (unsigned v = 0; v < 256; v++) {
        if (v == TIMER_VEC || v == LATE_VEC)
            continue;
        if (got[cpu][v] != sent[cpu][v])
            sdk_fail(SDK_EXIT_ASSERT, "irq_storm: cpu%u vector 0x%x: took %u, %u sent", cpu, v,
                     got[cpu][v], sent[cpu][v]);
    }
    GUEST_ASSERT(got[cpu][TIMER_VEC] > 0);
}

void ap_main(unsigned cpu)
{
    storm(cpu);
    sdk_barrier_wait(&bar, ncpus);
    sdk_ap_idle();
}

int main(void)
{
    ncpus = sdk_cpu_count() < MAXC ? sdk_cpu_count() : MAXC;
    for (unsigned v = 0; v < 256; v++)
        if (v == TIMER_VEC || (v >= IPI_VEC0 && v < IPI_VEC0 + 8) || (v >= DEV_VEC0 && v < DEV_VEC0 + 4) ||
            v == LATE_VEC)
            sdk_set_handler(v, handler);
    printf("irq_storm: seed 0x%x, %u vCPUs, %u rounds each\n", SEED, ncpus, ROUNDS);
    for (unsigned c = 1; c < ncpus; c++)
        GUEST_ASSERT(sdk_start_ap(c));
    storm(0);
    sdk_barrier_wait(&bar, ncpus);
    unsigned ipis = 0, devs = 0;
    for (unsigned c = 0; c < ncpus; c++) {
        check(c);
        for (unsigned v = IPI_VEC0; v < IPI_VEC0 + 8; v++)
            ipis += sent[c][v];
        for (unsigned v = DEV_VEC0; v < DEV_VEC0 + 4; v++)
            devs += sent[c][v];
    }
    printf("irq_storm: %u IPIs and %u device interrupts, each taken once by its target\n", ipis,
           devs);

    /* A device vector the guest blocks while it fires, then allows. */
    irqdev_config(sdk_apic_id_of(0), LATE_VEC, APIC_DM_FIXED, false);
    sdk_savic_allow_vector(LATE_VEC, false);
    irqdev_set_line(true);
    irqdev_set_line(false);
    sti();
    sdk_delay_us(100);
    sdk_savic_allow_vector(LATE_VEC, true);
    sdk_delay_us(100);
    cli();
    GUEST_ASSERT(got[0][LATE_VEC] <= 1);
    printf("irq_storm: PASS\n");
    return 0;
}
