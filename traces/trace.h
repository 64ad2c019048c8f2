/* SPDX-License-Identifier: MIT */
/*
 * JSON Lines traces (docs/design.md section 5, docs/trace-format.md).
 *
 * Line 1 is a header; each later line is one event
 *   {"seq":N,"t":CYCLES,"vcpu":I,"ev":"NAME",...fields in catalogue order}
 * Events come from the catalogue in events.def. Producers call the typed
 * emitters through TRC(), which costs one predictable branch when tracing is
 * off. Events are emitted in the order the model produces them and written in
 * (simulated time, emission order): trc_advance() tells the writer which times
 * are final. The file is written to PATH.tmp and renamed on commit, so a failed
 * run leaves nothing half-written.
 *
 * This library depends on nothing of ours (cJSON only): every module may emit.
 */
#ifndef SNPREF_TRACE_H
#define SNPREF_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRC_FORMAT  "snpref-trace"
#define TRC_VERSION 1
#define TRC_MAX_FIELDS 8

enum trc_type { TRC_TYPE_U, TRC_TYPE_I, TRC_TYPE_X, TRC_TYPE_S, TRC_TYPE_B };

/* FOR_EACH over 1..8 field tuples: TRC__EACH(op, (T, n, "d"), ...) -> op(T, n, "d") ... */
#define TRC__N(...) TRC__N_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define TRC__N_(_1, _2, _3, _4, _5, _6, _7, _8, N, ...) N
#define TRC__CAT(a, b) TRC__CAT_(a, b)
#define TRC__CAT_(a, b) a##b
#define TRC__EACH(op, ...) TRC__CAT(TRC__EACH_, TRC__N(__VA_ARGS__))(op, __VA_ARGS__)
#define TRC__EACH_1(op, a) op a
#define TRC__EACH_2(op, a, ...) op a TRC__EACH_1(op, __VA_ARGS__)
#define TRC__EACH_3(op, a, ...) op a TRC__EACH_2(op, __VA_ARGS__)
#define TRC__EACH_4(op, a, ...) op a TRC__EACH_3(op, __VA_ARGS__)
#define TRC__EACH_5(op, a, ...) op a TRC__EACH_4(op, __VA_ARGS__)
#define TRC__EACH_6(op, a, ...) op a TRC__EACH_5(op, __VA_ARGS__)
#define TRC__EACH_7(op, a, ...) op a TRC__EACH_6(op, __VA_ARGS__)
#define TRC__EACH_8(op, a, ...) op a TRC__EACH_7(op, __VA_ARGS__)

enum trc_ev {
#define TRC_EV(name, doc, ...) TRC_EV_##name,
#include "events.def"
#undef TRC_EV
    TRC_EV_COUNT
};

struct trc_field_desc {
    const char *name;
    enum trc_type type;
    const char *doc;
    /* An ENUM field (a string, type S): its values, NULL-terminated; else NULL. */
    const char *const *values;
};

/* An ENUM(...) field is a string with a closed set of values: the type token
 * pastes into these, e.g. TRC_TYPE_##type -> TRC_TYPE_ENUM("rd", "wr"). */
#define TRC_TYPE_ENUM(...) TRC_TYPE_S
#define TRC__VALUES_U NULL
#define TRC__VALUES_I NULL
#define TRC__VALUES_X NULL
#define TRC__VALUES_S NULL
#define TRC__VALUES_B NULL
#define TRC__VALUES_ENUM(...) ((const char *const[]){__VA_ARGS__, NULL})

struct trc_event_desc {
    const char *name;
    const char *doc;
    unsigned nfields;
    const struct trc_field_desc *fields;
};

/* The catalogue: trc_catalogue[ev] for ev < TRC_EV_COUNT. */
extern const struct trc_event_desc trc_catalogue[TRC_EV_COUNT];
/* Event id by name, or -1. */
int trc_event_by_name(const char *name);
/* True if s is a value field fd may hold (any string unless it is an ENUM). */
bool trc_value_allowed(const struct trc_field_desc *fd, const char *s);
/* For an ENUM field, the catalogue's own copy of value s (static: never
 * freed, so events need not own it); NULL if fd is no ENUM or s not a value. */
const char *trc_enum_value(const struct trc_field_desc *fd, const char *s);

union trc_val {
    uint64_t u;      /* U, X, B (0/1); I stored as two's complement */
    const char *s;   /* S */
};

/* One event. Strings are borrowed: valid until the call that received it returns. */
struct trc_rec {
    uint64_t seq;    /* assigned by the writer in output order */
    uint64_t t;      /* simulated time, cycles */
    int vcpu;        /* -1 for system-wide events */
    enum trc_ev ev;
    union trc_val v[TRC_MAX_FIELDS];
};

/* What line 1 records. config_json is the full effective config as compact JSON. */
struct trc_header {
    const char *model;       /* "snpref 0.1.0" */
    const char *mode;        /* plain, sev-es, snp */
    unsigned vcpus;
    const char *fabric;
    uint64_t quantum;        /* instructions per quantum */
    const char *config_json; /* an object */
    /* The only events the file records (run --trace-events), comma-separated,
     * or NULL: every event. Written as the header's "events" array. */
    const char *events;
};

struct trc;

/* Receives every event in final order (after sorting), e.g. for in-process
 * comparison or tests. */
typedef void (*trc_sink_fn)(void *ctx, const struct trc_rec *r);

/*
 * Opens a trace. path may be NULL (no file: only the sink sees events). The
 * header is kept and written first. Returns NULL with a message in err.
 */
struct trc *trc_open(const char *path, const struct trc_header *h, char *err, size_t errlen);
void trc_set_sink(struct trc *t, trc_sink_fn fn, void *ctx);

/* Records only the events named in the comma-separated list in the file
 * (seq counts them); the sink still sees every event. Returns 0, or -1 with
 * "'NAME' is no event" in err. Call before the first event. */
int trc_set_filter(struct trc *t, const char *events, char *err, size_t errlen);
/* Checks such a list without a trace: 0, or -1 with the message in err. */
int trc_check_filter(const char *events, char *err, size_t errlen);

/* Adds an event (copied). Called through the typed emitters below. */
void trc_emit(struct trc *t, const struct trc_rec *r);

/* No event with time < safe_time will be emitted any more: sort and write them. */
void trc_advance(struct trc *t, uint64_t safe_time);

/*
 * Writes everything still pending, closes the file and, if commit, renames
 * PATH.tmp to PATH (otherwise removes it). Frees t. Returns 0, or -1 with err.
 */
int trc_close(struct trc *t, bool commit, char *err, size_t errlen);

/* Events written so far. */
uint64_t trc_count(const struct trc *t);

/*
 * Formats one event line (no newline) into buf; returns its length, or the
 * length it would need (like snprintf). The canonical form the writer uses.
 */
size_t trc_format(const struct trc_rec *r, char *buf, size_t len);
/* Formats a header line (no newline) into a malloc'd string the caller frees. */
char *trc_format_header(const struct trc_header *h);

/* Typed emitters, one per catalogue entry: trc_<name>(t, time, vcpu, fields...). */
#define TRC__CTYPE_U uint64_t
#define TRC__CTYPE_I int64_t
#define TRC__CTYPE_X uint64_t
#define TRC__CTYPE_S const char *
#define TRC__CTYPE_B bool
#define TRC__CTYPE_ENUM(...) const char *
#define TRC__PARAM(type, name, doc) , TRC__CTYPE_##type name
#define TRC_EV(name, doc, ...)                                                                     \
    void trc_##name(struct trc *t, uint64_t time, int vcpu TRC__EACH(TRC__PARAM, __VA_ARGS__));
#include "events.def"
#undef TRC_EV

/* Emits only when tracing is on; arguments are not evaluated otherwise. */
#define TRC(t, name, ...)                                                                          \
    do {                                                                                           \
        if (__builtin_expect((t) != NULL, 0))                                                      \
            trc_##name((t), __VA_ARGS__);                                                          \
    } while (0)

/* ---- Reading -------------------------------------------------------------- */

struct trc_reader;

/*
 * Opens a trace for streaming and reads its header. On error returns NULL and
 * writes "FILE:LINE: field 'F': problem" to err.
 */
struct trc_reader *trc_reader_open(const char *path, char *err, size_t errlen);
/* The same, with the exit status of a failure in *status: 66 when path cannot
 * be opened (missing, unreadable, a directory), 65 when its header is malformed. */
struct trc_reader *trc_reader_open_st(const char *path, int *status, char *err, size_t errlen);
/* The header as read; strings owned by the reader. */
const struct trc_header *trc_reader_header(const struct trc_reader *r);
/*
 * Reads the next event into *rec (strings valid until the next call).
 * Returns 1 for an event, 0 at end of file, -1 on error (message in err).
 */
int trc_reader_next(struct trc_reader *r, struct trc_rec *rec, char *err, size_t errlen);
/* Line number of the last line read (1 = header). */
unsigned long trc_reader_line(const struct trc_reader *r);
void trc_reader_close(struct trc_reader *r);

#endif
