/* SPDX-License-Identifier: MIT */
/*
 * What every fabric's declaration shares (fabric.h): the names of the
 * FAB_CAP_* flags, and register sets by name for knob schemas. Register names
 * are those of the x2APIC MSR table in apic.c, so a set can only hold
 * registers that exist.
 */
#include <stdio.h>
#include <string.h>

#include "apic.h"
#include "fabric.h"

const struct fab_cap_name fab_cap_names[] = {
    {FAB_CAP_GUEST_PAGE, "guest-page"},
    {FAB_CAP_SECURE_AVIC, "secure-avic"},
    {FAB_CAP_ACCEL_READ, "accel-read"},
    {FAB_CAP_ACCEL_TPR_EOI, "accel-tpr-eoi"},
    {FAB_CAP_ACCEL_SELF_IPI, "accel-self-ipi"},
    {FAB_CAP_ACCEL_XIPI, "accel-xipi"},
    {0, NULL},
};

static void put_all(struct fab_regset *r, unsigned base)
{
    for (unsigned i = 0; i < 8; i++)
        fab_regset_put(r, APIC_MSR(base + 0x10 * i));
}

int fab_regset_add_name(struct fab_regset *r, const char *name)
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
            fab_regset_put(r, msr);
            return 0;
        }
    }
    return -1;
}

void fab_regset_names(const struct fab_regset *r, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (uint32_t msr = APIC_MSR_BASE; msr <= APIC_MSR_LAST && n < len; msr++) {
        const struct apic_reg_desc *d = apic_reg_lookup(msr);
        if (!d || !fab_regset_has(r, msr))
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", d->name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}
