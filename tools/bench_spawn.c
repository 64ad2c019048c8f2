/* SPDX-License-Identifier: MIT */
/*
 * The bench's timed runs (bench.c): a command in a child process whose
 * console (stdout and stderr, one pipe) is read line by line as it arrives,
 * each line stamped with the host's monotonic clock. snpref and QEMU are
 * measured the same way, from the outside: the kernels print a start and an
 * end line (guests/bench/bench_kernels.h), a Linux /init prints its last
 * line, and the time between two lines, or from the spawn to a line, is what
 * the bench reports. Both sides flush their console at each newline (the
 * model's console.c; QEMU's serial chardev writes through), so a stamp is
 * late only by the pipe's latency. A run still going after BENCH_TIMEOUT_S
 * is killed (and fails its part) rather than hanging the bench. Host time is read here and in bench.c
 * only; the model never reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool starts_with(const char *s, const char *prefix)
{
    return prefix && !strncmp(s, prefix, strlen(prefix));
}

/* One complete console line (CR LF and NULs of a serial console dropped). */
static void on_line(struct bench_run *r, char *line, double t)
{
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[--n] = '\0';
    unsigned long long insns, cycles;
    double us;
    if (r->start_s < 0 && starts_with(line, r->start_mark))
        r->start_s = t;
    else if (r->end_s < 0 && starts_with(line, r->end_mark)) {
        r->end_s = t;
        snprintf(r->end_line, sizeof(r->end_line), "%s", line);
    } else if (sscanf(line, "snpref: %llu instructions", &insns) == 1) {
        r->insns = insns; /* snpref run's summary line */
        if (sscanf(line, "snpref: %llu instructions, %llu cycles (%lf us", &insns, &cycles,
                   &us) == 3)
            r->sim_us = us;
    }
    /* The last lines, for a failure message. */
    size_t keep = sizeof(r->tail) - 1, len = strlen(r->tail);
    if (n + 1 > keep)
        line += n + 1 - keep, n = keep - 1;
    if (len + n + 1 > keep) {
        size_t drop = len + n + 1 - keep;
        memmove(r->tail, r->tail + drop, len - drop + 1);
        len -= drop;
    }
    memcpy(r->tail + len, line, n);
    r->tail[len + n] = '\n';
    r->tail[len + n + 1] = '\0';
}

/* Reads the child's console to its end; false if it ran past BENCH_TIMEOUT_S. */
static bool read_lines(struct bench_run *r, int fd)
{
    char buf[4096], line[1024];
    size_t len = 0;
    for (;;) {
        double left = BENCH_TIMEOUT_S - (bench_now_s() - r->spawn_s);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0)
            return false;
        int ready = poll(&p, 1, (int)(left * 1000) + 1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            return false;
        ssize_t got = read(fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        double t = bench_now_s() - r->spawn_s;
        for (ssize_t i = 0; i < got; i++) {
            char c = buf[i];
            if (c == '\n' || len == sizeof(line) - 1) {
                line[len] = '\0';
                on_line(r, line, t);
                len = 0;
                if (c == '\n')
                    continue;
            }
            line[len++] = c ? c : ' ';
        }
    }
    if (len) {
        line[len] = '\0';
        on_line(r, line, bench_now_s() - r->spawn_s);
    }
    return true;
}

int bench_spawn(char *const argv[], struct bench_run *r)
{
    r->start_s = r->end_s = -1;
    r->insns = 0;
    r->sim_us = -1;
    r->maxrss_kb = 0;
    r->end_line[0] = r->tail[0] = '\0';
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    fflush(stdout);
    r->spawn_s = bench_now_s();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    bool ended = read_lines(r, fds[0]);
    close(fds[0]);
    if (!ended)
        kill(pid, SIGKILL); /* hung: reported as killed by signal 9 */
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    r->maxrss_kb = ru.ru_maxrss;
    r->wall_s = bench_now_s() - r->spawn_s;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

void bench_print_cmd(char *const argv[])
{
    fputs("    $", stdout);
    for (size_t i = 0; argv[i]; i++) {
        const char *a = argv[i];
        bool quote = !*a || strpbrk(a, " \t'\"$\\;&|<>()*?") != NULL;
        printf(quote ? " '%s'" : " %s", a);
    }
    putchar('\n');
}
