/* SPDX-License-Identifier: MIT */
/*
 * The reports of `snpref compare` (compare_log.h): the knob sets of both
 * sides and where they differ, the totals and latencies per side as a text
 * table, and the same for machines as JSON (docs/compare.schema.json) and
 * JUnit XML (one testcase per check and vCPU, failed by an unexplained
 * divergence). Files are written whole or not at all (a temporary, renamed).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_log.h"
#include "snpref/base.h"
#include "tools.h"

static const char *const class_name[DIV_CLASSES] = {"explained", "latency", "unexplained",
                                                    "ignored"};
static const char *const lat_name[LAT_KINDS] = {"ipi", "device"};
static const char *const kind_name[3] = {"fixed", "nmi", "extint"};
static const char *const src_name[SRC_KINDS] = {"other_vcpu", "self", "external"};

/* ---- Knobs ----------------------------------------------------------------------------- */

/* Calls fn for every knob whose value differs between the sides (a missing
 * section or key counts as null). */
typedef void (*knob_fn)(void *ctx, const char *section, const char *key, const cJSON *a,
                        const cJSON *b);

static void diff_section(const char *sec, const cJSON *a, const cJSON *b, knob_fn fn, void *ctx,
                         bool a_side)
{
    for (const cJSON *it = a ? a->child : NULL; it; it = it->next) {
        const cJSON *o = b ? cJSON_GetObjectItemCaseSensitive(b, it->string) : NULL;
        if (a_side && !(o && cJSON_Compare(it, o, true)))
            fn(ctx, sec, it->string, it, o);
        else if (!a_side && !o)
            fn(ctx, sec, it->string, NULL, it);
    }
}

static void knob_diffs(const struct cmp_result *c, knob_fn fn, void *ctx)
{
    cJSON *k[2];
    for (int i = 0; i < 2; i++)
        k[i] = c->side[i].knobs_json ? cJSON_Parse(c->side[i].knobs_json) : NULL;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *x = k[pass], *y = k[!pass];
        for (const cJSON *sec = x ? x->child : NULL; sec; sec = sec->next) {
            const cJSON *other = y ? cJSON_GetObjectItemCaseSensitive(y, sec->string) : NULL;
            diff_section(sec->string, sec, other, fn, ctx, pass == 0);
        }
    }
    cJSON_Delete(k[0]);
    cJSON_Delete(k[1]);
}

static void print_diff(void *ctx, const char *sec, const char *key, const cJSON *a, const cJSON *b)
{
    const struct cmp_result *c = ctx;
    char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
    printf("  knob %s.%s: %s under %s, %s under %s\n", sec, key, sa ? sa : "(none)",
           c->side[0].label, sb ? sb : "(none)", c->side[1].label);
    free(sa);
    free(sb);
}

static void count_diff(void *ctx, const char *sec, const char *key, const cJSON *a, const cJSON *b)
{
    (void)sec, (void)key, (void)a, (void)b;
    (*(unsigned *)ctx)++;
}

void report_knobs(const struct cmp_result *c)
{
    for (int i = 0; i < 2; i++)
        printf("  %c = %s: fabric %s, knobs %s\n", "AB"[i], c->side[i].label, c->side[i].fabric,
               c->side[i].knobs_json ? c->side[i].knobs_json : "(none)");
    unsigned n = 0;
    knob_diffs(c, count_diff, &n);
    if (!n)
        printf("  knobs: the same on both sides\n");
    knob_diffs(c, print_diff, (void *)c);
}

/* ---- Totals ------------------------------------------------------------------------------ */

static int col_width(const struct cmp_result *c)
{
    size_t w = 14;
    for (int i = 0; i < 2; i++)
        if (strlen(c->log[i].label) > w)
            w = strlen(c->log[i].label);
    return (int)w;
}

static void row_u(const struct cmp_result *c, const char *name, uint64_t a, uint64_t b)
{
    int w = col_width(c);
    printf("  %-38s %*" PRIu64 " %*" PRIu64 "\n", name, w, a, w, b);
}

static uint64_t count_in(const struct countmap *m, uint64_t key)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].key == key)
            return m->e[i].n;
    return 0;
}

/* One row per code either side has, in code order. */
static void rows_by_code(const struct cmp_result *c, const char *what, size_t off)
{
    const struct countmap *m[2] = {(const void *)((const char *)&c->log[0] + off),
                                   (const void *)((const char *)&c->log[1] + off)};
    size_t i[2] = {0, 0};
    while (i[0] < m[0]->n || i[1] < m[1]->n) {
        uint64_t k0 = i[0] < m[0]->n ? m[0]->e[i[0]].key : UINT64_MAX;
        uint64_t k1 = i[1] < m[1]->n ? m[1]->e[i[1]].key : UINT64_MAX;
        uint64_t key = k0 < k1 ? k0 : k1;
        char name[64];
        snprintf(name, sizeof(name), "  %s 0x%" PRIx64, what, key);
        row_u(c, name, count_in(m[0], key), count_in(m[1], key));
        i[0] += k0 == key;
        i[1] += k1 == key;
    }
}

static void rows_latency(const struct cmp_result *c, enum lat_kind k, const char *title)
{
    struct lat_stats s[2];
    for (int i = 0; i < 2; i++)
        s[i] = samples_stats((struct samples *)&c->log[i].lat[k]);
    char name[64];
    snprintf(name, sizeof(name), "%s latency samples", title);
    row_u(c, name, s[0].n, s[1].n);
    if (!s[0].n && !s[1].n)
        return;
    static const char *const which[] = {"min", "median", "p99", "max"};
    for (int j = 0; j < 4; j++) {
        const uint64_t *va = &s[0].min + j, *vb = &s[1].min + j;
        snprintf(name, sizeof(name), "  %s (cycles)", which[j]);
        row_u(c, name, *va, *vb);
    }
}

void report_totals(const struct cmp_result *c)
{
    const struct run_log *A = &c->log[0], *B = &c->log[1];
    int w = col_width(c);
    printf("  %-38s %*s %*s\n", "", w, A->label, w, B->label);
    printf("  %-38s %*d %*d\n", "exit status", w, A->status, w, B->status);
    row_u(c, "simulated cycles", A->cycles, B->cycles);
    row_u(c, "instructions", A->insns, B->insns);
    row_u(c, "interrupts taken", A->irqs, B->irqs);
    for (int k = 0; k < 3; k++) {
        char name[48];
        snprintf(name, sizeof(name), "  %s", kind_name[k]);
        row_u(c, name, A->irq_kind[k], B->irq_kind[k]);
    }
    row_u(c, "accepted from another vCPU", A->irq_src[SRC_OTHER_VCPU], B->irq_src[SRC_OTHER_VCPU]);
    row_u(c, "accepted from the vCPU itself", A->irq_src[SRC_SELF], B->irq_src[SRC_SELF]);
    row_u(c, "accepted from devices, hypervisor", A->irq_src[SRC_EXTERNAL], B->irq_src[SRC_EXTERNAL]);
    row_u(c, "VM exits", A->exits, B->exits);
    rows_by_code(c, "exit", offsetof(struct run_log, exit_codes));
    printf("  %-38s", "VM exits per interrupt");
    for (int i = 0; i < 2; i++)
        printf(" %*.2f", w,
               c->log[i].irqs ? (double)c->log[i].exits / (double)c->log[i].irqs : 0.0);
    printf("\n");
    row_u(c, "#VCs", A->vcs, B->vcs);
    rows_by_code(c, "#VC", offsetof(struct run_log, vc_codes));
    row_u(c, "fixed IPIs sent", A->ipis, B->ipis);
    row_u(c, "APIC accesses the hardware saw", A->hw_accesses, B->hw_accesses);
    row_u(c, "accelerated APIC accesses", A->accelerated, B->accelerated);
    row_u(c, "fabric_hook decisions", A->hooks, B->hooks);
    rows_latency(c, LAT_IPI, "IPI");
    rows_latency(c, LAT_DEVICE, "device");
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void add_counts(cJSON *o, const char *key, const struct countmap *m)
{
    cJSON *x = cJSON_AddObjectToObject(o, key);
    for (size_t i = 0; i < m->n; i++) {
        char k[24];
        snprintf(k, sizeof(k), "0x%" PRIx64, m->e[i].key);
        cJSON_AddNumberToObject(x, k, (double)m->e[i].n);
    }
}

static cJSON *side_json(const struct side *sd, const struct run_log *L)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", sd->label);
    cJSON_AddStringToObject(o, "fabric", sd->fabric);
    if (sd->config)
        cJSON_AddStringToObject(o, "config", sd->config);
    else
        cJSON_AddNullToObject(o, "config");
    cJSON *k = sd->knobs_json ? cJSON_Parse(sd->knobs_json) : NULL;
    cJSON_AddItemToObject(o, "knobs", k ? k : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "status", L->status);
    cJSON *t = cJSON_AddObjectToObject(o, "totals");
    cJSON_AddNumberToObject(t, "cycles", (double)L->cycles);
    cJSON_AddNumberToObject(t, "instructions", (double)L->insns);
    cJSON_AddNumberToObject(t, "interrupts_taken", (double)L->irqs);
    cJSON *kinds = cJSON_AddObjectToObject(t, "interrupts_by_kind");
    for (int i = 0; i < 3; i++)
        cJSON_AddNumberToObject(kinds, kind_name[i], (double)L->irq_kind[i]);
    cJSON *src = cJSON_AddObjectToObject(t, "interrupts_by_source");
    for (int i = 0; i < SRC_KINDS; i++)
        cJSON_AddNumberToObject(src, src_name[i], (double)L->irq_src[i]);
    cJSON_AddNumberToObject(t, "vm_exits", (double)L->exits);
    add_counts(t, "vm_exits_by_code", &L->exit_codes);
    cJSON_AddNumberToObject(t, "vc", (double)L->vcs);
    add_counts(t, "vc_by_code", &L->vc_codes);
    cJSON_AddNumberToObject(t, "ipis_sent", (double)L->ipis);
    cJSON_AddNumberToObject(t, "hw_accesses", (double)L->hw_accesses);
    cJSON_AddNumberToObject(t, "accelerated_accesses", (double)L->accelerated);
    cJSON_AddNumberToObject(t, "fabric_hooks", (double)L->hooks);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency");
    for (int k2 = 0; k2 < LAT_KINDS; k2++) {
        struct lat_stats s = samples_stats((struct samples *)&L->lat[k2]);
        cJSON *x = cJSON_AddObjectToObject(lat, lat_name[k2]);
        cJSON_AddNumberToObject(x, "samples", (double)s.n);
        cJSON_AddNumberToObject(x, "min", (double)s.min);
        cJSON_AddNumberToObject(x, "median", (double)s.median);
        cJSON_AddNumberToObject(x, "p99", (double)s.p99);
        cJSON_AddNumberToObject(x, "max", (double)s.max);
    }
    return o;
}

static void json_diff(void *ctx, const char *sec, const char *key, const cJSON *a, const cJSON *b)
{
    cJSON *x = cJSON_CreateObject();
    char name[128];
    snprintf(name, sizeof(name), "%s.%s", sec, key);
    cJSON_AddStringToObject(x, "knob", name);
    cJSON_AddItemToObject(x, "a", a ? cJSON_Duplicate(a, true) : cJSON_CreateNull());
    cJSON_AddItemToObject(x, "b", b ? cJSON_Duplicate(b, true) : cJSON_CreateNull());
    cJSON_AddItemToArray(ctx, x);
}

static cJSON *result_json(const struct cmp_result *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", "snpref-compare");
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON_AddStringToObject(o, "guest", c->guest);
    cJSON_AddStringToObject(o, "mode", c->mode);
    cJSON_AddNumberToObject(o, "vcpus", c->vcpus);
    cJSON *sides = cJSON_AddArrayToObject(o, "sides");
    for (int i = 0; i < 2; i++)
        cJSON_AddItemToArray(sides, side_json(&c->side[i], &c->log[i]));
    knob_diffs(c, json_diff, cJSON_AddArrayToObject(o, "knob_differences"));
    cJSON *divs = cJSON_AddArrayToObject(o, "divergences");
    for (size_t i = 0; i < c->ndiv; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "class", class_name[c->div[i].cls]);
        if (c->div[i].vcpu >= 0)
            cJSON_AddNumberToObject(d, "vcpu", c->div[i].vcpu);
        else
            cJSON_AddNullToObject(d, "vcpu");
        cJSON_AddStringToObject(d, "check", c->div[i].check);
        cJSON_AddStringToObject(d, "what", c->div[i].what);
        cJSON_AddItemToArray(divs, d);
    }
    cJSON *sum = cJSON_AddObjectToObject(o, "summary");
    for (int k = 0; k < DIV_CLASSES; k++)
        cJSON_AddNumberToObject(sum, class_name[k], c->count[k]);
    cJSON_AddStringToObject(o, "result", c->count[DIV_UNEXPLAINED] ? "fail" : "pass");
    return o;
}

/* Writes text to path (- : stdout) whole: a temporary, then renamed. */
static int write_whole(const char *path, const char *text)
{
    if (!strcmp(path, "-")) {
        fputs(text, stdout);
        return 0;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        error_line("%s: cannot write: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int report_json(const struct cmp_result *c, const char *path)
{
    cJSON *o = result_json(c);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    SNP_ASSERT(s);
    size_t n = strlen(s);
    char *t = malloc(n + 2);
    SNP_ASSERT(t);
    memcpy(t, s, n);
    memcpy(t + n, "\n", 2);
    free(s);
    int rc = write_whole(path, t);
    free(t);
    return rc;
}

/* ---- JUnit ---------------------------------------------------------------------------------- */

/* The testcase of one check on one vCPU (-1: the run): failed by its
 * unexplained divergences; the others are its output. */
static void junit_case(FILE *f, const struct cmp_result *c, const char *check, int vcpu)
{
    char name[64];
    if (vcpu >= 0)
        snprintf(name, sizeof(name), "vCPU %d %s", vcpu, check);
    else
        snprintf(name, sizeof(name), "%s", check);
    fprintf(f, "  <testcase classname=\"snpref.compare\" name=\"%s\">\n", name);
    for (size_t i = 0; i < c->ndiv; i++) {
        const struct divergence *d = &c->div[i];
        if (d->vcpu != vcpu || strcmp(d->check, check))
            continue;
        fputs(d->cls == DIV_UNEXPLAINED ? "    <failure type=\"unexplained\" message=\""
                                        : "    <system-out>",
              f);
        xml_text(f, d->what);
        fputs(d->cls == DIV_UNEXPLAINED ? "\"/>\n" : "</system-out>\n", f);
    }
    fputs("  </testcase>\n", f);
}

static unsigned junit_failures(const struct cmp_result *c, const char *check, int vcpu)
{
    for (size_t i = 0; i < c->ndiv; i++)
        if (c->div[i].vcpu == vcpu && !strcmp(c->div[i].check, check) &&
            c->div[i].cls == DIV_UNEXPLAINED)
            return 1;
    return 0;
}

static void junit_write(FILE *f, const struct cmp_result *c)
{
    static const char *const checks[] = {"interrupts", "console"};
    unsigned fails = junit_failures(c, "exit status", -1);
    for (unsigned v = 0; v < c->vcpus; v++)
        for (int k = 0; k < 2; k++)
            fails += junit_failures(c, checks[k], (int)v);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"snpref compare ", f);
    xml_text(f, c->guest);
    fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"0\">\n  <properties>\n",
            1 + 2 * c->vcpus, fails);
    for (int i = 0; i < 2; i++) {
        fprintf(f, "    <property name=\"%c\" value=\"", "ab"[i]);
        xml_text(f, c->side[i].label);
        fprintf(f, "\"/>\n    <property name=\"%c.knobs\" value=\"", "ab"[i]);
        xml_text(f, c->side[i].knobs_json ? c->side[i].knobs_json : "null");
        fputs("\"/>\n", f);
    }
    fputs("  </properties>\n", f);
    junit_case(f, c, "exit status", -1);
    for (unsigned v = 0; v < c->vcpus; v++)
        for (int k = 0; k < 2; k++)
            junit_case(f, c, checks[k], (int)v);
    fputs("</testsuite>\n", f);
}

int report_junit(const struct cmp_result *c, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    SNP_ASSERT(f);
    junit_write(f, c);
    fclose(f);
    int rc = write_whole(path, buf);
    free(buf);
    return rc;
}
