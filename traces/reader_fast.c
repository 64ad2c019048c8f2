/* SPDX-License-Identifier: MIT */
/*
 * The reader's fast path (reader_int.h): an event line exactly in the form the
 * writer produces (trc_format: the keys seq, t, vcpu, ev and then every field
 * in catalogue order, no spaces, numbers without sign, leading zeros or
 * exponent, strings of printable ASCII without escapes) is decoded in place,
 * without building a cJSON tree and without an allocation. Anything else, a
 * valid line in another form (keys in another order, spaces, escapes) or an
 * invalid one, is left to the cJSON path, which accepts every JSON spelling and
 * words every error: the fast path only ever says "not mine", so the two agree
 * on every line (tests/unit/test_traces.c reads each line both ways).
 */
#include <string.h>

#include "reader_int.h"
#include "snpref/text.h"

/* FNV-1a of the event names into a table of ids + 1 (0: empty). */
static unsigned name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h & (TRC_EV_HASH - 1);
}

void trc_fast_init(struct trc_fast *f)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < TRC_EV_COUNT; i++) {
        const char *n = trc_catalogue[i].name;
        unsigned h = name_hash(n, strlen(n));
        while (f->ids[h])
            h = (h + 1) & (TRC_EV_HASH - 1);
        f->ids[h] = (uint8_t)(i + 1);
    }
}

static int event_id(const struct trc_fast *f, const char *s, size_t n)
{
    for (unsigned h = name_hash(s, n); f->ids[h]; h = (h + 1) & (TRC_EV_HASH - 1)) {
        const char *name = trc_catalogue[f->ids[h] - 1].name;
        if (!strncmp(name, s, n) && !name[n])
            return f->ids[h] - 1;
    }
    return -1;
}

struct cur {
    char *p;
};

static bool lit(struct cur *c, const char *s, size_t n)
{
    if (memcmp(c->p, s, n))
        return false;
    c->p += n;
    return true;
}

/* Digits without a leading zero (but "0"), at most 2^53 - 1. */
static bool udec(struct cur *c, uint64_t *v)
{
    const char *p = c->p;
    uint64_t x = 0;
    if (*p == '0') {
        c->p++;
        *v = 0;
        return !(p[1] >= '0' && p[1] <= '9');
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        x = x * 10 + (uint64_t)(*p - '0');
        if (x > TRC_MAX_EXACT_U)
            return false;
    }
    if (p == c->p)
        return false;
    *v = x;
    c->p = (char *)p;
    return true;
}

static bool sdec(struct cur *c, uint64_t *v)
{
    if (*c->p != '-')
        return udec(c, v);
    c->p++;
    uint64_t u;
    if (!udec(c, &u) || !u) /* "-0": the cJSON path decides */
        return false;
    *v = (uint64_t)-(int64_t)u;
    return true;
}

/* "0x" and 1 to 16 hex digits, quoted (what snp_parse_hex accepts). */
static bool hexstr(struct cur *c, uint64_t *v)
{
    if (c->p[0] != '"' || c->p[1] != '0' || (c->p[2] != 'x' && c->p[2] != 'X'))
        return false;
    size_t n = snp_scan_hex(c->p + 3, v);
    if (!n || c->p[3 + n] != '"')
        return false;
    c->p += 3 + n + 1;
    return true;
}

/* A quoted run of printable ASCII without '"' or '\\': its span. */
static bool str(struct cur *c, char **start, size_t *len)
{
    if (*c->p != '"')
        return false;
    char *p = c->p + 1;
    while (*p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\')
        p++;
    if (*p != '"')
        return false;
    *start = c->p + 1;
    *len = (size_t)(p - *start);
    c->p = p + 1;
    return true;
}

static bool field(struct cur *c, const struct trc_field_desc *fd, union trc_val *v, char **s,
                  size_t *slen)
{
    size_t n = strlen(fd->name);
    if (c->p[0] != ',' || c->p[1] != '"' || strncmp(c->p + 2, fd->name, n) || c->p[2 + n] != '"' ||
        c->p[3 + n] != ':')
        return false;
    c->p += 4 + n;
    switch (fd->type) {
    case TRC_TYPE_U: return udec(c, &v->u);
    case TRC_TYPE_I: return sdec(c, &v->u);
    case TRC_TYPE_X: return hexstr(c, &v->u);
    case TRC_TYPE_S: return str(c, s, slen);
    case TRC_TYPE_B:
        if (lit(c, "true", 4))
            return v->u = 1, true;
        return lit(c, "false", 5) && (v->u = 0, true);
    }
    return false;
}

bool trc_fast_event(const struct trc_fast *f, char *line, struct trc_rec *rec)
{
    struct cur c = {line};
    uint64_t seq, t, vcpu;
    char *name, *s[TRC_MAX_FIELDS] = {0};
    size_t nlen, slen[TRC_MAX_FIELDS] = {0};
    if (!lit(&c, "{\"seq\":", 7) || !udec(&c, &seq) || !lit(&c, ",\"t\":", 5) || !udec(&c, &t) ||
        !lit(&c, ",\"vcpu\":", 8) || !sdec(&c, &vcpu) || !lit(&c, ",\"ev\":", 6) ||
        !str(&c, &name, &nlen))
        return false;
    if ((int64_t)vcpu < -1 || (int64_t)vcpu >= TRC_MAX_VCPUS)
        return false;
    int id = event_id(f, name, nlen);
    if (id < 0)
        return false;
    const struct trc_event_desc *d = &trc_catalogue[id];
    for (unsigned i = 0; i < d->nfields; i++)
        if (!field(&c, &d->fields[i], &rec->v[i], &s[i], &slen[i]))
            return false;
    if (c.p[0] != '}' || c.p[1])
        return false;
    /* The line is the fast path's: strings are terminated in place. */
    for (unsigned i = 0; i < d->nfields; i++)
        if (d->fields[i].type == TRC_TYPE_S) {
            s[i][slen[i]] = '\0';
            if (!trc_value_allowed(&d->fields[i], s[i])) {
                s[i][slen[i]] = '"'; /* the cJSON path words the error */
                for (unsigned j = 0; j < i; j++)
                    if (s[j])
                        s[j][slen[j]] = '"';
                return false;
            }
            rec->v[i].s = s[i];
        }
    rec->seq = seq;
    rec->t = t;
    rec->vcpu = (int)(int64_t)vcpu;
    rec->ev = (enum trc_ev)id;
    return true;
}
