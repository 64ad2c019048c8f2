/* SPDX-License-Identifier: MIT */
/*
 * `snpref check EXPECTED.jsonl ACTUAL.jsonl [--tolerance T] [--events LIST]
 * [--ignore LIST] [--all] [--json] [--junit FILE]` (docs/cli.md,
 * docs/conformance.md): the command line and the three reports of
 * traces/compare.c. For people, a readable report on stdout; for farms, one
 * JSON object on stdout (--json) and a JUnit XML file with one testcase per
 * vCPU and event kind and one for timing (--junit, junit.c). --stats compares
 * per-vCPU histograms instead (check_stats.c); --junit-merge merges JUnit
 * files. Exit 0 on agreement, 1 on divergence, 64/65/66 for bad input.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "junit.h"
#include "stats.h"
#include "snpref/base.h"
#include "silicon.h"
#include "snpref/text.h"
#include "tools.h"

static const char usage_check[] =
    "usage: snpref check EXPECTED.jsonl ACTUAL.jsonl [options]\n"
    "Aligns the two traces per vCPU and reports the first divergence (docs/conformance.md).\n"
    "  --tolerance T     time tolerance: N cycles, P% of the expected time, or any\n"
    "                    (default exact)\n"
    "  --events LIST     compare only these events (comma-separated)\n"
    "  --ignore LIST     do not compare these events or EVENT.FIELD fields\n"
    "  --all             compare tsc, limit and interrupted too (not compared by default)\n"
    "  --json            print one JSON object instead of the report\n"
    "  --junit FILE      also write a JUnit XML file: a suite named after EXPECTED, a\n"
    "                    testcase per vCPU and event kind, one for timing\n"
    "  --partial         compare only the event kinds EXPECTED holds, tolerance any unless\n"
    "                    given (default when EXPECTED is not snpref's, e.g. an imported log)\n"
    "  --complete        compare every kind, as for two snpref traces\n"
    "  --stats           compare per-vCPU histograms instead of events: exits by reason,\n"
    "                    VMGEXIT codes, GHCB MSR requests, #VC codes, interrupts by vector,\n"
    "                    IPIs, page-state changes (with --json and --junit too)\n"
    "  --stat-tolerance LIST  KIND=P%, N, P%+N or any, comma-separated, over the\n"
    "                    defaults exit=10%+2 vmgexit=10%+2 vc=10%+2 irq=20%+2 ipi=20%+2\n"
    "                    ghcb_msr=0 psc=0 (KIND all sets every kind)\n"
    "snpref check --junit-merge OUT.xml IN.xml...  merges JUnit files into one\n"
    "Exit status: 0 agreement, 1 divergence (--stats: a kind beyond its tolerance),\n"
    "64 bad command line, 65 malformed trace or an EXPECTED with no event of the kinds\n"
    "compared, 66 missing input.\n";

struct check_cli {
    const char *paths[2];
    const char *junit;
    bool json, have_tol, stats;
    struct trc_stat_tol stat_tol[TRC_STAT_KINDS];
    int partial; /* -1 from EXPECTED's header, 0 --complete, 1 --partial */
    uint64_t diverged_line; /* ACTUAL ends with a replay's diverged event at this line */
    char diverged_why[160];
    struct trc_cmp_opts o;
    trc_ignore_t ignore;
};

static int set_events(struct check_cli *c, const char *list)
{
    trc_ignore_t keep = {0};
    char err[128];
    if (trc_ignore_parse(keep, list, err, sizeof(err)) < 0)
        return usage_error("--events: %s", err);
    for (int i = 0; i < TRC_EV_COUNT; i++)
        if (keep[i] & ~TRC_IGNORE_EVENT)
            return usage_error("--events takes event names, not fields");
    for (int i = 0; i < TRC_EV_COUNT; i++)
        c->ignore[i] = keep[i] ? 0 : TRC_IGNORE_EVENT;
    return 0;
}

static int parse(int argc, char **argv, struct check_cli *c)
{
    static const struct option lo[] = {
        {"tolerance", required_argument, 0, 't'}, {"events", required_argument, 0, 'e'},
        {"ignore", required_argument, 0, 'i'},    {"all", no_argument, 0, 'a'},
        {"json", no_argument, 0, 'j'},            {"junit", required_argument, 0, 'u'},
        {"partial", no_argument, 0, 'p'},         {"complete", no_argument, 0, 'C'},
        {"stats", no_argument, 0, 's'},           {"stat-tolerance", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0},
    };
    memset(c, 0, sizeof(*c));
    c->partial = -1;
    trc_ignore_defaults(c->ignore);
    trc_stat_tol_defaults(c->stat_tol);
    const char *events = NULL, *ignore = NULL, *stat_tol = NULL;
    bool all = false;
    opterr = 0;
    optind = 1;
    int ch;
    char err[128];
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (ch) {
        case 't':
            if (trc_tol_parse(optarg, &c->o.tol) < 0)
                return usage_error("--tolerance: '%s' is not N cycles, P%% or any", optarg);
            c->have_tol = true;
            break;
        case 'p': c->partial = 1; break;
        case 'C': c->partial = 0; break;
        case 'e': events = optarg; break;
        case 'i': ignore = optarg; break;
        case 'a': all = true; break;
        case 'j': c->json = true; break;
        case 'u': c->junit = optarg; break;
        case 's': c->stats = true; break;
        case 'T': stat_tol = optarg; break;
        case 'h': fputs(usage_check, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    if (argc - optind != 2)
        return usage_error("check: needs EXPECTED.jsonl and ACTUAL.jsonl");
    c->paths[0] = argv[optind];
    c->paths[1] = argv[optind + 1];
    if (c->stats && (c->have_tol || events || ignore || all || c->partial >= 0))
        return usage_error("--stats compares counts: --tolerance, --events, --ignore, --all, "
                           "--partial and --complete do not apply (--stat-tolerance does)");
    if (stat_tol && !c->stats)
        return usage_error("--stat-tolerance needs --stats");
    if (stat_tol && trc_stat_tol_parse(c->stat_tol, stat_tol, err, sizeof(err)) < 0)
        return usage_error("--stat-tolerance: %s", err);
    if (all)
        memset(c->ignore, 0, sizeof(c->ignore));
    if (events && set_events(c, events))
        return 64;
    if (ignore && trc_ignore_parse(c->ignore, ignore, err, sizeof(err)) < 0)
        return usage_error("--ignore: %s", err);
    c->o.ignore = c->ignore;
    return 0;
}

static const char *vcpu_name(int vcpu, char *buf, size_t len)
{
    if (vcpu < 0)
        snprintf(buf, len, "system");
    else
        snprintf(buf, len, "vcpu %d", vcpu);
    return buf;
}

static const char *field_name(const struct trc_cmp_div *d)
{
    if (d->field < 0 || (unsigned)d->field >= trc_catalogue[d->ev].nfields)
        return NULL;
    return trc_catalogue[d->ev].fields[d->field].name;
}

/* ---- For people ------------------------------------------------------------------ */

static void print_side(const struct check_cli *c, const struct trc_cmp_div *d, int k)
{
    const struct trc_cmp_line *at = k ? &d->actual : &d->expected;
    printf("  context, %s (%s):\n", k ? "actual" : "expected", c->paths[k]);
    for (unsigned i = 0; i < d->nbefore[k]; i++)
        printf("      %6lu  %s\n", d->before[k][i].line, d->before[k][i].text);
    if (at->text)
        printf("    > %6lu  %s\n", at->line, at->text);
    else
        printf("    >         (no event)\n");
    for (unsigned i = 0; i < d->nafter[k]; i++)
        printf("      %6lu  %s\n", d->after[k][i].line, d->after[k][i].text);
}

static void print_div(const struct check_cli *c, const struct trc_cmp_div *d)
{
    char vn[32];
    const char *f = field_name(d);
    printf("  %s, its event #%" PRIu64 ": %s", vcpu_name(d->vcpu, vn, sizeof(vn)), d->index,
           trc_div_name(d->kind));
    if (f)
        printf(" (field '%s')", f);
    if (d->kind == TRC_DIV_TIMING)
        printf(" (t %" PRIu64 " expected, %" PRIu64 " actual)", d->t_expected, d->t_actual);
    printf("\n");
    if (d->expected.text)
        printf("  expected  %s:%lu  %s\n", c->paths[0], d->expected.line, d->expected.text);
    else
        printf("  expected  (no event)\n");
    if (d->actual.text)
        printf("  actual    %s:%lu  %s\n", c->paths[1], d->actual.line, d->actual.text);
    else
        printf("  actual    (no event)\n");
    print_side(c, d, 0);
    print_side(c, d, 1);
}

static void print_headers(const struct trc_cmp_result *r)
{
    const struct trc_header *a = &r->hdr[0], *b = &r->hdr[1];
    if (strcmp(a->mode, b->mode))
        printf("note: the traces differ in mode: %s, %s\n", a->mode, b->mode);
    if (strcmp(a->fabric, b->fabric))
        printf("note: the traces differ in fabric: %s, %s\n", a->fabric, b->fabric);
    if (a->vcpus != b->vcpus)
        printf("note: the traces differ in vCPUs: %u, %u\n", a->vcpus, b->vcpus);
    if (strcmp(a->config_json, b->config_json))
        printf("note: the traces were made with different configs\n");
}

static void print_report(const struct check_cli *c, const struct trc_cmp_result *r)
{
    char tol[48], vn[32];
    trc_tol_str(&c->o.tol, tol, sizeof(tol));
    printf("snpref check: %s against %s: %s\n", c->paths[1], c->paths[0],
           r->agree ? "agree" : "DIVERGE");
    if (c->diverged_line)
        printf("note: %s is a replay that stopped where it diverged, at line %" PRIu64
               " of the replayed trace: %s\n", c->paths[1], c->diverged_line, c->diverged_why);
    print_headers(r);
    if (r->first.kind != TRC_DIV_NONE) {
        printf("first divergence:\n");
        print_div(c, &r->first);
    }
    if (r->timing.kind != TRC_DIV_NONE) {
        printf("timing: outside the tolerance (%s), first at:\n", tol);
        print_div(c, &r->timing);
    } else {
        printf("timing: within the tolerance (%s); largest difference %" PRIu64 " cycles\n", tol,
               r->max_dt);
    }
    printf("per vCPU:\n");
    for (unsigned i = 0; i < r->nvcpus; i++) {
        const struct trc_cmp_vcpu *v = &r->vcpus[i];
        printf("  %-8s %9" PRIu64 " expected %9" PRIu64 " actual %9" PRIu64 " matched  %s",
               vcpu_name(v->vcpu, vn, sizeof(vn)), v->expected, v->actual, v->matched,
               v->div.kind == TRC_DIV_NONE ? "agree\n" : "");
        if (v->div.kind != TRC_DIV_NONE)
            printf("%s at its event #%" PRIu64 "\n", trc_div_name(v->div.kind), v->div.index);
    }
    printf("events                       expected    actual   matched mismatched  timing\n");
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const struct trc_cmp_kind *k = &r->kinds[i];
        if (k->expected || k->actual)
            printf("  %-24s %10" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10" PRIu64 " %7" PRIu64 "%s\n",
                   trc_catalogue[i].name, k->expected, k->actual, k->matched, k->mismatched,
                   k->timing, c->ignore[i] & TRC_IGNORE_EVENT ? "  (not compared)" : "");
    }
}

/* ---- JSON ------------------------------------------------------------------------ */

static cJSON *json_line(const struct trc_cmp_line *l)
{
    if (!l->text)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "line", (double)l->line);
    cJSON *ev = cJSON_Parse(l->text);
    cJSON_AddItemToObject(o, "event", ev ? ev : cJSON_CreateString(l->text));
    return o;
}

static cJSON *json_lines(const struct trc_cmp_line *l, unsigned n)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned i = 0; i < n; i++)
        cJSON_AddItemToArray(a, json_line(&l[i]));
    return a;
}

static cJSON *json_div(const struct trc_cmp_div *d)
{
    if (d->kind == TRC_DIV_NONE)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", trc_div_name(d->kind));
    cJSON_AddNumberToObject(o, "vcpu", d->vcpu);
    cJSON_AddNumberToObject(o, "index", (double)d->index);
    const char *f = field_name(d);
    cJSON_AddItemToObject(o, "field", f ? cJSON_CreateString(f) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "expected", json_line(&d->expected));
    cJSON_AddItemToObject(o, "actual", json_line(&d->actual));
    cJSON *ctx = cJSON_AddObjectToObject(o, "context");
    static const char *const side[2] = {"expected", "actual"};
    for (int k = 0; k < 2; k++) {
        cJSON *s = cJSON_AddObjectToObject(ctx, side[k]);
        cJSON_AddItemToObject(s, "before", json_lines(d->before[k], d->nbefore[k]));
        cJSON_AddItemToObject(s, "after", json_lines(d->after[k], d->nafter[k]));
    }
    return o;
}

static cJSON *json_header(const struct trc_header *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", h->model);
    cJSON_AddStringToObject(o, "mode", h->mode);
    cJSON_AddNumberToObject(o, "vcpus", h->vcpus);
    cJSON_AddStringToObject(o, "fabric", h->fabric);
    return o;
}

static void json_counts(cJSON *o, const struct trc_cmp_result *r)
{
    cJSON *vs = cJSON_AddArrayToObject(o, "vcpus");
    for (unsigned i = 0; i < r->nvcpus; i++) {
        const struct trc_cmp_vcpu *v = &r->vcpus[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "vcpu", v->vcpu);
        cJSON_AddNumberToObject(x, "expected", (double)v->expected);
        cJSON_AddNumberToObject(x, "actual", (double)v->actual);
        cJSON_AddNumberToObject(x, "matched", (double)v->matched);
        cJSON_AddStringToObject(x, "result", v->div.kind == TRC_DIV_NONE ? "agree" : "diverge");
        cJSON_AddItemToObject(x, "divergence", json_div(&v->div));
        cJSON_AddItemToArray(vs, x);
    }
    cJSON *evs = cJSON_AddObjectToObject(o, "events");
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const struct trc_cmp_kind *k = &r->kinds[i];
        if (!k->expected && !k->actual)
            continue;
        cJSON *x = cJSON_AddObjectToObject(evs, trc_catalogue[i].name);
        cJSON_AddNumberToObject(x, "expected", (double)k->expected);
        cJSON_AddNumberToObject(x, "actual", (double)k->actual);
        cJSON_AddNumberToObject(x, "matched", (double)k->matched);
        cJSON_AddNumberToObject(x, "mismatched", (double)k->mismatched);
        cJSON_AddNumberToObject(x, "timing", (double)k->timing);
    }
}

static void print_json(const struct check_cli *c, const struct trc_cmp_result *r)
{
    char tol[48];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "expected", c->paths[0]);
    cJSON_AddStringToObject(o, "actual", c->paths[1]);
    cJSON_AddStringToObject(o, "result", r->agree ? "agree" : "diverge");
    cJSON_AddStringToObject(o, "tolerance", trc_tol_str(&c->o.tol, tol, sizeof(tol)));
    cJSON *ign = cJSON_AddArrayToObject(o, "not_compared");
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const struct trc_event_desc *d = &trc_catalogue[i];
        if (c->ignore[i] & TRC_IGNORE_EVENT) {
            cJSON_AddItemToArray(ign, cJSON_CreateString(d->name));
            continue;
        }
        for (unsigned f = 0; f < d->nfields; f++)
            if (c->ignore[i] & (1u << f)) {
                char n[96];
                snprintf(n, sizeof(n), "%s.%s", d->name, d->fields[f].name);
                cJSON_AddItemToArray(ign, cJSON_CreateString(n));
            }
    }
    cJSON_AddItemToObject(o, "first_divergence", json_div(&r->first));
    cJSON *t = cJSON_AddObjectToObject(o, "timing");
    cJSON_AddStringToObject(t, "result", r->timing.kind == TRC_DIV_NONE ? "agree" : "diverge");
    cJSON_AddNumberToObject(t, "max_delta_cycles", (double)r->max_dt);
    cJSON_AddItemToObject(t, "divergence", json_div(&r->timing));
    json_counts(o, r);
    cJSON *h = cJSON_AddObjectToObject(o, "headers");
    cJSON_AddItemToObject(h, "expected", json_header(&r->hdr[0]));
    cJSON_AddItemToObject(h, "actual", json_header(&r->hdr[1]));
    char *s = cJSON_Print(o);
    puts(s);
    cJSON_free(s);
    cJSON_Delete(o);
}

/* ---- JUnit ------------------------------------------------------------------------- */

/* The failure of one testcase: the divergence, its expected and actual lines. */
static void junit_fail(struct junit_case *jc, const struct check_cli *c, const struct trc_cmp_div *d)
{
    jc->type = trc_div_name(d->kind);
    snprintf(jc->message, sizeof(jc->message), "%s at event #%" PRIu64, trc_div_name(d->kind),
             d->index);
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        const struct trc_cmp_line *l = k ? &d->actual : &d->expected;
        n += strlen(c->paths[k]) + (l->text ? strlen(l->text) : 10) + 48;
    }
    jc->text = malloc(n);
    SNP_ASSERT(jc->text);
    size_t at = 0;
    for (int k = 0; k < 2; k++) {
        const struct trc_cmp_line *l = k ? &d->actual : &d->expected;
        at += (size_t)snprintf(jc->text + at, n - at, "%s %s:%lu %s\n", k ? "actual" : "expected",
                               c->paths[k], l->line, l->text ? l->text : "(no event)");
    }
}

/*
 * One testcase per (vCPU, event kind) compared that either file holds, named
 * "vcpu N: KIND" ("system: KIND" for vCPU -1) in a suite named after EXPECTED,
 * and one "timing": a vCPU's divergence fails the testcase of the kind it
 * diverged at, the timing testcase the first time outside the tolerance.
 */
static int write_junit(const struct check_cli *c, const struct trc_cmp_result *r)
{
    struct junit_suite s = {.name = c->paths[0], .expected = c->paths[0], .actual = c->paths[1]};
    char vn[32];
    for (unsigned i = 0; i < r->nvcpus; i++) {
        const struct trc_cmp_vcpu *v = &r->vcpus[i];
        for (int ev = 0; ev < TRC_EV_COUNT; ev++) {
            bool failed = v->div.kind != TRC_DIV_NONE && v->div.ev == ev;
            if (!v->by_kind[0][ev] && !v->by_kind[1][ev] && !failed)
                continue;
            struct junit_case *jc = junit_add(&s, "%s: %s", vcpu_name(v->vcpu, vn, sizeof(vn)),
                                              trc_catalogue[ev].name);
            if (failed)
                junit_fail(jc, c, &v->div);
        }
    }
    struct junit_case *jc = junit_add(&s, "timing");
    if (r->timing.kind != TRC_DIV_NONE)
        junit_fail(jc, c, &r->timing);
    int rc = junit_write(&s, c->junit);
    junit_free(&s);
    return rc;
}

/*
 * What EXPECTED holds, read before comparing: in partial mode (a trace snpref
 * did not write need not hold every kind, as in replay) the kinds it lacks are
 * not compared; with no event of a compared kind, there is nothing to check
 * (65). ACTUAL's last event says whether it is a replay's diverged trace.
 */
static int prescan(struct check_cli *c, char *err, size_t errlen)
{
    struct trc_reader *rd = trc_reader_open(c->paths[0], err, errlen);
    if (!rd)
        return -1;
    bool has[TRC_EV_COUNT] = {false};
    struct trc_rec rec;
    int k;
    while ((k = trc_reader_next(rd, &rec, err, errlen)) == 1)
        has[rec.ev] = true;
    const struct trc_header *h = trc_reader_header(rd);
    /* Foreign, or ours filtered by run --trace-events: only its kinds compare. */
    bool partial = c->partial >= 0 ? c->partial
                                   : strncmp(h->model, "snpref ", 7) != 0 || h->events != NULL;
    trc_reader_close(rd);
    if (k < 0)
        return -1;
    if (partial && !c->have_tol)
        c->o.tol = (struct trc_tol){TRC_TOL_ANY, 0, 0};
    unsigned n = 0;
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        if (partial && !has[i])
            c->ignore[i] = TRC_IGNORE_EVENT;
        n += has[i] && !(c->ignore[i] & TRC_IGNORE_EVENT);
    }
    if (!n) {
        snprintf(err, errlen, "%s: no event of the kinds compared: nothing to check", c->paths[0]);
        return -1;
    }
    if ((rd = trc_reader_open(c->paths[1], err, errlen)) == NULL)
        return -1;
    while ((k = trc_reader_next(rd, &rec, err, errlen)) == 1)
        if (rec.ev == TRC_EV_diverged) {
            c->diverged_line = rec.v[0].u;
            snprintf(c->diverged_why, sizeof(c->diverged_why), "%s", rec.v[1].s);
        }
    trc_reader_close(rd);
    return k < 0 ? -1 : 0;
}

int cmd_check(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--junit-merge"))
        return junit_merge_cmd(argc - 1, argv + 1);
    struct check_cli c;
    int rc = parse(argc, argv, &c);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (c.stats)
        return check_stats(c.paths, c.stat_tol, c.json, c.junit);
    struct trc_cmp_result *r = calloc(1, sizeof(*r));
    if (!r)
        return 70;
    char err[512];
    int status = 0;
    FILE *probe = snp_fopen_input(c.paths[0], "r"), *probe2 = snp_fopen_input(c.paths[1], "r");
    if (probe && probe2 && prescan(&c, err, sizeof(err)) < 0) {
        error_line("%s", err);
        fclose(probe), fclose(probe2);
        free(r);
        return 65;
    }
    if (probe)
        fclose(probe);
    if (probe2)
        fclose(probe2);
    if (trc_cmp_files(c.paths[0], c.paths[1], &c.o, r, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        free(r);
        return status;
    }
    if (c.json)
        print_json(&c, r);
    else
        print_report(&c, r);
    rc = c.junit ? write_junit(&c, r) : 0;
    if (!rc)
        rc = r->agree ? 0 : 1;
    trc_cmp_free(r);
    free(r);
    return rc;
}
