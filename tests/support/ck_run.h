/* SPDX-License-Identifier: MIT */
/*
 * The one runner of every Check suite in the tree: runs the suite, lets Check
 * print its summary line (which CI reads), and turns the failures into the
 * process exit status.
 */
#ifndef SNPREF_CK_RUN_H
#define SNPREF_CK_RUN_H

#include <check.h>

/* How a suite runs its tests: in forked children (Check's default, also
 * what CK_FORK=no overrides), or in this process when tests share state. */
enum ck_fork { CK_RUN_FORK, CK_RUN_NOFORK };

/* Runs s and frees it; returns EXIT_SUCCESS when every test passed. */
int ck_run(Suite *s, enum ck_fork fork);

#endif
