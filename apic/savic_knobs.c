/* SPDX-License-Identifier: MIT */
/*
 * The Secure AVIC knobs (fab_savic.h): their defaults, and register sets by
 * name for the config file. Names are those of the x2APIC MSR table in apic.c,
 * so a set can only hold registers that exist.
 */
#include <stdio.h>
#include <string.h>

#include "apic.h"
#include "fab_savic.h"

static void put_all(struct savic_regset *r, unsigned base)
{
    for (unsigned i = 0; i < 8; i++)
        savic_regset_put(r, APIC_MSR(base + 0x10 * i));
}

void savic_knobs_default(struct savic_knobs *k)
{
    memset(k, 0, sizeof(*k));
    for (uint32_t msr = APIC_MSR_BASE; msr <= APIC_MSR_LAST; msr++) {
        const struct apic_reg_desc *d = apic_reg_lookup(msr);
        if (d && d->readable && msr != APIC_MSR(APIC_TMCCT))
            savic_regset_put(&k->accel_read, msr);
    }
    savic_regset_put(&k->accel_write, APIC_MSR(APIC_TPR));
    savic_regset_put(&k->accel_write, APIC_MSR(APIC_EOI));
    savic_regset_put(&k->accel_write, APIC_MSR(APIC_SELF_IPI));
    savic_regset_put(&k->accel_write, APIC_MSR(APIC_ICR));
    savic_regset_put(&k->noaccel_fault, APIC_MSR(APIC_LVR));
    savic_regset_put(&k->noaccel_fault, APIC_MSR(APIC_PPR));
    savic_regset_put(&k->noaccel_fault, APIC_MSR(APIC_TMCCT));
    put_all(&k->noaccel_fault, APIC_ISR);
    put_all(&k->noaccel_fault, APIC_TMR);
    put_all(&k->noaccel_fault, APIC_IRR);
    k->blocked = SAVIC_BLOCKED_DROP;
    k->icr_high = 0x304;
}

int savic_regset_add_name(struct savic_regset *r, const char *name)
{
    static const struct {
        const char *name;
        unsigned base;
    } groups[] = {{"ISR", APIC_ISR}, {"TMR", APIC_TMR}, {"IRR", APIC_IRR}};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (!strcmp(name, groups[i].name)) {
            put_all(r, groups[i].base);
            return 0;
        }
    for (uint32_t msr = APIC_MSR_BASE; msr <= APIC_MSR_LAST; msr++) {
        const struct apic_reg_desc *d = apic_reg_lookup(msr);
        if (d && !strcmp(d->name, name)) {
            savic_regset_put(r, msr);
            return 0;
        }
    }
    return -1;
}

void savic_regset_names(const struct savic_regset *r, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (uint32_t msr = APIC_MSR_BASE; msr <= APIC_MSR_LAST && n < len; msr++) {
        const struct apic_reg_desc *d = apic_reg_lookup(msr);
        if (!d || !savic_regset_has(r, msr))
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", d->name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}
