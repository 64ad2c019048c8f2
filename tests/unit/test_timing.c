/* SPDX-License-Identifier: MIT */
/*
 * The timing core (model/timing): SystemC time behind a deterministic queue.
 * Same-time items run in scheduling order, cancellation, stop and until, and
 * several kernels in one process each starting at time 0.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "timing.h"
#include "ck_run.h"

struct log {
    struct tm_kernel *k;
    int n;
    int ids[64];
    uint64_t at[64];
};

struct call {
    struct log *log;
    int id;
    int chain;   /* schedule another item this many cycles later (0 = none) */
    int stop;
};

static void record(void *arg)
{
    struct call *c = arg;
    struct log *l = c->log;
    l->ids[l->n] = c->id;
    l->at[l->n] = tm_now(l->k);
    l->n++;
    if (c->chain) {
        struct call *next = malloc(sizeof(*next));
        *next = (struct call){l, c->id + 100, 0, 0};
        tm_schedule(l->k, tm_now(l->k) + (uint64_t)c->chain, record, next);
    }
    if (c->stop)
        tm_stop(l->k);
}

static struct tm_kernel *make(void)
{
    char err[128];
    struct tm_kernel *k = tm_create(err, sizeof(err));
    ck_assert_msg(k != NULL, "%s", err);
    return k;
}

START_TEST(items_run_in_time_then_scheduling_order)
{
    struct log l = {.k = make()};
    struct call c[5] = {{&l, 1, 0, 0}, {&l, 2, 0, 0}, {&l, 3, 0, 0}, {&l, 4, 0, 0}, {&l, 5, 0, 0}};
    tm_schedule(l.k, 300, record, &c[0]);
    tm_schedule(l.k, 100, record, &c[1]);
    tm_schedule(l.k, 300, record, &c[2]);
    tm_schedule(l.k, 100, record, &c[3]);
    tm_schedule(l.k, 0, record, &c[4]);
    ck_assert_int_eq(tm_run(l.k, UINT64_MAX), TM_IDLE);
    int want[] = {5, 2, 4, 1, 3};
    uint64_t when[] = {0, 100, 100, 300, 300};
    ck_assert_int_eq(l.n, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(l.ids[i], want[i]);
        ck_assert_uint_eq(l.at[i], when[i]);
    }
    ck_assert_uint_eq(tm_now(l.k), 300);
    tm_destroy(l.k);
}
END_TEST

START_TEST(items_scheduled_from_a_callback_run_at_their_time)
{
    struct log l = {.k = make()};
    struct call c = {&l, 1, 50, 0};
    struct call same = {&l, 2, 0, 0};
    tm_schedule(l.k, 10, record, &c);
    tm_schedule(l.k, 60, record, &same);
    tm_run(l.k, UINT64_MAX);
    ck_assert_int_eq(l.n, 3);
    ck_assert_int_eq(l.ids[1], 2);    /* scheduled first for t=60 */
    ck_assert_int_eq(l.ids[2], 101);  /* scheduled later for t=60 */
    ck_assert_uint_eq(l.at[2], 60);
    tm_destroy(l.k);
}
END_TEST

START_TEST(cancelled_items_do_not_run)
{
    struct log l = {.k = make()};
    struct call a = {&l, 1, 0, 0}, b = {&l, 2, 0, 0};
    uint64_t ida = tm_schedule(l.k, 10, record, &a);
    tm_schedule(l.k, 20, record, &b);
    ck_assert(tm_cancel(l.k, ida));
    ck_assert(!tm_cancel(l.k, ida));
    ck_assert_uint_eq(tm_pending(l.k), 1);
    tm_run(l.k, UINT64_MAX);
    ck_assert_int_eq(l.n, 1);
    ck_assert_int_eq(l.ids[0], 2);
    ck_assert(!tm_cancel(l.k, 12345));
    tm_destroy(l.k);
}
END_TEST

START_TEST(stop_returns_after_the_current_item_and_run_resumes)
{
    struct log l = {.k = make()};
    struct call a = {&l, 1, 0, 1}, b = {&l, 2, 0, 0};
    tm_schedule(l.k, 10, record, &a);
    tm_schedule(l.k, 10, record, &b);
    ck_assert_int_eq(tm_run(l.k, UINT64_MAX), TM_STOPPED);
    ck_assert_int_eq(l.n, 1);
    ck_assert_int_eq(tm_run(l.k, UINT64_MAX), TM_IDLE);
    ck_assert_int_eq(l.n, 2);
    ck_assert_uint_eq(l.at[1], 10);
    tm_destroy(l.k);
}
END_TEST

START_TEST(run_until_leaves_later_items_pending)
{
    struct log l = {.k = make()};
    struct call a = {&l, 1, 0, 0}, b = {&l, 2, 0, 0};
    tm_schedule(l.k, 10, record, &a);
    tm_schedule(l.k, 1000, record, &b);
    ck_assert_int_eq(tm_run(l.k, 500), TM_UNTIL);
    ck_assert_int_eq(l.n, 1);
    ck_assert_uint_eq(tm_next_time(l.k), 1000);
    ck_assert_int_eq(tm_run(l.k, UINT64_MAX), TM_IDLE);
    ck_assert_uint_eq(l.at[1], 1000);
    tm_destroy(l.k);
}
END_TEST

START_TEST(a_second_kernel_starts_at_time_zero)
{
    struct log l1 = {.k = make()};
    struct call a = {&l1, 1, 0, 0};
    tm_schedule(l1.k, 5000, record, &a);
    tm_run(l1.k, UINT64_MAX);
    tm_destroy(l1.k);

    struct log l2 = {.k = make()};
    ck_assert_uint_eq(tm_now(l2.k), 0);
    struct call b = {&l2, 2, 0, 0};
    tm_schedule(l2.k, 7, record, &b);
    tm_run(l2.k, UINT64_MAX);
    ck_assert_int_eq(l2.n, 1);
    ck_assert_uint_eq(l2.at[0], 7);
    tm_destroy(l2.k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timing");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, items_run_in_time_then_scheduling_order);
    tcase_add_test(tc, items_scheduled_from_a_callback_run_at_their_time);
    tcase_add_test(tc, cancelled_items_do_not_run);
    tcase_add_test(tc, stop_returns_after_the_current_item_and_run_resumes);
    tcase_add_test(tc, run_until_leaves_later_items_pending);
    tcase_add_test(tc, a_second_kernel_starts_at_time_zero);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_NOFORK); /* the last test needs one process */
}
