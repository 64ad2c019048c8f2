/* SPDX-License-Identifier: MIT */
/*
 * The smallest fabric plug-in there is, and the test that adding one takes one
 * new file and one line in apic/fabric_list.c (docs/fabric-plugins.md): a
 * fabric named "passthrough" that owns an `emulated` fabric and hands it every
 * call. An architect's variant starts from here and replaces the calls it
 * changes. This file is not part of snpref: tests/plugin/CMakeLists.txt builds
 * it with a copy of the plug-in list that has one line more.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fab_emulated.h"
#include "fabric.h"

extern const struct fabric_ops passthrough_fabric;

struct passthrough {
    struct fabric hdr;    /* first: fabric.h reaches the ops through it */
    struct fabric *inner;
};

#define INNER(f) (((struct passthrough *)(f))->inner)

static struct fabric *pt_create(const struct fab_params *p, const struct fab_host *host, char *err,
                                size_t errlen)
{
    struct passthrough *pt = calloc(1, sizeof(*pt));
    if (!pt) {
        snprintf(err, errlen, "apic passthrough: out of memory");
        return NULL;
    }
    pt->hdr.ops = &passthrough_fabric;
    pt->inner = emulated_fabric.create(p, host, err, errlen);
    if (!pt->inner) {
        free(pt);
        return NULL;
    }
    return &pt->hdr;
}

static void pt_destroy(struct fabric *f)
{
    if (!f)
        return;
    INNER(f)->ops->destroy(INNER(f));
    free(f);
}

static enum fab_access pt_msr_read(struct fabric *f, int vcpu, uint32_t msr, uint64_t *val)
{
    return INNER(f)->ops->msr_read(INNER(f), vcpu, msr, val);
}

static enum fab_access pt_msr_write(struct fabric *f, int vcpu, uint32_t msr, uint64_t val)
{
    return INNER(f)->ops->msr_write(INNER(f), vcpu, msr, val);
}

static void pt_receive(struct fabric *f, int vcpu, const struct fab_msg *m)
{
    INNER(f)->ops->receive(INNER(f), vcpu, m);
}

static void pt_route(struct fabric *f, uint32_t dest, bool logical, const struct fab_msg *m)
{
    INNER(f)->ops->route(INNER(f), dest, logical, m);
}

static struct fab_event pt_pending(struct fabric *f, int vcpu, unsigned skip)
{
    return INNER(f)->ops->pending(INNER(f), vcpu, skip);
}

static void pt_ack(struct fabric *f, int vcpu, struct fab_event ev)
{
    INNER(f)->ops->ack(INNER(f), vcpu, ev);
}

static void pt_timer_fire(struct fabric *f, int vcpu)
{
    INNER(f)->ops->timer_fire(INNER(f), vcpu);
}

static void pt_inject(struct fabric *f, int vcpu, const struct fab_msg *m)
{
    INNER(f)->ops->inject(INNER(f), vcpu, m);
}

static void pt_reset(struct fabric *f, int vcpu, bool init_only)
{
    INNER(f)->ops->reset(INNER(f), vcpu, init_only);
}

static const uint8_t *pt_regs(struct fabric *f, int vcpu)
{
    return INNER(f)->ops->regs(INNER(f), vcpu);
}

static bool pt_mmio(struct fabric *f, int vcpu, uint64_t gpa, unsigned size, bool write,
                    uint64_t *val)
{
    return INNER(f)->ops->mmio(INNER(f), vcpu, gpa, size, write, val);
}

static void pt_cr8(struct fabric *f, int vcpu, bool write, uint64_t *val)
{
    INNER(f)->ops->cr8(INNER(f), vcpu, write, val);
}

const struct fabric_ops passthrough_fabric = {
    .name = "passthrough",
    .doc = "the emulated APIC behind a plug-in of its own (the plug-in template)",
    .create = pt_create,
    .destroy = pt_destroy,
    .msr_read = pt_msr_read,
    .msr_write = pt_msr_write,
    .receive = pt_receive,
    .route = pt_route,
    .pending = pt_pending,
    .ack = pt_ack,
    .timer_fire = pt_timer_fire,
    .inject = pt_inject,
    .reset = pt_reset,
    .regs = pt_regs,
    .mmio = pt_mmio,
    .cr8 = pt_cr8,
};
