/* SPDX-License-Identifier: MIT */
/* Synthetic traces for `snpref bench` (tools/synth.c). */
#ifndef SNPREF_SYNTH_H
#define SNPREF_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes to `path` a complete trace of at least `events` events: a realistic
 * pattern of IPIs, interrupt deliveries, EOIs and LAPIC timer programming on
 * two vCPUs, repeated with increasing times, whose outcomes are the model's
 * own (the stimuli are replayed once to produce them). Returns the number of
 * events written, or 0 with a message in err.
 */
uint64_t synth_trace(const char *path, uint64_t events, char *err, size_t errlen);

#endif
