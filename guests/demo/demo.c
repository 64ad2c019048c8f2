/* SPDX-License-Identifier: MIT */
/*
 * The built-in demo guest of `snpref run`: vCPU 0 starts the APs, then every
 * vCPU (up to DEMO_MAX_CPUS; 1 works) takes part in three phases separated by
 * barriers, so each vCPU's log has the same order whatever the timing:
 *   1. a ring of fixed IPIs: vCPU i sends vector 0x41 + i to vCPU i + 1;
 *   2. vCPU 0 broadcasts vector 0x60 to all others (shorthand "all excluding self");
 *   3. each vCPU's LAPIC timer ticks DEMO_TICKS times in periodic mode.
 * Handlers only record what they took; the vCPUs then print their logs in
 * turn and vCPU 0 prints a summary and exits 0.
 */
#include <sdk/sdk.h>

#define DEMO_MAX_CPUS   16
#define RING_VECTOR     0x41     /* + sender index */
#define BCAST_VECTOR    0x60
#define TIMER_VECTOR    0x30
#define DEMO_TICKS      3
#define TIMER_PERIOD_US 100

enum { EV_RING, EV_BCAST, EV_TICK };

struct demo_cpu {
    struct { uint8_t kind, vector, arg; } log[8];
    volatile uint32_t nlog, ring, bcast, ticks;
};

static struct demo_cpu demo[DEMO_MAX_CPUS];
static unsigned ncpus;

static void record(struct demo_cpu *d, uint8_t kind, uint8_t vector, uint8_t arg)
{
    if (d->nlog < 8) {
        d->log[d->nlog].kind = kind;
        d->log[d->nlog].vector = vector;
        d->log[d->nlog].arg = arg;
        d->nlog++;
    }
}

static void ring_handler(struct sdk_frame *f)
{
    struct demo_cpu *d = &demo[sdk_cpu()];
    record(d, EV_RING, (uint8_t)f->vector, (uint8_t)(f->vector - RING_VECTOR));
    d->ring++;
    x2apic_eoi();
}

static void bcast_handler(struct sdk_frame *f)
{
    if (sdk_cpu() >= DEMO_MAX_CPUS) {   /* the broadcast reaches the idle extra vCPUs too */
        x2apic_eoi();
        return;
    }
    struct demo_cpu *d = &demo[sdk_cpu()];
    record(d, EV_BCAST, (uint8_t)f->vector, 0);
    d->bcast++;
    x2apic_eoi();
}

static void timer_handler(struct sdk_frame *f)
{
    struct demo_cpu *d = &demo[sdk_cpu()];
    d->ticks++;
    record(d, EV_TICK, (uint8_t)f->vector, (uint8_t)d->ticks);
    if (d->ticks == DEMO_TICKS)
        lapic_timer_stop();
    x2apic_eoi();
}

static void phase_ring(void *arg)
{
    (void)arg;
    unsigned me = sdk_cpu();
    x2apic_send_ipi(sdk_apic_id_of((me + 1) % ncpus), (uint8_t)(RING_VECTOR + me));
    SDK_HALT_UNTIL(demo[me].ring == 1);
}

static void phase_broadcast(void *arg)
{
    (void)arg;
    unsigned me = sdk_cpu();
    if (me == 0)
        x2apic_send_shorthand(APIC_SH_OTHERS, APIC_DM_FIXED, BCAST_VECTOR);
    else
        SDK_HALT_UNTIL(demo[me].bcast == 1);
}

static void phase_timer(void *arg)
{
    (void)arg;
    unsigned me = sdk_cpu();
    lapic_timer_periodic(TIMER_VECTOR, lapic_us_to_count(TIMER_PERIOD_US, 1), 1);
    SDK_HALT_UNTIL(demo[me].ticks == DEMO_TICKS);
}

static void print_log(void *arg)
{
    (void)arg;
    unsigned me = sdk_cpu();
    struct demo_cpu *d = &demo[me];
    for (unsigned i = 0; i < d->nlog; i++) {
        switch (d->log[i].kind) {
        case EV_RING:
            printf("cpu %u: took vector 0x%x (IPI from cpu %u)\n", me, d->log[i].vector,
                   d->log[i].arg);
            break;
        case EV_BCAST:
            printf("cpu %u: took vector 0x%x (broadcast from cpu 0)\n", me, d->log[i].vector);
            break;
        default:
            printf("cpu %u: timer tick %u (vector 0x%x)\n", me, d->log[i].arg, d->log[i].vector);
            break;
        }
    }
}

/* Runs fn on the participating vCPUs only (the ones beyond DEMO_MAX_CPUS stay idle). */
static void on_participants(void (*fn)(void *))
{
    for (unsigned i = 1; i < ncpus; i++)
        sdk_on_cpu_async(i, fn, 0);
    fn(0);
    for (unsigned i = 1; i < ncpus; i++)
        sdk_on_cpu_wait(i);
}

int main(void)
{
    ncpus = sdk_cpu_count() < DEMO_MAX_CPUS ? sdk_cpu_count() : DEMO_MAX_CPUS;
    printf("demo: %u vCPU%s, mode %s, TSC %lu Hz, APIC timer %lu Hz\n", sdk_cpu_count(),
           sdk_cpu_count() == 1 ? "" : "s", sdk_mode_name(sdk_bootinfo->mode), sdk_bootinfo->tsc_hz,
           sdk_bootinfo->apic_timer_hz);
    for (unsigned i = 0; i < ncpus; i++)
        sdk_set_handler(RING_VECTOR + i, ring_handler);
    sdk_set_handler(BCAST_VECTOR, bcast_handler);
    sdk_set_handler(TIMER_VECTOR, timer_handler);

    sdk_start_aps();
    printf("demo: %u vCPUs online\n", sdk_cpus_online());
    sti();

    on_participants(phase_ring);
    on_participants(phase_broadcast);
    on_participants(phase_timer);
    for (unsigned i = 0; i < ncpus; i++)
        sdk_on_cpu(i, print_log, 0);

    unsigned ring = 0, bcast = 0, ticks = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        ring += demo[i].ring;
        bcast += demo[i].bcast;
        ticks += demo[i].ticks;
    }
    GUEST_ASSERT_EQ(ring, ncpus);
    GUEST_ASSERT_EQ(bcast, ncpus - 1);
    GUEST_ASSERT_EQ(ticks, ncpus * DEMO_TICKS);
    printf("demo: PASS: %u vCPU%s took %u ring IPIs, %u broadcast IPIs, %u timer ticks\n", ncpus,
           ncpus == 1 ? "" : "s", ring, bcast, ticks);
    return 0;
}
