/* SPDX-License-Identifier: MIT */
/*
 * What the loader suites (test_loader_linux.c, test_loader_multiboot.c) check
 * of every refusal: -1, one line starting with the file and naming the field,
 * and guest RAM untouched.
 */
#ifndef SNPREF_TEST_LOADER_HARNESS_H
#define SNPREF_TEST_LOADER_HARNESS_H

#include <check.h>
#include <stdbool.h>
#include <string.h>

#include "mem.h"

static inline bool ram_is_zero(const struct mem *m)
{
    for (uint64_t i = 0; i < m->size; i++)
        if (m->ram[i])
            return false;
    return true;
}

static inline void check_refusal(int rc, const struct mem *m, const char *err, const char *file,
                                 const char *field)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strncmp(err, file, strlen(file)) == 0 && err[strlen(file)] == ':',
                  "message does not start with %s: %s", file, err);
    ck_assert_msg(strstr(err, field), "message does not name %s: %s", field, err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert(ram_is_zero(m));
}

#endif
