/* SPDX-License-Identifier: MIT */
/*
 * The feature-name table of cpufeat.h. Names are QEMU's (target/i386/cpu.c
 * feature_word_info), so a kvm-unit-tests `-cpu` line carries over; bit
 * positions are those of the AMD APM vol. 3 appendix E and the Intel SDM
 * vol. 2 CPUID tables.
 */
#include "cpufeat.h"

#include <stdio.h>
#include <string.h>

enum { EAX, EBX, ECX, EDX };

static const struct {
    const char *name;
    uint32_t leaf, subleaf;
    uint8_t reg, bit;
} table[] = {
    {"x2apic", 1, 0, ECX, 21},        /* x2APIC mode; without it EXTD is #GP (SDM 10.12.1) */
    {"tsc-deadline", 1, 0, ECX, 24},  /* LVT timer mode 2 and IA32_TSC_DEADLINE */
    {"hypervisor", 1, 0, ECX, 31},
    {"mce", 1, 0, EDX, 7},
    {"mtrr", 1, 0, EDX, 12},
    {"mca", 1, 0, EDX, 14},
    {"arat", 6, 0, EAX, 2},           /* the APIC timer runs in deep C-states */
    {"tsc-adjust", 7, 0, EBX, 1},     /* IA32_TSC_ADJUST, MSR 0x3B (SDM 17.17.3) */
    {"smep", 7, 0, EBX, 7},
    {"smap", 7, 0, EBX, 20},
    {"rdpid", 7, 0, ECX, 22},         /* RDPID (TSC_AUX into a register) */
    {"arch-capabilities", 7, 0, EDX, 29},
    {"rdtscp", 0x80000001, 0, EDX, 27},
    {"invtsc", 0x80000007, 0, EDX, 8},
};

#define NFEAT (sizeof(table) / sizeof(table[0]))

const char *cpufeat_names(void)
{
    static char buf[512];
    if (!buf[0])
        for (size_t i = 0; i < NFEAT; i++)
            snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? ", " : "",
                     table[i].name);
    return buf;
}

static int add(struct cpu_features *f, size_t i, bool on, char *err, size_t errlen)
{
    if (f->n == CFG_MAX_FEATURE_EDITS) {
        snprintf(err, errlen, "more than %d feature edits", CFG_MAX_FEATURE_EDITS);
        return -1;
    }
    /* Leaf 7 is the table's one leaf with subleaves (SDM vol. 2 CPUID: ECX
     * selects them); the others ignore ECX. */
    f->edit[f->n++] = (struct cpu_feature_edit){table[i].leaf, table[i].subleaf,
                                                table[i].leaf == 7, table[i].reg, table[i].bit, on};
    return 0;
}

int cpufeat_parse(const char *list, struct cpu_features *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    if (strlen(list) >= sizeof(f->text)) {
        snprintf(err, errlen, "longer than %zu characters", sizeof(f->text) - 1);
        return -1;
    }
    snprintf(f->text, sizeof(f->text), "%s", list);
    char buf[sizeof(f->text)], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "max")) {
            /* QEMU's "max": everything the emulator implements. */
            for (size_t i = 0; i < NFEAT; i++)
                if (add(f, i, true, err, errlen) < 0)
                    return -1;
            continue;
        }
        if (t[0] != '+' && t[0] != '-') {
            snprintf(err, errlen, "'%s' is not +NAME, -NAME or max", t);
            return -1;
        }
        size_t i = 0;
        while (i < NFEAT && strcmp(table[i].name, t + 1))
            i++;
        if (i == NFEAT) {
            snprintf(err, errlen, "no CPU feature named '%s' (known: %s)", t + 1, cpufeat_names());
            return -1;
        }
        if (add(f, i, t[0] == '+', err, errlen) < 0)
            return -1;
    }
    return 0;
}

void cpufeat_apply(const struct cpu_features *f, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    for (unsigned i = 0; i < f->n; i++) {
        const struct cpu_feature_edit *e = &f->edit[i];
        if (e->leaf != leaf || (e->indexed && e->subleaf != subleaf))
            continue;
        if (e->on)
            r[e->reg] |= 1u << e->bit;
        else
            r[e->reg] &= ~(1u << e->bit);
    }
}
