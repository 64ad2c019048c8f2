/* SPDX-License-Identifier: MIT */
/*
 * LAPIC timer: one-shot, periodic and TSC-deadline modes, and the divide
 * configuration. The timer counts at boot info apic_timer_hz / divide; RDTSC
 * counts at tsc_hz; both come from the model's simulated time, so a guest can
 * check a period against the TSC exactly.
 */
#ifndef SDK_TIMER_H
#define SDK_TIMER_H

#include <stdint.h>

#define APIC_LVTT_ONESHOT   (0u << 17)
#define APIC_LVTT_PERIODIC  (1u << 17)
#define APIC_LVTT_DEADLINE  (2u << 17)

/* TDCR encoding of a divide value 1, 2, 4, ..., 128 (exits 1 on anything else). */
uint32_t lapic_divide_encode(unsigned divide);
void lapic_set_divide(unsigned divide);

void lapic_timer_oneshot(uint8_t vector, uint32_t count, unsigned divide);
void lapic_timer_periodic(uint8_t vector, uint32_t count, unsigned divide);
/* Arms TSC-deadline mode with an absolute TSC value. */
void lapic_timer_deadline(uint8_t vector, uint64_t tsc);
/* Stops the count (TMICT = 0, deadline = 0) and masks LVTT. */
void lapic_timer_stop(void);
uint32_t lapic_timer_current(void);   /* TMCCT */

/* Timer ticks (after divide) in us microseconds, and their length in TSC ticks. */
uint32_t lapic_us_to_count(uint64_t us, unsigned divide);
uint64_t lapic_count_to_tsc(uint64_t count, unsigned divide);

#endif
