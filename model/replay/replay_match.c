/* SPDX-License-Identifier: MIT */
/*
 * Outcome matching and the divergence report of a replay (replay_int.h).
 *
 * Per vCPU, a produced outcome is paired with a recorded one that is the same
 * event with the same fields and a time within the tolerance. Pairing keeps the
 * order of each vCPU's outcomes, except among outcomes at one time: their order
 * there is the timing kernel's choice, not the architecture's. An outcome whose
 * counterpart has not come by the time the trace has moved past it (plus the
 * tolerance) is a divergence; in a partial trace (an imported log, which need
 * not record every outcome), a produced outcome the trace lacks is only counted.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"
#include "snpref/base.h"

char *rp_format(const struct trc_rec *rec)
{
    size_t n = trc_format(rec, NULL, 0);
    char *s = malloc(n + 1);
    SNP_ASSERT(s);
    trc_format(rec, s, n + 1);
    return s;
}

/* ---- Queues -------------------------------------------------------------------- */

static void q_push(struct rp_queue *q, const struct trc_rec *rec, unsigned long line, uint64_t id)
{
    size_t head = (size_t)(q->v - q->base);
    if (head + q->n == q->cap) {
        if (head && head >= q->n) { /* at least half the space is before the entries: slide back */
            memmove(q->base, q->v, q->n * sizeof(*q->v));
        } else {
            q->cap = q->cap ? q->cap * 2 : 8;
            q->base = realloc(q->base, q->cap * sizeof(*q->base));
            SNP_ASSERT(q->base);
        }
        q->v = q->base;
    }
    struct rp_out *o = &q->v[q->n++];
    trc_ev_copy_set(&o->e, rec, line);
    o->id = id;
}

/* Removing the oldest entry (what a replay does most) moves nothing. */
static void q_remove(struct rp_queue *q, size_t i)
{
    trc_ev_copy_free(&q->v[i].e);
    if (i == 0)
        q->v++;
    else
        memmove(&q->v[i], &q->v[i + 1], (q->n - i - 1) * sizeof(*q->v));
    q->n--;
}

/*
 * The entry of q that x pairs with: the same event and fields, time within the
 * tolerance (rec_t is the recorded time of the pair), looked for among the
 * entries at the time of the oldest one. -1 if none.
 */
static long q_find(const struct replay *r, const struct rp_queue *q, const struct trc_rec *x,
                   bool x_recorded)
{
    /* A partial trace lacks outcomes: a produced one it lacks must not hide
     * the later ones it has (rp_recorded counts those passed over). */
    bool all = r->partial && x_recorded;
    for (size_t j = 0; j < q->n && (all || q->v[j].e.r.t == q->v[0].e.r.t); j++) {
        const struct trc_rec *y = &q->v[j].e.r;
        uint64_t rec_t = x_recorded ? x->t : y->t, made_t = x_recorded ? y->t : x->t;
        if (trc_rec_same(x, y, NULL) && trc_tol_ok(&r->tol, rec_t, made_t))
            return (long)j;
    }
    return -1;
}

static struct rp_stream *stream(struct replay *r, int vcpu)
{
    SNP_ASSERT(vcpu >= -1 && vcpu < (int)r->n);
    return &r->s[vcpu + 1];
}

/* ---- Produced and recorded outcomes ---------------------------------------------- */

static void made(struct replay *r, const struct trc_rec *rec)
{
    if (r->out)
        trc_emit(r->out, rec);
    if (r->diverged)
        return;
    struct rp_stream *s = stream(r, rec->vcpu);
    long i = q_find(r, &s->rec, rec, false);
    if (i >= 0) {
        q_remove(&s->rec, (size_t)i);
        r->st->outcomes++;
        return;
    }
    q_push(&s->made, rec, 0, 0);
    if (s->made.n > RP_MAX_WAIT) {
        if (!r->partial) {
            rp_overdue(r, UINT64_MAX, true);
            return;
        }
        q_remove(&s->made, 0);
        r->st->unrecorded++;
    }
}

void rp_fabric_event(void *ctx, const struct trc_rec *rec)
{
    /* The fabric finding guest stores in a Secure AVIC backing page: the
     * recorded ones went in as stimuli (and out, unchanged); the replay's
     * fabric finding them again is not an outcome. */
    if (rec->ev == TRC_EV_savic_page_write || ((struct replay *)ctx)->priming)
        return;
    made(ctx, rec);
}

void rp_flush(struct replay *r) { trc_advance(r->cap, UINT64_MAX); }

void rp_made(struct replay *r, const struct trc_rec *rec)
{
    rp_flush(r);
    made(r, rec);
}

void rp_emit(struct replay *r, const struct trc_rec *rec)
{
    rp_flush(r);
    trc_emit(r->out, rec);
}

uint64_t rp_recorded(struct replay *r, const struct trc_rec *rec, unsigned long line)
{
    rp_flush(r);
    struct rp_stream *s = stream(r, rec->vcpu);
    long i = q_find(r, &s->made, rec, true);
    if (i >= 0) {
        q_remove(&s->made, (size_t)i);
        r->st->outcomes++;
        /* Passed over: outcomes a partial trace lacks. A complete trace has
         * them all, so they stay and must still pair with a recorded one
         * (else they fall overdue: a divergence). */
        for (; r->partial && i > 0; i--) {
            q_remove(&s->made, 0);
            r->st->unrecorded++;
        }
        return 0;
    }
    uint64_t id = ++r->ids;
    q_push(&s->rec, rec, line, id);
    if (s->rec.n > RP_MAX_WAIT)
        rp_diverge(r, "the trace records outcomes the replay does not produce",
                   &s->rec.v[0].e, NULL);
    return id;
}

bool rp_waiting(const struct replay *r, int vcpu, uint64_t id)
{
    const struct rp_queue *q = &r->s[vcpu + 1].rec;
    for (size_t i = 0; id && i < q->n; i++)
        if (q->v[i].id == id)
            return true;
    return false;
}

/* ---- Overdue outcomes ----------------------------------------------------------- */

static bool past(const struct replay *r, uint64_t t_event, uint64_t now, bool eof)
{
    return eof || (now > t_event && now - t_event > trc_tol_allow(&r->tol, t_event));
}

/* What is wrong with the oldest waiting outcomes of a stream. */
static const char *why(const struct rp_stream *s)
{
    if (!s->rec.n)
        return "the replay produced an outcome the trace does not record";
    if (!s->made.n)
        return "the replay does not reproduce this recorded outcome";
    if (trc_rec_same(&s->rec.v[0].e.r, &s->made.v[0].e.r, NULL))
        return "the outcome is recorded at another time than the model's";
    return "the replay produced a different outcome";
}

static void overdue_stream(struct replay *r, struct rp_stream *s, uint64_t t, bool eof)
{
    while (!r->diverged && s->made.n && past(r, s->made.v[0].e.r.t, t, eof)) {
        if (!r->partial) {
            struct trc_rec m = s->made.v[0].e.r;
            m.seq = s->rec.n ? s->rec.v[0].e.r.seq : 0; /* side by side with the expected line */
            char *a = rp_format(&m);
            rp_diverge(r, why(s), s->rec.n ? &s->rec.v[0].e : NULL, a);
            free(a);
            return;
        }
        q_remove(&s->made, 0);
        r->st->unrecorded++;
    }
    if (!r->diverged && s->rec.n && past(r, s->rec.v[0].e.r.t, t, eof)) {
        struct trc_rec m = s->made.n ? s->made.v[0].e.r : s->rec.v[0].e.r;
        m.seq = s->rec.v[0].e.r.seq;
        char *a = s->made.n ? rp_format(&m) : NULL;
        rp_diverge(r, why(s), &s->rec.v[0].e, a);
        free(a);
    }
}

void rp_overdue(struct replay *r, uint64_t t, bool eof)
{
    for (unsigned i = 0; i <= r->n && !r->diverged; i++)
        overdue_stream(r, &r->s[i], t, eof);
}

/* ---- The report -------------------------------------------------------------------- */

/* Only the line number: the text is read again from the file when a report
 * needs it, so replaying costs no formatting. */
void rp_ring_add(struct replay *r, unsigned long line, const struct trc_rec *rec)
{
    (void)rec;
    r->ring[r->ring_pos].line = line;
    r->ring_pos = (r->ring_pos + 1) % RP_RING;
    if (r->ring_n < RP_RING)
        r->ring_n++;
}

/* Lines first..last of the trace, read again, `line` marked; false if the
 * trace cannot be read again. */
static bool lines_from_file(const struct replay *r, unsigned long first, unsigned long last,
                            unsigned long line)
{
    FILE *f = fopen(r->path, "r");
    if (!f)
        return false;
    char *buf = NULL;
    size_t cap = 0;
    unsigned long n = 0;
    while (getline(&buf, &cap, f) >= 0 && ++n <= last) {
        buf[strcspn(buf, "\n")] = '\0';
        if (n >= first && n > 1)
            fprintf(r->rep, "  %c %6lu  %s\n", n == line ? '>' : ' ', n, buf);
    }
    free(buf);
    fclose(f);
    return true;
}

/* The trace around the expected line (3 before, 3 after: the outcome may have
 * waited long past the last lines read), or the last lines read. */
static void print_context(const struct replay *r, unsigned long line)
{
    fprintf(r->rep, "  context (%s):\n", r->path);
    if (line && lines_from_file(r, line > 3 ? line - 3 : 1, line + 3, line))
        return;
    unsigned n = r->ring_n < 5 ? r->ring_n : 5;
    if (!n)
        return;
    unsigned long last = r->ring[(r->ring_pos + RP_RING - 1) % RP_RING].line;
    unsigned long first = r->ring[(r->ring_pos + RP_RING - n) % RP_RING].line;
    if (!lines_from_file(r, first, last, 0))
        fprintf(r->rep, "    lines %lu-%lu (the trace cannot be read again)\n", first, last);
}

void rp_diverge(struct replay *r, const char *why, const struct trc_ev_copy *expected,
                const char *actual)
{
    if (r->diverged)
        return;
    r->diverged = true;
    unsigned long line = expected ? expected->line : r->ring[(r->ring_pos + RP_RING - 1) % RP_RING].line;
    r->st->diverged_at = line;
    fprintf(r->rep, "snpref replay: %s:%lu: %s\n", r->path, line, why);
    if (expected) {
        char *e = rp_format(&expected->r);
        fprintf(r->rep, "  expected  %s:%lu  %s\n", r->path, expected->line, e);
        free(e);
    } else {
        fprintf(r->rep, "  expected  (nothing)\n");
    }
    fprintf(r->rep, "  actual    (replay)  %s\n", actual ? actual : "(nothing)");
    snprintf(r->why, sizeof(r->why), "%s", why);
    if (expected)
        rp_state(r, expected->r.vcpu);
    print_context(r, expected ? expected->line : 0);
}

void rp_match_free(struct replay *r)
{
    for (unsigned i = 0; r->s && i <= r->n; i++) {
        struct rp_queue *qs[2] = {&r->s[i].rec, &r->s[i].made};
        for (int k = 0; k < 2; k++) {
            while (qs[k]->n)
                q_remove(qs[k], qs[k]->n - 1);
            free(qs[k]->base);
        }
    }
}
