/* SPDX-License-Identifier: MIT */
/*
 * The timing core: SystemC behind a small C API (docs/design.md section 7). This
 * header is plain C; model/timing/timing.cpp is the only C++ in the tree and
 * the only file that includes a SystemC header.
 *
 * A tm_kernel is a deterministic event queue whose clock is SystemC's:
 * tm_schedule() records a callback at an absolute time, and tm_run() lets the
 * SystemC kernel advance to each due time and run the callbacks there. Items
 * due at the same time run in the order they were scheduled (a sequence
 * number), never in an order SystemC might choose, so a run is reproducible.
 *
 * Units: one SystemC picosecond stands for one core cycle; converting cycles to
 * seconds is the cost model's business (core_hz), not the kernel's. Several
 * kernels may exist in one process (e.g. `snpref compare` runs two systems);
 * each sees its own time starting at 0.
 */
#ifndef SNPREF_TIMING_H
#define SNPREF_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tm_kernel;
typedef void (*tm_fn)(void *arg);

/* Returns NULL only if SystemC cannot be initialised (message in err). */
struct tm_kernel *tm_create(char *err, unsigned long errlen);
void tm_destroy(struct tm_kernel *k);

/* Simulated time of the kernel, cycles. Inside a callback: the item's time. */
uint64_t tm_now(const struct tm_kernel *k);

/* Schedules fn(arg) at absolute time `at` (clamped to now if earlier).
 * Returns an id for tm_cancel (never 0). */
uint64_t tm_schedule(struct tm_kernel *k, uint64_t at, tm_fn fn, void *arg);
/* Cancels a scheduled item; false if it already ran or was cancelled. */
bool tm_cancel(struct tm_kernel *k, uint64_t id);

enum tm_stop { TM_IDLE, TM_STOPPED, TM_UNTIL };
/*
 * Runs due items in (time, sequence) order until none are left (TM_IDLE),
 * tm_stop() was called from a callback (TM_STOPPED), or the next item lies
 * after `until` (TM_UNTIL; time is then `until`... or the last item's time).
 */
enum tm_stop tm_run(struct tm_kernel *k, uint64_t until);
/* From a callback: return from tm_run after the current item. */
void tm_stop(struct tm_kernel *k);

/* Number of items pending. */
uint64_t tm_pending(const struct tm_kernel *k);
/* Time of the earliest pending item, or UINT64_MAX. */
uint64_t tm_next_time(const struct tm_kernel *k);

#ifdef __cplusplus
}
#endif
#endif
