/* SPDX-License-Identifier: MIT */
/*
 * Streaming trace reader (see trace.h). Reads one line at a time, so memory
 * stays flat however long the trace is, and checks every line against the
 * catalogue: a malformed trace is a user error reported as FILE:LINE: field.
 */
#include "trace.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader_int.h"
#include "snpref/base.h"
#include "snpref/text.h"

#define MAX_EXACT ((double)TRC_MAX_EXACT_U) /* 2^53 + 1 would parse as 2^53 */
#define SNP_MAX_VCPUS_TRC TRC_MAX_VCPUS

struct trc_reader {
    FILE *f;
    char *path;
    unsigned long line;
    char *buf;
    size_t bufcap;
    cJSON *cur;                         /* the parsed current line */
    char *strs[TRC_MAX_FIELDS];         /* decoded strings of the current event */
    struct trc_header hdr;
    char *hdr_model, *hdr_mode, *hdr_fabric, *hdr_config, *hdr_events;
    uint64_t events;                    /* events read so far: the next seq */
    uint64_t last_t;
    struct trc_fast fast;               /* canonical lines: decoded without cJSON */
};

/* User text in the message (the path, a key, a value) is escaped: one line. */
#define FAIL(r, err, errlen, ...)                                                                  \
    do {                                                                                           \
        int n_ = snprintf(err, errlen, "%s:%lu: ", (r)->path, (r)->line);                          \
        if (n_ >= 0 && (size_t)n_ < (errlen))                                                      \
            snprintf((err) + n_, (errlen) - (size_t)n_, __VA_ARGS__);                              \
        snp_esc_inplace(err, errlen);                                                              \
        return -1;                                                                                 \
    } while (0)

/* Reads one '\n'-terminated line. Returns 1, 0 at EOF, -1 on a truncated or
 * unreadable line. */
static int read_line(struct trc_reader *r, char *err, size_t errlen)
{
    ssize_t n = getline(&r->buf, &r->bufcap, r->f);
    if (n < 0) {
        if (ferror(r->f))
            FAIL(r, err, errlen, "read error: %s", strerror(errno));
        return 0;
    }
    r->line++;
    if (n == 0 || r->buf[n - 1] != '\n')
        FAIL(r, err, errlen, "truncated last line (no newline at end of file)");
    r->buf[n - 1] = '\0';
    if ((size_t)n - 1 != strlen(r->buf))
        FAIL(r, err, errlen, "NUL byte inside the line");
    return 1;
}

static int parse_object(struct trc_reader *r, char *err, size_t errlen)
{
    if (snp_json_has_nul_escape(r->buf))
        FAIL(r, err, errlen, "\\u0000 in a string: characters must be in U+0001..U+00FF");
    cJSON_Delete(r->cur);
    const char *end = NULL;
    r->cur = cJSON_ParseWithOpts(r->buf, &end, 1);
    if (!r->cur) {
        size_t col = end ? (size_t)(end - r->buf) + 1 : 1;
        FAIL(r, err, errlen, "not valid JSON (column %zu)", col);
    }
    if (!cJSON_IsObject(r->cur))
        FAIL(r, err, errlen, "a line must be one JSON object");
    return 0;
}

static int get_int(struct trc_reader *r, const char *key, double lo, double hi, int64_t *out,
                   char *err, size_t errlen)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(r->cur, key);
    if (!it)
        FAIL(r, err, errlen, "field '%s': missing", key);
    if (!cJSON_IsNumber(it))
        FAIL(r, err, errlen, "field '%s': expected a number", key);
    double d = it->valuedouble;
    if (d != floor(d) || d < lo || d > hi)
        FAIL(r, err, errlen, "field '%s': expected an integer in [%.0f, %.0f]", key, lo, hi);
    *out = (int64_t)d;
    return 0;
}

static int get_str(struct trc_reader *r, const char *key, const char **out, char *err,
                   size_t errlen)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(r->cur, key);
    if (!it)
        FAIL(r, err, errlen, "field '%s': missing", key);
    if (!cJSON_IsString(it))
        FAIL(r, err, errlen, "field '%s': expected a string", key);
    *out = it->valuestring;
    return 0;
}

/* cJSON hands strings back as UTF-8; trace strings are bytes written as code
 * points 0-255. Decode back to bytes, refusing anything larger. */
static char *utf8_to_bytes(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    SNP_ASSERT(out);
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp;
        if (p[0] < 0x80) {
            cp = p[0];
            p += 1;
        } else if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            cp = (unsigned)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
            p += 2;
        } else {
            free(out);
            return NULL;
        }
        if (cp > 0xFF || cp == 0) {
            free(out);
            return NULL;
        }
        out[o++] = (char)cp;
    }
    out[o] = '\0';
    return out;
}

static int check_known_keys(struct trc_reader *r, const char *const *known, size_t nknown,
                            const struct trc_event_desc *d, char *err, size_t errlen)
{
    for (cJSON *it = r->cur->child; it; it = it->next) {
        /* JSON allows a key twice; a trace line never has one. */
        for (cJSON *prev = r->cur->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0)
                FAIL(r, err, errlen, "field '%s': appears twice", it->string);
        bool ok = false;
        for (size_t i = 0; i < nknown && !ok; i++)
            ok = strcmp(it->string, known[i]) == 0;
        for (unsigned i = 0; d && i < d->nfields && !ok; i++)
            ok = strcmp(it->string, d->fields[i].name) == 0;
        if (!ok)
            FAIL(r, err, errlen, "field '%s': unknown%s%s", it->string, d ? " for event " : "",
                 d ? d->name : "");
    }
    return 0;
}

/* "field 'F': \"v\" is not one of: a, b, c" */
static int bad_value(struct trc_reader *r, const char *field, const char *v,
                     const char *const *values, char *err, size_t errlen)
{
    char all[256] = "";
    for (const char *const *p = values; *p; p++)
        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", p == values ? "" : ", ", *p);
    FAIL(r, err, errlen, "field '%s': \"%s\" is not one of: %s", field, v, all);
}

static const char *const trc_modes[] = {"plain", "sev-es", "snp", NULL};

/* The optional "events" array of a filtered trace (run --trace-events): the
 * only kinds it records, kept comma-separated. */
static int read_events(struct trc_reader *r, char *err, size_t errlen)
{
    cJSON *ev = cJSON_GetObjectItemCaseSensitive(r->cur, "events");
    if (!ev)
        return 0;
    if (!cJSON_IsArray(ev) || !cJSON_GetArraySize(ev))
        FAIL(r, err, errlen, "field 'events': expected a non-empty array of event names");
    size_t len = 1;
    for (cJSON *it = ev->child; it; it = it->next) {
        if (!cJSON_IsString(it) || trc_event_by_name(it->valuestring) < 0)
            FAIL(r, err, errlen, "field 'events': %s is no event name",
                 cJSON_IsString(it) ? it->valuestring : "a non-string");
        len += strlen(it->valuestring) + 1;
    }
    r->hdr_events = calloc(1, len);
    SNP_ASSERT(r->hdr_events);
    for (cJSON *it = ev->child; it; it = it->next) {
        if (it != ev->child)
            strcat(r->hdr_events, ",");
        strcat(r->hdr_events, it->valuestring);
    }
    return 0;
}

static int read_header(struct trc_reader *r, char *err, size_t errlen)
{
    int rc = read_line(r, err, errlen);
    if (rc == 0) {
        r->line = 1;
        FAIL(r, err, errlen, "empty file: no header line");
    }
    if (rc < 0 || parse_object(r, err, errlen) < 0)
        return -1;
    static const char *const known[] = {"format", "version", "model",  "mode",  "vcpus",
                                        "fabric", "quantum", "config", "events"};
    if (check_known_keys(r, known, ARRAY_SIZE(known), NULL, err, errlen) < 0)
        return -1;
    const char *fmt, *model, *mode, *fabric;
    int64_t version, vcpus, quantum;
    if (get_str(r, "format", &fmt, err, errlen) < 0)
        return -1;
    if (strcmp(fmt, TRC_FORMAT) != 0)
        FAIL(r, err, errlen, "field 'format': \"%s\" is not " TRC_FORMAT, fmt);
    if (get_int(r, "version", 0, MAX_EXACT, &version, err, errlen) < 0)
        return -1;
    if (version != TRC_VERSION)
        FAIL(r, err, errlen, "field 'version': %lld is not supported (this reader reads %d)",
             (long long)version, TRC_VERSION);
    if (get_str(r, "model", &model, err, errlen) < 0 || get_str(r, "mode", &mode, err, errlen) < 0 ||
        get_int(r, "vcpus", 1, SNP_MAX_VCPUS_TRC, &vcpus, err, errlen) < 0 ||
        get_str(r, "fabric", &fabric, err, errlen) < 0 ||
        get_int(r, "quantum", 1, MAX_EXACT, &quantum, err, errlen) < 0)
        return -1;
    cJSON *cfg = cJSON_GetObjectItemCaseSensitive(r->cur, "config");
    if (!cfg)
        FAIL(r, err, errlen, "field 'config': missing");
    if (!cJSON_IsObject(cfg))
        FAIL(r, err, errlen, "field 'config': expected an object");
    /* Header strings are bytes written as U+0001..U+00FF, like event strings. */
    if (!(r->hdr_model = utf8_to_bytes(model)))
        FAIL(r, err, errlen, "field 'model': characters must be in U+0001..U+00FF");
    if (!(r->hdr_mode = utf8_to_bytes(mode)))
        FAIL(r, err, errlen, "field 'mode': characters must be in U+0001..U+00FF");
    const struct trc_field_desc mode_field = {"mode", TRC_TYPE_S, "", trc_modes};
    if (!trc_value_allowed(&mode_field, r->hdr_mode))
        return bad_value(r, "mode", r->hdr_mode, trc_modes, err, errlen);
    cJSON *cmode = cJSON_GetObjectItemCaseSensitive(cfg, "mode");
    if (cJSON_IsString(cmode) && strcmp(cmode->valuestring, r->hdr_mode) != 0)
        FAIL(r, err, errlen, "field 'mode': \"%s\" differs from config.mode \"%s\"", r->hdr_mode,
             cmode->valuestring);
    if (!(r->hdr_fabric = utf8_to_bytes(fabric)))
        FAIL(r, err, errlen, "field 'fabric': characters must be in U+0001..U+00FF");
    r->hdr_config = cJSON_PrintUnformatted(cfg);
    SNP_ASSERT(r->hdr_config);
    if (read_events(r, err, errlen) < 0)
        return -1;
    r->hdr = (struct trc_header){r->hdr_model, r->hdr_mode, (unsigned)vcpus,     r->hdr_fabric,
                                 (uint64_t)quantum, r->hdr_config, r->hdr_events};
    return 0;
}

struct trc_reader *trc_reader_open(const char *path, char *err, size_t errlen)
{
    struct trc_reader *r = calloc(1, sizeof(*r));
    SNP_ASSERT(r);
    r->path = strdup(path);
    SNP_ASSERT(r->path);
    trc_fast_init(&r->fast);
    r->f = snp_fopen_input(path, "r");
    if (!r->f) {
        snprintf(err, errlen, "%s: cannot open trace: %s", path, strerror(errno));
        trc_reader_close(r);
        return NULL;
    }
    if (read_header(r, err, errlen) < 0) {
        trc_reader_close(r);
        return NULL;
    }
    return r;
}

struct trc_reader *trc_reader_open_st(const char *path, int *status, char *err, size_t errlen)
{
    FILE *f = snp_fopen_input(path, "r"); /* a directory too is missing input */
    if (!f) {
        *status = 66;
        snprintf(err, errlen, "%s: cannot open trace: %s", path, strerror(errno));
        snp_esc_inplace(err, errlen);
        return NULL;
    }
    fclose(f);
    *status = 65;
    return trc_reader_open(path, err, errlen);
}

const struct trc_header *trc_reader_header(const struct trc_reader *r) { return &r->hdr; }
unsigned long trc_reader_line(const struct trc_reader *r) { return r->line; }

static int read_field(struct trc_reader *r, const struct trc_field_desc *fd, unsigned i,
                      struct trc_rec *rec, char *err, size_t errlen)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(r->cur, fd->name);
    int64_t iv;
    const char *s;
    switch (fd->type) {
    case TRC_TYPE_U:
        if (get_int(r, fd->name, 0, MAX_EXACT, &iv, err, errlen) < 0)
            return -1;
        rec->v[i].u = (uint64_t)iv;
        return 0;
    case TRC_TYPE_I:
        if (get_int(r, fd->name, -MAX_EXACT, MAX_EXACT, &iv, err, errlen) < 0)
            return -1;
        rec->v[i].u = (uint64_t)iv;
        return 0;
    case TRC_TYPE_X:
        if (get_str(r, fd->name, &s, err, errlen) < 0)
            return -1;
        if (!snp_parse_hex(s, &rec->v[i].u))
            FAIL(r, err, errlen, "field '%s': expected a \"0x...\" string of at most 16 hex digits",
                 fd->name);
        return 0;
    case TRC_TYPE_S:
        if (get_str(r, fd->name, &s, err, errlen) < 0)
            return -1;
        r->strs[i] = utf8_to_bytes(s);
        if (!r->strs[i])
            FAIL(r, err, errlen, "field '%s': characters must be in U+0001..U+00FF", fd->name);
        if (!trc_value_allowed(fd, r->strs[i]))
            return bad_value(r, fd->name, r->strs[i], fd->values, err, errlen);
        rec->v[i].s = r->strs[i];
        return 0;
    case TRC_TYPE_B:
        if (!it)
            FAIL(r, err, errlen, "field '%s': missing", fd->name);
        if (!cJSON_IsBool(it))
            FAIL(r, err, errlen, "field '%s': expected true or false", fd->name);
        rec->v[i].u = cJSON_IsTrue(it) ? 1 : 0;
        return 0;
    }
    SNP_PANIC("bad field type %d", fd->type);
}

/* Events are numbered from 0 in file order and written in time order. */
static int check_order(struct trc_reader *r, uint64_t seq, uint64_t t, char *err, size_t errlen)
{
    if (seq != r->events)
        FAIL(r, err, errlen, "field 'seq': %llu, expected %llu (events count from 0 in file order)",
             (unsigned long long)seq, (unsigned long long)r->events);
    if (t < r->last_t)
        FAIL(r, err, errlen, "field 't': %llu is earlier than the previous event's %llu",
             (unsigned long long)t, (unsigned long long)r->last_t);
    r->events++;
    r->last_t = t;
    return 0;
}

/* Any JSON spelling of an event line, every error worded. */
static int slow_event(struct trc_reader *r, struct trc_rec *rec, char *err, size_t errlen)
{
    if (parse_object(r, err, errlen) < 0)
        return -1;
    int64_t seq, t, vcpu;
    const char *ev;
    if (get_int(r, "seq", 0, MAX_EXACT, &seq, err, errlen) < 0 ||
        get_int(r, "t", 0, MAX_EXACT, &t, err, errlen) < 0 ||
        get_int(r, "vcpu", -1, SNP_MAX_VCPUS_TRC - 1, &vcpu, err, errlen) < 0 ||
        get_str(r, "ev", &ev, err, errlen) < 0)
        return -1;
    int id = trc_event_by_name(ev);
    if (id < 0)
        FAIL(r, err, errlen, "field 'ev': unknown event \"%s\"", ev);
    const struct trc_event_desc *d = &trc_catalogue[id];
    static const char *const known[] = {"seq", "t", "vcpu", "ev"};
    if (check_known_keys(r, known, ARRAY_SIZE(known), d, err, errlen) < 0 ||
        check_order(r, (uint64_t)seq, (uint64_t)t, err, errlen) < 0)
        return -1;
    rec->seq = (uint64_t)seq;
    rec->t = (uint64_t)t;
    rec->vcpu = (int)vcpu;
    rec->ev = (enum trc_ev)id;
    for (unsigned i = 0; i < d->nfields; i++)
        if (read_field(r, &d->fields[i], i, rec, err, errlen) < 0)
            return -1;
    return 1;
}

int trc_reader_next(struct trc_reader *r, struct trc_rec *rec, char *err, size_t errlen)
{
    for (unsigned i = 0; i < TRC_MAX_FIELDS; i++) {
        free(r->strs[i]);
        r->strs[i] = NULL;
    }
    int rc = read_line(r, err, errlen);
    if (rc <= 0)
        return rc;
    memset(rec, 0, sizeof(*rec));
    if (trc_fast_event(&r->fast, r->buf, rec))
        return check_order(r, rec->seq, rec->t, err, errlen) < 0 ? -1 : 1;
    memset(rec, 0, sizeof(*rec));
    return slow_event(r, rec, err, errlen);
}

void trc_reader_close(struct trc_reader *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < TRC_MAX_FIELDS; i++)
        free(r->strs[i]);
    cJSON_Delete(r->cur);
    if (r->f)
        fclose(r->f);
    free(r->buf);
    free(r->path);
    free(r->hdr_model);
    free(r->hdr_mode);
    free(r->hdr_fabric);
    cJSON_free(r->hdr_config);
    free(r->hdr_events);
    free(r);
}
