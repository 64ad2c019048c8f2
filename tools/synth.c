/* SPDX-License-Identifier: MIT */
/*
 * Synthetic traces for the replay benchmark. A stimulus-only trace is written
 * first (what two vCPUs' guest code would do: vCPU 0 sends vCPU 1 an IPI and
 * reads its APIC ID; vCPU 1 takes the IPI, EOIs it, programs a one-shot LAPIC
 * timer, takes its interrupt and EOIs it again), marked as imported so that
 * the replay accepts it without outcomes; replaying it once with --out gives a
 * complete trace whose every outcome is the model's, which is what the
 * benchmark then replays and checks. The pattern repeats every 12,000 cycles.
 */
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "replay.h"
#include "trace.h"

#define PERIOD 12000u
#define EVENTS_PER_PERIOD 18u /* in the complete trace */

static void msr(struct trc *t, uint64_t at, int vcpu, bool wr, uint32_t m, uint64_t v)
{
    trc_msr(t, at, vcpu, wr ? "wr" : "rd", m, v, "ok");
}

static void period(struct trc *t, uint64_t base)
{
    trc_vmexit(t, base, 0, 0x7c, 1, 0, 0x100000);
    msr(t, base, 0, true, 0x830, 0x100000040ull); /* fixed vector 0x40 to APIC 1 */
    trc_vmentry(t, base + 1400, 0, 0x100002);
    trc_irq_deliver(t, base + 2000, 1, 0x40, "fixed", 0x200000);
    trc_vmexit(t, base + 3000, 1, 0x7c, 1, 0, 0x200100);
    msr(t, base + 3000, 1, true, 0x80b, 0); /* EOI */
    trc_vmentry(t, base + 4400, 1, 0x200102);
    msr(t, base + 5000, 1, true, 0x838, 25); /* TMICT: 25 x 2 x 20 cycles */
    trc_irq_deliver(t, base + 7000, 1, 0x50, "fixed", 0x200200);
    msr(t, base + 8000, 1, true, 0x80b, 0);
    msr(t, base + 9000, 0, false, 0x802, 0); /* APIC ID */
}

static int stimuli(const char *path, uint64_t periods, char *err, size_t errlen)
{
    struct snp_config c;
    config_defaults(&c);
    c.vcpus = 2;
    char *cfg = config_to_json(&c);
    struct trc_header h = {"snpref-synth", c.mode, 2, c.apic, c.quantum, cfg, NULL};
    struct trc *t = trc_open(path, &h, err, errlen);
    free(cfg);
    if (!t)
        return -1;
    msr(t, 100, 0, true, 0x80f, 0x1ff); /* software-enable both APICs */
    msr(t, 200, 1, true, 0x80f, 0x1ff);
    msr(t, 300, 1, true, 0x832, 0x50);  /* LVTT: one-shot, vector 0x50 */
    for (uint64_t i = 0; i < periods; i++) {
        uint64_t base = 1000 + i * PERIOD;
        period(t, base);
        trc_advance(t, base + PERIOD);
    }
    return trc_close(t, true, err, errlen);
}

uint64_t synth_trace(const char *path, uint64_t events, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.stimuli", path);
    if (stimuli(tmp, events / EVENTS_PER_PERIOD + 1, err, errlen) < 0)
        return 0;
    /* The stimuli start mid-run: the replay's assumptions about that are the
     * benchmark's own design, not news for its reader. */
    FILE *quiet = fopen("/dev/null", "w");
    struct replay_opts o = {.trace_path = tmp, .out_path = path, .partial = 1, .report = quiet};
    struct replay_stats st;
    int rc = replay_run(&o, &st, err, errlen);
    if (quiet)
        fclose(quiet);
    remove(tmp);
    if (rc) {
        if (rc == 1)
            snprintf(err, errlen, "the synthetic trace does not replay");
        return 0;
    }
    return st.events + st.unrecorded;
}
