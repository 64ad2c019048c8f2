/* SPDX-License-Identifier: MIT */
/*
 * `snpref stats TRACE.jsonl [--json]` (issue 12; docs/cli.md): what a trace
 * holds, per vCPU: events of each kind, interrupts taken, IPIs sent, VM exits
 * and #VCs, and histograms of the guest-visible latencies `compare` measures
 * (compare_log.h: an IPI from the sender's ICR write, a device interrupt from
 * its message, to the target's handler entry), with power-of-two buckets.
 * The numbers come from the same sink as `compare`'s, read from a file.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_log.h"
#include "snpref.h"
#include "snpref/base.h"
#include "tools.h"
#include "trace.h"

static const char usage_stats[] =
    "usage: snpref stats TRACE.jsonl [--json]\n"
    "Per-vCPU counts of a trace (events by kind, interrupts taken, IPIs sent, VM\n"
    "exits, #VCs) and histograms of the guest-visible IPI and device latencies\n"
    "(cycles, power-of-two buckets), as text or, with --json, as one JSON object.\n"
    "Exit status: 0; 64 bad command line, 65 malformed trace, 66 missing trace.\n";

#define NBUCKETS 65 /* [0,1), [1,2), [2,4), ..., [2^63, 2^64) */

static const char *const lat_names[LAT_KINDS] = {"ipi", "device"};

static unsigned bucket_of(uint64_t v)
{
    return v ? 64u - (unsigned)__builtin_clzll(v) : 0;
}

static uint64_t bucket_lo(unsigned b)
{
    return b ? 1ull << (b - 1) : 0;
}

/* Reads the trace into L (its vCPU count from the header). Returns 0 or the
 * exit status after one line. */
static int load(const char *path, struct run_log *L, const struct trc_header **hdr,
                struct trc_reader **rd)
{
    char err[512];
    FILE *f = fopen(path, "r");
    if (!f) {
        error_line("%s: cannot open trace", path);
        return SNPREF_ST_NOINPUT;
    }
    fclose(f);
    if (!(*rd = trc_reader_open(path, err, sizeof(err)))) {
        error_line("%s", err);
        return SNPREF_ST_DATAERR;
    }
    *hdr = trc_reader_header(*rd);
    L->n = (*hdr)->vcpus;
    L->v = calloc(L->n, sizeof(*L->v));
    SNP_ASSERT(L->v);
    struct trc_rec rec;
    int k;
    while ((k = trc_reader_next(*rd, &rec, err, sizeof(err))) == 1) {
        log_sink(L, &rec);
        if (rec.t > L->cycles)
            L->cycles = rec.t;
    }
    if (k < 0) {
        error_line("%s", err);
        return SNPREF_ST_DATAERR;
    }
    return 0;
}

static uint64_t total_events(const uint64_t *nev)
{
    uint64_t n = 0;
    for (int e = 0; e < TRC_EV_COUNT; e++)
        n += nev[e];
    return n;
}

/* ---- Text ---------------------------------------------------------------------------- */

static void text_hist(const char *title, struct samples *s)
{
    struct lat_stats st = samples_stats(s);
    printf("  %s: %zu samples", title, st.n);
    if (!st.n) {
        printf("\n");
        return;
    }
    printf(", min %" PRIu64 ", median %" PRIu64 ", p99 %" PRIu64 ", max %" PRIu64 " cycles\n",
           st.min, st.median, st.p99, st.max);
    uint64_t n[NBUCKETS] = {0}, top = 0;
    for (size_t i = 0; i < s->n; i++)
        n[bucket_of(s->v[i])]++;
    for (unsigned b = 0; b < NBUCKETS; b++)
        top = n[b] > top ? n[b] : top;
    unsigned first = bucket_of(st.min), last = bucket_of(st.max);
    for (unsigned b = first; b <= last; b++) {
        int bar = (int)((n[b] * 40 + top - 1) / top);
        printf("    [%8" PRIu64 ", %8" PRIu64 ") %6" PRIu64 " %.*s\n", bucket_lo(b),
               b < 64 ? bucket_lo(b + 1) : UINT64_MAX, n[b], bar,
               "########################################");
    }
}

static void text_report(const char *path, const struct trc_header *h, struct run_log *L)
{
    uint64_t all = total_events(L->sys_nev);
    for (unsigned i = 0; i < L->n; i++)
        all += total_events(L->v[i].nev);
    printf("snpref stats: %s: %" PRIu64 " events, %u vCPUs, fabric %s, mode %s, last event at "
           "cycle %" PRIu64 "\n",
           path, all, L->n, h->fabric, h->mode, L->cycles);
    printf("  %-20s", "event");
    for (unsigned i = 0; i < L->n; i++)
        printf(" %8s%-2u", "vCPU ", i);
    printf(" %10s\n", "system");
    for (int e = 0; e < TRC_EV_COUNT; e++) {
        uint64_t n = L->sys_nev[e];
        for (unsigned i = 0; i < L->n; i++)
            n += L->v[i].nev[e];
        if (!n)
            continue;
        printf("  %-20s", trc_catalogue[e].name);
        for (unsigned i = 0; i < L->n; i++)
            printf(" %10" PRIu64, L->v[i].nev[e]);
        printf(" %10" PRIu64 "\n", L->sys_nev[e]);
    }
    for (unsigned i = 0; i < L->n; i++) {
        printf("vCPU %u: %zu interrupts taken, %" PRIu64 " VM exits\n", i, L->v[i].nirq,
               L->v[i].exits);
        for (int k = 0; k < LAT_KINDS; k++)
            text_hist(k == LAT_IPI ? "IPI latency" : "device latency", &L->v[i].lat[k]);
    }
    printf("all vCPUs:\n");
    for (int k = 0; k < LAT_KINDS; k++)
        text_hist(k == LAT_IPI ? "IPI latency" : "device latency", &L->lat[k]);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static cJSON *json_lat(struct samples *s)
{
    struct lat_stats st = samples_stats(s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "samples", (double)st.n);
    cJSON_AddNumberToObject(o, "min", (double)st.min);
    cJSON_AddNumberToObject(o, "median", (double)st.median);
    cJSON_AddNumberToObject(o, "p99", (double)st.p99);
    cJSON_AddNumberToObject(o, "max", (double)st.max);
    uint64_t n[NBUCKETS] = {0};
    for (size_t i = 0; i < s->n; i++)
        n[bucket_of(s->v[i])]++;
    cJSON *h = cJSON_AddArrayToObject(o, "histogram");
    for (unsigned b = 0; b < NBUCKETS; b++) {
        if (!n[b])
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "lo", (double)bucket_lo(b));
        cJSON_AddNumberToObject(x, "hi", b < 64 ? (double)bucket_lo(b + 1) : 18446744073709551616.0);
        cJSON_AddNumberToObject(x, "count", (double)n[b]);
        cJSON_AddItemToArray(h, x);
    }
    return o;
}

static cJSON *json_events(const uint64_t *nev)
{
    cJSON *o = cJSON_CreateObject();
    for (int e = 0; e < TRC_EV_COUNT; e++)
        if (nev[e])
            cJSON_AddNumberToObject(o, trc_catalogue[e].name, (double)nev[e]);
    return o;
}

static void json_report(const char *path, const struct trc_header *h, struct run_log *L)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "trace", path);
    cJSON_AddStringToObject(o, "fabric", h->fabric);
    cJSON_AddStringToObject(o, "mode", h->mode);
    cJSON_AddNumberToObject(o, "last_cycle", (double)L->cycles);
    cJSON *vs = cJSON_AddArrayToObject(o, "vcpus");
    for (unsigned i = 0; i < L->n; i++) {
        struct vcpu_log *v = &L->v[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "vcpu", i);
        cJSON_AddItemToObject(x, "events", json_events(v->nev));
        cJSON_AddNumberToObject(x, "interrupts_taken", (double)v->nirq);
        cJSON_AddNumberToObject(x, "vm_exits", (double)v->exits);
        cJSON *lat = cJSON_AddObjectToObject(x, "latency");
        for (int k = 0; k < LAT_KINDS; k++)
            cJSON_AddItemToObject(lat, lat_names[k], json_lat(&v->lat[k]));
        cJSON_AddItemToArray(vs, x);
    }
    cJSON_AddItemToObject(o, "system_events", json_events(L->sys_nev));
    cJSON *lat = cJSON_AddObjectToObject(o, "latency");
    for (int k = 0; k < LAT_KINDS; k++)
        cJSON_AddItemToObject(lat, lat_names[k], json_lat(&L->lat[k]));
    char *s = cJSON_Print(o);
    SNP_ASSERT(s);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

int cmd_stats(int argc, char **argv)
{
    static const struct option lo[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool json = false;
    opterr = 0;
    optind = 1;
    for (int ch; (ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1;) {
        if (ch == 'j')
            json = true;
        else if (ch == 'h')
            return fputs(usage_stats, stdout), 0;
        else
            return bad_option(ch, argv);
    }
    if (optind == argc)
        return usage_error("stats: which trace?");
    if (optind != argc - 1)
        return usage_error("stats: one trace, not %d", argc - optind);
    struct run_log L;
    memset(&L, 0, sizeof(L));
    const struct trc_header *h = NULL;
    struct trc_reader *rd = NULL;
    int rc = load(argv[optind], &L, &h, &rd);
    if (!rc && json)
        json_report(argv[optind], h, &L);
    else if (!rc)
        text_report(argv[optind], h, &L);
    if (rd)
        trc_reader_close(rd);
    log_free(&L);
    return rc;
}
