/* SPDX-License-Identifier: MIT */
/*
 * The KVM tracepoint log importer (ftrace.h, docs/silicon-logs.md).
 *
 * A tracepoint line, in `trace-cmd report` and in the ftrace `trace` file alike:
 *     <comm>-<pid> [<cpu>] [<flags>] <seconds>.<fraction>: <tracepoint>: <text>
 * where <text> is the tracepoint's TP_printk output. The formats are those of
 * Linux arch/x86/kvm/trace.h (TRACE_EVENT(kvm_entry), kvm_exit, kvm_msr,
 * kvm_apic, kvm_apic_ipi, kvm_apic_accept_irq, kvm_apicv_accept_irq, kvm_eoi,
 * kvm_inj_virq, kvm_inj_exception, kvm_pio, kvm_cpuid, kvm_vmgexit_enter/_exit,
 * kvm_vmgexit_msr_protocol_enter/_exit, kvm_avic_incomplete_ipi,
 * kvm_avic_unaccelerated_access, kvm_avic_doorbell, kvm_rmp_fault) and of the
 * SNP hypervisor series' kvm_snp_psc; the exit reasons are SVM_EXIT_REASONS of
 * arch/x86/include/uapi/asm/svm.h, the delivery modes kvm_deliver_mode of
 * include/trace/events/kvm.h. Older and newer kernels print some of them
 * differently (kvm_exit without "vcpu N", kvm_inj_virq as "irq N" or
 * "IRQ 0xN"); both are read.
 *
 * Tracepoints without a vCPU number belong to the vCPU whose thread printed
 * them: learnt from the thread's lines that name their vCPU, or from a QEMU
 * thread name "CPU N/KVM". This file reads lines, times and threads and runs
 * the two passes; ftrace_tp.c reads each tracepoint's text.
 */
#include "ftrace_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "snpref/base.h"
#include "snpref/text.h"

int ftr_bad(struct ftr_imp *im, const char *field, const char *fmt, ...)
{
    int n = snprintf(im->err, im->errlen, "%s:%lu: field '%s': ", im->path, im->line, field);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < im->errlen)
        vsnprintf(im->err + n, im->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    snp_esc_inplace(im->err, im->errlen); /* a log's bytes quoted in it: one line */
    return -1;
}

void ftr_note(struct ftr_lines *l, unsigned long line)
{
    if (l->count < FTR_MAX_LINES)
        l->first[l->count] = line;
    l->count++;
}

/* "123.456789" (up to 9 fraction digits: nanoseconds) or "123" (ticks). */
static bool parse_ts(const char *s, size_t len, uint64_t *ts, bool *frac)
{
    uint64_t whole = 0, f = 0;
    size_t i = 0, fd = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return false;
        whole = whole * 10 + (uint64_t)(s[i] - '0');
    }
    if (!i)
        return false;
    *frac = i < len && s[i] == '.';
    if (*frac) {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, fd++) {
            if (fd == 9)
                return false;
            f = f * 10 + (uint64_t)(s[i] - '0');
        }
        if (!fd || whole > UINT64_MAX / 1000000000u - 1)
            return false;
        while (fd++ < 9)
            f *= 10;
    }
    if (i != len)
        return false;
    *ts = *frac ? whole * 1000000000u + f : whole;
    return true;
}

const char *ftr_format_name(enum ftr_format f)
{
    static const char *const n[] = {"auto", "raw", "trace-cmd", "perf"};
    return (unsigned)f < ARRAY_SIZE(n) ? n[f] : "?";
}

int ftr_format_parse(const char *s)
{
    for (int f = FTR_FMT_AUTO; f <= FTR_FMT_PERF; f++)
        if (!strcmp(s, ftr_format_name((enum ftr_format)f)))
            return f;
    return -1;
}

/* A token where the timestamp column is: "<digit>...:" of digits, dots and
 * the letters of a mistyped hex number (parse_ts then says what is wrong). */
static bool ts_token(const char *p, size_t n)
{
    if (n < 2 || p[n - 1] != ':' || !(*p >= '0' && *p <= '9'))
        return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.' || snp_hex_digit(p[i]) >= 0 ||
              p[i] == 'x'))
            return false;
    return true;
}

/* A token "<name>:" or "<subsystem>:<name>:" (perf script), name [a-z0-9_]. */
static bool event_token(const char *p, size_t n, size_t *sys)
{
    *sys = 0;
    if (n < 2 || p[n - 1] != ':')
        return false;
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == ':' && !*sys && i > 0) {
            *sys = i + 1;
            continue;
        }
        if (!(p[i] == '_' || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            return false;
    }
    return n - 1 > *sys;
}

/* The "[<digits>]" CPU column in the prefix [s, end), or NULL. */
static const char *cpu_column(const char *s, const char *end, long *cpu)
{
    for (const char *p = s; p < end; p++) {
        if (*p != '[' || (p > s && p[-1] != ' ' && p[-1] != '\t'))
            continue;
        const char *q = p + 1;
        long v = 0;
        while (q < end && *q >= '0' && *q <= '9' && v < 100000)
            v = v * 10 + (*q++ - '0');
        if (q > p + 1 && q < end && *q == ']') {
            *cpu = v;
            return p;
        }
    }
    return NULL;
}

/* The thread: "comm-pid" (ftrace, trace-cmd) or "comm pid[/tid]" (perf). */
static void thread_of(const char *s, const char *end, struct ftr_line *l)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    l->comm = s;
    l->comm_len = (size_t)(end - s);
    l->pid = -1;
    const char *d = end;
    while (d > s && ((d[-1] >= '0' && d[-1] <= '9') || d[-1] == '/'))
        d--;
    if (d == end || d == s || (d[-1] != '-' && d[-1] != ' ') || *d == '/')
        return;
    const char *slash = memchr(d, '/', (size_t)(end - d));
    long pid = 0;
    for (const char *p = slash ? slash + 1 : d; p < end; p++) {
        if (*p < '0' || *p > '9' || pid > 100000000)
            return;
        pid = pid * 10 + (*p - '0');
    }
    l->pid = pid;
    l->comm_len = (size_t)(d - 1 - s);
}

/*
 * Splits a tracepoint line: an optional prefix (thread, CPU column, latency
 * flags, in any of the layouts of docs/silicon-logs.md), "<timestamp>:",
 * "[kvm:]<tracepoint>:", the text. Returns 1, 0 if s is no tracepoint line,
 * -1 for a tracepoint line whose timestamp does not parse.
 */
static int split(struct ftr_imp *im, const char *s, struct ftr_line *l)
{
    const char *tok = s, *ev = NULL;
    size_t n = 0, en = 0, sys = 0;
    for (;;) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        if (!*tok)
            return 0;
        n = strcspn(tok, " \t");
        if (ts_token(tok, n)) {
            ev = tok + n;
            while (*ev == ' ' || *ev == '\t')
                ev++;
            en = strcspn(ev, " \t");
            if (event_token(ev, en, &sys))
                break;
        }
        tok += n;
    }
    long cpu = -1;
    const char *br = cpu_column(s, tok, &cpu);
    thread_of(s, br ? br : tok, l);
    l->positional = l->pid < 0;
    if (l->pid < 0)
        l->pid = cpu >= 0 ? -2 - cpu : -1;
    l->perf = sys > 0;
    if (!parse_ts(tok, n - 1, &l->ts, &l->frac))
        return ftr_bad(im, "timestamp", "\"%.*s\" is not seconds.fraction", (int)(n - 1), tok);
    if (en - sys - 1 >= sizeof(l->event))
        return 0;
    memcpy(l->event, ev + sys, en - sys - 1);
    l->event[en - sys - 1] = '\0';
    struct ftr_cur c = {ev + en};
    ftr_sp(&c);
    l->text = c.p;
    return 1;
}

/* ---- Time and vCPUs ---------------------------------------------------------------- */

static int set_time(struct ftr_imp *im, const struct ftr_line *l)
{
    int kind = l->frac ? 1 : 2;
    if (!im->ts_kind) {
        im->ts_kind = kind;
        im->first_ts = im->last_ts = l->ts;
    }
    if (kind != im->ts_kind)
        return ftr_bad(im, "timestamp", "mixes seconds.fraction and integer timestamps");
    uint64_t ts = l->ts;
    if (ts < im->last_ts) {
        if (!im->emit)
            ftr_note(&im->st->clamped, im->line);
        ts = im->last_ts;
    }
    im->last_ts = ts;
    uint64_t d = ts - im->first_ts;
    if (kind == 2 && !im->o->ts_ns) {
        im->t = d;
        return 0;
    }
    unsigned __int128 cyc = ((unsigned __int128)d * im->hz + 500000000u) / 1000000000u;
    if (cyc > 9007199254740991u) /* the reader's 2^53 - 1 */
        return ftr_bad(im, "timestamp", "more than 2^53 cycles after the first line");
    im->t = (uint64_t)cyc;
    return 0;
}

int ftr_check_vcpu(struct ftr_imp *im, uint64_t v, const char *field)
{
    if (v >= FTR_VCPUS)
        return ftr_bad(im, field, "%" PRIu64 " is above the 255 vCPUs a trace can hold", v);
    if (v + 1 > im->scan.vcpus)
        im->scan.vcpus = (unsigned)v + 1;
    return 0;
}

void ftr_learn(struct ftr_imp *im, long pid, int vcpu)
{
    for (unsigned i = 0; i < im->npids; i++)
        if (im->pids[i].pid == pid) {
            im->pids[i].vcpu = vcpu;
            return;
        }
    if (im->npids < FTR_PIDS) {
        im->pids[im->npids].pid = pid;
        im->pids[im->npids++].vcpu = vcpu;
    }
}

/* The vCPU of the thread that printed l, or -1. */
int ftr_thread_vcpu(struct ftr_imp *im, const struct ftr_line *l)
{
    for (unsigned i = 0; i < im->npids; i++)
        if (im->pids[i].pid == l->pid) {
            if (l->positional && !im->emit)
                ftr_note(&im->st->positional, im->line);
            return im->pids[i].vcpu;
        }
    /* QEMU names its vCPU threads "CPU N/KVM". */
    unsigned n = 0;
    size_t i = 4;
    if (l->comm_len < 9 || strncmp(l->comm, "CPU ", 4))
        return -1;
    for (; i < l->comm_len && l->comm[i] >= '0' && l->comm[i] <= '9' && n < 1000; i++)
        n = n * 10 + (unsigned)(l->comm[i] - '0');
    if (i == 4 || l->comm_len - i != 4 || strncmp(l->comm + i, "/KVM", 4) || n >= FTR_VCPUS)
        return -1;
    ftr_check_vcpu(im, n, "thread");
    return (int)n;
}

/* ---- Writing --------------------------------------------------------------------------- */

void ftr_put(struct ftr_imp *im, struct trc_rec *r)
{
    if (!im->emit) {
        im->scan.events++;
        return;
    }
    trc_emit(im->w, r);
    im->st->events++;
}

struct trc_rec ftr_rec(struct ftr_imp *im, enum trc_ev ev, int vcpu)
{
    struct trc_rec r = {.t = im->t, .vcpu = vcpu, .ev = ev};
    return r;
}

void ftr_flush_ipi(struct ftr_imp *im, struct ftr_held *h)
{
    if (!h->on)
        return;
    h->ipi.v[6].u = h->nacc; /* targets */
    ftr_put(im, &h->ipi);
    for (unsigned i = 0; i < h->nacc; i++)
        ftr_put(im, &h->acc[i]);
    h->on = false;
    h->nacc = 0;
}

struct ftr_held *ftr_held_of(struct ftr_imp *im, long pid)
{
    for (int i = 0; i < FTR_HELD; i++)
        if (im->held[i].on && im->held[i].pid == pid)
            return &im->held[i];
    return NULL;
}

/* The sending thread printed something other than an acceptance. */
static void end_ipi(struct ftr_imp *im, const struct ftr_line *l, const char *tp)
{
    struct ftr_held *h = ftr_held_of(im, l->pid);
    if (h && strcmp(tp, "kvm_apic_accept_irq") && strcmp(tp, "kvm_apicv_accept_irq"))
        ftr_flush_ipi(im, h);
}

/* An injection becomes a delivery when the vCPU next enters the guest. */
void ftr_flush_inj(struct ftr_imp *im, int vcpu, uint64_t t, uint64_t rip)
{
    struct ftr_vcpu *v = &im->v[vcpu];
    if (!v->inj)
        return;
    v->inj = false;
    v->inj_rec.t = t;
    v->inj_rec.v[v->inj_rec.ev == TRC_EV_irq_deliver ? 2 : 4].u = rip;
    ftr_put(im, &v->inj_rec);
}

void ftr_hold_inj(struct ftr_imp *im, int vcpu, const struct trc_rec *r)
{
    struct ftr_vcpu *v = &im->v[vcpu];
    ftr_flush_inj(im, vcpu, v->inj_rec.t, v->rip); /* one not delivered yet: its own time */
    v->inj = true;
    v->inj_rec = *r;
}

/* ---- Lines ----------------------------------------------------------------------------- */

static void unknown(struct ftr_imp *im, const char *name)
{
    struct ftr_stats *st = im->st;
    for (unsigned i = 0; i < st->nunknown; i++)
        if (!strcmp(st->unknown[i].name, name)) {
            ftr_note(&st->unknown[i].at, im->line);
            return;
        }
    if (st->nunknown == FTR_MAX_UNKNOWN) {
        st->unknown_more++;
        return;
    }
    snprintf(st->unknown[st->nunknown].name, sizeof(st->unknown[0].name), "%s", name);
    ftr_note(&st->unknown[st->nunknown++].at, im->line);
}

/* Comments, blank lines and trace-cmd's banners ("cpus=8", "version = 6",
 * "CPU 3 is empty"); lost-event notes are counted apart: the log has gaps. */
static bool other_line(struct ftr_imp *im, const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (strstr(s, "[LOST") && strstr(s, "EVENTS]")) {
        if (!im->emit)
            ftr_note(&im->st->lost, im->line);
        return true;
    }
    bool banner = !*s || *s == '#' || !strncmp(s, "cpus=", 5) || !strncmp(s, "version =", 9) ||
                  (!strncmp(s, "CPU ", 4) && strstr(s, " is empty"));
    if (banner && !im->emit)
        im->st->comments++;
    return banner;
}

static void sample(struct ftr_imp *im, const char *s)
{
    struct ftr_stats *st = im->st;
    if (im->emit || st->nsample == FTR_MAX_SAMPLES)
        return;
    st->sample[st->nsample].line = im->line;
    snprintf(st->sample[st->nsample].text, sizeof(st->sample[0].text), "%s", s);
    snp_esc_inplace(st->sample[st->nsample].text, sizeof(st->sample[0].text));
    st->nsample++;
}

/* The format of the file: forced, else the first tracepoint line's (perf
 * script names "kvm:" subsystems; a "# tracer:" header is the raw trace file).
 * A line of another shape than the file's is not read as a tracepoint. */
static bool same_format(struct ftr_imp *im, const struct ftr_line *l)
{
    if (im->format == FTR_FMT_AUTO)
        im->format = l->perf ? FTR_FMT_PERF : im->raw_header ? FTR_FMT_RAW : FTR_FMT_TRACECMD;
    im->st->format = (enum ftr_format)im->format;
    return l->perf == (im->format == FTR_FMT_PERF);
}

static int one_line(struct ftr_imp *im, const char *s)
{
    const char *b = s + strspn(s, " \t");
    if (!strncmp(b, "# tracer:", 9) || !strncmp(b, "# entries-in-buffer", 19))
        im->raw_header = true;
    if (other_line(im, s))
        return 0;
    struct ftr_line l;
    int k = split(im, s, &l);
    if (k < 0)
        return -1;
    if (k > 0 && !same_format(im, &l)) {
        im->st->other_format += !im->emit;
        k = 0;
    }
    if (k == 0) {
        if (!im->emit)
            ftr_note(&im->st->unparsed, im->line);
        sample(im, s);
        return 0;
    }
    if (set_time(im, &l) < 0)
        return -1;
    end_ipi(im, &l, l.event);
    int k2 = ftr_tracepoint(im, &l);
    if (k2 < 0)
        return -1;
    if (k2 > 0) {
        im->st->mapped += im->emit;
        return 0;
    }
    if (!im->emit && im->o->strict)
        return ftr_bad(im, "tracepoint", "%s is not a tracepoint this importer knows (--strict)",
                       l.event);
    if (!im->emit)
        unknown(im, l.event);
    sample(im, s);
    return 0;
}

/* The earliest time a held event still carries: nothing before it is final. */
static uint64_t safe_time(const struct ftr_imp *im)
{
    uint64_t t = im->t;
    for (int i = 0; i < FTR_HELD; i++)
        if (im->held[i].on && im->held[i].ipi.t < t)
            t = im->held[i].ipi.t;
    for (unsigned i = 0; i < im->scan.vcpus; i++) {
        const struct ftr_vcpu *v = &im->v[i];
        if (v->ghcb && v->ghcb_t < t)
            t = v->ghcb_t;
        if (v->inj && v->inj_rec.t < t) /* written at its own time if no entry comes */
            t = v->inj_rec.t;
        if (v->apic && v->apic_rec.t < t)
            t = v->apic_rec.t;
    }
    return t;
}

static void flush_all(struct ftr_imp *im)
{
    for (int i = 0; i < FTR_HELD; i++)
        ftr_flush_ipi(im, &im->held[i]);
    for (unsigned i = 0; i < FTR_VCPUS; i++) {
        ftr_flush_apic(im, (int)i);
        ftr_flush_inj(im, (int)i, im->v[i].inj_rec.t, im->v[i].rip);
        if (im->v[i].ghcb && !im->emit)
            ftr_note(&im->st->incomplete, im->v[i].ghcb_line);
    }
}

static void reset_pass(struct ftr_imp *im, bool emit)
{
    for (int i = 0; i < FTR_HELD; i++)
        free(im->held[i].acc);
    memset(im->held, 0, sizeof(im->held));
    memset(im->v, 0, sizeof(im->v));
    im->npids = 0;
    im->ts_kind = 0;
    im->format = im->o->format;
    im->raw_header = false;
    im->line = 0;
    im->t = 0;
    im->emit = emit;
}

static int pass(struct ftr_imp *im, FILE *f)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
        im->line++;
        if (!im->emit)
            im->st->lines++;
        if ((size_t)n != strlen(buf)) {
            rc = ftr_bad(im, "line", "contains a NUL byte");
            break;
        }
        buf[strcspn(buf, "\r\n")] = '\0';
        rc = one_line(im, buf);
        if (im->emit && rc == 0)
            trc_advance(im->w, safe_time(im));
    }
    if (rc == 0 && ferror(f))
        rc = ftr_bad(im, "line", "read error: %s", strerror(errno));
    if (rc == 0)
        flush_all(im);
    free(buf);
    return rc;
}

/* ---- Output ------------------------------------------------------------------------------ */

static void to_stream(void *ctx, const struct trc_rec *r)
{
    char line[1024];
    size_t n = trc_format(r, line, sizeof(line));
    if (n < sizeof(line)) {
        fputs(line, ctx);
    } else {
        char *big = malloc(n + 1);
        SNP_ASSERT(big);
        trc_format(r, big, n + 1);
        fputs(big, ctx);
        free(big);
    }
    fputc('\n', ctx);
}

static struct trc *open_out(const char *out_path, FILE *stream, const struct trc_header *h,
                            char *err, size_t errlen)
{
    if (out_path)
        return trc_open(out_path, h, err, errlen);
    char *hdr = trc_format_header(h);
    if (!hdr) {
        snprintf(err, errlen, "the header's config is not a JSON object");
        return NULL;
    }
    fprintf(stream, "%s\n", hdr);
    free(hdr);
    struct trc *w = trc_open(NULL, h, err, errlen);
    if (w)
        trc_set_sink(w, to_stream, stream);
    return w;
}

/* Nothing to write: an error, not an empty trace (a CI job must not pass on
 * nothing). The message says what was seen; st has the details. */
static int no_events(struct ftr_imp *im)
{
    struct ftr_stats *st = im->st;
    st->empty = true;
    int n = snprintf(im->err, im->errlen,
                     "%s: no line maps to an event: %" PRIu64 " lines, format %s, %" PRIu64
                     " known tracepoints with no vCPU to attribute to, %u unknown tracepoints, %" PRIu64
                     " lines that are no tracepoint line",
                     im->path, st->lines, st->format == FTR_FMT_AUTO ? "not detected (no tracepoint line)"
                                                                     : ftr_format_name(st->format),
                     st->no_vcpu.count, st->nunknown, st->unparsed.count);
    if (n > 0 && (size_t)n < im->errlen && st->nsample)
        snprintf(im->err + n, im->errlen - (size_t)n, "; first unrecognised: line %lu \"%.60s\"",
                 st->sample[0].line, st->sample[0].text);
    snp_esc_inplace(im->err, im->errlen);
    return -1;
}

int ftr_import(const char *log_path, const struct ftr_opts *o, ftr_header_fn header, void *ctx,
               const char *out_path, FILE *stream, struct ftr_stats *st, int *status, char *err,
               size_t errlen)
{
    memset(st, 0, sizeof(*st));
    FILE *f = snp_fopen_input(log_path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open log: %s", log_path, strerror(errno));
        *status = 66;
        return -1;
    }
    struct ftr_imp *im = calloc(1, sizeof(*im));
    SNP_ASSERT(im);
    *im = (struct ftr_imp){.path = log_path, .st = st, .hz = o->hz, .o = o, .format = o->format,
                           .err = err, .errlen = errlen};
    im->scan.vcpus = 1;
    st->format = o->format;
    *status = 65;
    int rc = pass(im, f);
    if (rc == 0 && !im->scan.events)
        rc = no_events(im);
    struct trc_header h = {0};
    if (rc == 0) {
        h.vcpus = im->scan.vcpus;
        h.mode = im->scan.snp ? "snp" : im->scan.sev_es ? "sev-es" : "plain";
        rc = header(ctx, &im->scan, &h, status, err, errlen);
    }
    if (rc == 0) {
        *status = 66;
        im->w = open_out(out_path, stream, &h, err, errlen);
        rc = im->w ? 0 : -1;
    }
    if (rc == 0) {
        struct ftr_scan scan = im->scan;
        reset_pass(im, true);
        im->scan = scan;
        rewind(f);
        *status = 65;
        rc = pass(im, f);
        if (trc_close(im->w, rc == 0, err, errlen) < 0 && rc == 0) {
            *status = 66;
            rc = -1;
        }
        if (rc == 0 && !out_path && fflush(stream) != 0) {
            snprintf(err, errlen, "cannot write the trace: %s", strerror(errno));
            *status = 66;
            rc = -1;
        }
    }
    reset_pass(im, false);
    free(im);
    fclose(f);
    return rc;
}
