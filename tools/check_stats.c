/* SPDX-License-Identifier: MIT */
/*
 * `snpref check --stats EXPECTED ACTUAL [--stat-tolerance LIST] [--json]
 * [--junit FILE]` (docs/cli.md, docs/conformance.md "Statistics"): the three
 * reports of traces/stats.c. For people, per vCPU and kind a table of bins
 * like `perf kvm stat report`, the ones beyond the tolerance marked; one JSON
 * object with --json; a JUnit testcase per (vCPU, kind) with --junit.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "junit.h"
#include "silicon.h"
#include "snpref/base.h"
#include "stats.h"
#include "tools.h"

static void allowed_str(const struct trc_stat_bin *b, char *buf, size_t len)
{
    if (b->allowed == UINT64_MAX)
        snprintf(buf, len, "any");
    else
        snprintf(buf, len, "%" PRIu64, b->allowed);
}

static void print_report(const char *const paths[2], const struct trc_stat_result *r)
{
    char tol[32], key[64], al[24];
    printf("snpref check --stats: %s against %s: %s\n", paths[1], paths[0],
           r->agree ? "agree" : "DIFFER");
    printf("tolerances:");
    for (int k = 0; k < TRC_STAT_KINDS; k++)
        printf(" %s %s", trc_stat_kind_name((enum trc_stat_kind)k),
               trc_stat_tol_str(&r->tol[k], tol, sizeof(tol)));
    printf("\n");
    for (unsigned i = 0; i < r->nvcpus; i++) {
        const struct trc_stat_vcpu *v = &r->vcpus[i];
        printf("vcpu %d\n", v->vcpu);
        for (int k = 0; k < TRC_STAT_KINDS; k++) {
            const struct trc_stat_hist *h = &v->h[k];
            if (!h->nbins)
                continue;
            printf("  %-42s %10s %10s %8s\n", trc_stat_kind_name((enum trc_stat_kind)k), "expected",
                   "actual", "allowed");
            for (unsigned b = 0; b < h->nbins; b++) {
                const struct trc_stat_bin *x = &h->bins[b];
                allowed_str(x, al, sizeof(al));
                printf("    %-40s %10" PRIu64 " %10" PRIu64 " %8s%s\n",
                       trc_stat_key_str((enum trc_stat_kind)k, x->key, key, sizeof(key)), x->n[0],
                       x->n[1], al, x->differs ? "  BEYOND TOLERANCE" : "");
            }
        }
    }
    if (r->agree) {
        printf("every kind within its tolerance\n");
        return;
    }
    printf("beyond tolerance:");
    for (unsigned i = 0; i < r->nvcpus; i++)
        for (int k = 0; k < TRC_STAT_KINDS; k++)
            if (r->vcpus[i].h[k].differs)
                printf(" vcpu %d %s;", r->vcpus[i].vcpu, trc_stat_kind_name((enum trc_stat_kind)k));
    printf("\n");
}

static cJSON *json_hist(enum trc_stat_kind k, const struct trc_stat_hist *h)
{
    char key[64];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "result", h->differs ? "differ" : "agree");
    cJSON_AddNumberToObject(o, "expected", (double)h->total[0]);
    cJSON_AddNumberToObject(o, "actual", (double)h->total[1]);
    cJSON *bins = cJSON_AddArrayToObject(o, "bins");
    for (unsigned b = 0; b < h->nbins; b++) {
        const struct trc_stat_bin *x = &h->bins[b];
        cJSON *j = cJSON_CreateObject();
        char hex[24];
        snprintf(hex, sizeof(hex), "%#" PRIx64, x->key);
        cJSON_AddStringToObject(j, "key", hex);
        cJSON_AddStringToObject(j, "name", trc_stat_key_str(k, x->key, key, sizeof(key)));
        cJSON_AddNumberToObject(j, "expected", (double)x->n[0]);
        cJSON_AddNumberToObject(j, "actual", (double)x->n[1]);
        if (x->allowed == UINT64_MAX)
            cJSON_AddNullToObject(j, "allowed");
        else
            cJSON_AddNumberToObject(j, "allowed", (double)x->allowed);
        cJSON_AddStringToObject(j, "result", x->differs ? "differ" : "agree");
        cJSON_AddItemToArray(bins, j);
    }
    return o;
}

static void print_json(const char *const paths[2], const struct trc_stat_result *r)
{
    char tol[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "expected", paths[0]);
    cJSON_AddStringToObject(o, "actual", paths[1]);
    cJSON_AddStringToObject(o, "result", r->agree ? "agree" : "differ");
    cJSON *t = cJSON_AddObjectToObject(o, "tolerances");
    for (int k = 0; k < TRC_STAT_KINDS; k++)
        cJSON_AddStringToObject(t, trc_stat_kind_name((enum trc_stat_kind)k),
                                trc_stat_tol_str(&r->tol[k], tol, sizeof(tol)));
    cJSON *dif = cJSON_AddArrayToObject(o, "differing");
    cJSON *vs = cJSON_AddArrayToObject(o, "vcpus");
    for (unsigned i = 0; i < r->nvcpus; i++) {
        const struct trc_stat_vcpu *v = &r->vcpus[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "vcpu", v->vcpu);
        cJSON *ks = cJSON_AddObjectToObject(x, "kinds");
        for (int k = 0; k < TRC_STAT_KINDS; k++) {
            if (!v->h[k].nbins)
                continue;
            const char *name = trc_stat_kind_name((enum trc_stat_kind)k);
            cJSON_AddItemToObject(ks, name, json_hist((enum trc_stat_kind)k, &v->h[k]));
            if (v->h[k].differs) {
                cJSON *d = cJSON_CreateObject();
                cJSON_AddNumberToObject(d, "vcpu", v->vcpu);
                cJSON_AddStringToObject(d, "kind", name);
                cJSON_AddItemToArray(dif, d);
            }
        }
        cJSON_AddItemToArray(vs, x);
    }
    char *s = cJSON_Print(o);
    puts(s);
    cJSON_free(s);
    cJSON_Delete(o);
}

/* A kind's testcase fails with every bin beyond the tolerance, one a line. */
static void junit_hist(struct junit_case *jc, enum trc_stat_kind k, const struct trc_stat_hist *h)
{
    char key[64];
    size_t cap = 128 * h->nbins + 1, at = 0;
    jc->type = "stats";
    jc->text = malloc(cap);
    SNP_ASSERT(jc->text);
    jc->text[0] = '\0';
    unsigned n = 0;
    for (unsigned b = 0; b < h->nbins; b++) {
        const struct trc_stat_bin *x = &h->bins[b];
        if (!x->differs)
            continue;
        trc_stat_key_str(k, x->key, key, sizeof(key));
        if (!n++)
            snprintf(jc->message, sizeof(jc->message),
                     "%s %s: expected %" PRIu64 ", actual %" PRIu64 ", allowed %" PRIu64,
                     trc_stat_kind_name(k), key, x->n[0], x->n[1], x->allowed);
        at += (size_t)snprintf(jc->text + at, cap - at,
                               "%s: expected %" PRIu64 " actual %" PRIu64 " allowed %" PRIu64 "\n", key,
                               x->n[0], x->n[1], x->allowed);
    }
}

static int write_junit(const char *const paths[2], const struct trc_stat_result *r, const char *path)
{
    struct junit_suite s = {.name = paths[0], .expected = paths[0], .actual = paths[1]};
    for (unsigned i = 0; i < r->nvcpus; i++)
        for (int k = 0; k < TRC_STAT_KINDS; k++) {
            const struct trc_stat_hist *h = &r->vcpus[i].h[k];
            if (!h->nbins)
                continue;
            struct junit_case *jc = junit_add(&s, "vcpu %d: stats %s", r->vcpus[i].vcpu,
                                              trc_stat_kind_name((enum trc_stat_kind)k));
            if (h->differs)
                junit_hist(jc, (enum trc_stat_kind)k, h);
        }
    int rc = junit_write(&s, path);
    junit_free(&s);
    return rc;
}

int check_stats(const char *const paths[2], const struct trc_stat_tol *tol, bool json,
                const char *junit)
{
    struct trc_stat_result r;
    char err[512];
    int status = 0;
    if (trc_stat_files(paths[0], paths[1], tol, &r, &status, err, sizeof(err)) < 0) {
        error_line("%s", err);
        return status;
    }
    if (json)
        print_json(paths, &r);
    else
        print_report(paths, &r);
    int rc = junit ? write_junit(paths, &r, junit) : 0;
    if (!rc)
        rc = r.agree ? 0 : 1;
    trc_stat_free(&r);
    return rc;
}
