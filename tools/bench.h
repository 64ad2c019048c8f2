/* SPDX-License-Identifier: MIT */
/* `snpref bench`'s timed child runs (bench_spawn.c), shared with bench.c. */
#ifndef SNPREF_BENCH_H
#define SNPREF_BENCH_H

#include <stdbool.h>
#include <stdint.h>

/* One run of a command. The marks are line prefixes to stamp (NULL: none);
 * every time is in host seconds from the spawn, -1 for a line never seen. */
struct bench_run {
    const char *start_mark, *end_mark;
    double spawn_s, start_s, end_s, wall_s;
    int status;           /* exit status, or 128 + the signal */
    uint64_t insns;       /* from `snpref run`'s summary line, else 0 */
    double sim_us;        /* simulated microseconds from that line, else -1 */
    long maxrss_kb;       /* peak resident set of the child (wait4's rusage) */
    char end_line[160];   /* the line end_mark matched */
    char tail[1024];      /* the last console lines, for a failure message */
};

/* Host seconds a run may take before it is killed (a hung guest or peer). */
#define BENCH_TIMEOUT_S 600.0

double bench_now_s(void);
/* Runs argv (argv[0] looked up in PATH) to its end with stdin from /dev/null
 * and its console read here; 0, or -1 when it could not be started. */
int bench_spawn(char *const argv[], struct bench_run *r);
/* "    $ argv..." on stdout: the command that reproduces a figure. */
void bench_print_cmd(char *const argv[]);

#endif
