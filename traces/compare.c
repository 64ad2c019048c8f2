/* SPDX-License-Identifier: MIT */
/*
 * `snpref check`: two traces aligned per vCPU (docs/conformance.md).
 *
 * Each vCPU's events form one stream (system events, vCPU -1, another); the
 * n-th event of a stream in EXPECTED is paired with the n-th in ACTUAL. A pair
 * agrees when the event and every compared field are equal; its times must
 * then be within the tolerance. The first pair that differs ends the
 * comparison of that stream (what follows would only repeat the shift); the
 * streams of other vCPUs go on, and every event is still counted per kind.
 * Files are read in the order of simulated time, the earlier side first, so
 * only the events one side is ahead by are held in memory.
 */
#include "compare.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snpref/base.h"
#include "snpref/text.h"

/* ---- Tolerances -------------------------------------------------------------- */

/* "2.5" -> 2500000 millionths of a percent... of one: parts per million of 100%. */
static int parse_percent_ppm(const char *s, uint64_t *ppm)
{
    uint64_t whole = 0, frac = 0;
    unsigned fdigits = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > 1000000)
            return -1;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
            if (fdigits >= 4)
                return -1; /* 1 ppm = 0.0001% is the resolution */
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (!fdigits)
            return -1;
    }
    if (p[0] != '%' || p[1])
        return -1;
    while (fdigits++ < 4)
        frac *= 10;
    *ppm = whole * 10000 + frac;
    return 0;
}

int trc_tol_parse(const char *s, struct trc_tol *t)
{
    memset(t, 0, sizeof(*t));
    if (!s || !*s)
        return -1;
    if (!strcmp(s, "any")) {
        t->kind = TRC_TOL_ANY;
        return 0;
    }
    if (strchr(s, '%')) {
        t->kind = TRC_TOL_PPM;
        return parse_percent_ppm(s, &t->ppm);
    }
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > UINT64_MAX / 10 - 9)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    t->kind = v ? TRC_TOL_CYCLES : TRC_TOL_EXACT;
    t->cycles = v;
    return 0;
}

uint64_t trc_tol_allow(const struct trc_tol *t, uint64_t expected)
{
    switch (t->kind) {
    case TRC_TOL_EXACT: return 0;
    case TRC_TOL_CYCLES: return t->cycles;
    case TRC_TOL_PPM: {
        unsigned __int128 a = (unsigned __int128)expected * t->ppm / 1000000u;
        return a > UINT64_MAX ? UINT64_MAX : (uint64_t)a;
    }
    case TRC_TOL_ANY: return UINT64_MAX;
    }
    return 0;
}

bool trc_tol_ok(const struct trc_tol *t, uint64_t expected, uint64_t actual)
{
    uint64_t d = actual > expected ? actual - expected : expected - actual;
    return d <= trc_tol_allow(t, expected);
}

const char *trc_tol_str(const struct trc_tol *t, char *buf, size_t len)
{
    switch (t->kind) {
    case TRC_TOL_EXACT: snprintf(buf, len, "exact"); break;
    case TRC_TOL_CYCLES: snprintf(buf, len, "%" PRIu64 " cycles", t->cycles); break;
    case TRC_TOL_PPM:
        snprintf(buf, len, "%" PRIu64 ".%04" PRIu64 "%%", t->ppm / 10000, t->ppm % 10000);
        break;
    case TRC_TOL_ANY: snprintf(buf, len, "any"); break;
    }
    return buf;
}

/* ---- Events -------------------------------------------------------------------- */

void trc_ev_copy_set(struct trc_ev_copy *dst, const struct trc_rec *src, unsigned long line)
{
    memset(dst, 0, sizeof(*dst));
    dst->r = *src;
    dst->line = line;
    const struct trc_event_desc *d = &trc_catalogue[src->ev];
    for (unsigned i = 0; i < d->nfields; i++) {
        if (d->fields[i].type != TRC_TYPE_S)
            continue;
        const char *v = src->v[i].s ? src->v[i].s : "";
        /* An ENUM value is the catalogue's static string: nothing to own. */
        if ((dst->r.v[i].s = trc_enum_value(&d->fields[i], v)))
            continue;
        dst->strs[i] = strdup(v);
        SNP_ASSERT(dst->strs[i]);
        dst->r.v[i].s = dst->strs[i];
    }
}

void trc_ev_copy_free(struct trc_ev_copy *e)
{
    for (unsigned i = 0; i < TRC_MAX_FIELDS; i++)
        free(e->strs[i]);
    memset(e, 0, sizeof(*e));
}

int trc_rec_diff(const struct trc_rec *a, const struct trc_rec *b, const uint32_t *ignore)
{
    if (a->ev != b->ev || a->vcpu != b->vcpu)
        return -1;
    const struct trc_event_desc *d = &trc_catalogue[a->ev];
    uint32_t ign = ignore ? ignore[a->ev] : 0;
    for (unsigned i = 0; i < d->nfields; i++) {
        if (ign & (1u << i))
            continue;
        bool same = d->fields[i].type == TRC_TYPE_S
                        ? !strcmp(a->v[i].s ? a->v[i].s : "", b->v[i].s ? b->v[i].s : "")
                        : a->v[i].u == b->v[i].u;
        if (!same)
            return (int)i;
    }
    return -2;
}

bool trc_rec_same(const struct trc_rec *a, const struct trc_rec *b, const uint32_t *ignore)
{
    return trc_rec_diff(a, b, ignore) == -2;
}

static int ignore_one(uint32_t *ignore, const char *item, char *err, size_t errlen)
{
    char name[64];
    const char *dot = strchr(item, '.');
    size_t n = dot ? (size_t)(dot - item) : strlen(item);
    if (n == 0 || n >= sizeof(name)) {
        snprintf(err, errlen, "'%s' is not EVENT or EVENT.FIELD", item);
        return -1;
    }
    memcpy(name, item, n);
    name[n] = '\0';
    int ev = trc_event_by_name(name);
    if (ev < 0) {
        snprintf(err, errlen, "no event named '%s' (see snpref events)", name);
        return -1;
    }
    if (!dot) {
        ignore[ev] |= TRC_IGNORE_EVENT;
        return 0;
    }
    const struct trc_event_desc *d = &trc_catalogue[ev];
    for (unsigned i = 0; i < d->nfields; i++)
        if (!strcmp(d->fields[i].name, dot + 1)) {
            ignore[ev] |= 1u << i;
            return 0;
        }
    snprintf(err, errlen, "event '%s' has no field '%s'", name, dot + 1);
    return -1;
}

int trc_ignore_parse(uint32_t *ignore, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list);
    SNP_ASSERT(copy);
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save))
        rc = ignore_one(ignore, tok, err, errlen);
    free(copy);
    return rc;
}

void trc_ignore_defaults(uint32_t *ignore)
{
    memset(ignore, 0, sizeof(trc_ignore_t));
    ignore[TRC_EV_tsc] = TRC_IGNORE_EVENT;
    ignore[TRC_EV_limit] = TRC_IGNORE_EVENT;
    ignore[TRC_EV_interrupted] = TRC_IGNORE_EVENT;
    ignore[TRC_EV_diverged] = TRC_IGNORE_EVENT;
}

const char *trc_div_name(enum trc_div_kind k)
{
    static const char *const n[] = {"none", "mismatch", "missing", "extra", "reordered", "timing"};
    return k <= TRC_DIV_TIMING ? n[k] : "?";
}

/* ---- Streams ------------------------------------------------------------------- */

/* Events of one side not yet paired, oldest first. */
struct evq {
    struct trc_ev_copy *v;
    size_t head, n, cap;
};

static struct trc_ev_copy *evq_push(struct evq *q)
{
    if (q->head + q->n == q->cap) {
        if (q->head) { /* slide down before growing */
            memmove(q->v, q->v + q->head, q->n * sizeof(*q->v));
            q->head = 0;
        }
        if (q->n == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 16;
            q->v = realloc(q->v, q->cap * sizeof(*q->v));
            SNP_ASSERT(q->v);
        }
    }
    return &q->v[q->head + q->n++];
}

static struct trc_ev_copy *evq_front(struct evq *q) { return q->n ? &q->v[q->head] : NULL; }

static void evq_pop(struct evq *q)
{
    trc_ev_copy_free(&q->v[q->head]);
    q->head++;
    q->n--;
    if (!q->n)
        q->head = 0;
}

static void evq_free(struct evq *q)
{
    while (q->n)
        evq_pop(q);
    free(q->v);
}

struct stream {
    struct evq q[2];                     /* 0 expected, 1 actual */
    struct trc_cmp_line ring[2][TRC_CMP_CONTEXT]; /* last paired events, oldest first */
    unsigned nring[2];
    bool diverged;
    struct trc_ev_copy after[2][TRC_CMP_CONTEXT]; /* events after a divergence */
    unsigned nafter[2];
    struct trc_ev_copy div_ev[2];        /* the diverging events (line 0: none) */
};

struct side {
    struct trc_reader *rd;
    const char *path;
    struct trc_rec rec;
    bool eof;
};

struct cmp {
    const struct trc_cmp_opts *o;
    struct trc_cmp_result *res;
    struct stream *st;                   /* TRC_CMP_STREAMS, index vcpu + 1 */
    struct side side[2];
};

static char *fmt_line(const struct trc_rec *r)
{
    size_t n = trc_format(r, NULL, 0);
    char *s = malloc(n + 1);
    SNP_ASSERT(s);
    trc_format(r, s, n + 1);
    return s;
}

static void line_set(struct trc_cmp_line *l, const struct trc_ev_copy *e)
{
    l->line = e->line;
    l->text = fmt_line(&e->r);
}

static void line_free(struct trc_cmp_line *l)
{
    free(l->text);
    l->text = NULL;
    l->line = 0;
}

/* Remembers the last TRC_CMP_CONTEXT paired events of a side. */
static void ring_add(struct stream *s, int side, const struct trc_ev_copy *e)
{
    if (s->nring[side] == TRC_CMP_CONTEXT) {
        line_free(&s->ring[side][0]);
        memmove(&s->ring[side][0], &s->ring[side][1],
                (TRC_CMP_CONTEXT - 1) * sizeof(s->ring[side][0]));
        s->nring[side]--;
    }
    line_set(&s->ring[side][s->nring[side]++], e);
}

static void ctx_before(struct trc_cmp_div *d, struct stream *s)
{
    for (int k = 0; k < 2; k++) {
        d->nbefore[k] = s->nring[k];
        for (unsigned i = 0; i < s->nring[k]; i++) {
            d->before[k][i].line = s->ring[k][i].line;
            d->before[k][i].text = strdup(s->ring[k][i].text);
        }
    }
}

static void div_free(struct trc_cmp_div *d)
{
    line_free(&d->expected);
    line_free(&d->actual);
    for (int k = 0; k < 2; k++)
        for (unsigned i = 0; i < TRC_CMP_CONTEXT; i++) {
            line_free(&d->before[k][i]);
            line_free(&d->after[k][i]);
        }
    memset(d, 0, sizeof(*d));
}

static void div_copy(struct trc_cmp_div *dst, const struct trc_cmp_div *src)
{
    *dst = *src;
    dst->expected.text = src->expected.text ? strdup(src->expected.text) : NULL;
    dst->actual.text = src->actual.text ? strdup(src->actual.text) : NULL;
    for (int k = 0; k < 2; k++)
        for (unsigned i = 0; i < TRC_CMP_CONTEXT; i++) {
            dst->before[k][i].text = src->before[k][i].text ? strdup(src->before[k][i].text) : NULL;
            dst->after[k][i].text = src->after[k][i].text ? strdup(src->after[k][i].text) : NULL;
        }
}

static struct trc_cmp_vcpu *vres(struct cmp *c, int vcpu)
{
    return &c->res->vcpus[vcpu + 1];
}

/* ---- Divergences ----------------------------------------------------------------- */

/* A stream stops being compared; its queued events become after-context. */
static void diverge(struct cmp *c, int vcpu, enum trc_div_kind kind, int field)
{
    struct stream *s = &c->st[vcpu + 1];
    struct trc_cmp_div *d = &vres(c, vcpu)->div;
    s->diverged = true;
    d->kind = kind;
    d->vcpu = vcpu;
    d->index = vres(c, vcpu)->matched;
    d->field = field;
    ctx_before(d, s);
    for (int k = 0; k < 2; k++) {
        struct trc_ev_copy *e = evq_front(&s->q[k]);
        if (e) {
            s->div_ev[k] = *e; /* takes the strings */
            memset(e, 0, sizeof(*e));
            evq_pop(&s->q[k]);
            if (k == 0)
                d->t_expected = s->div_ev[k].r.t;
            else
                d->t_actual = s->div_ev[k].r.t;
        }
        while (s->q[k].n) {
            if (s->nafter[k] < TRC_CMP_CONTEXT) {
                s->after[k][s->nafter[k]++] = *evq_front(&s->q[k]);
                memset(evq_front(&s->q[k]), 0, sizeof(struct trc_ev_copy));
            }
            evq_pop(&s->q[k]);
        }
    }
    d->ev = (int)(s->div_ev[0].line ? s->div_ev[0].r.ev : s->div_ev[1].r.ev);
    c->res->agree = false;
    /* Counted once, under the expected event's kind when there is one. */
    const struct trc_ev_copy *counted = s->div_ev[0].line ? &s->div_ev[0] : &s->div_ev[1];
    if (counted->line)
        c->res->kinds[counted->r.ev].mismatched++;
}

/*
 * A mismatch whose neighbours show an event missing on one side (the next
 * expected event is the actual one), extra on the other, or two adjacent
 * events swapped, is reported as such.
 */
static void refine(const struct cmp *c, struct stream *s, struct trc_cmp_div *d)
{
    const uint32_t *ign = c->o->ignore;
    const struct trc_ev_copy *e = &s->div_ev[0], *a = &s->div_ev[1];
    if (d->kind != TRC_DIV_MISMATCH || !e->line || !a->line)
        return;
    bool e_next_is_a = s->nafter[0] && trc_rec_same(&s->after[0][0].r, &a->r, ign);
    bool a_next_is_e = s->nafter[1] && trc_rec_same(&s->after[1][0].r, &e->r, ign);
    if (e_next_is_a && a_next_is_e)
        d->kind = TRC_DIV_REORDERED;
    else if (e_next_is_a)
        d->kind = TRC_DIV_MISSING;
    else if (a_next_is_e)
        d->kind = TRC_DIV_EXTRA;
}

static void finish_div(struct cmp *c, int vcpu)
{
    struct stream *s = &c->st[vcpu + 1];
    struct trc_cmp_div *d = &vres(c, vcpu)->div;
    refine(c, s, d);
    if (s->div_ev[0].line)
        line_set(&d->expected, &s->div_ev[0]);
    if (s->div_ev[1].line)
        line_set(&d->actual, &s->div_ev[1]);
    for (int k = 0; k < 2; k++) {
        d->nafter[k] = s->nafter[k];
        for (unsigned i = 0; i < s->nafter[k]; i++)
            line_set(&d->after[k][i], &s->after[k][i]);
    }
}

/* ---- Pairing ------------------------------------------------------------------- */

static void pair_heads(struct cmp *c, int vcpu)
{
    struct stream *s = &c->st[vcpu + 1];
    while (!s->diverged && s->q[0].n && s->q[1].n) {
        struct trc_ev_copy *e = evq_front(&s->q[0]), *a = evq_front(&s->q[1]);
        int f = trc_rec_diff(&e->r, &a->r, c->o->ignore);
        if (f != -2) {
            diverge(c, vcpu, TRC_DIV_MISMATCH, f);
            return;
        }
        uint64_t dt = e->r.t > a->r.t ? e->r.t - a->r.t : a->r.t - e->r.t;
        if (dt > c->res->max_dt)
            c->res->max_dt = dt;
        struct trc_cmp_kind *k = &c->res->kinds[e->r.ev];
        k->matched++;
        if (!trc_tol_ok(&c->o->tol, e->r.t, a->r.t)) {
            k->timing++;
            c->res->agree = false;
            if (c->res->timing.kind == TRC_DIV_NONE) {
                struct trc_cmp_div *d = &c->res->timing;
                d->kind = TRC_DIV_TIMING;
                d->vcpu = vcpu;
                d->index = vres(c, vcpu)->matched;
                d->field = -1;
                d->ev = (int)e->r.ev;
                d->t_expected = e->r.t;
                d->t_actual = a->r.t;
                ctx_before(d, s);
                line_set(&d->expected, e);
                line_set(&d->actual, a);
            }
        }
        vres(c, vcpu)->matched++;
        ring_add(s, 0, e);
        ring_add(s, 1, a);
        evq_pop(&s->q[0]);
        evq_pop(&s->q[1]);
    }
}

static void take(struct cmp *c, int side, const struct trc_rec *r, unsigned long line)
{
    struct trc_cmp_kind *k = &c->res->kinds[r->ev];
    if (side == 0)
        k->expected++;
    else
        k->actual++;
    if (c->o->ignore && (c->o->ignore[r->ev] & TRC_IGNORE_EVENT))
        return;
    struct stream *s = &c->st[r->vcpu + 1];
    struct trc_cmp_vcpu *v = vres(c, r->vcpu);
    if (side == 0)
        v->expected++;
    else
        v->actual++;
    v->by_kind[side][r->ev]++;
    if (s->diverged) {
        if (s->nafter[side] < TRC_CMP_CONTEXT)
            trc_ev_copy_set(&s->after[side][s->nafter[side]++], r, line);
        return;
    }
    trc_ev_copy_set(evq_push(&s->q[side]), r, line);
    if (s->q[side].n > TRC_CMP_MAX_AHEAD) {
        diverge(c, r->vcpu, side == 0 ? TRC_DIV_MISSING : TRC_DIV_EXTRA, -1);
        return;
    }
    pair_heads(c, r->vcpu);
}

/* ---- Files ------------------------------------------------------------------------ */

static int side_next(struct side *s, char *err, size_t errlen)
{
    int rc = trc_reader_next(s->rd, &s->rec, err, errlen);
    if (rc < 0)
        return -1;
    s->eof = rc == 0;
    return 0;
}

static void keep_header(struct trc_header *dst, const struct trc_header *h)
{
    *dst = *h;
    dst->model = strdup(h->model);
    dst->mode = strdup(h->mode);
    dst->fabric = strdup(h->fabric);
    dst->config_json = strdup(h->config_json);
    SNP_ASSERT(dst->model && dst->mode && dst->fabric && dst->config_json);
}

static int open_sides(struct cmp *c, const char *paths[2], int *status, char *err, size_t errlen)
{
    for (int k = 0; k < 2; k++) {
        c->side[k].path = paths[k];
        c->side[k].rd = trc_reader_open_st(paths[k], status, err, errlen);
        if (!c->side[k].rd)
            return -1;
        keep_header(&c->res->hdr[k], trc_reader_header(c->side[k].rd));
        if (side_next(&c->side[k], err, errlen) < 0) {
            *status = 65;
            return -1;
        }
    }
    return 0;
}

/* vCPUs reported: -1 if it had events, then 0 .. max(vcpus in either header) - 1
 * and any other vCPU with events. */
static void list_vcpus(struct cmp *c)
{
    struct trc_cmp_result *res = c->res;
    unsigned hv = res->hdr[0].vcpus > res->hdr[1].vcpus ? res->hdr[0].vcpus : res->hdr[1].vcpus;
    struct trc_cmp_vcpu *all = calloc(TRC_CMP_STREAMS, sizeof(*all));
    SNP_ASSERT(all);
    unsigned n = 0;
    for (int i = 0; i < TRC_CMP_STREAMS; i++) {
        struct trc_cmp_vcpu *v = &res->vcpus[i];
        bool used = v->expected || v->actual || v->div.kind != TRC_DIV_NONE;
        if (used || (i >= 1 && (unsigned)(i - 1) < hv)) {
            all[n] = *v;
            all[n].vcpu = i - 1;
            n++;
        }
    }
    memcpy(res->vcpus, all, TRC_CMP_STREAMS * sizeof(*all));
    res->nvcpus = n;
    free(all);
}

/* The earliest architectural divergence, by the time of its event. */
static void pick_first(struct trc_cmp_result *res)
{
    const struct trc_cmp_div *best = NULL;
    uint64_t bt = 0;
    for (unsigned i = 0; i < res->nvcpus; i++) {
        const struct trc_cmp_div *d = &res->vcpus[i].div;
        if (d->kind == TRC_DIV_NONE)
            continue;
        uint64_t t = d->expected.line ? d->t_expected : d->t_actual;
        if (!best || t < bt) {
            best = d;
            bt = t;
        }
    }
    if (best)
        div_copy(&res->first, best);
}

static void end_of_files(struct cmp *c)
{
    for (int i = 0; i < TRC_CMP_STREAMS; i++) {
        struct stream *s = &c->st[i];
        if (!s->diverged && (s->q[0].n || s->q[1].n))
            diverge(c, i - 1, s->q[0].n ? TRC_DIV_MISSING : TRC_DIV_EXTRA, -1);
        if (s->diverged)
            finish_div(c, i - 1);
    }
    list_vcpus(c);
    pick_first(c->res);
}

static void free_streams(struct cmp *c)
{
    for (int i = 0; c->st && i < TRC_CMP_STREAMS; i++) {
        struct stream *s = &c->st[i];
        for (int k = 0; k < 2; k++) {
            evq_free(&s->q[k]);
            for (unsigned j = 0; j < TRC_CMP_CONTEXT; j++) {
                line_free(&s->ring[k][j]);
                trc_ev_copy_free(&s->after[k][j]);
            }
            trc_ev_copy_free(&s->div_ev[k]);
        }
    }
    free(c->st);
    for (int k = 0; k < 2; k++)
        trc_reader_close(c->side[k].rd);
}

static int run(struct cmp *c, char *err, size_t errlen)
{
    struct side *e = &c->side[0], *a = &c->side[1];
    while (!e->eof || !a->eof) {
        int k = e->eof ? 1 : a->eof ? 0 : (a->rec.t < e->rec.t ? 1 : 0);
        take(c, k, &c->side[k].rec, trc_reader_line(c->side[k].rd));
        if (side_next(&c->side[k], err, errlen) < 0)
            return -1;
    }
    return 0;
}

int trc_cmp_files(const char *expected, const char *actual, const struct trc_cmp_opts *o,
                  struct trc_cmp_result *res, int *status, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    res->agree = true;
    struct cmp c = {.o = o, .res = res};
    c.st = calloc(TRC_CMP_STREAMS, sizeof(*c.st));
    SNP_ASSERT(c.st);
    const char *paths[2] = {expected, actual};
    int rc = open_sides(&c, paths, status, err, errlen);
    if (rc == 0 && run(&c, err, errlen) < 0) {
        *status = 65;
        rc = -1;
    }
    if (rc == 0)
        end_of_files(&c);
    free_streams(&c);
    if (rc < 0)
        trc_cmp_free(res);
    return rc;
}

void trc_cmp_free(struct trc_cmp_result *res)
{
    for (unsigned i = 0; i < TRC_CMP_STREAMS; i++)
        div_free(&res->vcpus[i].div);
    div_free(&res->first);
    div_free(&res->timing);
    for (int k = 0; k < 2; k++) {
        free((char *)res->hdr[k].model);
        free((char *)res->hdr[k].mode);
        free((char *)res->hdr[k].fabric);
        free((char *)res->hdr[k].config_json);
        memset(&res->hdr[k], 0, sizeof(res->hdr[k]));
    }
}
