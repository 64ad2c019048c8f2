/* SPDX-License-Identifier: MIT */
/*
 * Config defaults, loading, validation and the effective-config JSON (see
 * config.h and docs/config.md). Every user mistake is reported as one line
 * naming the file, the line and the field.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fabric.h"
#include "snpref/base.h"

void config_defaults(struct snp_config *c)
{
    memset(c, 0, sizeof(*c));
    c->vcpus = 4;
    snprintf(c->mode, sizeof(c->mode), "plain");
    snprintf(c->apic, sizeof(c->apic), "emulated");
    c->ram_mb = 64;
    c->quantum = 2000;
    c->max_insns = 0;
    c->core_hz = 2000000000ull;
    c->tsc_hz = 2000000000ull;
    c->apic_timer_hz = 100000000ull;
    c->tcg_buffer_mb = 32;
    c->exit_style = EXIT_STYLE_SNPREF;
    c->cost = (struct cost_model){
        .insn_millicycles = 1000,
        .vmexit = 1400,
        .event_delivery = 150,
        .ipi_wire = 400,
        .self_ipi = 60,
        .device_msi = 400,
        .hlt_wakeup = 800,
    };
    c->sev = (struct sev_options){
        .policy = 0x30000, /* SMT allowed, bit 17 (must be 1): fact sheet 8.4 */
        .asid = 1,
        .sev_features = 0,
        .ap_create = AP_CREATE_KVM,
        .ap_features = AP_FEATURES_EXACT,
        .implicit_psc = false,
        .key_seed = 0x736e70726566ull, /* "snpref" */
    };
}

/* ---- Locating a member's line in the text --------------------------------- */

struct scan {
    const char *p;
    unsigned line;
};

static void ws(struct scan *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n') {
        if (*s->p == '\n')
            s->line++;
        s->p++;
    }
}

/* Reads a string token; copies at most cap-1 bytes of its raw contents. */
static bool scan_str(struct scan *s, char *out, size_t cap)
{
    if (*s->p != '"')
        return false;
    size_t n = 0;
    for (s->p++; *s->p && *s->p != '"'; s->p++) {
        if (*s->p == '\\' && s->p[1])
            s->p++;
        if (n + 1 < cap)
            out[n++] = *s->p;
    }
    if (cap)
        out[n] = '\0';
    if (*s->p != '"')
        return false;
    s->p++;
    return true;
}

static bool skip_value(struct scan *s)
{
    ws(s);
    char tmp[1];
    if (*s->p == '"')
        return scan_str(s, tmp, 0);
    if (*s->p == '{' || *s->p == '[') {
        char close = *s->p == '{' ? '}' : ']';
        s->p++;
        for (;;) {
            ws(s);
            if (*s->p == close) {
                s->p++;
                return true;
            }
            if (close == '}') {
                if (!scan_str(s, tmp, 0))
                    return false;
                ws(s);
                if (*s->p++ != ':')
                    return false;
            }
            if (!skip_value(s))
                return false;
            ws(s);
            if (*s->p == ',')
                s->p++;
            else if (*s->p != close)
                return false;
        }
    }
    while (*s->p && !strchr(",}] \t\r\n", *s->p))
        s->p++;
    return true;
}

static unsigned find_path(struct scan *s, const char *path)
{
    char seg[64];
    size_t n = strcspn(path, ".[");
    if (n >= sizeof(seg))
        return 0;
    memcpy(seg, path, n);
    seg[n] = '\0';
    const char *rest = path + n;
    ws(s);
    if (*s->p != '{')
        return 0;
    s->p++;
    for (;;) {
        ws(s);
        if (*s->p == '}' || !*s->p)
            return 0;
        unsigned key_line = s->line;
        char key[64];
        if (!scan_str(s, key, sizeof(key)))
            return 0;
        ws(s);
        if (*s->p++ != ':')
            return 0;
        if (strcmp(key, seg) == 0) {
            if (*rest == '[') {
                unsigned long idx = strtoul(rest + 1, NULL, 10);
                const char *after = strchr(rest, ']');
                if (!after)
                    return 0;
                ws(s);
                if (*s->p != '[')
                    return 0;
                s->p++;
                for (unsigned long i = 0; i < idx; i++) {
                    if (!skip_value(s))
                        return 0;
                    ws(s);
                    if (*s->p++ != ',')
                        return 0;
                }
                ws(s);
                if (!after[1])
                    return s->line;
                return after[1] == '.' ? find_path(s, after + 2) : 0;
            }
            if (!*rest)
                return key_line;
            return find_path(s, rest + 1);
        }
        if (!skip_value(s))
            return 0;
        ws(s);
        if (*s->p == ',')
            s->p++;
    }
}

unsigned json_line_of(const char *text, const char *path)
{
    struct scan s = {text, 1};
    return find_path(&s, path);
}

/* ---- Loading ---------------------------------------------------------------- */

struct loader {
    const char *path, *text;
    char *err;
    size_t errlen;
};

#define CFG_FAIL(L, field, ...)                                                                    \
    do {                                                                                           \
        char m_[256];                                                                              \
        snprintf(m_, sizeof(m_), __VA_ARGS__);                                                     \
        snprintf((L)->err, (L)->errlen, "%s:%u: field '%s': %s", (L)->path,                        \
                 json_line_of((L)->text, field), field, m_);                                       \
        return -1;                                                                                 \
    } while (0)

/* An unsigned integer: a JSON integer or a "0x..." string. */
static int get_u64(struct loader *L, const cJSON *it, const char *field, uint64_t lo, uint64_t hi,
                   uint64_t *out)
{
    uint64_t v;
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        if (d < 0 || d != (double)(uint64_t)d || d > 9007199254740992.0)
            CFG_FAIL(L, field, "expected a non-negative integer");
        v = (uint64_t)d;
    } else if (cJSON_IsString(it)) {
        char *end;
        errno = 0;
        const char *s = it->valuestring;
        if (strncmp(s, "0x", 2) != 0 || !s[2])
            CFG_FAIL(L, field, "expected an integer or a \"0x...\" string");
        v = strtoull(s + 2, &end, 16);
        if (*end || errno)
            CFG_FAIL(L, field, "\"%s\" is not a 64-bit hex value", s);
    } else {
        CFG_FAIL(L, field, "expected an integer");
    }
    if (v < lo || v > hi)
        CFG_FAIL(L, field, "%" PRIu64 " is outside %" PRIu64 "..%" PRIu64, v, lo, hi);
    *out = v;
    return 0;
}

static int get_choice(struct loader *L, const cJSON *it, const char *field,
                      const char *const *choices, char *out, size_t cap)
{
    if (!cJSON_IsString(it))
        CFG_FAIL(L, field, "expected a string");
    for (const char *const *c = choices; *c; c++)
        if (strcmp(*c, it->valuestring) == 0) {
            snprintf(out, cap, "%s", *c);
            return 0;
        }
    char all[160] = "";
    for (const char *const *c = choices; *c; c++)
        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", c == choices ? "" : ", ",
                 *c);
    CFG_FAIL(L, field, "\"%s\" is not one of: %s", it->valuestring, all);
}

struct u64_field {
    const char *name;
    size_t off;
    uint64_t lo, hi;
};

#define COST(f, lo, hi) {#f, offsetof(struct cost_model, f), lo, hi}
static const struct u64_field cost_fields[] = {
    COST(insn_millicycles, 1, 1000000), COST(vmexit, 0, 100000000),
    COST(event_delivery, 0, 100000000), COST(ipi_wire, 0, 100000000),
    COST(self_ipi, 0, 100000000),       COST(device_msi, 0, 100000000),
    COST(hlt_wakeup, 0, 100000000),
};

static int load_cost(struct loader *L, const cJSON *obj, struct cost_model *cm)
{
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, "cost", "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[96];
        snprintf(field, sizeof(field), "cost.%s", it->string);
        size_t i;
        for (i = 0; i < ARRAY_SIZE(cost_fields); i++)
            if (strcmp(it->string, cost_fields[i].name) == 0)
                break;
        if (i == ARRAY_SIZE(cost_fields))
            CFG_FAIL(L, field, "unknown key");
        if (get_u64(L, it, field, cost_fields[i].lo, cost_fields[i].hi,
                    (uint64_t *)((char *)cm + cost_fields[i].off)) < 0)
            return -1;
    }
    return 0;
}

static int load_cpuid_entry(struct loader *L, const cJSON *obj, unsigned idx,
                            struct cpuid_entry *e)
{
    char field[96];
    snprintf(field, sizeof(field), "cpuid[%u]", idx);
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, field, "expected an object");
    memset(e, 0, sizeof(*e));
    e->any_subleaf = true;
    bool have_leaf = false;
    for (const cJSON *it = obj->child; it; it = it->next) {
        snprintf(field, sizeof(field), "cpuid[%u].%s", idx, it->string);
        uint32_t *dst = NULL;
        if (!strcmp(it->string, "leaf"))
            dst = &e->leaf, have_leaf = true;
        else if (!strcmp(it->string, "subleaf"))
            dst = &e->subleaf, e->any_subleaf = false;
        else if (!strcmp(it->string, "eax"))
            dst = &e->eax;
        else if (!strcmp(it->string, "ebx"))
            dst = &e->ebx;
        else if (!strcmp(it->string, "ecx"))
            dst = &e->ecx;
        else if (!strcmp(it->string, "edx"))
            dst = &e->edx;
        else
            CFG_FAIL(L, field, "unknown key (leaf, subleaf, eax, ebx, ecx, edx)");
        uint64_t v;
        if (get_u64(L, it, field, 0, UINT32_MAX, &v) < 0)
            return -1;
        *dst = (uint32_t)v;
    }
    if (!have_leaf) {
        snprintf(field, sizeof(field), "cpuid[%u]", idx);
        CFG_FAIL(L, field, "missing key 'leaf'");
    }
    return 0;
}

static int load_cpuid(struct loader *L, const cJSON *arr, struct snp_config *c)
{
    if (!cJSON_IsArray(arr))
        CFG_FAIL(L, "cpuid", "expected an array of {leaf, subleaf, eax, ebx, ecx, edx}");
    unsigned n = 0;
    for (const cJSON *it = arr->child; it; it = it->next, n++) {
        if (n >= CFG_MAX_CPUID)
            CFG_FAIL(L, "cpuid", "more than %d entries", CFG_MAX_CPUID);
        if (load_cpuid_entry(L, it, n, &c->cpuid[n]) < 0)
            return -1;
    }
    c->ncpuid = n;
    return 0;
}

static const char *const modes[] = {"plain", "sev-es", "snp", NULL};
static const char *const ap_policies[] = {"kvm", "strict", NULL};
static const char *const ap_features[] = {"exact", "injection", NULL};

static int load_bool(struct loader *L, const cJSON *it, const char *field, bool *out)
{
    if (!cJSON_IsBool(it))
        CFG_FAIL(L, field, "expected true or false");
    *out = cJSON_IsTrue(it);
    return 0;
}

static int load_sev(struct loader *L, const cJSON *obj, struct sev_options *o)
{
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, "sev", "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[96], s[16];
        uint64_t v;
        snprintf(field, sizeof(field), "sev.%s", it->string);
        if (!strcmp(it->string, "policy")) {
            if (get_u64(L, it, field, 0, UINT64_MAX, &o->policy) < 0)
                return -1;
        } else if (!strcmp(it->string, "asid")) {
            /* SEV-ES/SNP ASIDs start at 1 (fact sheet 6.4); the raw RMP entry has 10 bits. */
            if (get_u64(L, it, field, 1, 1023, &v) < 0)
                return -1;
            o->asid = (uint32_t)v;
        } else if (!strcmp(it->string, "sev_features")) {
            if (get_u64(L, it, field, 0, UINT64_MAX, &o->sev_features) < 0)
                return -1;
        } else if (!strcmp(it->string, "ap_create_policy")) {
            if (get_choice(L, it, field, ap_policies, s, sizeof(s)) < 0)
                return -1;
            o->ap_create = strcmp(s, "strict") ? AP_CREATE_KVM : AP_CREATE_STRICT;
        } else if (!strcmp(it->string, "ap_create_features")) {
            if (get_choice(L, it, field, ap_features, s, sizeof(s)) < 0)
                return -1;
            o->ap_features = strcmp(s, "exact") ? AP_FEATURES_INJECTION : AP_FEATURES_EXACT;
        } else if (!strcmp(it->string, "implicit_psc")) {
            if (load_bool(L, it, field, &o->implicit_psc) < 0)
                return -1;
        } else if (!strcmp(it->string, "key_seed")) {
            if (get_u64(L, it, field, 0, UINT64_MAX, &o->key_seed) < 0)
                return -1;
        } else {
            CFG_FAIL(L, field, "unknown key");
        }
    }
    return 0;
}
static const char *const exit_styles[] = {"snpref", "qemu", NULL};

static int load_member(struct loader *L, const cJSON *it, struct snp_config *c)
{
    const char *k = it->string;
    uint64_t v;
    if (!strcmp(k, "vcpus")) {
        if (get_u64(L, it, k, 1, 256, &v) < 0)
            return -1;
        c->vcpus = (unsigned)v;
        return 0;
    }
    if (!strcmp(k, "mode"))
        return get_choice(L, it, k, modes, c->mode, sizeof(c->mode));
    if (!strcmp(k, "apic")) {
        if (!cJSON_IsString(it))
            CFG_FAIL(L, k, "expected a string");
        if (!fabric_find(it->valuestring))
            CFG_FAIL(L, k, "no interrupt fabric named \"%s\"", it->valuestring);
        snprintf(c->apic, sizeof(c->apic), "%s", it->valuestring);
        return 0;
    }
    if (!strcmp(k, "exit_style")) {
        char s[16];
        if (get_choice(L, it, k, exit_styles, s, sizeof(s)) < 0)
            return -1;
        c->exit_style = strcmp(s, "qemu") ? EXIT_STYLE_SNPREF : EXIT_STYLE_QEMU;
        return 0;
    }
    if (!strcmp(k, "cost"))
        return load_cost(L, it, &c->cost);
    if (!strcmp(k, "sev"))
        return load_sev(L, it, &c->sev);
    if (!strcmp(k, "cpuid"))
        return load_cpuid(L, it, c);
    static const struct u64_field top[] = {
        {"ram_mb", offsetof(struct snp_config, ram_mb), 8, 1u << 20},
        {"quantum", offsetof(struct snp_config, quantum), 1, 1000000000},
        {"max_insns", offsetof(struct snp_config, max_insns), 0, UINT64_MAX},
        {"core_hz", offsetof(struct snp_config, core_hz), 1000000, 100000000000ull},
        {"tsc_hz", offsetof(struct snp_config, tsc_hz), 1000000, 100000000000ull},
        {"apic_timer_hz", offsetof(struct snp_config, apic_timer_hz), 1000, 100000000000ull},
    };
    for (size_t i = 0; i < ARRAY_SIZE(top); i++)
        if (!strcmp(k, top[i].name))
            return get_u64(L, it, k, top[i].lo, top[i].hi,
                           (uint64_t *)((char *)c + top[i].off));
    if (!strcmp(k, "tcg_buffer_mb")) {
        if (get_u64(L, it, k, 1, 2048, &v) < 0)
            return -1;
        c->tcg_buffer_mb = (uint32_t)v;
        return 0;
    }
    CFG_FAIL(L, k, "unknown key");
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            SNP_ASSERT(nb);
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int config_load(struct snp_config *c, const char *path, int *status, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read config: %s", path, strerror(errno));
        *status = 66;
        return -1;
    }
    *status = 65;
    if (strlen(text) != len) {
        snprintf(err, errlen, "%s: config contains a NUL byte", path);
        free(text);
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        unsigned line = 1;
        for (const char *p = text; end && p < end; p++)
            line += *p == '\n';
        snprintf(err, errlen, "%s:%u: malformed JSON", path, line);
        free(text);
        return -1;
    }
    struct loader L = {path, text, err, errlen};
    int rc = 0;
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s:1: the config must be a JSON object", path);
        rc = -1;
    }
    for (const cJSON *it = rc ? NULL : root->child; it && rc == 0; it = it->next)
        rc = load_member(&L, it, c);
    cJSON_Delete(root);
    free(text);
    return rc;
}

int config_validate(const struct snp_config *c, char *err, size_t errlen)
{
    if (c->ram_mb % 2) {
        snprintf(err, errlen, "ram_mb %" PRIu64 " must be a multiple of 2", c->ram_mb);
        return -1;
    }
    if (!fabric_find(c->apic)) {
        snprintf(err, errlen, "no interrupt fabric named \"%s\"", c->apic);
        return -1;
    }
    if (strcmp(c->mode, "snp") == 0 && !(c->sev.policy & (1ull << 17))) {
        snprintf(err, errlen, "sev.policy %#" PRIx64 ": bit 17 must be 1 (fact sheet 8.4)",
                 c->sev.policy);
        return -1;
    }
    return 0;
}

static void add_hex(cJSON *o, const char *k, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    cJSON_AddStringToObject(o, k, buf);
}

char *config_to_json(const struct snp_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "vcpus", c->vcpus);
    cJSON_AddStringToObject(o, "mode", c->mode);
    cJSON_AddStringToObject(o, "apic", c->apic);
    cJSON_AddNumberToObject(o, "ram_mb", (double)c->ram_mb);
    cJSON_AddNumberToObject(o, "quantum", (double)c->quantum);
    add_hex(o, "max_insns", c->max_insns);
    cJSON_AddNumberToObject(o, "core_hz", (double)c->core_hz);
    cJSON_AddNumberToObject(o, "tsc_hz", (double)c->tsc_hz);
    cJSON_AddNumberToObject(o, "apic_timer_hz", (double)c->apic_timer_hz);
    cJSON_AddNumberToObject(o, "tcg_buffer_mb", c->tcg_buffer_mb);
    cJSON_AddStringToObject(o, "exit_style", c->exit_style == EXIT_STYLE_QEMU ? "qemu" : "snpref");
    cJSON *cost = cJSON_AddObjectToObject(o, "cost");
    for (size_t i = 0; i < ARRAY_SIZE(cost_fields); i++)
        cJSON_AddNumberToObject(cost, cost_fields[i].name,
                                (double)*(const uint64_t *)((const char *)&c->cost +
                                                            cost_fields[i].off));
    cJSON *sev = cJSON_AddObjectToObject(o, "sev");
    add_hex(sev, "policy", c->sev.policy);
    cJSON_AddNumberToObject(sev, "asid", c->sev.asid);
    add_hex(sev, "sev_features", c->sev.sev_features);
    cJSON_AddStringToObject(sev, "ap_create_policy",
                            c->sev.ap_create == AP_CREATE_STRICT ? "strict" : "kvm");
    cJSON_AddStringToObject(sev, "ap_create_features",
                            c->sev.ap_features == AP_FEATURES_EXACT ? "exact" : "injection");
    cJSON_AddBoolToObject(sev, "implicit_psc", c->sev.implicit_psc);
    add_hex(sev, "key_seed", c->sev.key_seed);
    cJSON *arr = cJSON_AddArrayToObject(o, "cpuid");
    for (unsigned i = 0; i < c->ncpuid; i++) {
        const struct cpuid_entry *e = &c->cpuid[i];
        cJSON *x = cJSON_CreateObject();
        add_hex(x, "leaf", e->leaf);
        if (!e->any_subleaf)
            add_hex(x, "subleaf", e->subleaf);
        add_hex(x, "eax", e->eax);
        add_hex(x, "ebx", e->ebx);
        add_hex(x, "ecx", e->ecx);
        add_hex(x, "edx", e->edx);
        cJSON_AddItemToArray(arr, x);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    SNP_ASSERT(s);
    return s;
}
