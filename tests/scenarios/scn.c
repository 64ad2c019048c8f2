/* SPDX-License-Identifier: MIT */
/* Guest-scenario helpers (see scn.h). */
#include "scn.h"

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ck_run.h"

#define MAX_ARGS 32

const char *scn_guest_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s.elf", SNPREF_GUEST_DIR, name);
    return path;
}

static char *slurp_fd(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    return buf;
}

/* Runs argv with stdout/stderr captured to temporary files (no pipe deadlock). */
static void run_argv(struct scn_run *r, char **argv)
{
    char outp[] = "/tmp/scn_outXXXXXX", errp[] = "/tmp/scn_errXXXXXX";
    int of = mkstemp(outp), ef = mkstemp(errp);
    ck_assert(of >= 0 && ef >= 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        dup2(of, 1);
        dup2(ef, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    ck_assert(waitpid(pid, &st, 0) == pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    lseek(of, 0, SEEK_SET);
    lseek(ef, 0, SEEK_SET);
    r->out = slurp_fd(of);
    r->err = slurp_fd(ef);
    close(of);
    close(ef);
    unlink(outp);
    unlink(errp);
}

void scn_load_trace(struct scn_run *r)
{
    char err[512];
    struct trc_reader *rd = trc_reader_open(r->trace_path, err, sizeof(err));
    ck_assert_msg(rd != NULL, "%s", err);
    size_t cap = 1024;
    r->ev = calloc(cap, sizeof(*r->ev));
    struct trc_rec rec;
    int rc;
    while ((rc = trc_reader_next(rd, &rec, err, sizeof(err))) == 1) {
        if (r->nev == cap)
            r->ev = realloc(r->ev, (cap *= 2) * sizeof(*r->ev));
        struct scn_event *e = &r->ev[r->nev++];
        memset(e, 0, sizeof(*e));
        e->r = rec;
        const struct trc_event_desc *d = &trc_catalogue[rec.ev];
        for (unsigned i = 0; i < d->nfields; i++)
            if (d->fields[i].type == TRC_TYPE_S)
                e->r.v[i].s = e->strs[i] = strdup(rec.v[i].s);
    }
    ck_assert_msg(rc == 0, "%s", err);
    trc_reader_close(rd);
}

void scn_run_guest(struct scn_run *r, const char *guest, ...)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->trace_path, sizeof(r->trace_path), "/tmp/scn_%d_%s.jsonl", (int)getpid(),
             guest ? guest : "demo");
    char *argv[MAX_ARGS];
    int n = 0;
    argv[n++] = (char *)SNPREF_TOOL;
    argv[n++] = "run";
    if (guest)
        argv[n++] = (char *)scn_guest_path(guest);
    va_list ap;
    va_start(ap, guest);
    for (const char *a; (a = va_arg(ap, const char *));)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n++] = "--trace";
    argv[n++] = r->trace_path;
    argv[n++] = "--quiet";
    argv[n] = NULL;
    run_argv(r, argv);
    if (access(r->trace_path, F_OK) == 0)
        scn_load_trace(r);
}

void scn_run_guest_in(struct scn_run *r, const char *guest, const char *mode)
{
    if (strcmp(mode, "plain") && strcmp(mode, "sev-es") && strcmp(mode, "snp"))
        scn_run_guest(r, guest, "--mode", "snp", "--apic", mode, NULL);
    else
        scn_run_guest(r, guest, "--mode", mode, NULL);
}

void scn_run_tool(struct scn_run *r, ...)
{
    memset(r, 0, sizeof(*r));
    char *argv[MAX_ARGS];
    int n = 0;
    argv[n++] = (char *)SNPREF_TOOL;
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *));)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    run_argv(r, argv);
}

void scn_free(struct scn_run *r)
{
    for (size_t i = 0; i < r->nev; i++)
        for (unsigned k = 0; k < TRC_MAX_FIELDS; k++)
            free(r->ev[i].strs[k]);
    free(r->ev);
    free(r->out);
    free(r->err);
    if (r->trace_path[0])
        unlink(r->trace_path);
    memset(r, 0, sizeof(*r));
}

static int field_index(const struct scn_event *e, const char *field)
{
    const struct trc_event_desc *d = &trc_catalogue[e->r.ev];
    for (unsigned i = 0; i < d->nfields; i++)
        if (!strcmp(d->fields[i].name, field))
            return (int)i;
    return -1;
}

uint64_t scn_u(const struct scn_event *e, const char *field)
{
    int i = field_index(e, field);
    ck_assert_msg(i >= 0, "event %s has no field %s", trc_catalogue[e->r.ev].name, field);
    return e->r.v[i].u;
}

const char *scn_s(const struct scn_event *e, const char *field)
{
    int i = field_index(e, field);
    ck_assert_msg(i >= 0, "event %s has no field %s", trc_catalogue[e->r.ev].name, field);
    return e->r.v[i].s;
}

bool scn_is(const struct scn_event *e, const char *ev)
{
    return !strcmp(trc_catalogue[e->r.ev].name, ev);
}

static bool matches(const struct scn_event *e, const char *ev, int vcpu, const char *field,
                    uint64_t value)
{
    if (!scn_is(e, ev) || (vcpu != -2 && e->r.vcpu != vcpu))
        return false;
    return !field || scn_u(e, field) == value;
}

size_t scn_count(const struct scn_run *r, const char *ev, int vcpu)
{
    return scn_count_where(r, ev, vcpu, NULL, 0);
}

size_t scn_count_where(const struct scn_run *r, const char *ev, int vcpu, const char *field,
                       uint64_t value)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++)
        n += matches(&r->ev[i], ev, vcpu, field, value);
    return n;
}

size_t scn_find(const struct scn_run *r, size_t from, const char *ev, int vcpu, const char *field,
                uint64_t value)
{
    for (size_t i = from; i < r->nev; i++)
        if (matches(&r->ev[i], ev, vcpu, field, value))
            return i;
    return SIZE_MAX;
}

size_t scn_delivered(const struct scn_run *r, int vcpu, const char *kind, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const struct scn_event *e = &r->ev[i];
        if (scn_is(e, "irq_deliver") && e->r.vcpu == vcpu && !strcmp(scn_s(e, "kind"), kind) &&
            n < cap)
            out[n++] = (uint8_t)scn_u(e, "vector");
    }
    return n;
}

bool scn_has(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

int scn_run_suite(Suite *s, const char *tmpdir)
{
    int failed = ck_run(s, CK_RUN_FORK) != EXIT_SUCCESS;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        perror(cmd);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char **scn_read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "%s: cannot read", path);
    size_t cap = 1024;
    char **lines = malloc(cap * sizeof(*lines)), *buf = NULL;
    size_t bcap = 0;
    ssize_t len;
    *n = 0;
    while ((len = getline(&buf, &bcap, f)) > 0) {
        if (buf[len - 1] == '\n')
            buf[len - 1] = '\0';
        if (*n == cap)
            lines = realloc(lines, (cap *= 2) * sizeof(*lines));
        lines[(*n)++] = strdup(buf);
    }
    free(buf);
    fclose(f);
    return lines;
}
