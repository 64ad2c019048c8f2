/* SPDX-License-Identifier: MIT */
/*
 * LAPIC timer arithmetic (Intel SDM vol. 3 section 10.5.4 "APIC Timer" and
 * 10.5.4.1 "TSC-Deadline Mode"; AMD APM vol. 2 section 16.4.1 "APIC Timer
 * Operation"). Pure functions of their arguments and of a small state struct:
 * decoding the divide configuration, the expiry and current count of one-shot
 * and periodic counts, the periodic re-arm that never drifts, and the
 * conversion between core cycles and TSC for TSC-deadline mode. The fabric owns
 * the state and talks to the host; nothing here knows about time passing. All
 * times are core cycles of simulated time; intermediate products are 128-bit
 * and results saturate instead of wrapping.
 */
#ifndef SNPREF_LAPIC_TIMER_H
#define SNPREF_LAPIC_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* LVTT[18:17] (SDM Figure 10-8). 3 is reserved: the MSR layer rejects it. */
enum lapic_timer_mode {
    LAPIC_TIMER_ONESHOT = 0,
    LAPIC_TIMER_PERIODIC = 1,
    LAPIC_TIMER_TSC_DEADLINE = 2,
    LAPIC_TIMER_RESERVED = 3,
};

/* "Not armed" / "cancel" for expiry times, as host->timer_arm() takes it. */
#define LAPIC_TIMER_OFF UINT64_MAX

/* The clocks a timer counts: the input clock (before the divider) and the TSC. */
struct lapic_clock {
    uint64_t cycles_per_tick;  /* core cycles per timer input clock tick, >= 1 */
    uint64_t tsc_num, tsc_den; /* TSC = cycles * tsc_num / tsc_den, both >= 1 */
};

/*
 * A running count. start/tick/count are latched when the count is loaded (a
 * TMICT write), so a later TDCR write does not disturb the count in progress.
 * XXX(model): the SDM leaves a mid-count divide change unspecified; here the new
 * divider applies from the next TMICT write (periodic reloads keep the latched
 * period, which is also what makes them drift-free).
 */
struct lapic_timer {
    uint64_t start;        /* cycles: when the current period began */
    uint64_t expiry;       /* cycles: next expiry, LAPIC_TIMER_OFF when not armed */
    uint64_t tick;         /* cycles per count decrement: divide * cycles_per_tick */
    uint64_t period;       /* cycles of one full count: count * tick */
    uint32_t count;        /* the initial count (TMICT) this period started from */
    uint64_t tsc_deadline; /* IA32_TSC_DEADLINE as written; 0 = disarmed */
};

/* TDCR bits 0,1,3 -> 2, 4, 8, 16, 32, 64, 128, 1 (SDM Figure 10-10). Bit 2 and
 * the rest are ignored here (the MSR layer rejects them). */
uint32_t lapic_timer_divide(uint32_t tdcr);

/* a * b, saturated to UINT64_MAX - 1 so a result never reads as LAPIC_TIMER_OFF. */
uint64_t lapic_mul_sat(uint64_t a, uint64_t b);
/* a + b, saturated the same way. */
uint64_t lapic_add_sat(uint64_t a, uint64_t b);

static inline bool lapic_timer_armed(const struct lapic_timer *t)
{
    return t->expiry != LAPIC_TIMER_OFF;
}

/*
 * Loads count at time now with divide configuration tdcr (one-shot and
 * periodic modes). Returns the expiry (start + count * divide * cycles_per_tick),
 * or LAPIC_TIMER_OFF when count is 0 (writing 0 stops the timer, SDM 10.5.4).
 */
uint64_t lapic_timer_load(struct lapic_timer *t, uint64_t now, uint32_t count, uint32_t tdcr,
                          const struct lapic_clock *c);

/* Stops the count; the TSC deadline is left to the caller. */
void lapic_timer_stop(struct lapic_timer *t);

/*
 * Periodic mode after an expiry: the next period starts at the previous expiry
 * (not at the time the expiry was handled), so n periods always end at
 * start + n * period however late each one was serviced. Returns the new expiry.
 */
uint64_t lapic_timer_reload(struct lapic_timer *t);

/*
 * TMCCT at time now: the initial count minus the ticks elapsed in the current
 * period; 0 when not armed or (one-shot) expired. periodic selects the modular
 * form, so a reading between a late expiry and its servicing is still right.
 */
uint32_t lapic_timer_current(const struct lapic_timer *t, bool periodic, uint64_t now);

/* TSC value at a cycle time: floor(cycles * num / den). */
uint64_t lapic_tsc_from_cycles(uint64_t cycles, const struct lapic_clock *c);
/* First cycle time at which the TSC reads >= tsc: ceil(tsc * den / num),
 * saturated below LAPIC_TIMER_OFF. */
uint64_t lapic_cycles_from_tsc(uint64_t tsc, const struct lapic_clock *c);

/* Name for traces: "oneshot", "periodic", "deadline"; "off" when not armed. */
const char *lapic_timer_mode_name(enum lapic_timer_mode m, bool armed);

#endif
