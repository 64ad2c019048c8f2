/* SPDX-License-Identifier: MIT */
/*
 * A third fabric plug-in, added with one new file (fab_passthrough.c) and one
 * line in a copy of apic/fabric_list.c (CMakeLists.txt here checks the copy
 * has exactly one line more): it is registered next to the two snpref has,
 * `--apic passthrough` selects it, and guests run on it as on the fabric it
 * wraps, with the same console and exit status.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fabric.h"
#include "loader.h"
#include "snpref.h"
#include "snpref/sev.h"
#include "ck_run.h"

static struct guest_image load(const char *name, unsigned char **buf)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.elf", SNPREF_GUEST_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    *buf = malloc((size_t)n);
    ck_assert(*buf && fread(*buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return (struct guest_image){*buf, (size_t)n, name, NULL};
}

/* Runs guest under apic; returns the exit status and the console in *out. */
static int run(const char *guest, const char *apic, const char *mode, unsigned vcpus, char **out)
{
    unsigned char *buf;
    struct guest_image img = load(guest, &buf);
    struct snp_config cfg;
    config_defaults(&cfg);
    snprintf(cfg.apic, sizeof(cfg.apic), "%s", apic);
    snprintf(cfg.mode, sizeof(cfg.mode), "%s", mode);
    cfg.vcpus = vcpus;
    size_t len;
    FILE *con = open_memstream(out, &len);
    struct snpref_options opt = {.console = con};
    struct snpref_system *sys;
    char err[256];
    int status;
    ck_assert_msg(snpref_create(&sys, &cfg, &img, &opt, &status, err, sizeof(err)) == 0, "%s", err);
    struct snpref_result res;
    ck_assert(snpref_run(sys, &res, err, sizeof(err)) == 0);
    char warn[64];
    int code = snpref_exit_status(&res, 0, warn, sizeof(warn));
    snpref_destroy(sys);
    fclose(con);
    free(buf);
    return code;
}

/* SNPREF_LISTED_FABRICS: the X(...) lines of snpref's own apic/fabric_list.c,
 * counted by CMakeLists.txt here, so that a fabric snpref adds changes
 * nothing in this test. */
START_TEST(the_new_plugin_is_registered_next_to_the_others)
{
    ck_assert(fabric_find("passthrough") != NULL);
    ck_assert(fabric_find("emulated") != NULL);
    ck_assert(fabric_find("savic") != NULL);
    unsigned n = 0;
    for (const struct fabric_ops *const *p = fabric_list; *p; p++) {
        ck_assert_msg(fabric_find((*p)->name) == *p, "%s: found twice", (*p)->name);
        n++;
    }
    ck_assert_uint_gt(SNPREF_LISTED_FABRICS, 1);
    ck_assert_uint_eq(n, SNPREF_LISTED_FABRICS + 1);
    ck_assert_ptr_eq(fabric_list[0], fabric_find("emulated")); /* the golden reference first */
}
END_TEST

/* The plug-in declares nothing (no caps, no knobs): the model treats it as an
 * architectural APIC, whatever its name, and a config with another fabric's
 * knob section still loads and runs on it. */
START_TEST(a_plugin_without_capabilities_gets_the_architectural_apic)
{
    const struct fabric_ops *pt = fabric_find("passthrough");
    ck_assert_uint_eq(pt->caps, 0);
    ck_assert_ptr_null(pt->knobs);
    struct snp_config cfg;
    config_defaults(&cfg);
    snprintf(cfg.apic, sizeof(cfg.apic), "passthrough");
    ck_assert_ptr_null(config_fabric_knobs(&cfg, "passthrough"));
    ck_assert_ptr_nonnull(config_fabric_knobs(&cfg, "savic"));
    char err[256];
    ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), 0);
    cfg.sev.sev_features |= SEV_FEAT_SECURE_AVIC;
    snprintf(cfg.mode, sizeof(cfg.mode), "snp");
    ck_assert_int_eq(config_validate(&cfg, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "sev.sev_features") != NULL, "%s", err);
}
END_TEST

START_TEST(guests_run_on_it_as_on_the_fabric_it_wraps)
{
    static const struct {
        const char *guest, *mode;
        unsigned vcpus;
    } runs[] = {{"demo", "plain", 4}, {"ipi_smp", "plain", 4}, {"level_tmr", "snp", 1}};
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        char *a, *b;
        int sa = run(runs[i].guest, "emulated", runs[i].mode, runs[i].vcpus, &a);
        int sb = run(runs[i].guest, "passthrough", runs[i].mode, runs[i].vcpus, &b);
        ck_assert_int_eq(sa, 0);
        ck_assert_int_eq(sb, sa);
        ck_assert_str_eq(b, a);
        free(a);
        free(b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fabric plug-in");
    TCase *tc = tcase_create("plugin");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, the_new_plugin_is_registered_next_to_the_others);
    tcase_add_test(tc, a_plugin_without_capabilities_gets_the_architectural_apic);
    tcase_add_test(tc, guests_run_on_it_as_on_the_fabric_it_wraps);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
