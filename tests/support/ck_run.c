/* SPDX-License-Identifier: MIT */
/* The Check runner every suite's main() calls (ck_run.h). */
#include "ck_run.h"

#include <stdlib.h>

int ck_run(Suite *s, enum ck_fork fork)
{
    SRunner *sr = srunner_create(s);
    if (fork == CK_RUN_NOFORK)
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
