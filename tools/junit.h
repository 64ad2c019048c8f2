/* SPDX-License-Identifier: MIT */
/*
 * JUnit XML for `snpref check` (docs/conformance.md "--junit"): one testsuite
 * per checked file, named after it, each testcase unique by (file, vCPU, event
 * kind), so the files of many checks merge into one (`snpref check
 * --junit-merge OUT.xml IN.xml...`, libxml2 reading the inputs).
 */
#ifndef SNPREF_JUNIT_H
#define SNPREF_JUNIT_H

#include <stddef.h>

struct junit_case {
    char name[96];      /* "vcpu 0: ipi", "vcpu 1: stats exit", "timing" */
    const char *type;   /* failure type, NULL: passed */
    char message[160];  /* the failure's one line */
    char *text;         /* the failure's detail (malloc'd, may be NULL) */
};

struct junit_suite {
    const char *name;       /* the checked (EXPECTED) file: also every testcase's classname */
    const char *expected, *actual;
    struct junit_case *cases;
    size_t ncases, cap;
};

/* A new testcase (zeroed) at the end of s. */
struct junit_case *junit_add(struct junit_suite *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes s to path (as path.tmp, renamed when complete). 0, or 66 with one line on stderr. */
int junit_write(const struct junit_suite *s, const char *path);
void junit_free(struct junit_suite *s);

/* `snpref check --junit-merge OUT.xml IN.xml...`: 0, 64, 65 or 66. */
int junit_merge_cmd(int argc, char **argv);

#endif
