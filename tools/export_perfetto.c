/* SPDX-License-Identifier: MIT */
/*
 * A trace as Chrome trace-event JSON (the "JSON Object Format" of the Trace
 * Event Format document, which the Perfetto UI and chrome://tracing open):
 * process 0 is the run; thread 0 the system (devices), thread i + 1 vCPU i.
 *
 *  - Each vCPU's track is a sequence of complete ("X") slices for what it was
 *    doing: guest, hypervisor (from a vmexit to the vmentry, named by the exit
 *    code) or halted (hlt to wake). Within guest time a #VC slice runs from
 *    the #VC to whatever ends it (the VMGEXIT, another #VC, leaving the guest).
 *  - An IPI send, a device message and an interrupt's handler entry are
 *    zero-length slices, so that flow events ("s" at the send, "f" with
 *    binding point "e" at the entry) can bind to them: the arrows pair each
 *    fixed or NMI IPI and each device message with the taking it caused, in
 *    order per target and vector, as `compare` pairs latencies.
 *  - Every other event is an instant ("i", thread scope) with its fields as
 *    args.
 * Timestamps are microseconds of simulated time (cycles / core_hz).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "compare_log.h"
#include "export.h"
#include "snpref.h"
#include "snpref/base.h"
#include "tools.h"
#include "trace.h"

enum state { ST_NONE, ST_GUEST, ST_HV, ST_HALT };

struct flowq {
    uint64_t *id;
    size_t n, cap;
};

struct pvcpu {
    enum state st;
    uint64_t st_t;
    char st_name[48];
    bool vc;
    uint64_t vc_t;
    char vc_name[24];
    struct flowq q[257]; /* pending flows by vector; 256: NMI */
};

struct pf {
    FILE *out;
    const struct export_in *in;
    struct pvcpu *v;
    uint64_t next_flow, last_t;
    bool first;
};

static double ts_us(const struct pf *p, uint64_t t)
{
    return (double)t * 1e6 / (double)p->in->core_hz;
}

/* Writes one trace event (takes o). */
static void put(struct pf *p, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    SNP_ASSERT(s);
    fprintf(p->out, "%s\n    %s", p->first ? "" : ",", s);
    p->first = false;
    free(s);
    cJSON_Delete(o);
}

static cJSON *ev_base(const char *name, const char *cat, const char *ph, int tid)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    if (cat)
        cJSON_AddStringToObject(o, "cat", cat);
    cJSON_AddStringToObject(o, "ph", ph);
    cJSON_AddNumberToObject(o, "pid", 0);
    cJSON_AddNumberToObject(o, "tid", tid);
    return o;
}

static void slice(struct pf *p, int tid, const char *name, const char *cat, uint64_t t0,
                  uint64_t t1, cJSON *args)
{
    cJSON *o = ev_base(name, cat, "X", tid);
    cJSON_AddNumberToObject(o, "ts", ts_us(p, t0));
    cJSON_AddNumberToObject(o, "dur", ts_us(p, t1) - ts_us(p, t0));
    if (args)
        cJSON_AddItemToObject(o, "args", args);
    put(p, o);
}

static void flow(struct pf *p, int tid, const char *ph, uint64_t id, uint64_t t)
{
    cJSON *o = ev_base("interrupt", "flow", ph, tid);
    cJSON_AddNumberToObject(o, "ts", ts_us(p, t));
    cJSON_AddNumberToObject(o, "id", (double)id);
    if (!strcmp(ph, "f"))
        cJSON_AddStringToObject(o, "bp", "e");
    put(p, o);
}

static void meta(struct pf *p, const char *what, int tid, const char *name, int sort)
{
    cJSON *o = ev_base(what, NULL, "M", tid);
    cJSON *a = cJSON_AddObjectToObject(o, "args");
    if (name)
        cJSON_AddStringToObject(a, "name", name);
    else
        cJSON_AddNumberToObject(a, "sort_index", sort);
    put(p, o);
}

/* The event's fields as args. */
static cJSON *fields(const struct trc_rec *r)
{
    const struct trc_event_desc *d = &trc_catalogue[r->ev];
    cJSON *a = cJSON_CreateObject();
    for (unsigned i = 0; i < d->nfields; i++) {
        const struct trc_field_desc *f = &d->fields[i];
        char hex[24];
        switch (f->type) {
        case TRC_TYPE_U: cJSON_AddNumberToObject(a, f->name, (double)r->v[i].u); break;
        case TRC_TYPE_I: cJSON_AddNumberToObject(a, f->name, (double)(int64_t)r->v[i].u); break;
        case TRC_TYPE_B: cJSON_AddBoolToObject(a, f->name, r->v[i].u != 0); break;
        case TRC_TYPE_X:
            snprintf(hex, sizeof(hex), "0x%" PRIx64, r->v[i].u);
            cJSON_AddStringToObject(a, f->name, hex);
            break;
        default: cJSON_AddStringToObject(a, f->name, r->v[i].s); break;
        }
    }
    return a;
}

/* ---- vCPU state slices ---------------------------------------------------------------- */

static void end_vc(struct pf *p, int vcpu, uint64_t t)
{
    struct pvcpu *v = &p->v[vcpu];
    if (v->vc)
        slice(p, vcpu + 1, v->vc_name, "vc", v->vc_t, t, NULL);
    v->vc = false;
}

static void set_state(struct pf *p, int vcpu, enum state st, const char *name, uint64_t t)
{
    struct pvcpu *v = &p->v[vcpu];
    end_vc(p, vcpu, t);
    if (v->st != ST_NONE && t > v->st_t)
        slice(p, vcpu + 1, v->st_name, "state", v->st_t, t, NULL);
    v->st = st;
    v->st_t = t;
    snprintf(v->st_name, sizeof(v->st_name), "%s", name);
}

/* ---- Flows ------------------------------------------------------------------------------ */

static void flow_start(struct pf *p, int tid, unsigned dst, unsigned key, uint64_t t)
{
    struct flowq *q = &p->v[dst].q[key];
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 8;
        q->id = realloc(q->id, q->cap * sizeof(uint64_t));
        SNP_ASSERT(q->id);
    }
    uint64_t id = ++p->next_flow;
    q->id[q->n++] = id;
    flow(p, tid, "s", id, t);
}

static void on_ipi(struct pf *p, const struct trc_rec *r)
{
    char name[48];
    snprintf(name, sizeof(name), "ipi 0x%02" PRIx64 " %s", r->v[1].u, r->v[2].s);
    slice(p, r->vcpu + 1, name, "ipi", r->t, r->t, fields(r));
    bool nmi = !strcmp(r->v[2].s, "nmi"), fixed = !strcmp(r->v[2].s, "fixed");
    if ((!nmi && !fixed) || !strcmp(r->v[3].s, "logical"))
        return; /* arrows for what `compare` pairs: fixed or NMI, physical */
    bool hit[256];
    ipi_hits(r, p->in->vcpus < 256 ? p->in->vcpus : 256, hit);
    for (unsigned i = 0; i < p->in->vcpus && i < 256; i++)
        if (hit[i])
            flow_start(p, r->vcpu + 1, i, nmi ? 256 : (unsigned)(uint8_t)r->v[1].u, r->t);
}

static void on_device(struct pf *p, const struct trc_rec *r, uint64_t vec, uint64_t dest)
{
    char name[48];
    snprintf(name, sizeof(name), "%s 0x%02" PRIx64, trc_catalogue[r->ev].name, vec);
    slice(p, 0, name, "device", r->t, r->t, fields(r));
    if (dest < p->in->vcpus)
        flow_start(p, 0, (unsigned)dest, (unsigned)(uint8_t)vec, r->t);
}

static void on_deliver(struct pf *p, const struct trc_rec *r)
{
    bool nmi = !strcmp(r->v[1].s, "nmi");
    char name[32];
    snprintf(name, sizeof(name), nmi ? "NMI" : "irq 0x%02" PRIx64, r->v[0].u);
    slice(p, r->vcpu + 1, name, "irq", r->t, r->t, fields(r));
    struct flowq *q = &p->v[r->vcpu].q[nmi ? 256 : (uint8_t)r->v[0].u];
    if (q->n) {
        flow(p, r->vcpu + 1, "f", q->id[0], r->t);
        memmove(q->id, q->id + 1, --q->n * sizeof(uint64_t));
    }
}

static void on_vcpu_event(struct pf *p, const struct trc_rec *r)
{
    struct pvcpu *v = &p->v[r->vcpu];
    char name[48];
    if (v->st == ST_NONE)
        set_state(p, r->vcpu, ST_GUEST, "guest", r->t);
    switch (r->ev) {
    case TRC_EV_vmexit:
        snprintf(name, sizeof(name), "hypervisor: exit 0x%" PRIx64, r->v[0].u);
        set_state(p, r->vcpu, ST_HV, name, r->t);
        break;
    case TRC_EV_vmentry: set_state(p, r->vcpu, ST_GUEST, "guest", r->t); break;
    case TRC_EV_hlt: set_state(p, r->vcpu, ST_HALT, "halted", r->t); break;
    case TRC_EV_wake:
        if (v->st == ST_HALT)
            set_state(p, r->vcpu, ST_GUEST, "guest", r->t);
        break;
    case TRC_EV_ipi: on_ipi(p, r); return;
    case TRC_EV_irq_deliver: on_deliver(p, r); return;
    case TRC_EV_exception:
        if (r->v[0].u == 29 && v->st == ST_GUEST) {
            end_vc(p, r->vcpu, r->t);
            v->vc = true;
            v->vc_t = r->t;
            snprintf(v->vc_name, sizeof(v->vc_name), "#VC 0x%" PRIx64, r->v[3].u);
            return;
        }
        break;
    default: break;
    }
    cJSON *o = ev_base(trc_catalogue[r->ev].name, "event", "i", r->vcpu + 1);
    cJSON_AddNumberToObject(o, "ts", ts_us(p, r->t));
    cJSON_AddStringToObject(o, "s", "t");
    cJSON_AddItemToObject(o, "args", fields(r));
    put(p, o);
}

static void on_event(struct pf *p, const struct trc_rec *r)
{
    p->last_t = r->t > p->last_t ? r->t : p->last_t;
    if (r->vcpu >= 0 && (unsigned)r->vcpu < p->in->vcpus) {
        on_vcpu_event(p, r);
        return;
    }
    if (r->ev == TRC_EV_irqdev) {
        on_device(p, r, r->v[0].u, r->v[1].u);
    } else if (r->ev == TRC_EV_ioapic) {
        on_device(p, r, r->v[1].u, !strcmp(r->v[3].s, "physical") ? r->v[2].u : UINT64_MAX);
    } else {
        cJSON *o = ev_base(trc_catalogue[r->ev].name, "event", "i", 0);
        cJSON_AddNumberToObject(o, "ts", ts_us(p, r->t));
        cJSON_AddStringToObject(o, "s", "t");
        cJSON_AddItemToObject(o, "args", fields(r));
        put(p, o);
    }
}

static void header(struct pf *p)
{
    char name[256];
    fputs("{\n  \"displayTimeUnit\": \"ns\",\n  \"traceEvents\": [", p->out);
    snprintf(name, sizeof(name), "snpref %s (%s, %s)", p->in->path, p->in->fabric, p->in->mode);
    meta(p, "process_name", 0, name, 0);
    meta(p, "thread_name", 0, "system", 0);
    meta(p, "thread_sort_index", 0, NULL, 0);
    for (unsigned i = 0; i < p->in->vcpus; i++) {
        snprintf(name, sizeof(name), "vCPU %u", i);
        meta(p, "thread_name", (int)i + 1, name, 0);
        meta(p, "thread_sort_index", (int)i + 1, NULL, (int)i + 1);
    }
}

int export_perfetto(struct export_in *in, FILE *out)
{
    struct pf p = {out, in, calloc(in->vcpus, sizeof(struct pvcpu)), 0, 0, true};
    SNP_ASSERT(p.v);
    header(&p);
    struct trc_rec rec;
    char err[512];
    int k;
    while ((k = trc_reader_next(in->rd, &rec, err, sizeof(err))) == 1)
        on_event(&p, &rec);
    for (unsigned i = 0; i < in->vcpus; i++)
        if (p.v[i].st != ST_NONE)
            set_state(&p, (int)i, ST_NONE, "", p.last_t);
    cJSON *other = cJSON_CreateObject();
    cJSON_AddStringToObject(other, "trace", in->path);
    cJSON_AddStringToObject(other, "fabric", in->fabric);
    cJSON_AddStringToObject(other, "mode", in->mode);
    cJSON_AddNumberToObject(other, "core_hz", (double)in->core_hz);
    char *os = cJSON_PrintUnformatted(other);
    fprintf(out, "\n  ],\n  \"otherData\": %s\n}\n", os);
    free(os);
    cJSON_Delete(other);
    for (unsigned i = 0; i < in->vcpus; i++)
        for (unsigned q = 0; q < 257; q++)
            free(p.v[i].q[q].id);
    free(p.v);
    if (k < 0) {
        error_line("%s", err);
        return SNPREF_ST_DATAERR;
    }
    return 0;
}
