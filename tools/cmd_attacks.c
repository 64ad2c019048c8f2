/* SPDX-License-Identifier: MIT */
/*
 * `snpref attacks [--json]` (issue 4; docs/attacks.md, docs/cli.md): the
 * published injection attacks on SEV-SNP, Heckler (int 0x80 and exception
 * vectors 0-31 through EVENTINJ) and WeSee (#VC with exit code 0x81 VMMCALL or
 * 0x400 MMIO after a crafted GHCB), made by the hostile hypervisor against the
 * embedded probe guest (guests/tests/attack_probe.c) under SNP with normal
 * injection, SNP with RestrictedInjection, and Secure AVIC.
 *
 * Every cell comes from the run: the trace says what the hypervisor armed and
 * what VMRUN did with it (eventinj, vmrun_fail) and which event the vCPU then
 * took; the probe's console says what its handlers saw. The two must agree;
 * a cell where they do not says so and the command exits 70.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cpu.h"
#include "loader.h"
#include "snpref.h"
#include "snpref/base.h"
#include "snpref/sev.h"
#include "tools.h"
#include "trace.h"

/* The probe guest (generated from guests/tests/attack_probe.c at build time). */
extern const unsigned char snpref_attack_probe_elf[];
extern const size_t snpref_attack_probe_elf_len;

/* ---- The attacks: one row each, armed by marker row + 1 ------------------------------- */

#define NROWS 35 /* 1 + 32 + 2: guests/tests/attack_probe.c fires markers 1..35 */
#define WESEE_VMMCALL_RAX 0x5765536565ull /* "WeSee": what the host wants in the guest's RAX */
#define WESEE_MMIO_RAX 0x4d4d494full      /* "MMIO" */

struct attack {
    char name[48];
    struct hostile_injection inj;
};

static bool has_error_code(unsigned v)
{
    return v == X86_DF || (v >= X86_TS && v <= X86_PF) || v == X86_AC || v == X86_CP ||
           v == X86_VC || v == X86_SX;
}

static void build_attacks(struct attack a[NROWS])
{
    memset(a, 0, sizeof(struct attack) * NROWS);
    snprintf(a[0].name, sizeof(a[0].name), "Heckler: int 0x80 (INTR)");
    a[0].inj.eventinj = EVTINJ(0x80, EVTINJ_INTR);
    for (unsigned v = 0; v < 32; v++) {
        const char *n = x86_vector_name(v);
        struct attack *r = &a[1 + v];
        bool reserved = n[1] >= '0' && n[1] <= '9'; /* "#09", "#15", ... */
        snprintf(r->name, sizeof(r->name), "Heckler: vector %u %s%s", v,
                 reserved ? "(reserved)" : n, has_error_code(v) ? " (error 0)" : "");
        r->inj.eventinj = has_error_code(v) ? EVTINJ_ERR(v, 0) : EVTINJ(v, EVTINJ_EXCEPT);
    }
    /* WeSee: the GHCB answer the guest's #VC handler would act on, then #VC. */
    struct attack *w = &a[33];
    snprintf(w->name, sizeof(w->name), "WeSee: #VC 0x81 (VMMCALL), crafted GHCB");
    w->inj = (struct hostile_injection){.eventinj = EVTINJ_ERR(X86_VC, 0x81),
                                        .ghcb_fields = HG_EXIT_CODE | HG_INFO1 | HG_INFO2 | HG_RAX,
                                        .ghcb_exit_code = 0x81, .ghcb_rax = WESEE_VMMCALL_RAX};
    w = &a[34];
    snprintf(w->name, sizeof(w->name), "WeSee: #VC 0x400 (MMIO), crafted GHCB");
    w->inj = (struct hostile_injection){.eventinj = EVTINJ_ERR(X86_VC, 0x400),
                                        .ghcb_fields = HG_EXIT_CODE | HG_INFO1 | HG_INFO2 | HG_RAX,
                                        .ghcb_exit_code = SVM_VMGEXIT_MMIO_READ,
                                        .ghcb_rax = WESEE_MMIO_RAX};
    for (unsigned i = 0; i < NROWS; i++)
        a[i].inj.marker = i + 1;
}

/* ---- The columns ---------------------------------------------------------------------- */

struct column {
    const char *name;     /* table header */
    const char *key;      /* JSON */
    const char *apic;
    uint64_t sev_features;
};

static const struct column columns[] = {
    {"SNP", "snp", "emulated", 0},
    {"SNP restricted injection", "snp_restricted_injection", "emulated", SEV_FEAT_RESTRICTED_INJ},
    /* --apic savic: the fabric gives the VM SEV_FEATURES bit 16 itself. */
    {"Secure AVIC", "secure_avic", "savic", 0},
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

/* What one run shows for one row. */
struct obs {
    bool armed;
    char vmrun[16];       /* eventinj result: injected, refused, ignored; "" if none */
    char reason[160];     /* the check that refused it */
    bool vmexit_invalid;  /* vmrun_fail "VMEXIT_INVALID: ..." */
    int taken;            /* vector the vCPU took right after VMRUN injected, -1 */
    char guest[200];      /* the probe's report ("nothing", "vector 29 error 0x81 ...") */
    char cell[64];
    bool bad;
};

struct run {
    struct obs row[NROWS];
    int cur;              /* row armed and not yet resolved, -1 */
    bool await_take;      /* VMRUN injected it: the next delivery is it */
    int refused;          /* row VMRUN just refused: its vmrun_fail comes next, -1 */
    int status;           /* snpref_exit_status of the run */
    char outcome[200];
};

static unsigned field(enum trc_ev ev, const char *name)
{
    const struct trc_event_desc *d = &trc_catalogue[ev];
    unsigned i = 0;
    while (i < d->nfields && strcmp(d->fields[i].name, name))
        i++;
    SNP_ASSERT(i < d->nfields); /* the catalogue is ours: a missing field is a bug here */
    return i;
}

static void sink(void *ctx, const struct trc_rec *r)
{
    struct run *run = ctx;
    struct obs *o = run->cur >= 0 ? &run->row[run->cur] : NULL;
    switch (r->ev) {
    case TRC_EV_hostile_arm: {
        uint64_t m = r->v[field(r->ev, "marker")].u;
        run->cur = m >= 1 && m <= NROWS ? (int)m - 1 : -1;
        run->await_take = false;
        if (run->cur >= 0)
            run->row[run->cur].armed = true;
        break;
    }
    case TRC_EV_eventinj:
        if (!o)
            break;
        snprintf(o->vmrun, sizeof(o->vmrun), "%s", r->v[field(r->ev, "result")].s);
        snprintf(o->reason, sizeof(o->reason), "%s", r->v[field(r->ev, "reason")].s);
        run->await_take = !strcmp(o->vmrun, "injected");
        run->refused = !strcmp(o->vmrun, "refused") ? run->cur : -1;
        if (!run->await_take)
            run->cur = -1;
        break;
    case TRC_EV_vmrun_fail:
        /* Right after the eventinj that refused the row. */
        if (run->refused >= 0 && !strncmp(r->v[field(r->ev, "reason")].s, "VMEXIT_INVALID: ", 16))
            run->row[run->refused].vmexit_invalid = true;
        run->refused = -1;
        break;
    case TRC_EV_exception:
    case TRC_EV_irq_deliver:
        if (o && run->await_take) {
            o->taken = (int)r->v[field(r->ev, "vector")].u;
            run->await_take = false;
            run->cur = -1;
        }
        break;
    default:
        break;
    }
}

/* The probe's lines "attack_probe: attack K: ...". */
static void read_console(struct run *run, const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int k, off = 0;
        if (sscanf(p, "attack_probe: attack %d:%n", &k, &off) == 1 && off && k >= 1 && k <= NROWS) {
            size_t n = len - (size_t)off;
            const char *s = p + off + (p[off] == ' ');
            n -= (p[off] == ' ');
            snprintf(run->row[k - 1].guest, sizeof(run->row[k - 1].guest), "%.*s", (int)n, s);
        }
        p = nl ? nl + 1 : NULL;
    }
}

/* The cell from the trace, checked against what the guest saw. */
static void judge(const struct attack *a, struct obs *o)
{
    int vector = (int)(a->inj.eventinj & SVM_EVTINJ_VEC_MASK);
    bool saw = o->guest[0] && strcmp(o->guest, "nothing");
    int gv = -1;
    if (saw)
        sscanf(o->guest, "vector %d", &gv);
    if (!o->armed || !o->vmrun[0]) {
        snprintf(o->cell, sizeof(o->cell), "INCONSISTENT: never armed");
    } else if (!strcmp(o->vmrun, "injected")) {
        if (o->taken == vector && gv == vector)
            snprintf(o->cell, sizeof(o->cell), "delivered");
        else
            snprintf(o->cell, sizeof(o->cell), "INCONSISTENT: took %d, guest saw %d", o->taken, gv);
    } else if (saw) {
        snprintf(o->cell, sizeof(o->cell), "INCONSISTENT: %s, guest saw %d", o->vmrun, gv);
    } else if (!strcmp(o->vmrun, "ignored")) {
        snprintf(o->cell, sizeof(o->cell), "ignored by VMRUN");
    } else if (o->vmexit_invalid) {
        snprintf(o->cell, sizeof(o->cell), "refused: VMEXIT_INVALID");
    } else {
        snprintf(o->cell, sizeof(o->cell), "INCONSISTENT: refused, no vmrun_fail");
    }
    o->bad = !strncmp(o->cell, "INCONSISTENT", 12);
}

static int run_column(const struct column *col, const struct attack *a, struct run *run, char *err,
                      size_t errlen)
{
    struct snp_config cfg;
    config_defaults(&cfg);
    cfg.vcpus = 1;
    snprintf(cfg.mode, sizeof(cfg.mode), "snp");
    snprintf(cfg.apic, sizeof(cfg.apic), "%s", col->apic);
    cfg.sev.sev_features = col->sev_features;
    cfg.hostile.n = NROWS;
    for (unsigned i = 0; i < NROWS; i++)
        cfg.hostile.inj[i] = a[i].inj;
    memset(run, 0, sizeof(*run));
    run->cur = run->refused = -1;
    for (unsigned i = 0; i < NROWS; i++)
        run->row[i].taken = -1;
    char *text = NULL;
    size_t len = 0;
    FILE *console = open_memstream(&text, &len);
    if (!console) {
        snprintf(err, errlen, "cannot capture the probe's console");
        return SNPREF_ST_INTERNAL;
    }
    struct guest_image img = {snpref_attack_probe_elf, snpref_attack_probe_elf_len, "attack probe",
                             NULL};
    struct snpref_options opt = {.console = console, .sink = sink, .sink_ctx = run};
    struct snpref_system *sys;
    int status = 0;
    struct snpref_result res;
    if (snpref_create(&sys, &cfg, &img, &opt, &status, err, errlen) == 0) {
        if (snpref_run(sys, &res, err, errlen) < 0)
            status = SNPREF_ST_INTERNAL;
        else
            status = snpref_exit_status(&res, 0, NULL, 0);
        snprintf(run->outcome, sizeof(run->outcome), "%s",
                 res.outcome == SNPREF_EXITED ? "exited" : res.reason);
        snpref_destroy(sys);
    }
    fclose(console);
    read_console(run, text);
    free(text);
    run->status = status;
    for (unsigned i = 0; i < NROWS; i++)
        judge(&a[i], &run->row[i]);
    return status;
}

/* ---- Output ----------------------------------------------------------------------------- */

static void print_table(const struct attack *a, const struct run *runs)
{
    printf("snpref attacks: what a hostile hypervisor's injections reach an SNP guest "
           "(docs/attacks.md)\n\n%-42s", "attack");
    for (size_t c = 0; c < NCOLS; c++)
        printf(c + 1 < NCOLS ? "  %-28s" : "  %s", columns[c].name);
    printf("\n");
    /* Footnotes: each distinct refusal reason once, numbered as met. */
    const char *notes[16];
    unsigned nnotes = 0;
    for (unsigned i = 0; i < NROWS; i++) {
        printf("%-42s", a[i].name);
        for (size_t c = 0; c < NCOLS; c++) {
            const struct obs *o = &runs[c].row[i];
            char cell[96];
            unsigned n = 0;
            if (o->reason[0] && !o->bad) {
                while (n < nnotes && strcmp(notes[n], o->reason))
                    n++;
                if (n == nnotes && nnotes < 16)
                    notes[nnotes++] = o->reason;
                snprintf(cell, sizeof(cell), "%s [%u]", o->cell, n + 1);
            } else {
                snprintf(cell, sizeof(cell), "%s", o->cell);
            }
            printf(c + 1 < NCOLS ? "  %-28s" : "  %s", cell);
        }
        printf("\n");
    }
    printf("\n");
    for (unsigned n = 0; n < nnotes; n++)
        printf("[%u] %s\n", n + 1, notes[n]);
}

static void print_json(const struct attack *a, const struct run *runs)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *cols = cJSON_AddArrayToObject(root, "columns");
    for (size_t c = 0; c < NCOLS; c++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "key", columns[c].key);
        cJSON_AddStringToObject(x, "name", columns[c].name);
        cJSON_AddStringToObject(x, "apic", columns[c].apic);
        cJSON_AddNumberToObject(x, "status", runs[c].status);
        cJSON_AddStringToObject(x, "outcome", runs[c].outcome);
        cJSON_AddItemToArray(cols, x);
    }
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (unsigned i = 0; i < NROWS; i++) {
        cJSON *x = cJSON_CreateObject();
        char hex[24];
        cJSON_AddStringToObject(x, "attack", a[i].name);
        cJSON_AddNumberToObject(x, "marker", a[i].inj.marker);
        snprintf(hex, sizeof(hex), "0x%" PRIx64, a[i].inj.eventinj);
        cJSON_AddStringToObject(x, "eventinj", hex);
        for (size_t c = 0; c < NCOLS; c++) {
            const struct obs *o = &runs[c].row[i];
            cJSON *y = cJSON_AddObjectToObject(x, columns[c].key);
            cJSON_AddStringToObject(y, "cell", o->cell);
            cJSON_AddStringToObject(y, "vmrun", o->vmrun);
            cJSON_AddStringToObject(y, "reason", o->reason);
            cJSON_AddStringToObject(y, "guest", o->guest);
        }
        cJSON_AddItemToArray(rows, x);
    }
    char *s = cJSON_Print(root);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(root);
}

int cmd_attacks(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: snpref attacks [--json]\nRuns the Heckler and WeSee injections "
                   "against SNP, SNP with restricted injection\nand Secure AVIC and prints what "
                   "reached the guest (docs/attacks.md).\n");
            return 0;
        } else
            return usage_error("attacks: unknown option '%s'", argv[i]);
    }
    static struct attack a[NROWS];
    static struct run runs[NCOLS];
    build_attacks(a);
    int rc = 0;
    for (size_t c = 0; c < NCOLS; c++) {
        char err[512] = "";
        int st = run_column(&columns[c], a, &runs[c], err, sizeof(err));
        if (st) {
            fprintf(stderr, "snpref: attacks: the %s run did not complete (status %d): %s\n",
                    columns[c].name, st, err[0] ? err : runs[c].outcome);
            rc = st;
        }
    }
    if (json)
        print_json(a, runs);
    else
        print_table(a, runs);
    for (size_t c = 0; c < NCOLS && !rc; c++)
        for (unsigned i = 0; i < NROWS; i++)
            if (runs[c].row[i].bad)
                rc = SNPREF_ST_INTERNAL;
    return rc;
}
