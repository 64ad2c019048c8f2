/* SPDX-License-Identifier: MIT */
/*
 * `snpref import ftrace LOG [--hz N] [--config FILE] [--mode M] [--out FILE]`
 * (docs/cli.md, docs/silicon-logs.md): the command line of traces/ftrace.c.
 * The trace goes to stdout (or --out, renamed into place when complete); a
 * summary of what was mapped, and of every line that was not, goes to stderr.
 * The header's config is the default config (or --config) with the vCPU count
 * the log shows, its mode, and core_hz = the --hz used to convert timestamps.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ftrace.h"
#include "silicon.h"
#include "tools.h"

static const char usage_import[] =
    "usage: snpref import ftrace LOG [options] > TRACE.jsonl\n"
    "Turns a Linux KVM tracepoint log (trace-cmd report, or the ftrace trace file)\n"
    "into a trace (docs/silicon-logs.md).\n"
    "  --hz N             cycles per second for timestamps: t = round((ts - first) * N)\n"
    "                     (default: the config's core_hz)\n"
    "  --config FILE      config recorded in the header (default: the defaults)\n"
    "  --mode M           plain, sev-es or snp (default: from the tracepoints seen)\n"
    "  --out FILE         write the trace there instead of stdout\n"
    "  --format F         auto (default: detected per file), raw, trace-cmd or perf\n"
    "  --ts-unit U        integer timestamps are cycles (default) or ns\n"
    "  --strict           a line of a tracepoint the importer does not know is an error\n"
    "  --summary-json FILE  also write the summary as one JSON object (even on error)\n"
    "Exit status: 0; 64 bad command line; 65 malformed log or config, a log that maps\n"
    "no line onto an event, an unknown tracepoint with --strict; 66 missing input.\n";

struct import_cli {
    const char *log, *config, *mode, *out, *hz, *summary_json;
    int format;
    bool strict, ts_ns;
    struct snp_config cfg;
    char *cfg_json;
};

static int parse(int argc, char **argv, struct import_cli *c)
{
    static const struct option lo[] = {
        {"hz", required_argument, 0, 'z'},  {"config", required_argument, 0, 'c'},
        {"mode", required_argument, 0, 'm'}, {"out", required_argument, 0, 'o'},
        {"format", required_argument, 0, 'f'}, {"strict", no_argument, 0, 's'},
        {"ts-unit", required_argument, 0, 'u'}, {"summary-json", required_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    memset(c, 0, sizeof(*c));
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (ch) {
        case 'z': c->hz = optarg; break;
        case 'c': c->config = optarg; break;
        case 'm': c->mode = optarg; break;
        case 'o': c->out = optarg; break;
        case 's': c->strict = true; break;
        case 'j': c->summary_json = optarg; break;
        case 'f':
            if ((c->format = ftr_format_parse(optarg)) < 0)
                return usage_error("--format: '%s' is not auto, raw, trace-cmd or perf", optarg);
            break;
        case 'u':
            if (strcmp(optarg, "cycles") && strcmp(optarg, "ns"))
                return usage_error("--ts-unit: '%s' is not cycles or ns", optarg);
            c->ts_ns = !strcmp(optarg, "ns");
            break;
        case 'h': fputs(usage_import, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    if (optind >= argc || strcmp(argv[optind], "ftrace"))
        return usage_error("import: the only format is ftrace: snpref import ftrace LOG");
    if (argc - optind != 2)
        return usage_error("import ftrace: needs one LOG");
    c->log = argv[optind + 1];
    if (c->mode && strcmp(c->mode, "plain") && strcmp(c->mode, "sev-es") && strcmp(c->mode, "snp"))
        return usage_error("--mode: '%s' is not plain, sev-es or snp", c->mode);
    return 0;
}

static int header(void *ctx, const struct ftr_scan *scan, struct trc_header *h, int *status,
                  char *err, size_t errlen)
{
    (void)status, (void)err, (void)errlen;
    struct import_cli *c = ctx;
    c->cfg.vcpus = scan->vcpus;
    snprintf(c->cfg.mode, sizeof(c->cfg.mode), "%s", c->mode ? c->mode : h->mode);
    c->cfg_json = config_to_json(&c->cfg);
    h->model = "snpref-import ftrace " SNPREF_VERSION;
    h->mode = c->cfg.mode;
    h->fabric = c->cfg.apic;
    h->quantum = c->cfg.quantum;
    h->config_json = c->cfg_json;
    return 0;
}

static void print_lines(const char *what, const struct ftr_lines *l)
{
    if (!l->count)
        return;
    fprintf(stderr, "  %-44s %8" PRIu64 "  (line", what, l->count);
    unsigned n = l->count < FTR_MAX_LINES ? (unsigned)l->count : FTR_MAX_LINES;
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "%s %lu", i ? "," : "", l->first[i]);
    fprintf(stderr, "%s)\n", l->count > n ? ", ..." : "");
}

static void summary(const struct import_cli *c, const struct ftr_stats *st)
{
    char log[512];
    fprintf(stderr, "snpref import: %s: %" PRIu64 " lines, %" PRIu64 " tracepoints mapped, %" PRIu64
                    " events written\n",
            esc_text(c->log, log, sizeof(log)), st->lines, st->mapped, st->events);
    fprintf(stderr, "  %-44s %8s\n", "format", st->format == FTR_FMT_AUTO ? "none" : ftr_format_name(st->format));
    if (st->comments)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "comments and trace-cmd banners", st->comments);
    for (unsigned i = 0; i < st->nunknown; i++) {
        char what[80];
        snprintf(what, sizeof(what), "unknown tracepoint %s", st->unknown[i].name);
        print_lines(what, &st->unknown[i].at);
    }
    if (st->unknown_more)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "lines of further unknown tracepoints",
                st->unknown_more);
    print_lines("lines that are no tracepoint line", &st->unparsed);
    if (st->other_format)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "  of which tracepoint lines of another format",
                st->other_format);
    print_lines("lines with no thread: vCPU by position", &st->positional);
    print_lines("tracepoints with no vCPU to attribute to", &st->no_vcpu);
    print_lines("lost-events notes (the log has gaps)", &st->lost);
    print_lines("timestamps earlier than the line before", &st->clamped);
    print_lines("GHCB MSR protocol enter/exit without its pair", &st->incomplete);
    if (st->apic_covered)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "kvm_apic lines carried by kvm_msr lines",
                st->apic_covered);
    if (st->pio_repeat)
        fprintf(stderr, "  %-44s %8" PRIu64 "\n", "kvm_pio with count > 1 (first value only)",
                st->pio_repeat);
    for (unsigned i = 0; i < st->nsample; i++)
        fprintf(stderr, "  %s line %lu: %s\n", i ? "        " : "not recognised:", st->sample[i].line,
                st->sample[i].text);
}

static cJSON *json_lines(const struct ftr_lines *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)l->count);
    cJSON *a = cJSON_AddArrayToObject(o, "first_lines");
    for (unsigned i = 0; i < l->count && i < FTR_MAX_LINES; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)l->first[i]));
    return o;
}

/* The summary as one JSON object (docs/silicon-logs.md "Summary"). */
static int summary_json(const struct import_cli *c, const struct ftr_stats *st, int rc,
                        const char *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "log", c->log);
    cJSON_AddStringToObject(o, "result", rc ? "error" : "ok");
    cJSON_AddItemToObject(o, "error", rc ? cJSON_CreateString(err) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "format", st->format == FTR_FMT_AUTO ? "none" : ftr_format_name(st->format));
    cJSON_AddNumberToObject(o, "lines", (double)st->lines);
    cJSON_AddNumberToObject(o, "mapped", (double)st->mapped);
    cJSON_AddNumberToObject(o, "events", (double)st->events);
    cJSON_AddNumberToObject(o, "comments", (double)st->comments);
    cJSON *u = cJSON_AddObjectToObject(o, "unknown_tracepoints");
    for (unsigned i = 0; i < st->nunknown; i++)
        cJSON_AddItemToObject(u, st->unknown[i].name, json_lines(&st->unknown[i].at));
    cJSON_AddNumberToObject(o, "unknown_more", (double)st->unknown_more);
    cJSON_AddItemToObject(o, "unparsed", json_lines(&st->unparsed));
    cJSON_AddNumberToObject(o, "other_format", (double)st->other_format);
    cJSON_AddItemToObject(o, "no_vcpu", json_lines(&st->no_vcpu));
    cJSON_AddItemToObject(o, "positional", json_lines(&st->positional));
    cJSON_AddItemToObject(o, "lost", json_lines(&st->lost));
    cJSON_AddItemToObject(o, "clamped", json_lines(&st->clamped));
    cJSON_AddItemToObject(o, "incomplete", json_lines(&st->incomplete));
    cJSON_AddNumberToObject(o, "apic_covered", (double)st->apic_covered);
    cJSON_AddNumberToObject(o, "pio_repeat", (double)st->pio_repeat);
    cJSON *s = cJSON_AddArrayToObject(o, "not_recognised");
    for (unsigned i = 0; i < st->nsample; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "line", (double)st->sample[i].line);
        cJSON_AddStringToObject(x, "text", st->sample[i].text);
        cJSON_AddItemToArray(s, x);
    }
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", c->summary_json);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(txt, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = false;
    cJSON_free(txt);
    if (!ok || rename(tmp, c->summary_json) != 0) {
        error_line("%s: cannot write: %s", c->summary_json, strerror(errno));
        remove(tmp);
        return 66;
    }
    return 0;
}

int cmd_import(int argc, char **argv)
{
    struct import_cli c;
    int rc = parse(argc, argv, &c);
    if (rc)
        return rc < 0 ? 0 : rc;
    config_defaults(&c.cfg);
    char err[512];
    int status;
    if (c.config && config_load(&c.cfg, c.config, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        return status;
    }
    uint64_t hz = c.cfg.core_hz;
    if (c.hz && !parse_u64(c.hz, 1000000, 100000000000ull, &hz))
        return usage_error("--hz: '%s' is not a number in 1000000..100000000000", c.hz);
    c.cfg.core_hz = hz;
    struct ftr_opts o = {hz, (enum ftr_format)c.format, c.strict, c.ts_ns};
    struct ftr_stats st;
    rc = ftr_import(c.log, &o, header, &c, c.out, stdout, &st, &status, err, sizeof(err));
    free(c.cfg_json);
    if (rc < 0)
        error_line("%s", err);
    if (rc == 0 || st.empty) /* what was seen explains a log that maps to nothing */
        summary(&c, &st);
    int js = c.summary_json && (rc == 0 || status == 65) ? summary_json(&c, &st, rc, err) : 0;
    return rc < 0 ? status : js;
}
