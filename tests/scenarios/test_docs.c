/* SPDX-License-Identifier: MIT */
/*
 * Documentation that is generated from code must not drift from it: the event
 * catalogue in docs/trace-format.md is exactly `snpref events --markdown`, and
 * every config key of the effective config is documented in docs/config.md.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

START_TEST(the_trace_format_doc_holds_the_generated_catalogue)
{
    char *doc = slurp(SNPREF_SOURCE_DIR "/docs/trace-format.md");
    const char *begin = strstr(doc, "<!-- BEGIN CATALOGUE");
    const char *end = strstr(doc, "<!-- END CATALOGUE -->");
    ck_assert(begin && end && end > begin);
    begin = strchr(begin, '\n') + 1;
    struct scn_run r;
    scn_run_tool(&r, "events", "--markdown", NULL);
    ck_assert_int_eq(r.status, 0);
    size_t len = (size_t)(end - begin);
    ck_assert_msg(len == strlen(r.out) && !memcmp(begin, r.out, len),
                  "docs/trace-format.md is stale: regenerate the catalogue with "
                  "`snpref events --markdown`");
    scn_free(&r);
    free(doc);
}
END_TEST

START_TEST(every_config_key_is_documented)
{
    char *doc = slurp(SNPREF_SOURCE_DIR "/docs/config.md");
    char *cost = slurp(SNPREF_SOURCE_DIR "/docs/cost-model.md");
    struct scn_run r;
    scn_run_guest(&r, "exceptions", NULL);
    ck_assert_int_eq(r.status, 0);
    /* The trace header's config lists every key; pull the keys out of it. */
    FILE *f = fopen(r.trace_path, "r");
    ck_assert(f);
    static char hdr[1 << 16];
    ck_assert(fgets(hdr, sizeof(hdr), f));
    fclose(f);
    const char *p = strstr(hdr, "\"config\":");
    ck_assert(p);
    unsigned keys = 0;
    for (p = strchr(p + 9, '"'); p; p = strchr(p + 1, '"')) {
        const char *q = strchr(p + 1, '"');
        if (!q || q[1] != ':')
            continue;
        char key[64], want[80];
        snprintf(key, sizeof(key), "%.*s", (int)(q - p - 1), p + 1);
        snprintf(want, sizeof(want), "`%s`", key);
        ck_assert_msg(strstr(doc, want) || strstr(cost, want), "config key %s is not documented",
                      key);
        keys++;
        p = q;
    }
    ck_assert_uint_ge(keys, 15);
    scn_free(&r);
    free(doc);
    free(cost);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("generated");
    tcase_add_test(tc, the_trace_format_doc_holds_the_generated_catalogue);
    tcase_add_test(tc, every_config_key_is_documented);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
