/* SPDX-License-Identifier: MIT */
/*
 * Trace catalogue, canonical formatting and the JSONL writer (see trace.h).
 *
 * Ordering: the model runs vCPUs one quantum at a time, so a vCPU's events can
 * carry times later than the start of another vCPU's next quantum. The writer
 * holds events until trc_advance() says their time is final, then writes them
 * sorted by (time, emission order): deterministic, because emission order is.
 */
#include "trace.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snpref/base.h"
#include "snpref/text.h"

/* ---- Catalogue ------------------------------------------------------------ */

#define TRC__FIELD(type, name, doc) {#name, TRC_TYPE_##type, doc, TRC__VALUES_##type},
#define TRC__ONE(type, name, doc) +1
#define TRC_EV(name, doc, ...)                                                                     \
    static const struct trc_field_desc trc_fields_##name[] = {                                     \
        TRC__EACH(TRC__FIELD, __VA_ARGS__)};                                                       \
    _Static_assert(0 TRC__EACH(TRC__ONE, __VA_ARGS__) <= TRC_MAX_FIELDS, #name ": too many fields");
#include "events.def"
#undef TRC_EV

#define TRC_EV(name, doc, ...) {#name, doc, 0 TRC__EACH(TRC__ONE, __VA_ARGS__), trc_fields_##name},
const struct trc_event_desc trc_catalogue[TRC_EV_COUNT] = {
#include "events.def"
};
#undef TRC_EV

int trc_event_by_name(const char *name)
{
    for (int i = 0; i < TRC_EV_COUNT; i++)
        if (strcmp(trc_catalogue[i].name, name) == 0)
            return i;
    return -1;
}

const char *trc_enum_value(const struct trc_field_desc *fd, const char *s)
{
    for (const char *const *v = fd->values; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return *v;
    return NULL;
}

bool trc_value_allowed(const struct trc_field_desc *fd, const char *s)
{
    return !fd->values || trc_enum_value(fd, s);
}

/* ---- Typed emitters ------------------------------------------------------- */

#define TRC__STORE_U(n) r.v[i++].u = (n);
#define TRC__STORE_I(n) r.v[i++].u = (uint64_t)(n);
#define TRC__STORE_X(n) r.v[i++].u = (n);
#define TRC__STORE_S(n) r.v[i++].s = (n);
#define TRC__STORE_B(n) r.v[i++].u = (n) ? 1u : 0u;
#define TRC__STORE_ENUM(...) TRC__STORE_S
#define TRC__STORE(type, name, doc) TRC__STORE_##type(name)
#define TRC_EV(name, doc, ...)                                                                     \
    void trc_##name(struct trc *t, uint64_t time, int vcpu TRC__EACH(TRC__PARAM, __VA_ARGS__))     \
    {                                                                                              \
        struct trc_rec r = {.t = time, .vcpu = vcpu, .ev = TRC_EV_##name};                         \
        unsigned i = 0;                                                                            \
        TRC__EACH(TRC__STORE, __VA_ARGS__)                                                         \
        trc_emit(t, &r);                                                                           \
    }
#include "events.def"
#undef TRC_EV

/* ---- Canonical formatting ------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap; /* cap 0: counting only beyond the buffer */
};

static void sb_putc(struct sbuf *b, char c)
{
    if (b->len + 1 < b->cap)
        b->p[b->len] = c;
    b->len++;
}

static void sb_puts(struct sbuf *b, const char *s)
{
    while (*s)
        sb_putc(b, *s++);
}

/* Digits by hand: every event of a trace goes through here, and snprintf's
 * format parsing was most of the cost of writing one (perf, issue 10). */
static void sb_u64(struct sbuf *b, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof(tmp);
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (; n < sizeof(tmp); n++)
        sb_putc(b, tmp[n]);
}

static void sb_i64(struct sbuf *b, int64_t v)
{
    if (v < 0) {
        sb_putc(b, '-');
        sb_u64(b, (uint64_t)0 - (uint64_t)v);
        return;
    }
    sb_u64(b, (uint64_t)v);
}

static void sb_hex(struct sbuf *b, uint64_t v)
{
    static const char hexd[] = "0123456789abcdef";
    char tmp[16];
    size_t n = sizeof(tmp);
    do {
        tmp[--n] = hexd[v & 15];
        v >>= 4;
    } while (v);
    sb_puts(b, "\"0x");
    for (; n < sizeof(tmp); n++)
        sb_putc(b, tmp[n]);
    sb_putc(b, '"');
}

/* Strings are bytes: printable ASCII as is, everything else as \u00XX, so a
 * trace is pure ASCII and every byte string round-trips. */
static void sb_str(struct sbuf *b, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    sb_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\t') {
            sb_puts(b, "\\t");
        } else if (c == '\r') {
            sb_puts(b, "\\r");
        } else if (c < 0x20 || c >= 0x7f) {
            sb_puts(b, "\\u00");
            sb_putc(b, hexd[c >> 4]);
            sb_putc(b, hexd[c & 15]);
        } else {
            sb_putc(b, (char)c);
        }
    }
    sb_putc(b, '"');
}

size_t trc_format(const struct trc_rec *r, char *buf, size_t len)
{
    struct sbuf b = {buf, 0, len};
    const struct trc_event_desc *d = &trc_catalogue[r->ev];
    sb_puts(&b, "{\"seq\":");
    sb_u64(&b, r->seq);
    sb_puts(&b, ",\"t\":");
    sb_u64(&b, r->t);
    sb_puts(&b, ",\"vcpu\":");
    sb_i64(&b, r->vcpu);
    sb_puts(&b, ",\"ev\":\"");
    sb_puts(&b, d->name);
    sb_putc(&b, '"');
    for (unsigned i = 0; i < d->nfields; i++) {
        sb_puts(&b, ",\"");
        sb_puts(&b, d->fields[i].name);
        sb_puts(&b, "\":");
        switch (d->fields[i].type) {
        case TRC_TYPE_U: sb_u64(&b, r->v[i].u); break;
        case TRC_TYPE_I: sb_i64(&b, (int64_t)r->v[i].u); break;
        case TRC_TYPE_X: sb_hex(&b, r->v[i].u); break;
        case TRC_TYPE_S: sb_str(&b, r->v[i].s ? r->v[i].s : ""); break;
        case TRC_TYPE_B: sb_puts(&b, r->v[i].u ? "true" : "false"); break;
        }
    }
    sb_putc(&b, '}');
    if (len)
        buf[b.len < len ? b.len : len - 1] = '\0';
    return b.len;
}

char *trc_format_header(const struct trc_header *h)
{
    cJSON *cfg = cJSON_Parse(h->config_json ? h->config_json : "{}");
    if (!cJSON_IsObject(cfg)) { /* the reader refuses anything else */
        cJSON_Delete(cfg);
        return NULL;
    }
    char *cfgs = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);
    if (!cfgs)
        return NULL;
    struct sbuf b = {NULL, 0, 0};
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++) {
        b.len = 0;
        sb_puts(&b, "{\"format\":\"" TRC_FORMAT "\",\"version\":");
        sb_u64(&b, TRC_VERSION);
        sb_puts(&b, ",\"model\":");
        sb_str(&b, h->model ? h->model : "");
        sb_puts(&b, ",\"mode\":");
        sb_str(&b, h->mode ? h->mode : "");
        sb_puts(&b, ",\"vcpus\":");
        sb_u64(&b, h->vcpus);
        sb_puts(&b, ",\"fabric\":");
        sb_str(&b, h->fabric ? h->fabric : "");
        sb_puts(&b, ",\"quantum\":");
        sb_u64(&b, h->quantum);
        sb_puts(&b, ",\"config\":");
        sb_puts(&b, cfgs);
        if (h->events) { /* only in a filtered trace: every other header stays as it was */
            sb_puts(&b, ",\"events\":[");
            const char *p = h->events;
            for (bool first = true; *p; first = false) {
                size_t n = strcspn(p, ",");
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), p);
                if (!first)
                    sb_putc(&b, ',');
                sb_str(&b, name);
                p += n + (p[n] == ',');
            }
            sb_putc(&b, ']');
        }
        sb_putc(&b, '}');
        if (pass == 0) {
            out = malloc(b.len + 1);
            SNP_ASSERT(out);
            b.p = out;
            b.cap = b.len + 1;
        }
    }
    out[b.len] = '\0';
    cJSON_free(cfgs);
    return out;
}

/* ---- Writer --------------------------------------------------------------- */

struct pending {
    struct trc_rec r;
    uint64_t order; /* emission index: the tie-break inside one time */
};

struct trc {
    FILE *f;
    char *path, *tmp_path;
    trc_sink_fn sink;
    void *sink_ctx;
    struct pending *pend;
    size_t npend, cappend;
    uint64_t next_order, next_seq;
    char *line;
    size_t linecap;
    bool io_error;
    bool filtered;              /* trc_set_filter: only keep[] events go to the file */
    bool keep[TRC_EV_COUNT];
};

/* Parses a comma-separated event list into keep (may be NULL). */
static int parse_filter(const char *events, bool *keep, char *err, size_t errlen)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s", events);
    char *save = NULL;
    unsigned n = 0;
    for (char *e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save), n++) {
        int ev = trc_event_by_name(e);
        if (ev < 0) {
            snprintf(err, errlen, "'%s' is no event (snpref events lists them)", e);
            return -1;
        }
        if (keep)
            keep[ev] = true;
    }
    if (!n) {
        snprintf(err, errlen, "'%s' names no event", events);
        return -1;
    }
    return 0;
}

int trc_check_filter(const char *events, char *err, size_t errlen)
{
    return parse_filter(events, NULL, err, errlen);
}

int trc_set_filter(struct trc *t, const char *events, char *err, size_t errlen)
{
    SNP_ASSERT(t->next_order == 0);
    memset(t->keep, 0, sizeof(t->keep));
    t->filtered = true;
    return parse_filter(events, t->keep, err, errlen);
}

struct trc *trc_open(const char *path, const struct trc_header *h, char *err, size_t errlen)
{
    struct trc *t = calloc(1, sizeof(*t));
    SNP_ASSERT(t);
    if (path) {
        t->path = strdup(path);
        size_t n = strlen(path) + 5;
        t->tmp_path = malloc(n);
        SNP_ASSERT(t->path && t->tmp_path);
        snprintf(t->tmp_path, n, "%s.tmp", path);
        /* A directory is refused now, not at the rename after the run. */
        bool dir = snp_is_dir(path);
        t->f = dir ? NULL : fopen(t->tmp_path, "w");
        if (dir)
            errno = EISDIR;
        if (!t->f) {
            snprintf(err, errlen, "%s: cannot write trace: %s", path, strerror(errno));
            free(t->path);
            free(t->tmp_path);
            free(t);
            return NULL;
        }
        char *hdr = trc_format_header(h);
        if (!hdr) {
            snprintf(err, errlen, "%s: config is not a valid JSON object", path);
            fclose(t->f);
            remove(t->tmp_path);
            free(t->path);
            free(t->tmp_path);
            free(t);
            return NULL;
        }
        fputs(hdr, t->f);
        fputc('\n', t->f);
        free(hdr);
    }
    return t;
}

void trc_set_sink(struct trc *t, trc_sink_fn fn, void *ctx)
{
    t->sink = fn;
    t->sink_ctx = ctx;
}

void trc_emit(struct trc *t, const struct trc_rec *r)
{
    if (t->npend == t->cappend) {
        t->cappend = t->cappend ? t->cappend * 2 : 256;
        t->pend = realloc(t->pend, t->cappend * sizeof(*t->pend));
        SNP_ASSERT(t->pend);
    }
    struct pending *p = &t->pend[t->npend++];
    p->r = *r;
    p->order = t->next_order++;
    const struct trc_event_desc *d = &trc_catalogue[r->ev];
    for (unsigned i = 0; i < d->nfields; i++) {
        const struct trc_field_desc *fd = &d->fields[i];
        if (fd->type != TRC_TYPE_S)
            continue;
        const char *v = r->v[i].s ? r->v[i].s : "";
        if (!fd->values) {
            p->r.v[i].s = strdup(v);
            SNP_ASSERT(p->r.v[i].s);
            continue;
        }
        /* An ENUM value is the catalogue's string: no copy per event. One
         * outside its ENUM would make a trace the reader refuses. */
        if (!(p->r.v[i].s = trc_enum_value(fd, v)))
            SNP_PANIC("event %s: field %s: \"%s\" is not in events.def", d->name, fd->name, v);
    }
}

static int pending_cmp(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    if (x->r.t != y->r.t)
        return x->r.t < y->r.t ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

static void write_one(struct trc *t, struct trc_rec *r)
{
    bool keep = !t->filtered || t->keep[r->ev];
    if (keep)
        r->seq = t->next_seq++;
    if (t->f && keep) {
        size_t n = trc_format(r, t->line, t->linecap);
        if (n + 1 > t->linecap) {
            t->linecap = n + 256;
            t->line = realloc(t->line, t->linecap);
            SNP_ASSERT(t->line);
            trc_format(r, t->line, t->linecap);
        }
        t->line[n] = '\n';
        if (fwrite(t->line, 1, n + 1, t->f) != n + 1)
            t->io_error = true;
    }
    if (t->sink)
        t->sink(t->sink_ctx, r);
}

static void free_strings(struct trc_rec *r)
{
    const struct trc_event_desc *d = &trc_catalogue[r->ev];
    for (unsigned i = 0; i < d->nfields; i++)
        if (d->fields[i].type == TRC_TYPE_S && !d->fields[i].values) /* ENUMs: the catalogue's */
            free((char *)r->v[i].s);
}

void trc_advance(struct trc *t, uint64_t safe_time)
{
    if (!t->npend)
        return;
    /* Move the final events (t < safe_time) to the front, keeping the rest in
     * emission order, then sort the final part. */
    qsort(t->pend, t->npend, sizeof(*t->pend), pending_cmp);
    size_t n = 0;
    while (n < t->npend && t->pend[n].r.t < safe_time)
        n++;
    for (size_t i = 0; i < n; i++) {
        write_one(t, &t->pend[i].r);
        free_strings(&t->pend[i].r);
    }
    memmove(t->pend, t->pend + n, (t->npend - n) * sizeof(*t->pend));
    t->npend -= n;
}

uint64_t trc_count(const struct trc *t) { return t->next_seq; }

int trc_close(struct trc *t, bool commit, char *err, size_t errlen)
{
    int rc = 0;
    trc_advance(t, UINT64_MAX);
    for (size_t i = 0; i < t->npend; i++) { /* events at UINT64_MAX itself, already sorted */
        write_one(t, &t->pend[i].r);
        free_strings(&t->pend[i].r);
    }
    if (t->f) {
        if (fclose(t->f) != 0 || t->io_error) {
            snprintf(err, errlen, "%s: write failed", t->path);
            commit = false;
            rc = -1;
        }
        if (commit && rename(t->tmp_path, t->path) != 0) {
            snprintf(err, errlen, "%s: cannot rename trace into place: %s", t->path,
                     strerror(errno));
            rc = -1;
            commit = false;
        }
        if (!commit)
            remove(t->tmp_path);
    }
    free(t->pend);
    free(t->line);
    free(t->path);
    free(t->tmp_path);
    free(t);
    return rc;
}
