/* SPDX-License-Identifier: MIT */
/*
 * The registered interrupt fabrics (docs/design.md section 6) and the names the
 * traces use for ICR fields. Adding a plug-in is one new file defining a
 * `const struct fabric_ops NAME` plus one X(NAME) line in FABRIC_PLUGINS below.
 * The first entry is the golden reference (the config's default `apic`).
 * The list is explicit because a static library only links the objects
 * something references.
 */
#include <string.h>

#include "fabric.h"

/* clang-format off */
#define FABRIC_PLUGINS(X) \
    X(emulated_fabric) \
    X(savic_fabric) \
    X(savic_xipi_fabric) \
    /* one line per plug-in above, each ending in a backslash; the first is the golden reference */
/* clang-format on */

#define FABRIC_DECLARE(ops) extern const struct fabric_ops ops;
FABRIC_PLUGINS(FABRIC_DECLARE)

#define FABRIC_ENTRY(ops) &ops,
const struct fabric_ops *const fabric_list[] = {FABRIC_PLUGINS(FABRIC_ENTRY) NULL};

const struct fabric_ops *fabric_find(const char *name)
{
    for (const struct fabric_ops *const *p = fabric_list; name && *p; p++)
        if (strcmp((*p)->name, name) == 0)
            return *p;
    return NULL;
}

/* ICR[10:8] as the trace catalogue spells it ("mode" of ipi and irq_accept). */
const char *apic_dm_name(enum apic_dm dm)
{
    switch (dm) {
    case APIC_DM_FIXED:
        return "fixed";
    case APIC_DM_LOWEST:
        return "lowest";
    case APIC_DM_SMI:
        return "smi";
    case APIC_DM_NMI:
        return "nmi";
    case APIC_DM_INIT:
        return "init";
    case APIC_DM_SIPI:
        return "sipi";
    case APIC_DM_EXTINT:
        return "extint";
    }
    return "reserved"; /* encoding 3 (xAPIC remote read), not in x2APIC */
}

/* ICR[19:18]. */
const char *apic_sh_name(enum apic_sh sh)
{
    switch (sh) {
    case APIC_SH_NONE:
        return "none";
    case APIC_SH_SELF:
        return "self";
    case APIC_SH_ALL:
        return "all";
    case APIC_SH_OTHERS:
        return "others";
    }
    return "none";
}
