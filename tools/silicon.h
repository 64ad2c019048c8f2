/* SPDX-License-Identifier: MIT */
/*
 * The verbs that compare the model with recorded behaviour (issue 5;
 * docs/conformance.md, docs/silicon-logs.md): `replay` feeds a trace's stimuli
 * to the fabric and checks its outcomes, `check` compares two traces, `import
 * ftrace` turns a Linux KVM tracepoint log into a trace.
 */
#ifndef SNPREF_SILICON_H
#define SNPREF_SILICON_H

#include <stdbool.h>

int cmd_replay(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv); /* cmd_export.c */

struct trc_stat_tol;
/* `check --stats` (check_stats.c): 0 agree, 1 a kind beyond tolerance, 65/66. */
int check_stats(const char *const paths[2], const struct trc_stat_tol *tol, bool json,
                const char *junit);

#endif
