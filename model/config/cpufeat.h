/* SPDX-License-Identifier: MIT */
/*
 * Named CPUID feature flags (config key `cpu_features`, `snpref run
 * --cpu-features`): a list in QEMU's `-cpu` syntax, "+name" to announce a
 * feature and "-name" to hide it, applied over the model's CPUID (its default
 * or a `cpuid` override), left to right. "max" announces every feature of the
 * table, each of which the model implements (docs/config.md "CPU features").
 * The MSRs and behaviour that follow a bit (msr.c, the fabric's x2APIC mode)
 * follow the edited CPUID.
 */
#ifndef SNPREF_CPUFEAT_H
#define SNPREF_CPUFEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_FEATURE_EDITS 32

/* One edit: set (on) or clear one bit of a CPUID leaf's register. */
struct cpu_feature_edit {
    uint32_t leaf, subleaf;
    bool indexed;     /* the leaf has subleaves (ECX selects): only subleaf matches */
    uint8_t reg;      /* 0 EAX, 1 EBX, 2 ECX, 3 EDX */
    uint8_t bit;
    bool on;
};

struct cpu_features {
    char text[256];   /* as given (config_to_json writes it back); "" none */
    unsigned n;
    struct cpu_feature_edit edit[CFG_MAX_FEATURE_EDITS];
};

/* Parses list ("+x2apic,-tsc-deadline", "max,-x2apic") into *f. Returns 0, or
 * -1 with a message naming the unknown or malformed element. */
int cpufeat_parse(const char *list, struct cpu_features *f, char *err, size_t errlen);

/* Applies the edits to the answer r[4] of CPUID leaf/subleaf. */
void cpufeat_apply(const struct cpu_features *f, uint32_t leaf, uint32_t subleaf, uint32_t r[4]);

/* The names the table knows, comma-separated (for messages and --help). */
const char *cpufeat_names(void);

#endif
