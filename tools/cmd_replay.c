/* SPDX-License-Identifier: MIT */
/*
 * `snpref replay TRACE.jsonl [--config FILE] [--out OUT.jsonl] [--tolerance T]
 * [--partial | --strict] [--quiet]` (docs/cli.md, docs/conformance.md): the
 * command line of model/replay/replay.c. Exit 0 when the replay reproduces every
 * recorded outcome, 1 at the first disagreement (reported on stderr), and the
 * docs/design.md section 3 statuses for bad input.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"
#include "silicon.h"
#include "tools.h"

static const char usage_replay[] =
    "usage: snpref replay TRACE.jsonl [options]\n"
    "Feeds the trace's stimuli to the fabric and devices, without running guest code,\n"
    "and checks every outcome the trace records (docs/conformance.md).\n"
    "  --config FILE.json   config over the trace header's (e.g. another cost model)\n"
    "  --out OUT.jsonl      write the replay's own trace (on divergence up to it,\n"
    "                       ending with a diverged event)\n"
    "  --tolerance T        time tolerance: N cycles, P% of the time, or any\n"
    "                       (default: exact, or any for an imported trace)\n"
    "  --partial            the trace need not record every outcome (default for\n"
    "                       traces snpref did not write)\n"
    "  --strict             every outcome the replay produces must be recorded\n"
    "  --initial FILE.json  the APIC state to start from (default: reset, or for an\n"
    "                       imported log inferred, each assumption printed)\n"
    "  --quiet              no summary on stderr\n"
    "Exit status: 0 agreement, 1 divergence, 64 bad command line, 65 malformed\n"
    "trace, config or --initial file, or no event to compare; 66 missing input.\n";

struct replay_cli {
    struct replay_opts o;
    bool quiet;
};

static int parse(int argc, char **argv, struct replay_cli *c)
{
    static const struct option lo[] = {
        {"config", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'},
        {"tolerance", required_argument, 0, 't'}, {"partial", no_argument, 0, 'p'},
        {"strict", no_argument, 0, 's'},     {"quiet", no_argument, 0, 'q'},
        {"initial", required_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    memset(c, 0, sizeof(*c));
    c->o.partial = -1;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': c->o.config_path = optarg; break;
        case 'o': c->o.out_path = optarg; break;
        case 't':
            if (trc_tol_parse(optarg, &c->o.tol) < 0)
                return usage_error("--tolerance: '%s' is not N cycles, P%% or any", optarg);
            c->o.have_tol = true;
            break;
        case 'p': c->o.partial = 1; break;
        case 's': c->o.partial = 0; break;
        case 'q': c->quiet = true; break;
        case 'i': c->o.initial_path = optarg; break;
        case 'h': fputs(usage_replay, stdout); return -1;
        default: return bad_option(ch, argv);
        }
    }
    if (optind >= argc)
        return usage_error("replay: missing TRACE.jsonl");
    c->o.trace_path = argv[optind++];
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return 0;
}

int cmd_replay(int argc, char **argv)
{
    struct replay_cli c;
    int rc = parse(argc, argv, &c);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct replay_stats st;
    char err[512];
    rc = replay_run(&c.o, &st, err, sizeof(err));
    if (rc > 1) {
        error_line("%s", err);
        return rc;
    }
    char path[512];
    if (!c.quiet)
        fprintf(stderr,
                "snpref replay: %s: %s, %" PRIu64 " events: %" PRIu64 " stimuli, %" PRIu64
                " outcomes reproduced, %" PRIu64 " not recorded, %" PRIu64 " passed through (%s)\n",
                esc_text(c.o.trace_path, path, sizeof(path)), rc ? "DIVERGES" : "agrees", st.events, st.stimuli, st.outcomes,
                st.unrecorded, st.passthrough, st.partial ? "partial" : "strict");
    return rc;
}
