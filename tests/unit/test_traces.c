/* SPDX-License-Identifier: MIT */
/*
 * The trace library (traces/): the event catalogue, the writer (ordering by
 * simulated time, seq numbers, the canonical line and header forms, commit by
 * rename) and the streaming reader (byte-identical round trip, and a
 * "FILE:LINE: field 'F': problem" message for every kind of malformed trace).
 * Golden traces are compared byte for byte, so the canonical form is pinned
 * here exactly. Files live in a mkdtemp directory that main() removes.
 */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader_int.h"
#include "trace.h"
#include "ck_run.h"

static char tmpdir[] = "/tmp/snpref-test-traces-XXXXXX";

/* tmpdir/name */
static void tpath(char *buf, size_t len, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", tmpdir, name);
    ck_assert(n > 0 && (size_t)n < len);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void spill(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
}

static const struct trc_header hdr_min = {"snpref 0.1.0", "snp", 2, "xapic", 1000, "{}", NULL};

/* ---- Catalogue ------------------------------------------------------------ */

START_TEST(catalogue_names_are_unique_and_round_trip_through_trc_event_by_name)
{
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const char *name = trc_catalogue[i].name;
        ck_assert_ptr_nonnull(name);
        ck_assert_uint_gt(strlen(name), 0);
        ck_assert_ptr_nonnull(trc_catalogue[i].doc);
        ck_assert_int_eq(trc_event_by_name(name), i);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(name, trc_catalogue[j].name) != 0, "event %s twice", name);
    }
    ck_assert_int_eq(trc_event_by_name("no_such_event"), -1);
    ck_assert_int_eq(trc_event_by_name(""), -1);
    ck_assert_int_eq(trc_event_by_name("EXIT"), -1); /* names are case-sensitive */
}
END_TEST

START_TEST(catalogue_events_have_1_to_max_fields_with_unique_names_apart_from_the_common_ones)
{
    static const char *const common[] = {"seq", "t", "vcpu", "ev"};
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const struct trc_event_desc *d = &trc_catalogue[i];
        ck_assert_msg(d->nfields >= 1 && d->nfields <= TRC_MAX_FIELDS, "%s: %u fields", d->name,
                      d->nfields);
        for (unsigned f = 0; f < d->nfields; f++) {
            const struct trc_field_desc *fd = &d->fields[f];
            ck_assert_ptr_nonnull(fd->name);
            ck_assert_uint_gt(strlen(fd->name), 0);
            ck_assert_ptr_nonnull(fd->doc);
            ck_assert_msg(fd->type <= TRC_TYPE_B, "%s.%s: bad type", d->name, fd->name);
            /* An ENUM is a string with at least two distinct, non-empty values. */
            unsigned nv = 0;
            for (; fd->values && fd->values[nv]; nv++) {
                ck_assert_msg(fd->values[nv][0], "%s.%s: empty value", d->name, fd->name);
                for (unsigned w = 0; w < nv; w++)
                    ck_assert_msg(strcmp(fd->values[w], fd->values[nv]) != 0, "%s.%s: %s twice",
                                  d->name, fd->name, fd->values[nv]);
            }
            ck_assert_msg(!fd->values || (fd->type == TRC_TYPE_S && nv >= 2), "%s.%s: bad ENUM",
                          d->name, fd->name);
            for (size_t c = 0; c < sizeof(common) / sizeof(common[0]); c++)
                ck_assert_msg(strcmp(fd->name, common[c]) != 0, "%s.%s collides", d->name,
                              fd->name);
            for (unsigned g = 0; g < f; g++)
                ck_assert_msg(strcmp(fd->name, d->fields[g].name) != 0, "%s.%s twice", d->name,
                              fd->name);
        }
    }
}
END_TEST

/* ---- Writer: ordering, seq, sink ------------------------------------------ */

struct sink_log {
    int n;
    struct {
        uint64_t seq, t;
        int vcpu;
        enum trc_ev ev;
        uint64_t v0;
    } e[64];
    char *lines; /* every record as trc_format + "\n" */
    size_t len;
};

static void on_sink(void *ctx, const struct trc_rec *r)
{
    struct sink_log *l = ctx;
    if (l->n < 64)
        l->e[l->n] = (typeof(l->e[0])){r->seq, r->t, r->vcpu, r->ev, r->v[0].u};
    l->n++;
    size_t need = trc_format(r, NULL, 0);
    l->lines = realloc(l->lines, l->len + need + 2);
    ck_assert_ptr_nonnull(l->lines);
    ck_assert_uint_eq(trc_format(r, l->lines + l->len, need + 1), need);
    l->len += need;
    l->lines[l->len++] = '\n';
    l->lines[l->len] = '\0';
}

START_TEST(events_are_written_sorted_by_time_then_emission_order)
{
    char path[512], err[256];
    tpath(path, sizeof(path), "order.jsonl");
    struct trc *t = trc_open(path, &hdr_min, err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    struct sink_log l = {0};
    trc_set_sink(t, on_sink, &l);
    /* (t, status) in emission order; status is the expected output position. */
    trc_exit(t, 7, 0, 2);
    trc_exit(t, 3, 1, 0);
    trc_exit(t, 7, 0, 3);
    trc_exit(t, 3, -1, 1);
    trc_exit(t, 9, 1, 5);
    trc_exit(t, 7, 1, 4);
    ck_assert_int_eq(trc_close(t, true, err, sizeof(err)), 0);
    ck_assert_int_eq(l.n, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(l.e[i].v0, (uint64_t)i);
        ck_assert_uint_eq(l.e[i].seq, (uint64_t)i);
    }
    ck_assert_uint_eq(l.e[0].t, 3);
    ck_assert_int_eq(l.e[0].vcpu, 1);
    ck_assert_int_eq(l.e[1].vcpu, -1);
    ck_assert_uint_eq(l.e[5].t, 9);
    free(l.lines);
}
END_TEST

START_TEST(events_at_or_after_the_safe_time_are_held_until_a_later_advance_or_close)
{
    char err[256];
    struct trc *t = trc_open(NULL, &hdr_min, err, sizeof(err)); /* sink only */
    ck_assert_ptr_nonnull(t);
    struct sink_log l = {0};
    trc_set_sink(t, on_sink, &l);
    trc_exit(t, 10, 0, 10);
    trc_exit(t, 5, 0, 5);
    trc_exit(t, 20, 0, 20);
    trc_exit(t, 15, 0, 15);
    ck_assert_uint_eq(trc_count(t), 0); /* nothing final yet */
    trc_advance(t, 15);                 /* 5 and 10 are final; 15 and 20 are not */
    ck_assert_uint_eq(trc_count(t), 2);
    ck_assert_int_eq(l.n, 2);
    trc_exit(t, 17, 1, 17);
    trc_exit(t, 20, 1, 21); /* same time as a held event, emitted later */
    trc_advance(t, 15);     /* no progress */
    ck_assert_uint_eq(trc_count(t), 2);
    trc_advance(t, 20);
    ck_assert_uint_eq(trc_count(t), 4); /* 15, 17; both 20s still held */
    trc_exit(t, UINT64_MAX, 0, 99);
    trc_advance(t, UINT64_MAX);
    ck_assert_uint_eq(trc_count(t), 6);
    ck_assert_int_eq(trc_close(t, true, err, sizeof(err)), 0); /* writes t == UINT64_MAX too */
    static const uint64_t want[] = {5, 10, 15, 17, 20, 21, 99};
    ck_assert_int_eq(l.n, 7);
    for (int i = 0; i < 7; i++) {
        ck_assert_uint_eq(l.e[i].v0, want[i]);
        ck_assert_uint_eq(l.e[i].seq, (uint64_t)i);
    }
    free(l.lines);
}
END_TEST

START_TEST(seq_numbers_count_from_zero_in_file_order_and_the_sink_sees_the_same_lines)
{
    char path[512], err[256];
    tpath(path, sizeof(path), "seq.jsonl");
    struct trc *t = trc_open(path, &hdr_min, err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    struct sink_log l = {0};
    trc_set_sink(t, on_sink, &l);
    /* Times jitter inside windows of 100 cycles; each advance closes a window. */
    for (uint64_t i = 0; i < 40; i++) {
        trc_pio(t, i / 10 * 100 + (i * 7919) % 13, (int)(i % 3), "out", 0x3f8, 1, i);
        if (i % 10 == 9)
            trc_advance(t, (i / 10 + 1) * 100);
    }
    trc_console(t, 400, 0, "hello \"world\"\n");
    ck_assert_int_eq(trc_close(t, true, err, sizeof(err)), 0);

    /* The file is the header line followed by exactly what the sink received. */
    char *hdr = trc_format_header(&hdr_min);
    size_t len;
    char *file = slurp(path, &len);
    size_t hlen = strlen(hdr);
    ck_assert_uint_eq(len, hlen + 1 + l.len);
    ck_assert(memcmp(file, hdr, hlen) == 0 && file[hlen] == '\n');
    ck_assert(memcmp(file + hlen + 1, l.lines, l.len) == 0);

    /* Read back: seq 0, 1, 2... and t never decreasing. */
    struct trc_reader *r = trc_reader_open(path, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    struct trc_rec rec;
    uint64_t n = 0, last_t = 0;
    int rc;
    while ((rc = trc_reader_next(r, &rec, err, sizeof(err))) == 1) {
        ck_assert_uint_eq(rec.seq, n);
        ck_assert_uint_ge(rec.t, last_t);
        last_t = rec.t;
        n++;
    }
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_uint_eq(n, 41);
    ck_assert_int_eq(l.n, 41);
    trc_reader_close(r);
    free(file);
    free(hdr);
    free(l.lines);
}
END_TEST

/* ---- Canonical forms ------------------------------------------------------ */

START_TEST(header_line_is_the_canonical_form_with_the_config_compacted)
{
    const struct trc_header h = {
        .model = "snpref 0.1.0",
        .mode = "snp",
        .vcpus = 4,
        .fabric = "savic",
        .quantum = 10000,
        .config_json = "{ \"mode\" : \"snp\",\n \"vcpus\": 4, \"ram_mb\": 64,\n"
                       "  \"nested\": {\"a\": [1, 2.5, true, false, null, \"x\\\"y\"]},"
                       " \"e\": {} }",
    };
    static const char want[] =
        "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\",\"mode\":\"snp\","
        "\"vcpus\":4,\"fabric\":\"savic\",\"quantum\":10000,\"config\":{\"mode\":\"snp\","
        "\"vcpus\":4,\"ram_mb\":64,\"nested\":{\"a\":[1,2.5,true,false,null,\"x\\\"y\"]},"
        "\"e\":{}}}";
    char *got = trc_format_header(&h);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);

    /* No config: an empty object. */
    struct trc_header h2 = h;
    h2.config_json = NULL;
    got = trc_format_header(&h2);
    ck_assert_str_eq(got, "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"snpref 0.1.0\","
                          "\"mode\":\"snp\",\"vcpus\":4,\"fabric\":\"savic\",\"quantum\":10000,"
                          "\"config\":{}}");
    free(got);

    /* The writer puts exactly that on line 1. */
    char path[512], err[256];
    tpath(path, sizeof(path), "header.jsonl");
    struct trc *t = trc_open(path, &h, err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_int_eq(trc_close(t, true, err, sizeof(err)), 0);
    size_t len;
    char *file = slurp(path, &len);
    ck_assert_uint_eq(len, strlen(want) + 1);
    ck_assert(memcmp(file, want, strlen(want)) == 0);
    ck_assert_int_eq(file[len - 1], '\n');
    free(file);
}
END_TEST

START_TEST(event_line_is_the_canonical_form)
{
    struct trc_rec r = {.seq = 12, .t = 3456, .vcpu = -1, .ev = TRC_EV_shutdown};
    r.v[0].s = "triple \"fault\"\t\\\x01\x7f\xff";
    r.v[1].u = 0xFFFFFFFF80001000ull;
    static const char want[] = "{\"seq\":12,\"t\":3456,\"vcpu\":-1,\"ev\":\"shutdown\","
                               "\"reason\":\"triple \\\"fault\\\"\\t\\\\\\u0001\\u007f\\u00ff\","
                               "\"rip\":\"0xffffffff80001000\"}";
    char buf[256];
    ck_assert_uint_eq(trc_format(&r, buf, sizeof(buf)), strlen(want));
    ck_assert_str_eq(buf, want);
    /* snprintf-like: a short buffer is truncated and terminated, the length is the full one. */
    char small[10];
    ck_assert_uint_eq(trc_format(&r, small, sizeof(small)), strlen(want));
    ck_assert_str_eq(small, "{\"seq\":12");

    struct trc_rec e = {.seq = 0, .t = 0, .vcpu = 255, .ev = TRC_EV_eoi};
    e.v[0].u = (uint64_t)-1;
    e.v[1].u = 1;
    static const char want_eoi[] =
        "{\"seq\":0,\"t\":0,\"vcpu\":255,\"ev\":\"eoi\",\"vector\":-1,\"level\":true}";
    ck_assert_uint_eq(trc_format(&e, buf, sizeof(buf)), strlen(want_eoi));
    ck_assert_str_eq(buf, want_eoi);
}
END_TEST

/* ---- Round trip ----------------------------------------------------------- */

static const char *const nasty[] = {
    "quote\" backslash\\ newline\n tab\t cr\r \x01 \x7f \xff end",
    "\x80\x9f\xa0\xc3\xbf{}[],:\\u0041 \x1f",
    "",
    "plain ~ ascii",
};

static void fill(struct trc_rec *r, enum trc_ev ev, unsigned k)
{
    static const uint64_t us[] = {0, (1ull << 53) - 1, 12345};
    static const int64_t is[] = {-1, -((1ll << 53) - 1), (1ll << 53) - 1};
    static const uint64_t xs[] = {0xffffffffffffffffull, 0, 0x8000000000000000ull};
    static const int vcpus[] = {-1, 0, 255};
    memset(r, 0, sizeof(*r));
    r->ev = ev;
    r->t = 100 * (uint64_t)ev + k;
    r->vcpu = vcpus[k % 3];
    const struct trc_event_desc *d = &trc_catalogue[ev];
    for (unsigned f = 0; f < d->nfields; f++) {
        unsigned j = (k + f) % 3;
        switch (d->fields[f].type) {
        case TRC_TYPE_U: r->v[f].u = us[j]; break;
        case TRC_TYPE_I: r->v[f].u = (uint64_t)is[j]; break;
        case TRC_TYPE_X: r->v[f].u = xs[j]; break;
        case TRC_TYPE_S: r->v[f].s = nasty[(k + f) % 4]; break;
        case TRC_TYPE_B: r->v[f].u = j & 1; break;
        }
        /* An ENUM field holds one of its values (the writer refuses others). */
        const char *const *vals = d->fields[f].values;
        unsigned n = 0;
        while (vals && vals[n])
            n++;
        if (n)
            r->v[f].s = vals[(k + f) % n];
    }
}

#define ROUNDS 4

START_TEST(every_catalogue_event_round_trips_byte_identically_through_the_reader)
{
    char in[512], out[512], err[256];
    tpath(in, sizeof(in), "roundtrip.jsonl");
    tpath(out, sizeof(out), "roundtrip.out.jsonl");
    const struct trc_header h = {"snpref 0.1.0 \"q\"", "sev-es", 256, "savic", 1ull << 40,
                                 "{\"quantum\":1099511627776,\"s\":\"a\\\\b\\n\",\"l\":[-1,0.5]}", NULL};
    struct trc *t = trc_open(in, &h, err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    for (int ev = 0; ev < TRC_EV_COUNT; ev++)
        for (unsigned k = 0; k < ROUNDS; k++) {
            struct trc_rec r;
            fill(&r, (enum trc_ev)ev, k);
            trc_emit(t, &r);
        }
    ck_assert_int_eq(trc_close(t, true, err, sizeof(err)), 0);

    struct trc_reader *rd = trc_reader_open(in, err, sizeof(err));
    ck_assert_msg(rd != NULL, "%s", err);
    FILE *f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    char *hl = trc_format_header(trc_reader_header(rd));
    ck_assert_ptr_nonnull(hl);
    fprintf(f, "%s\n", hl);
    free(hl);
    struct trc_rec rec;
    int rc, n = 0;
    char line[4096];
    while ((rc = trc_reader_next(rd, &rec, err, sizeof(err))) == 1) {
        /* Emitted in time order, so the file order is the emission order. */
        struct trc_rec want;
        fill(&want, (enum trc_ev)(n / ROUNDS), (unsigned)(n % ROUNDS));
        ck_assert_uint_eq(rec.seq, (uint64_t)n);
        ck_assert_uint_eq(rec.t, want.t);
        ck_assert_int_eq(rec.vcpu, want.vcpu);
        ck_assert_int_eq(rec.ev, want.ev);
        const struct trc_event_desc *d = &trc_catalogue[rec.ev];
        for (unsigned i = 0; i < d->nfields; i++) {
            if (d->fields[i].type == TRC_TYPE_S)
                ck_assert_str_eq(rec.v[i].s, want.v[i].s);
            else
                ck_assert_uint_eq(rec.v[i].u, want.v[i].u);
        }
        size_t len = trc_format(&rec, line, sizeof(line));
        ck_assert_uint_lt(len, sizeof(line));
        fprintf(f, "%s\n", line);
        n++;
    }
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(n, TRC_EV_COUNT * ROUNDS);
    trc_reader_close(rd);
    ck_assert_int_eq(fclose(f), 0);

    size_t lin, lout;
    char *a = slurp(in, &lin), *b = slurp(out, &lout);
    ck_assert_uint_eq(lin, lout);
    ck_assert_msg(memcmp(a, b, lin) == 0, "re-written trace differs");
    for (size_t i = 0; i < lin; i++) /* pure ASCII, no control bytes but the newlines */
        ck_assert_msg(a[i] == '\n' || (a[i] >= 0x20 && a[i] < 0x7f), "byte 0x%02x at %zu",
                      (unsigned char)a[i], i);
    free(a);
    free(b);
}
END_TEST

/* The reader's two paths (reader_fast.c): a line in the writer's form is
 * decoded in place, the same line spelt otherwise ("{ " instead of "{") goes
 * through cJSON; both give the same event, for every catalogue event. */
START_TEST(canonical_lines_take_the_fast_path_and_other_spellings_read_the_same)
{
    char canon[512], spaced[512], err[256];
    tpath(canon, sizeof(canon), "fast.jsonl");
    tpath(spaced, sizeof(spaced), "fast.spaced.jsonl");
    FILE *fc = fopen(canon, "w"), *fs = fopen(spaced, "w");
    ck_assert(fc && fs);
    char *hl = trc_format_header(&hdr_min);
    fprintf(fc, "%s\n", hl);
    fprintf(fs, "%s\n", hl);
    free(hl);
    struct trc_fast fast;
    trc_fast_init(&fast);
    char line[4096];
    unsigned n = 0;
    for (int ev = 0; ev < TRC_EV_COUNT; ev++)
        for (unsigned k = 0; k < ROUNDS; k++) {
            struct trc_rec r, got;
            fill(&r, (enum trc_ev)ev, k);
            r.t = n; /* in time order */
            r.seq = n++;
            const struct trc_event_desc *d = &trc_catalogue[ev];
            for (unsigned f = 0; f < d->nfields; f++)
                if (d->fields[f].type == TRC_TYPE_S && !d->fields[f].values)
                    r.v[f].s = k & 1 ? "plain ~ ascii" : "";
            trc_format(&r, line, sizeof(line));
            fprintf(fc, "%s\n", line);
            fprintf(fs, "{ %s\n", line + 1);
            memset(&got, 0, sizeof(got));
            ck_assert_msg(trc_fast_event(&fast, line, &got), "fast path refused %s", line);
            char again[4200];
            trc_format(&got, again, sizeof(again));
            trc_format(&r, line, sizeof(line));
            ck_assert_str_eq(again, line);
            snprintf(again, sizeof(again), "{ %s", line + 1);
            ck_assert_msg(!trc_fast_event(&fast, again, &got), "fast path took %s", again);
            ck_assert_str_eq(again + 2, line + 1); /* declined: the line is left as it was */
        }
    fclose(fc);
    fclose(fs);
    struct trc_reader *a = trc_reader_open(canon, err, sizeof(err));
    struct trc_reader *b = trc_reader_open(spaced, err, sizeof(err));
    ck_assert_msg(a && b, "%s", err);
    struct trc_rec x, y;
    int ra, rb;
    unsigned m = 0;
    while ((ra = trc_reader_next(a, &x, err, sizeof(err))) == 1) {
        char lx[4096], ly[4096];
        trc_format(&x, lx, sizeof(lx));
        rb = trc_reader_next(b, &y, err, sizeof(err));
        ck_assert_msg(rb == 1, "%s", err);
        trc_format(&y, ly, sizeof(ly));
        ck_assert_str_eq(lx, ly);
        m++;
    }
    ck_assert_int_eq(ra, 0);
    ck_assert_int_eq(trc_reader_next(b, &y, err, sizeof(err)), 0);
    ck_assert_uint_eq(m, n);
    trc_reader_close(a);
    trc_reader_close(b);
    /* Escapes, a leading zero, an exponent, an ENUM value not in the list: not the fast path's. */
    static const char *const other[] = {
        "{\"seq\":0,\"t\":0,\"vcpu\":0,\"ev\":\"console\",\"text\":\"a\\nb\"}",
        "{\"seq\":01,\"t\":0,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}",
        "{\"seq\":0,\"t\":1e3,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}",
        "{\"seq\":0,\"t\":0,\"vcpu\":0,\"ev\":\"wake\",\"reason\":\"bored\"}",
        "{\"seq\":0,\"t\":0,\"vcpu\":256,\"ev\":\"exit\",\"status\":0}",
        "{\"seq\":0,\"t\":0,\"vcpu\":0,\"ev\":\"exit\",\"status\":0,\"x\":1}",
        "{\"seq\":0,\"t\":0,\"vcpu\":0,\"ev\":\"exit\",\"status\":9007199254740992}",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        struct trc_rec r;
        snprintf(line, sizeof(line), "%s", other[i]);
        ck_assert_msg(!trc_fast_event(&fast, line, &r), "fast path took %s", other[i]);
        ck_assert_str_eq(line, other[i]);
    }
}
END_TEST

START_TEST(header_fields_round_trip_through_the_reader)
{
    char path[512], err[256];
    tpath(path, sizeof(path), "hdr-roundtrip.jsonl");
    const struct trc_header h = {"model \"\\\x01\xff", "plain", 7, "fab\tric", 123456789,
                                 "{\"b\":true,\"a\":[]}", NULL};
    struct trc *t = trc_open(path, &h, err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_int_eq(trc_close(t, true, err, sizeof(err)), 0);
    struct trc_reader *r = trc_reader_open(path, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    const struct trc_header *g = trc_reader_header(r);
    ck_assert_str_eq(g->model, h.model);
    ck_assert_str_eq(g->mode, h.mode);
    ck_assert_uint_eq(g->vcpus, 7);
    ck_assert_str_eq(g->fabric, h.fabric);
    ck_assert_uint_eq(g->quantum, 123456789);
    ck_assert_str_eq(g->config_json, "{\"b\":true,\"a\":[]}");
    struct trc_rec rec;
    ck_assert_int_eq(trc_reader_next(r, &rec, err, sizeof(err)), 0);
    ck_assert_uint_eq(trc_reader_line(r), 1);
    trc_reader_close(r);
}
END_TEST

/* ---- Commit by rename ------------------------------------------------------ */

static void write_small_trace(const char *path, bool commit)
{
    char tmp[600], err[256];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    struct trc *t = trc_open(path, &hdr_min, err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    trc_exit(t, 1, 0, 0);
    trc_advance(t, 2);
    ck_assert(exists(tmp));   /* written aside... */
    ck_assert(!exists(path)); /* ...never in place while running */
    ck_assert_int_eq(trc_close(t, commit, err, sizeof(err)), 0);
    ck_assert(!exists(tmp));
}

START_TEST(close_without_commit_leaves_neither_the_trace_nor_the_tmp_file)
{
    char path[512];
    tpath(path, sizeof(path), "abandoned.jsonl");
    write_small_trace(path, false);
    ck_assert(!exists(path));
}
END_TEST

START_TEST(close_with_commit_leaves_the_trace_and_no_tmp_file)
{
    char path[512];
    tpath(path, sizeof(path), "committed.jsonl");
    write_small_trace(path, true);
    ck_assert(exists(path));
    size_t len;
    char *s = slurp(path, &len);
    ck_assert_ptr_nonnull(
        strstr(s, "\n{\"seq\":0,\"t\":1,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n"));
    free(s);
}
END_TEST

START_TEST(open_refuses_a_config_that_is_not_a_json_object)
{
    char path[512], tmp[600], err[256] = "";
    tpath(path, sizeof(path), "badcfg.jsonl");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    static const char *const bad[] = {"{", "[1]", "3", "\"s\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct trc_header h = hdr_min;
        h.config_json = bad[i];
        err[0] = '\0';
        struct trc *t = trc_open(path, &h, err, sizeof(err));
        ck_assert_msg(t == NULL, "config %s accepted", bad[i]);
        ck_assert_msg(strstr(err, path) == err, "message '%s'", err);
        ck_assert(!exists(path));
        ck_assert(!exists(tmp));
    }
}
END_TEST

/* ---- Malformed traces ----------------------------------------------------- */

#define HDR                                                                                        \
    "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"m\",\"mode\":\"snp\",\"vcpus\":1,"   \
    "\"fabric\":\"f\",\"quantum\":1,\"config\":{}}\n"
#define EV_OK "{\"seq\":0,\"t\":0,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n"
#define EV(rest) HDR EV_OK "{\"seq\":1,\"t\":5," rest "}\n" /* the bad line is line 3 */

static const struct bad_trace {
    const char *what;
    const char *text;
    unsigned long line;
    const char *field; /* must appear as "field 'F'", or NULL */
    const char *says;  /* must appear in the message */
} bad_traces[] = {
    {"bad JSON", HDR EV_OK "{\"seq\":1,\"t\":0,\n", 3, NULL, "not valid JSON"},
    {"empty line", HDR EV_OK "\n", 3, NULL, "not valid JSON"},
    {"trailing garbage", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":0} x"), 3, NULL,
     "not valid JSON"},
    {"not an object", HDR EV_OK "[1,2,3]\n", 3, NULL, "one JSON object"},
    {"missing seq", HDR EV_OK "{\"t\":0,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n", 3, "seq",
     "missing"},
    {"missing t", HDR EV_OK "{\"seq\":1,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n", 3, "t",
     "missing"},
    {"missing vcpu", EV("\"ev\":\"exit\",\"status\":0"), 3, "vcpu", "missing"},
    {"missing ev", EV("\"vcpu\":0,\"status\":0"), 3, "ev", "missing"},
    {"missing catalogue field", EV("\"vcpu\":0,\"ev\":\"shutdown\",\"reason\":\"x\""), 3, "rip",
     "missing"},
    {"missing bool field", EV("\"vcpu\":0,\"ev\":\"eoi\",\"vector\":3"), 3, "level", "missing"},
    {"string where number (common)", HDR EV_OK
     "{\"seq\":1,\"t\":\"5\",\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n",
     3, "t", "expected a number"},
    {"string where number (field)", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":\"0\""), 3, "status",
     "expected a number"},
    {"number where event name", EV("\"vcpu\":0,\"ev\":4,\"status\":0"), 3, "ev",
     "expected a string"},
    {"number where hex string", EV("\"vcpu\":0,\"ev\":\"hlt\",\"rip\":4096"), 3, "rip",
     "expected a string"},
    {"bad hex digits", EV("\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"0xzz\""), 3, "rip", "0x"},
    {"hex without 0x", EV("\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"1000\""), 3, "rip", "0x"},
    {"hex without digits", EV("\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"0x\""), 3, "rip", "0x"},
    {"too many hex digits", EV("\"vcpu\":0,\"ev\":\"hlt\",\"rip\":\"0x10000000000000000\""), 3,
     "rip", "16 hex digits"},
    {"non-integer number", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":1.5"), 3, "status",
     "integer"},
    {"non-integer signed", EV("\"vcpu\":0,\"ev\":\"init\",\"src\":-0.5"), 3, "src", "integer"},
    {"negative unsigned", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":-1"), 3, "status", "integer"},
    {"negative seq", HDR EV_OK "{\"seq\":-1,\"t\":0,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n", 3,
     "seq", "integer"},
    {"unsigned beyond 2^53", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":9007199254740993"), 3,
     "status", "integer"},
    {"vcpu out of range", EV("\"vcpu\":256,\"ev\":\"exit\",\"status\":0"), 3, "vcpu", "integer"},
    {"vcpu below -1", EV("\"vcpu\":-2,\"ev\":\"exit\",\"status\":0"), 3, "vcpu", "integer"},
    {"duplicate key", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":0,\"status\":1"), 3, "status",
     "appears twice"},
    {"seq skips a number", HDR EV_OK "{\"seq\":2,\"t\":5,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n",
     3, "seq", "expected 1"},
    {"time goes back", HDR "{\"seq\":0,\"t\":9,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n"
     "{\"seq\":1,\"t\":5,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}\n", 3, "t", "earlier"},
    {"number where bool", EV("\"vcpu\":0,\"ev\":\"eoi\",\"vector\":3,\"level\":1"), 3, "level",
     "true or false"},
    {"string where bool", EV("\"vcpu\":0,\"ev\":\"eoi\",\"vector\":3,\"level\":\"true\""), 3,
     "level", "true or false"},
    {"bool where string", EV("\"vcpu\":0,\"ev\":\"console\",\"text\":true"), 3, "text",
     "expected a string"},
    /* cJSON would decode \u0000 to a NUL that ends the C string: refused before
     * parsing, so the message cannot name the field. */
    {"NUL in a string", EV("\"vcpu\":0,\"ev\":\"console\",\"text\":\"a\\u0000b\""), 3, NULL,
     "U+0001..U+00FF"},
    /* Control case: an escaped backslash followed by "u0000" is not a NUL. */
    {"escaped backslash before u0000",
     EV("\"vcpu\":0,\"ev\":\"console\",\"text\":\"a\\\\u0000b\",\"x\":1"), 3, "x",
     "unknown"},
    {"character beyond U+00FF", EV("\"vcpu\":0,\"ev\":\"console\",\"text\":\"\\u0100\""), 3,
     "text", "U+0001..U+00FF"},
    {"unknown event name", EV("\"vcpu\":0,\"ev\":\"nosuch\",\"status\":0"), 3, "ev",
     "unknown event \"nosuch\""},
    {"unknown extra field", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":0,\"colour\":\"red\""), 3,
     "colour", "unknown for event exit"},
    {"field of another event", EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":0,\"rip\":\"0x1\""), 3,
     "rip", "unknown"},
    {"truncated last line", HDR EV_OK "{\"seq\":1,\"t\":0,\"vcpu\":0,\"ev\":\"exit\",\"status\":0}",
     3, NULL, "truncated"},
    {"truncated header", "{\"format\":\"snpref-trace\"", 1, NULL, "truncated"},
    {"empty file", "", 1, NULL, "empty file"},
    {"header not an object", "[]\n", 1, NULL, "one JSON object"},
    {"wrong format name",
     "{\"format\":\"other-trace\",\"version\":1,\"model\":\"m\",\"mode\":\"snp\",\"vcpus\":1,"
     "\"fabric\":\"f\",\"quantum\":1,\"config\":{}}\n",
     1, "format", "is not snpref-trace"},
    {"unsupported version",
     "{\"format\":\"snpref-trace\",\"version\":2,\"model\":\"m\",\"mode\":\"snp\",\"vcpus\":1,"
     "\"fabric\":\"f\",\"quantum\":1,\"config\":{}}\n",
     1, "version", "not supported"},
    {"missing config",
     "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"m\",\"mode\":\"snp\",\"vcpus\":1,"
     "\"fabric\":\"f\",\"quantum\":1}\n",
     1, "config", "missing"},
    {"config not an object",
     "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"m\",\"mode\":\"snp\",\"vcpus\":1,"
     "\"fabric\":\"f\",\"quantum\":1,\"config\":[]}\n",
     1, "config", "expected an object"},
    {"missing header field",
     "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"m\",\"vcpus\":1,"
     "\"fabric\":\"f\",\"quantum\":1,\"config\":{}}\n",
     1, "mode", "missing"},
    {"unknown header field",
     "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"m\",\"mode\":\"snp\",\"vcpus\":1,"
     "\"fabric\":\"f\",\"quantum\":1,\"config\":{},\"extra\":0}\n",
     1, "extra", "unknown"},
    {"header with zero vcpus",
     "{\"format\":\"snpref-trace\",\"version\":1,\"model\":\"m\",\"mode\":\"snp\",\"vcpus\":0,"
     "\"fabric\":\"f\",\"quantum\":1,\"config\":{}}\n",
     1, "vcpus", "integer"},
};

START_TEST(malformed_trace_fails_with_file_line_and_field)
{
    const struct bad_trace *b = &bad_traces[_i];
    char path[512], name[64], err[512] = "";
    snprintf(name, sizeof(name), "bad-%02d.jsonl", _i);
    tpath(path, sizeof(path), name);
    spill(path, b->text);

    int rc = -1;
    struct trc_reader *r = trc_reader_open(path, err, sizeof(err));
    if (r) {
        struct trc_rec rec;
        while ((rc = trc_reader_next(r, &rec, err, sizeof(err))) == 1)
            ;
        ck_assert_msg(rc == -1, "%s: accepted", b->what);
        ck_assert_uint_eq(trc_reader_line(r), b->line);
        trc_reader_close(r);
    }
    char prefix[600];
    snprintf(prefix, sizeof(prefix), "%s:%lu: ", path, b->line);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "%s: message '%s', expected '%s...'",
                  b->what, err, prefix);
    if (b->field) {
        char f[64];
        snprintf(f, sizeof(f), "field '%s'", b->field);
        ck_assert_msg(strstr(err, f) != NULL, "%s: message '%s' does not name %s", b->what, err,
                      f);
    }
    ck_assert_msg(strstr(err, b->says) != NULL, "%s: message '%s' does not say '%s'", b->what,
                  err, b->says);
}
END_TEST

START_TEST(a_good_line_after_a_good_trace_is_read_and_counted)
{
    /* The baseline the malformed cases are variations of: it must be accepted. */
    char path[512], err[256];
    tpath(path, sizeof(path), "good.jsonl");
    spill(path, EV("\"vcpu\":0,\"ev\":\"exit\",\"status\":0"));
    struct trc_reader *r = trc_reader_open(path, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_uint_eq(trc_reader_line(r), 1);
    struct trc_rec rec;
    ck_assert_int_eq(trc_reader_next(r, &rec, err, sizeof(err)), 1);
    ck_assert_int_eq(trc_reader_next(r, &rec, err, sizeof(err)), 1);
    ck_assert_uint_eq(rec.seq, 1);
    ck_assert_uint_eq(rec.t, 5);
    ck_assert_int_eq(rec.ev, TRC_EV_exit);
    ck_assert_uint_eq(trc_reader_line(r), 3);
    ck_assert_int_eq(trc_reader_next(r, &rec, err, sizeof(err)), 0);
    trc_reader_close(r);
}
END_TEST

START_TEST(opening_a_missing_file_names_the_file)
{
    char path[512], err[512] = "";
    tpath(path, sizeof(path), "does-not-exist.jsonl");
    ck_assert_ptr_null(trc_reader_open(path, err, sizeof(err)));
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "message '%s'", err);
}
END_TEST

/* ---- Runner --------------------------------------------------------------- */

static Suite *traces_suite(void)
{
    Suite *s = suite_create("traces");
    TCase *tc = tcase_create("traces");
    tcase_add_test(tc, catalogue_names_are_unique_and_round_trip_through_trc_event_by_name);
    tcase_add_test(
        tc, catalogue_events_have_1_to_max_fields_with_unique_names_apart_from_the_common_ones);
    tcase_add_test(tc, events_are_written_sorted_by_time_then_emission_order);
    tcase_add_test(tc, events_at_or_after_the_safe_time_are_held_until_a_later_advance_or_close);
    tcase_add_test(tc, seq_numbers_count_from_zero_in_file_order_and_the_sink_sees_the_same_lines);
    tcase_add_test(tc, header_line_is_the_canonical_form_with_the_config_compacted);
    tcase_add_test(tc, event_line_is_the_canonical_form);
    tcase_add_test(tc, every_catalogue_event_round_trips_byte_identically_through_the_reader);
    tcase_add_test(tc, canonical_lines_take_the_fast_path_and_other_spellings_read_the_same);
    tcase_add_test(tc, header_fields_round_trip_through_the_reader);
    tcase_add_test(tc, close_without_commit_leaves_neither_the_trace_nor_the_tmp_file);
    tcase_add_test(tc, close_with_commit_leaves_the_trace_and_no_tmp_file);
    tcase_add_test(tc, open_refuses_a_config_that_is_not_a_json_object);
    tcase_add_loop_test(tc, malformed_trace_fails_with_file_line_and_field, 0,
                        (int)(sizeof(bad_traces) / sizeof(bad_traces[0])));
    tcase_add_test(tc, a_good_line_after_a_good_trace_is_read_and_counted);
    tcase_add_test(tc, opening_a_missing_file_names_the_file);
    suite_add_tcase(s, tc);
    return s;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    int failed = ck_run(traces_suite(), CK_RUN_FORK) != EXIT_SUCCESS;
    remove_tmpdir();
    return failed ? 1 : 0;
}
