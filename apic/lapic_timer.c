/* SPDX-License-Identifier: MIT */
/*
 * LAPIC timer arithmetic (see lapic_timer.h; Intel SDM vol. 3 sections 10.5.4
 * and 10.5.4.1, AMD APM vol. 2 section 16.4.1). The count decrements once per
 * `tick` = divide * cycles_per_tick core cycles and the timer fires when it
 * reaches zero, i.e. count * tick cycles after it was loaded. Products use
 * unsigned __int128 so a 32-bit count times a 128 divider times a large input
 * period cannot wrap; results saturate just below LAPIC_TIMER_OFF.
 */
#include "lapic_timer.h"

#include "snpref/base.h"

typedef unsigned __int128 u128;

#define LAPIC_SAT_MAX (UINT64_MAX - 1)

static uint64_t sat64(u128 v)
{
    return v > LAPIC_SAT_MAX ? LAPIC_SAT_MAX : (uint64_t)v;
}

uint64_t lapic_mul_sat(uint64_t a, uint64_t b)
{
    return sat64((u128)a * b);
}

uint64_t lapic_add_sat(uint64_t a, uint64_t b)
{
    return sat64((u128)a + b);
}

uint32_t lapic_timer_divide(uint32_t tdcr)
{
    /* The 3-bit code is TDCR[3] : TDCR[1:0]; code 7 means divide by 1 and code
     * n < 7 divides by 2^(n+1) (SDM Figure 10-10). */
    uint32_t code = ((tdcr >> 1) & 4u) | (tdcr & 3u);
    return code == 7 ? 1u : 2u << code;
}

uint64_t lapic_timer_load(struct lapic_timer *t, uint64_t now, uint32_t count, uint32_t tdcr,
                          const struct lapic_clock *c)
{
    SNP_ASSERT(c->cycles_per_tick >= 1);
    t->count = count;
    t->start = now;
    t->tick = lapic_mul_sat(lapic_timer_divide(tdcr), c->cycles_per_tick);
    t->period = lapic_mul_sat(count, t->tick);
    t->expiry = count ? lapic_add_sat(now, t->period) : LAPIC_TIMER_OFF;
    return t->expiry;
}

void lapic_timer_stop(struct lapic_timer *t)
{
    t->expiry = LAPIC_TIMER_OFF;
}

uint64_t lapic_timer_reload(struct lapic_timer *t)
{
    SNP_ASSERT(lapic_timer_armed(t) && t->period > 0);
    t->start = t->expiry;
    t->expiry = lapic_add_sat(t->expiry, t->period);
    return t->expiry;
}

uint32_t lapic_timer_current(const struct lapic_timer *t, bool periodic, uint64_t now)
{
    if (!lapic_timer_armed(t) || t->count == 0)
        return 0;
    if (now <= t->start)
        return t->count;
    uint64_t elapsed = now - t->start;
    if (!periodic && now >= t->expiry)
        return 0;
    if (periodic)
        elapsed %= t->period;
    uint64_t ticks = elapsed / t->tick; /* < count, because elapsed < period */
    return t->count - (uint32_t)ticks;
}

uint64_t lapic_tsc_from_cycles(uint64_t cycles, const struct lapic_clock *c)
{
    SNP_ASSERT(c->tsc_den >= 1);
    return sat64((u128)cycles * c->tsc_num / c->tsc_den);
}

uint64_t lapic_cycles_from_tsc(uint64_t tsc, const struct lapic_clock *c)
{
    SNP_ASSERT(c->tsc_num >= 1);
    /* Smallest cycles with floor(cycles * num / den) >= tsc, i.e.
     * cycles * num >= tsc * den. */
    u128 prod = (u128)tsc * c->tsc_den;
    return sat64((prod + c->tsc_num - 1) / c->tsc_num);
}

const char *lapic_timer_mode_name(enum lapic_timer_mode m, bool armed)
{
    if (!armed)
        return "off";
    switch (m) {
    case LAPIC_TIMER_ONESHOT:
        return "oneshot";
    case LAPIC_TIMER_PERIODIC:
        return "periodic";
    case LAPIC_TIMER_TSC_DEADLINE:
        return "deadline";
    case LAPIC_TIMER_RESERVED:
        break;
    }
    return "reserved";
}
