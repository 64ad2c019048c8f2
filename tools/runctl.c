/* SPDX-License-Identifier: MIT */
/*
 * Long and interrupted runs (docs/cli.md "Long runs"): the progress line and
 * the SIGINT/SIGTERM handlers of `snpref run`. The handler only records the
 * signal; the model polls it between quanta (snpref_options.interrupt) and
 * ends the run there, so the trace is closed and renamed as for any other
 * end. The host clock is read here for one purpose only, to pace the progress
 * display; simulated time never comes from it.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools.h"

/* At most four updates per host second: enough to see it move. */
#define PROGRESS_PERIOD_NS 250000000ll

static volatile sig_atomic_t run_signal;

static void on_signal(int signo) { run_signal = signo; }

const volatile sig_atomic_t *runctl_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &run_signal;
}

static int64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

void progress_init(struct progress *p, bool on, uint64_t core_hz)
{
    memset(p, 0, sizeof(*p));
    p->on = on;
    p->tty = isatty(STDERR_FILENO);
    p->core_hz = core_hz ? core_hz : 1;
    p->start = p->last = host_ns();
}

/* One line: a terminal gets it redrawn in place, a pipe or file one per update. */
static void progress_show(struct progress *p, int64_t now, bool last)
{
    double host_s = (double)(now - p->start) / 1e9;
    double sim_ms = (double)p->cycles * 1e3 / (double)p->core_hz;
    double mips = host_s > 0 ? (double)p->insns / host_s / 1e6 : 0;
    fprintf(stderr, "%ssnpref: %" PRIu64 " instructions, %.3f ms simulated, %.1f M instructions/s%s",
            p->tty ? "\r" : "", p->insns, sim_ms, mips, p->tty ? "\033[K" : "\n");
    if (p->tty && last)
        fputc('\n', stderr);
    p->shown = true;
}

void progress_tick(void *ctx, uint64_t insns, uint64_t cycles)
{
    struct progress *p = ctx;
    p->insns = insns;
    p->cycles = cycles;
    int64_t now = host_ns();
    if (now - p->last < PROGRESS_PERIOD_NS)
        return;
    p->last = now;
    progress_show(p, now, false);
}

void progress_end(struct progress *p, uint64_t insns, uint64_t cycles)
{
    if (!p->on)
        return;
    p->insns = insns;
    p->cycles = cycles;
    progress_show(p, host_ns(), true);
}
