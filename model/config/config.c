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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fabric.h"
#include "snpref/base.h"
#include "snpref/text.h"
#include "snpref/sev.h"

void config_defaults(struct snp_config *c)
{
    memset(c, 0, sizeof(*c));
    c->vcpus = 4;
    snprintf(c->mode, sizeof(c->mode), "plain");
    /* The golden reference is the first fabric registered (fabric_list.c). */
    snprintf(c->apic, sizeof(c->apic), "%s", fabric_list[0]->name);
    c->ram_mb = 64;
    c->quantum = 2000;
    c->max_insns = 0;
    c->core_hz = 2000000000ull;
    c->tsc_hz = 2000000000ull;
    c->rtc_epoch = 1767225600ull; /* 2026-01-01T00:00:00Z: a fixed clock keeps runs reproducible */
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
        .policy = 0x30000, /* SMT allowed, bit 17 (must be 1): docs/sev-snp-facts.md 8.4 */
        .asid = 1,
        .sev_features = 0,
        .ap_create = AP_CREATE_KVM,
        .launch_vmsas = LAUNCH_VMSAS_BSP,
        .launch_pat = SNP_PAT_RESET,
        .ap_features = AP_FEATURES_EXACT,
        .implicit_psc = false,
        .key_seed = 0x736e70726566ull, /* "snpref" */
    };
    /* One knob set per distinct schema; fabrics sharing one share its set. */
    for (const struct fabric_ops *const *f = fabric_list; *f; f++) {
        const struct fab_knob_schema *k = (*f)->knobs;
        bool known = !k;
        for (unsigned i = 0; i < c->nknobs && !known; i++)
            known = c->knobs[i].schema == k;
        if (known)
            continue;
        SNP_ASSERT(c->nknobs < CFG_MAX_KNOB_SETS && k->size <= CFG_KNOB_BYTES);
        c->knobs[c->nknobs].schema = k;
        k->defaults(c->knobs[c->nknobs].data);
        c->nknobs++;
    }
    c->hv.validation = HV_VALIDATION_KVM;
    c->attestation.cert_dir[0] = '\0';
    c->psp = (struct psp_options){.enable = false, .base = 0xFEB00000ull};
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
        snp_esc_inplace((L)->err, (L)->errlen);                                                    \
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
        const char *s = it->valuestring;
        if (strncmp(s, "0x", 2) != 0 || !s[2])
            CFG_FAIL(L, field, "expected an integer or a \"0x...\" string");
        /* Hex digits only: strtoull would take "0x-30000" or "0x 10". */
        if (!snp_parse_hex(s, &v))
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
static const char *const launch_vmsa_sets[] = {"bsp", "all", NULL};

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
            /* SEV-ES/SNP ASIDs start at 1 (docs/sev-snp-facts.md 6.4); the raw RMP entry has
             * 10 bits. */
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
        } else if (!strcmp(it->string, "launch_vmsas")) {
            if (get_choice(L, it, field, launch_vmsa_sets, s, sizeof(s)) < 0)
                return -1;
            o->launch_vmsas = strcmp(s, "all") ? LAUNCH_VMSAS_BSP : LAUNCH_VMSAS_ALL;
        } else if (!strcmp(it->string, "launch_pat")) {
            if (get_u64(L, it, field, 0, UINT64_MAX, &o->launch_pat) < 0)
                return -1;
            /* APM vol. 2 7.8.1: each of the eight PA fields is a memory type
             * (0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-); 2, 3 and bits 7:3 of a
             * field are reserved, and WRMSR of such a value is #GP. */
            for (unsigned i = 0; i < 8; i++) {
                unsigned t = (unsigned)(o->launch_pat >> (8 * i)) & 0xFF;
                if (t == 2 || t == 3 || t > 7)
                    CFG_FAIL(L, field, "PA%u is %u, not a memory type (0, 1, 4, 5, 6 or 7)", i, t);
            }
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
static const char *const validations[] = {"kvm", "strict", NULL};

static int load_hv(struct loader *L, const cJSON *obj, struct hv_options *o)
{
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, "hv", "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[96], s[16];
        snprintf(field, sizeof(field), "hv.%s", it->string);
        if (strcmp(it->string, "validation"))
            CFG_FAIL(L, field, "unknown key");
        if (get_choice(L, it, field, validations, s, sizeof(s)) < 0)
            return -1;
        o->validation = strcmp(s, "strict") ? HV_VALIDATION_KVM : HV_VALIDATION_STRICT;
    }
    return 0;
}

static int load_psp(struct loader *L, const cJSON *obj, struct psp_options *o)
{
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, "psp", "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[96];
        uint64_t v;
        snprintf(field, sizeof(field), "psp.%s", it->string);
        if (!strcmp(it->string, "enable")) {
            if (load_bool(L, it, field, &o->enable) < 0)
                return -1;
        } else if (!strcmp(it->string, "hardware_isolation")) {
            if (load_bool(L, it, field, &o->hardware_isolation) < 0)
                return -1;
        } else if (!strcmp(it->string, "base")) {
            /* A page below 4 GiB: MMIO outside RAM reaches the devices there. */
            if (get_u64(L, it, field, 0, 0xFFFFF000ull, &o->base) < 0)
                return -1;
            if (o->base % 4096)
                CFG_FAIL(L, field, "%#" PRIx64 " is not 4 KiB aligned", o->base);
        } else if (!strcmp(it->string, "mbox_irq_id")) {
            /* Six bits in PART3 and IRQ_EN (drivers/hv/psp.c refuses > 63). */
            if (get_u64(L, it, field, 0, 63, &v) < 0)
                return -1;
            o->mbox_irq_id = (uint32_t)v;
        } else {
            CFG_FAIL(L, field, "unknown key (enable, base, mbox_irq_id, hardware_isolation)");
        }
    }
    return 0;
}

static int load_attestation(struct loader *L, const cJSON *obj, struct attestation_options *o)
{
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, "attestation", "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[96];
        snprintf(field, sizeof(field), "attestation.%s", it->string);
        if (strcmp(it->string, "cert_dir"))
            CFG_FAIL(L, field, "unknown key");
        if (!cJSON_IsString(it))
            CFG_FAIL(L, field, "expected a directory name");
        if (strlen(it->valuestring) >= sizeof(o->cert_dir))
            CFG_FAIL(L, field, "longer than %zu characters", sizeof(o->cert_dir) - 1);
        snprintf(o->cert_dir, sizeof(o->cert_dir), "%s", it->valuestring);
    }
    return 0;
}

/* A list of x2APIC register names ("TPR", "ISR" for all eight ISRs, ...). */
static int load_regset(struct loader *L, const cJSON *arr, const char *field,
                       struct fab_regset *r)
{
    if (!cJSON_IsArray(arr))
        CFG_FAIL(L, field, "expected an array of x2APIC register names");
    memset(r, 0, sizeof(*r));
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (!cJSON_IsString(it))
            CFG_FAIL(L, field, "expected register names (strings)");
        if (fab_regset_add_name(r, it->valuestring) < 0)
            CFG_FAIL(L, field, "\"%s\" is no x2APIC register (docs/config.md lists them)",
                     it->valuestring);
    }
    return 0;
}

/* One knob by its schema entry, into the knob struct at base. */
static int load_knob(struct loader *L, const cJSON *it, const char *field, const struct fab_knob *d,
                     unsigned char *base)
{
    char s[64];
    uint64_t v;
    unsigned *u = (unsigned *)(void *)(base + d->off);
    switch (d->type) {
    case FAB_KNOB_REGSET:
        return load_regset(L, it, field, (struct fab_regset *)(void *)(base + d->off));
    case FAB_KNOB_CHOICE:
        if (get_choice(L, it, field, d->choices, s, sizeof(s)) < 0)
            return -1;
        for (unsigned i = 0; d->choices[i]; i++)
            if (!strcmp(d->choices[i], s))
                *u = i;
        return 0;
    case FAB_KNOB_UINT:
        if (!d->nallowed)
            return get_u64(L, it, field, d->lo, d->hi, &v) < 0 ? -1 : (*u = (unsigned)v, 0);
        if (get_u64(L, it, field, 0, UINT32_MAX, &v) < 0)
            return -1;
        for (size_t i = 0; i < d->nallowed; i++)
            if (v == d->allowed[i])
                return *u = (unsigned)v, 0;
        char all[96] = "";
        for (size_t i = 0; i < d->nallowed; i++)
            snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s0x%x", i ? ", " : "",
                     d->allowed[i]);
        CFG_FAIL(L, field, "0x%" PRIx64 " is not one of: %s", v, all);
    }
    SNP_PANIC("knob %s: type %d", d->name, (int)d->type);
}

/* A fabric's knob section (fabric.h struct fab_knob_schema). */
static int load_knobs(struct loader *L, const cJSON *obj, struct cfg_knob_set *set)
{
    const struct fab_knob_schema *k = set->schema;
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, k->section, "expected an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[96];
        snprintf(field, sizeof(field), "%s.%s", k->section, it->string);
        const struct fab_knob *d = NULL;
        for (size_t i = 0; i < k->nknobs && !d; i++)
            if (!strcmp(k->knobs[i].name, it->string))
                d = &k->knobs[i];
        if (!d)
            CFG_FAIL(L, field, "unknown key");
        if (load_knob(L, it, field, d, set->data) < 0)
            return -1;
    }
    return 0;
}

static struct cfg_knob_set *knob_set_of(struct snp_config *c, const char *section)
{
    for (unsigned i = 0; i < c->nknobs; i++)
        if (!strcmp(c->knobs[i].schema->section, section))
            return &c->knobs[i];
    return NULL;
}

void *config_fabric_knobs_mut(struct snp_config *c, const char *apic)
{
    const struct fabric_ops *f = fabric_find(apic);
    for (unsigned i = 0; f && f->knobs && i < c->nknobs; i++)
        if (c->knobs[i].schema == f->knobs)
            return c->knobs[i].data;
    return NULL;
}

const void *config_fabric_knobs(const struct snp_config *c, const char *apic)
{
    return config_fabric_knobs_mut((struct snp_config *)c, apic);
}

/* ---- The hostile hypervisor (issue 4; docs/attacks.md) ------------------------ */

static const char *const evtinj_type_names[8] = {"intr", NULL, "nmi", "exception", "soft"};

/* EVENTINJ TYPE: a name, or a number 0-7 so that a config can ask for the
 * reserved types the VMRUN check refuses. */
static int get_evtinj_type(struct loader *L, const cJSON *it, const char *field, unsigned *out)
{
    if (cJSON_IsString(it)) {
        for (unsigned t = 0; t < 8; t++)
            if (evtinj_type_names[t] && !strcmp(evtinj_type_names[t], it->valuestring)) {
                *out = t;
                return 0;
            }
        CFG_FAIL(L, field, "\"%s\" is not one of: intr, nmi, exception, soft (or a number 0-7)",
                 it->valuestring);
    }
    uint64_t v;
    if (get_u64(L, it, field, 0, 7, &v) < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

#define HG(name, bit, f) {name, bit, offsetof(struct hostile_injection, f)}
static const struct {
    const char *name;
    unsigned bit;
    size_t off;
} hostile_ghcb_keys[] = {
    HG("exit_code", HG_EXIT_CODE, ghcb_exit_code), HG("exit_info_1", HG_INFO1, ghcb_info1),
    HG("exit_info_2", HG_INFO2, ghcb_info2),       HG("rax", HG_RAX, ghcb_rax),
};

static int load_hostile_ghcb(struct loader *L, const cJSON *obj, const char *base,
                             struct hostile_injection *h)
{
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, base, "expected an object {exit_code, exit_info_1, exit_info_2, rax}");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[192];
        snprintf(field, sizeof(field), "%s.%s", base, it->string);
        size_t i = 0;
        while (i < ARRAY_SIZE(hostile_ghcb_keys) && strcmp(it->string, hostile_ghcb_keys[i].name))
            i++;
        if (i == ARRAY_SIZE(hostile_ghcb_keys))
            CFG_FAIL(L, field, "unknown key (exit_code, exit_info_1, exit_info_2, rax)");
        uint64_t *dst = (uint64_t *)((char *)h + hostile_ghcb_keys[i].off);
        if (get_u64(L, it, field, 0, UINT64_MAX, dst) < 0)
            return -1;
        h->ghcb_fields |= hostile_ghcb_keys[i].bit;
    }
    return 0;
}

static int load_injection(struct loader *L, const cJSON *obj, unsigned idx,
                          struct hostile_injection *h)
{
    char base[48], field[128];
    snprintf(base, sizeof(base), "hostile.injections[%u]", idx);
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, base, "expected an object {marker, vector, type, error_code, ghcb}");
    memset(h, 0, sizeof(*h));
    uint64_t marker = UINT64_MAX, vector = UINT64_MAX, error = 0;
    unsigned type = EVTINJ_EXCEPT;
    bool has_error = false;
    for (const cJSON *it = obj->child; it; it = it->next) {
        snprintf(field, sizeof(field), "%s.%s", base, it->string);
        int rc;
        if (!strcmp(it->string, "marker"))
            rc = get_u64(L, it, field, 0, 255, &marker);
        else if (!strcmp(it->string, "vector"))
            rc = get_u64(L, it, field, 0, 255, &vector);
        else if (!strcmp(it->string, "type"))
            rc = get_evtinj_type(L, it, field, &type);
        else if (!strcmp(it->string, "error_code"))
            rc = get_u64(L, it, field, 0, UINT32_MAX, &error), has_error = true;
        else if (!strcmp(it->string, "ghcb"))
            rc = load_hostile_ghcb(L, it, field, h);
        else
            CFG_FAIL(L, field, "unknown key (marker, vector, type, error_code, ghcb)");
        if (rc < 0)
            return -1;
    }
    if (marker == UINT64_MAX || vector == UINT64_MAX)
        CFG_FAIL(L, base, "missing key '%s'", marker == UINT64_MAX ? "marker" : "vector");
    h->marker = (uint32_t)marker;
    h->eventinj = SVM_EVTINJ_VALID | (uint64_t)type << SVM_EVTINJ_TYPE_SHIFT | vector |
                  (has_error ? SVM_EVTINJ_VALID_ERR | error << SVM_EVTINJ_ERR_SHIFT : 0);
    return 0;
}

static const char *const forbidden_choices[] = {"vmexit_invalid", "ignored", NULL};

static int load_hostile(struct loader *L, const cJSON *obj, struct hostile_options *o)
{
    if (!cJSON_IsObject(obj))
        CFG_FAIL(L, "hostile", "expected an object {forbidden_eventinj, injections}");
    for (const cJSON *it = obj->child; it; it = it->next) {
        char field[96], s[16];
        snprintf(field, sizeof(field), "hostile.%s", it->string);
        if (!strcmp(it->string, "forbidden_eventinj")) {
            if (get_choice(L, it, field, forbidden_choices, s, sizeof(s)) < 0)
                return -1;
            o->forbidden = strcmp(s, "ignored") ? EVENTINJ_FORBIDDEN_VMEXIT_INVALID
                                                : EVENTINJ_FORBIDDEN_IGNORED;
            continue;
        }
        if (strcmp(it->string, "injections"))
            CFG_FAIL(L, field, "unknown key (forbidden_eventinj, injections)");
        if (!cJSON_IsArray(it))
            CFG_FAIL(L, field, "expected an array of {marker, vector, type, error_code, ghcb}");
        o->n = 0;
        for (const cJSON *e = it->child; e; e = e->next) {
            if (o->n == CFG_MAX_HOSTILE)
                CFG_FAIL(L, field, "more than %d injections", CFG_MAX_HOSTILE);
            if (load_injection(L, e, o->n, &o->inj[o->n]) < 0)
                return -1;
            for (unsigned j = 0; j < o->n; j++)
                if (o->inj[j].marker == o->inj[o->n].marker) {
                    snprintf(field, sizeof(field), "hostile.injections[%u].marker", o->n);
                    CFG_FAIL(L, field, "marker %u already arms injections[%u]", o->inj[j].marker,
                             j);
                }
            o->n++;
        }
    }
    return 0;
}

static const char *const exit_styles[] = {"snpref", "qemu", NULL};
static const char *const apic_modes[] = {"x2apic", "xapic", NULL};

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
    if (!strcmp(k, "apic_mode")) {
        char s[8];
        if (get_choice(L, it, k, apic_modes, s, sizeof(s)) < 0)
            return -1;
        c->apic_xapic = !strcmp(s, "xapic");
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
    struct cfg_knob_set *ks = knob_set_of(c, k);
    if (ks)
        return load_knobs(L, it, ks);
    if (!strcmp(k, "cpuid"))
        return load_cpuid(L, it, c);
    if (!strcmp(k, "cpu_features")) {
        char why[200];
        if (!cJSON_IsString(it))
            CFG_FAIL(L, k, "expected a string such as \"-x2apic,+tsc-deadline\"");
        if (cpufeat_parse(it->valuestring, &c->features, why, sizeof(why)) < 0)
            CFG_FAIL(L, k, "%s", why);
        return 0;
    }
    if (!strcmp(k, "hostile"))
        return load_hostile(L, it, &c->hostile);
    if (!strcmp(k, "hv"))
        return load_hv(L, it, &c->hv);
    if (!strcmp(k, "attestation"))
        return load_attestation(L, it, &c->attestation);
    if (!strcmp(k, "psp"))
        return load_psp(L, it, &c->psp);
    static const struct u64_field top[] = {
        {"ram_mb", offsetof(struct snp_config, ram_mb), 8, 1u << 20},
        {"quantum", offsetof(struct snp_config, quantum), 1, 1000000000},
        {"max_insns", offsetof(struct snp_config, max_insns), 0, UINT64_MAX},
        {"core_hz", offsetof(struct snp_config, core_hz), 1000000, 100000000000ull},
        {"tsc_hz", offsetof(struct snp_config, tsc_hz), 1000000, 100000000000ull},
        {"apic_timer_hz", offsetof(struct snp_config, apic_timer_hz), 1000, 100000000000ull},
        /* The MC146818's two-digit year with a century byte reaches 9999. */
        {"rtc_epoch", offsetof(struct snp_config, rtc_epoch), 0, 253402300799ull},
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
    FILE *f = snp_fopen_input(path, "rb");
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
        snp_esc_inplace(err, errlen);
        *status = 66;
        return -1;
    }
    *status = 65;
    if (strlen(text) != len || snp_json_has_nul_escape(text)) {
        snprintf(err, errlen, "%s: config contains a NUL byte%s", path,
                 strlen(text) != len ? "" : " (\\u0000 in a string)");
        snp_esc_inplace(err, errlen);
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
        snp_esc_inplace(err, errlen);
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
    if (rc == 0)
        c->origin = path;
    cJSON_Delete(root);
    free(text);
    return rc;
}

int config_fail(const struct snp_config *c, const char *field, char *err, size_t errlen,
                const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: field '%s': %s", c->origin ? c->origin : "command line", field, why);
    snp_esc_inplace(err, errlen);
    return -1;
}

int config_validate(const struct snp_config *c, char *err, size_t errlen)
{
    if (c->ram_mb % 2)
        return config_fail(c, "ram_mb", err, errlen, "%" PRIu64 " must be a multiple of 2",
                           c->ram_mb);
    if (!fabric_find(c->apic))
        return config_fail(c, "apic", err, errlen,
                           "no interrupt fabric named \"%s\" (see snpref fabrics)", c->apic);
    if (c->apic_xapic && !fabric_find(c->apic)->mmio)
        return config_fail(c, "apic_mode", err, errlen,
                           "apic \"%s\" has no xAPIC mode (no MMIO page): use x2apic", c->apic);
    const struct fabric_ops *fab = fabric_find(c->apic);
    bool savic = (fab->caps & FAB_CAP_SECURE_AVIC) != 0;
    if (savic && strcmp(c->mode, "snp") != 0)
        return config_fail(c, "apic", err, errlen,
                           "\"%s\" needs mode snp (Secure AVIC is an SNP feature)", c->apic);
    if ((c->sev.sev_features & SEV_FEAT_SECURE_AVIC) && !savic)
        return config_fail(c, "sev.sev_features", err, errlen,
                           "bit 16 (SecureAVIC) comes with a Secure AVIC apic (snpref fabrics: "
                           "secure-avic), not \"%s\"",
                           c->apic);
    if (strcmp(c->mode, "snp") == 0 && !(c->sev.policy & (1ull << 17)))
        return config_fail(c, "sev.policy", err, errlen,
                           "%#" PRIx64 ": bit 17 must be 1 (fact sheet 8.4)", c->sev.policy);
    if (c->psp.enable && c->psp.base < c->ram_mb << 20)
        return config_fail(c, "psp.base", err, errlen, "%#" PRIx64 " lies inside RAM (%" PRIu64
                           " MiB)", c->psp.base, c->ram_mb);
    /* The other devices' pages (docs/guest-abi.md "Devices"): the test MMIO
     * page, the I/O APIC, the xAPIC page. */
    static const uint64_t taken[] = {0xF0000000ull, 0xFEC00000ull, 0xFEE00000ull};
    for (size_t i = 0; c->psp.enable && i < ARRAY_SIZE(taken); i++)
        if (c->psp.base == taken[i])
            return config_fail(c, "psp.base", err, errlen, "%#" PRIx64 " is another device's "
                               "page (test MMIO 0xf0000000, I/O APIC 0xfec00000, LAPIC 0xfee00000)",
                               c->psp.base);
    if (c->psp.hardware_isolation && !c->psp.enable)
        return config_fail(c, "psp.hardware_isolation", err, errlen,
                           "needs psp.enable (an SNP host without a PSP)");
    if (c->psp.hardware_isolation && strcmp(c->mode, "plain") != 0)
        return config_fail(c, "psp.hardware_isolation", err, errlen,
                           "needs mode plain (the SNP host is a plain guest)");
    if (c->hostile.n && strcmp(c->mode, "plain") == 0)
        return config_fail(c, "hostile.injections", err, errlen,
                           "need mode sev-es or snp (the model's EVENTINJ is an SEV VMRUN's)");
    return 0;
}

static void add_hex(cJSON *o, const char *k, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    cJSON_AddStringToObject(o, k, buf);
}

/* The "hostile" section, in the form load_hostile() reads back. */
static void add_hostile(cJSON *o, const struct hostile_options *h)
{
    cJSON *ho = cJSON_AddObjectToObject(o, "hostile");
    cJSON_AddStringToObject(ho, "forbidden_eventinj", forbidden_choices[h->forbidden]);
    cJSON *arr = cJSON_AddArrayToObject(ho, "injections");
    for (unsigned i = 0; i < h->n; i++) {
        const struct hostile_injection *in = &h->inj[i];
        unsigned type = (unsigned)((in->eventinj & SVM_EVTINJ_TYPE_MASK) >> SVM_EVTINJ_TYPE_SHIFT);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "marker", in->marker);
        cJSON_AddNumberToObject(x, "vector", (double)(in->eventinj & SVM_EVTINJ_VEC_MASK));
        if (evtinj_type_names[type])
            cJSON_AddStringToObject(x, "type", evtinj_type_names[type]);
        else
            cJSON_AddNumberToObject(x, "type", type);
        if (in->eventinj & SVM_EVTINJ_VALID_ERR)
            add_hex(x, "error_code", in->eventinj >> SVM_EVTINJ_ERR_SHIFT);
        cJSON *g = in->ghcb_fields ? cJSON_AddObjectToObject(x, "ghcb") : NULL;
        for (size_t k = 0; g && k < ARRAY_SIZE(hostile_ghcb_keys); k++)
            if (in->ghcb_fields & hostile_ghcb_keys[k].bit)
                add_hex(g, hostile_ghcb_keys[k].name,
                        *(const uint64_t *)((const char *)in + hostile_ghcb_keys[k].off));
        cJSON_AddItemToArray(arr, x);
    }
}

/* A knob's value as load_knob() reads it back. */
static void add_knob(cJSON *o, const struct fab_knob *d, const unsigned char *base)
{
    const unsigned *u = (const unsigned *)(const void *)(base + d->off);
    char names[1024];
    switch (d->type) {
    case FAB_KNOB_REGSET: {
        fab_regset_names((const struct fab_regset *)(const void *)(base + d->off), names,
                         sizeof(names));
        cJSON *arr = cJSON_AddArrayToObject(o, d->name);
        char *save = NULL;
        for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(arr, cJSON_CreateString(n));
        break;
    }
    case FAB_KNOB_CHOICE:
        cJSON_AddStringToObject(o, d->name, d->choices[*u]);
        break;
    case FAB_KNOB_UINT:
        add_hex(o, d->name, *u);
        break;
    }
}

/* The knob section of fabric apic into o, if it has knobs. */
static void add_knobs(cJSON *o, const struct snp_config *c, const char *apic)
{
    const struct fabric_ops *f = fabric_find(apic);
    const unsigned char *data = config_fabric_knobs(c, apic);
    if (!data)
        return;
    cJSON *sec = cJSON_AddObjectToObject(o, f->knobs->section);
    for (size_t i = 0; i < f->knobs->nknobs; i++)
        add_knob(sec, &f->knobs->knobs[i], data);
}

char *config_knobs_to_json(const struct snp_config *c, const char *apic)
{
    if (!config_fabric_knobs(c, apic))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    add_knobs(o, c, apic);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

char *config_to_json(const struct snp_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "vcpus", c->vcpus);
    cJSON_AddStringToObject(o, "mode", c->mode);
    cJSON_AddStringToObject(o, "apic", c->apic);
    if (c->apic_xapic) /* only when set: every other run's header stays as it was */
        cJSON_AddStringToObject(o, "apic_mode", "xapic");
    cJSON_AddNumberToObject(o, "ram_mb", (double)c->ram_mb);
    cJSON_AddNumberToObject(o, "quantum", (double)c->quantum);
    add_hex(o, "max_insns", c->max_insns);
    cJSON_AddNumberToObject(o, "core_hz", (double)c->core_hz);
    cJSON_AddNumberToObject(o, "tsc_hz", (double)c->tsc_hz);
    cJSON_AddNumberToObject(o, "apic_timer_hz", (double)c->apic_timer_hz);
    cJSON_AddNumberToObject(o, "rtc_epoch", (double)c->rtc_epoch);
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
    cJSON_AddStringToObject(sev, "launch_vmsas",
                            c->sev.launch_vmsas == LAUNCH_VMSAS_ALL ? "all" : "bsp");
    add_hex(sev, "launch_pat", c->sev.launch_pat);
    cJSON_AddBoolToObject(sev, "implicit_psc", c->sev.implicit_psc);
    add_hex(sev, "key_seed", c->sev.key_seed);
    /* Only the chosen fabric's knobs: every other run's header stays as it was. */
    add_knobs(o, c, c->apic);
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
    if (c->features.text[0]) /* only when set, as below */
        cJSON_AddStringToObject(o, "cpu_features", c->features.text);
    /* Only when set: the header of every other run stays as it was. */
    if (c->hostile.n || c->hostile.forbidden != EVENTINJ_FORBIDDEN_VMEXIT_INVALID)
        add_hostile(o, &c->hostile);
    /* Only when not the default, as above. */
    if (c->hv.validation != HV_VALIDATION_KVM)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "hv"), "validation", "strict");
    if (c->attestation.cert_dir[0])
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "attestation"), "cert_dir",
                                c->attestation.cert_dir);
    if (c->psp.enable) {
        cJSON *po = cJSON_AddObjectToObject(o, "psp");
        cJSON_AddBoolToObject(po, "enable", true);
        add_hex(po, "base", c->psp.base);
        cJSON_AddNumberToObject(po, "mbox_irq_id", c->psp.mbox_irq_id);
        cJSON_AddBoolToObject(po, "hardware_isolation", c->psp.hardware_isolation);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    SNP_ASSERT(s);
    return s;
}
