/* SPDX-License-Identifier: MIT */
/*
 * The dependency graph of the tree (docs/design.md, "Dependencies"): the
 * build writes its library graph to deps.txt (CMakeLists.txt,
 * snpref_write_deps); these tests check that the graph has no cycle, that
 * every model/ subsystem is a library of its own, and that every source file
 * includes only headers of its own library, of the libraries it links
 * (directly or not), or of include/. The tools may include, besides, only the
 * internals tools/CMakeLists.txt declares.
 *
 * The checks are functions over an in-memory graph, so the tests below also
 * show each one failing on a graph made to break it.
 */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_NODES 64
#define MAX_DEPS 32
#define MAX_ALLOW 32

struct node {
    char name[48];
    char dir[64];        /* relative to the source tree */
    bool exe;
    int ndeps;
    char deps[MAX_DEPS][48];
};

struct graph {
    int n;
    struct node nodes[MAX_NODES];
    char allow_dir[64];
    int nallow;
    char allow[MAX_ALLOW][48];
};

static int find_node(const struct graph *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->nodes[i].name, name))
            return i;
    return -1;
}

/* Parses one deps.txt line into g; false on a malformed line. */
static bool parse_line(struct graph *g, char *line)
{
    char *save = NULL, *kind = strtok_r(line, " \n", &save);
    if (!kind)
        return true;
    if (!strcmp(kind, "allow")) {
        char *dir = strtok_r(NULL, " \n", &save);
        if (!dir)
            return false;
        snprintf(g->allow_dir, sizeof(g->allow_dir), "%s", dir);
        for (char *h; (h = strtok_r(NULL, " \n", &save)) && g->nallow < MAX_ALLOW;)
            snprintf(g->allow[g->nallow++], sizeof(g->allow[0]), "%s", h);
        return true;
    }
    char *name = strtok_r(NULL, " \n", &save), *dir = strtok_r(NULL, " \n", &save);
    if (!name || !dir || g->n == MAX_NODES)
        return false;
    struct node *nd = &g->nodes[g->n++];
    memset(nd, 0, sizeof(*nd));
    nd->exe = !strcmp(kind, "exe");
    snprintf(nd->name, sizeof(nd->name), "%s", name);
    snprintf(nd->dir, sizeof(nd->dir), "%s", dir);
    for (char *d; (d = strtok_r(NULL, " \n", &save)) && nd->ndeps < MAX_DEPS;)
        snprintf(nd->deps[nd->ndeps++], sizeof(nd->deps[0]), "%s", d);
    return true;
}

static void load_graph(struct graph *g)
{
    memset(g, 0, sizeof(*g));
    FILE *f = fopen(SNPREF_BUILD_DIR "/deps.txt", "r");
    ck_assert_msg(f, "%s/deps.txt is missing: CMakeLists.txt writes it", SNPREF_BUILD_DIR);
    char line[1024];
    while (fgets(line, sizeof(line), f))
        ck_assert_msg(parse_line(g, line), "deps.txt: malformed line");
    fclose(f);
    ck_assert_int_gt(g->n, 10);
}

/* ---- Cycles --------------------------------------------------------------------- */

enum mark { WHITE, GREY, BLACK };

/* Depth-first search; on a cycle, writes it ("a -> b -> a") to path. */
static bool dfs(const struct graph *g, int i, enum mark *m, int *stack, int depth, char *path,
                size_t len)
{
    m[i] = GREY;
    stack[depth] = i;
    for (int k = 0; k < g->nodes[i].ndeps; k++) {
        int j = find_node(g, g->nodes[i].deps[k]);
        if (j < 0)
            continue; /* an external or test-only library */
        if (m[j] == GREY) {
            size_t o = 0;
            int from = depth;
            while (from > 0 && stack[from] != j)
                from--;
            for (int s = from; s <= depth; s++)
                o += (size_t)snprintf(path + o, len - o, "%s -> ", g->nodes[stack[s]].name);
            snprintf(path + o, len - o, "%s", g->nodes[j].name);
            return true;
        }
        if (m[j] == WHITE && dfs(g, j, m, stack, depth + 1, path, len))
            return true;
    }
    m[i] = BLACK;
    return false;
}

/* Whether the graph has a cycle; if so path names one. */
static bool graph_cycle(const struct graph *g, char *path, size_t len)
{
    enum mark m[MAX_NODES] = {0};
    int stack[MAX_NODES];
    path[0] = '\0';
    for (int i = 0; i < g->n; i++)
        if (m[i] == WHITE && dfs(g, i, m, stack, 0, path, len))
            return true;
    return false;
}

/* Whether library `to` is library `from` or reachable from it. */
static bool reaches(const struct graph *g, int from, int to)
{
    bool seen[MAX_NODES] = {0};
    int queue[MAX_NODES], head = 0, tail = 0;
    queue[tail++] = from;
    seen[from] = true;
    while (head < tail) {
        int i = queue[head++];
        if (i == to)
            return true;
        for (int k = 0; k < g->nodes[i].ndeps; k++) {
            int j = find_node(g, g->nodes[i].deps[k]);
            if (j >= 0 && !seen[j]) {
                seen[j] = true;
                queue[tail++] = j;
            }
        }
    }
    return false;
}

/* ---- Includes ------------------------------------------------------------------- */

static bool is_source(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".c") || !strcmp(dot, ".h") || !strcmp(dot, ".cpp") ||
                   !strcmp(dot, ".def"));
}

/* The library whose folder holds header h (a plain file name), or -1. */
static int owner_of(const struct graph *g, const char *h)
{
    char path[512];
    for (int i = 0; i < g->n; i++) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s/%s", SNPREF_SOURCE_DIR, g->nodes[i].dir, h);
        if (!g->nodes[i].exe && stat(path, &st) == 0)
            return i;
    }
    return -1;
}

static bool allowed_internal(const struct graph *g, const struct node *nd, const char *h)
{
    if (strcmp(nd->dir, g->allow_dir))
        return false;
    for (int k = 0; k < g->nallow; k++)
        if (!strcmp(g->allow[k], h))
            return true;
    return false;
}

/*
 * Whether `#include "h"` in a file of node i is allowed: its own folder,
 * include/ (a name with a slash, or snpref.h), a library it reaches, and for
 * a program only the declared internals. Otherwise writes why.
 */
static bool include_ok(const struct graph *g, int i, const char *h, char *why, size_t len)
{
    const struct node *nd = &g->nodes[i];
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s/%s", SNPREF_SOURCE_DIR, nd->dir, h);
    if (stat(path, &st) == 0)
        return true;
    snprintf(path, sizeof(path), "%s/include/%s", SNPREF_SOURCE_DIR, h);
    if (stat(path, &st) == 0)
        return true;
    if (!strcmp(h, "demo_elf.c") || !strcmp(h, "attack_probe_elf.c"))
        return true; /* generated into the build tree */
    int o = owner_of(g, h);
    if (o < 0) {
        snprintf(why, len, "\"%s\" is in no library's folder", h);
        return false;
    }
    if (nd->exe) {
        if (allowed_internal(g, nd, h) && reaches(g, i, o))
            return true;
        snprintf(why, len, "\"%s\" (%s) is not among the internals %s may use", h,
                 g->nodes[o].name, nd->name);
        return false;
    }
    if (reaches(g, i, o))
        return true;
    snprintf(why, len, "\"%s\" belongs to %s, which %s does not link", h, g->nodes[o].name,
             nd->name);
    return false;
}

/* Checks every quoted include of one file; counts and reports violations. */
static int check_file(const struct graph *g, int i, const char *file)
{
    char path[512], line[1024], why[256];
    snprintf(path, sizeof(path), "%s/%s/%s", SNPREF_SOURCE_DIR, g->nodes[i].dir, file);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot read %s", path);
    int bad = 0, ln = 0;
    while (fgets(line, sizeof(line), f)) {
        ln++;
        char h[128];
        if (sscanf(line, " #include \"%127[^\"]\"", h) != 1)
            continue;
        if (!include_ok(g, i, h, why, sizeof(why))) {
            fprintf(stderr, "%s/%s:%d: %s\n", g->nodes[i].dir, file, ln, why);
            bad++;
        }
    }
    fclose(f);
    return bad;
}

static int check_node(const struct graph *g, int i)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SNPREF_SOURCE_DIR, g->nodes[i].dir);
    DIR *d = opendir(path);
    ck_assert_msg(d, "cannot list %s", path);
    int bad = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (is_source(e->d_name))
            bad += check_file(g, i, e->d_name);
    closedir(d);
    return bad;
}

/* ---- Tests ---------------------------------------------------------------------- */

START_TEST(the_library_graph_has_no_cycle)
{
    struct graph g;
    load_graph(&g);
    char path[1024];
    ck_assert_msg(!graph_cycle(&g, path, sizeof(path)), "cycle: %s", path);
}
END_TEST

START_TEST(a_cycle_is_found_and_named)
{
    struct graph g = {0};
    char a[] = "lib a x b", b[] = "lib b y c", c[] = "lib c z a";
    ck_assert(parse_line(&g, a) && parse_line(&g, b) && parse_line(&g, c));
    char path[256];
    ck_assert(graph_cycle(&g, path, sizeof(path)));
    ck_assert_str_eq(path, "a -> b -> c -> a");
}
END_TEST

START_TEST(every_model_subsystem_is_a_library_of_its_own)
{
    struct graph g;
    load_graph(&g);
    DIR *d = opendir(SNPREF_SOURCE_DIR "/model");
    ck_assert(d);
    int subsystems = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        char dir[320];
        snprintf(dir, sizeof(dir), "model/%s", e->d_name);
        bool found = false;
        for (int i = 0; i < g.n; i++)
            found |= !strcmp(g.nodes[i].dir, dir);
        ck_assert_msg(found, "%s has no library of its own", dir);
        subsystems++;
    }
    closedir(d);
    ck_assert_int_ge(subsystems, 7); /* config boot psp devices machine hv replay timing */
}
END_TEST

START_TEST(every_include_stays_inside_what_its_library_links)
{
    struct graph g;
    load_graph(&g);
    int bad = 0;
    for (int i = 0; i < g.n; i++)
        bad += check_node(&g, i);
    ck_assert_msg(bad == 0, "%d includes reach past their library's dependencies (listed above)",
                  bad);
}
END_TEST

START_TEST(an_include_of_a_library_not_linked_is_refused)
{
    struct graph g;
    load_graph(&g);
    int memory = find_node(&g, "snpref_memory"), hv = find_node(&g, "snpref_hv");
    int tools = find_node(&g, "snpref");
    ck_assert(memory >= 0 && hv >= 0 && tools >= 0);
    char why[256];
    /* memory/ links nothing of ours: a hypervisor header there is refused. */
    ck_assert(!include_ok(&g, memory, "hv.h", why, sizeof(why)));
    ck_assert_ptr_nonnull(strstr(why, "snpref_hv"));
    ck_assert(include_ok(&g, hv, "rmp.h", why, sizeof(why)));
    /* The tools link the hypervisor, but it is not among their declared internals. */
    ck_assert(!include_ok(&g, tools, "hv.h", why, sizeof(why)));
    ck_assert(include_ok(&g, tools, "config.h", why, sizeof(why)));
    ck_assert(!include_ok(&g, hv, "no_such_header.h", why, sizeof(why)));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deps");
    TCase *tc = tcase_create("graph");
    tcase_add_test(tc, the_library_graph_has_no_cycle);
    tcase_add_test(tc, a_cycle_is_found_and_named);
    tcase_add_test(tc, every_model_subsystem_is_a_library_of_its_own);
    tcase_add_test(tc, every_include_stays_inside_what_its_library_links);
    tcase_add_test(tc, an_include_of_a_library_not_linked_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
