/* SPDX-License-Identifier: MIT */
/*
 * Documentation that is generated from code must not drift from it: the event
 * catalogue in docs/trace-format.md is exactly `snpref events --markdown`, and
 * every config key of the effective config is documented in docs/config.md.
 *
 * The repository stands alone: no document or source comment points outside it
 * (see refs_check_text below for what counts as a reference), and each
 * reference inside it resolves. The checker is tested on known-good and
 * known-bad snippets first, then run on the whole tree.
 */
#include <check.h>
#include <ctype.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ---- References that must stay inside the repository ------------------------------------ */

/* The section numbers of a numbered document ("## 3. ..." and "### 4.1 ..."). */
#define REFS_MAX_SECTIONS 128
struct numbered_doc {
    const char *name;
    unsigned n;
    char num[REFS_MAX_SECTIONS][12];
};

enum text_kind { TK_MARKDOWN, TK_C, TK_HASH };

struct refs {
    const char *root;           /* the source tree */
    struct numbered_doc design; /* docs/design.md */
    struct numbered_doc facts;  /* docs/sev-snp-facts.md */
    unsigned problems, files;
    unsigned files_of[3];       /* read by the tree walk, per enum text_kind */
    size_t used;
    char report[8192];          /* the first problems, one line each */
};


static void add_section(struct numbered_doc *d, const char *num, size_t len)
{
    ck_assert_uint_lt(d->n, REFS_MAX_SECTIONS);
    snprintf(d->num[d->n++], sizeof(d->num[0]), "%.*s", (int)len, num);
}

/* Headings "## N." and "### N.M"; and a numbered list item "M." directly under "## N." is
 * N.M too (the open points of sev-snp-facts.md section 12 are cited as 12.4). */
static void parse_sections(struct numbered_doc *d, const char *name, const char *text)
{
    d->name = name;
    d->n = 0;
    char top[12] = "";
    for (const char *l = text; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        const char *p = l;
        while (*p == '#')
            p++;
        size_t hashes = (size_t)(p - l);
        size_t item = strspn(l, "0123456789");
        if (p == l && top[0] && item && l[item] == '.' && l[item + 1] == ' ') {
            char num[24];
            snprintf(num, sizeof(num), "%s.%.*s", top, (int)item, l);
            add_section(d, num, strlen(num));
            continue;
        }
        if (hashes)
            top[0] = '\0';
        if (hashes < 2 || hashes > 3 || *p != ' ' || !isdigit((unsigned char)p[1]))
            continue;
        size_t len = strspn(++p, "0123456789.");
        while (len && p[len - 1] == '.')
            len--;
        add_section(d, p, len);
        if (hashes == 2 && len < sizeof(top))
            snprintf(top, sizeof(top), "%.*s", (int)len, p);
    }
}

static bool has_section(const struct numbered_doc *d, const char *num)
{
    for (unsigned i = 0; i < d->n; i++)
        if (!strcmp(d->num[i], num))
            return true;
    return false;
}

static void problem(struct refs *r, const char *file, const char *text, const char *at,
                    const char *fmt, ...)
{
    unsigned line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    r->problems++;
    if (r->used + 200 >= sizeof(r->report))
        return;
    r->used += (size_t)snprintf(r->report + r->used, sizeof(r->report) - r->used, "%s:%u: ",
                                file, line);
    va_list ap;
    va_start(ap, fmt);
    r->used += (size_t)vsnprintf(r->report + r->used, sizeof(r->report) - r->used, fmt, ap);
    va_end(ap);
    r->report[r->used++] = '\n';
    r->report[r->used] = '\0';
}

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* After a document's name: "[,] [section|sections|table] N[.M][-N][, N][ and N]..."; each
 * number must be a section of d. */
static void check_numbers(struct refs *r, const struct numbered_doc *d, const char *file,
                          const char *text, const char *p)
{
    p = skip_space(p + (*p == ','));
    static const char *const words[] = {"sections", "section", "table"};
    for (size_t i = 0; i < 3; i++)
        if (!strncmp(p, words[i], strlen(words[i]))) {
            p = skip_space(p + strlen(words[i]));
            break;
        }
    while (isdigit((unsigned char)*p)) {
        const char *at = p;
        char num[12];
        size_t len = 0;
        while ((isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) &&
               len + 1 < sizeof(num))
            num[len++] = *p++;
        num[len] = '\0';
        if (!has_section(d, num))
            problem(r, file, text, at, "%s has no section %s", d->name, num);
        if (*p == '-' && isdigit((unsigned char)p[1])) {
            p++;
            continue;
        }
        const char *q = skip_space(p + (*p == ','));
        if (!strncmp(q, "and ", 4))
            q = skip_space(q + 4);
        if (!isdigit((unsigned char)*q))
            break;
        p = q;
    }
}

/* Every mention of name in text, case-insensitive, followed by its section numbers. */
static void check_cited_sections(struct refs *r, const struct numbered_doc *d, const char *name,
                                 const char *file, const char *text)
{
    size_t n = strlen(name);
    for (const char *p = strcasestr(text, name); p; p = strcasestr(p + n, name))
        check_numbers(r, d, file, text, p + n);
}

static bool is_path_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '/' || c == '-';
}

/* dir + "/" + rel with "." and ".." folded, into out (repository-relative); false if it climbs
 * above the repository's root. */
static bool join_inside(const char *dir, const char *rel, char *out, size_t outlen)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s%s%s", dir, *dir ? "/" : "", rel);
    size_t used = 0;
    out[0] = '\0';
    char *save = NULL;
    for (char *seg = strtok_r(buf, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (!strcmp(seg, "."))
            continue;
        if (!strcmp(seg, "..")) {
            if (!used)
                return false;
            while (used && out[used - 1] != '/')
                used--;
            used -= used > 0;
            out[used] = '\0';
            continue;
        }
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? "/" : "", seg);
    }
    return true;
}

static bool exists_in(const struct refs *r, const char *dir, const char *rel)
{
    char path[1024], full[2048];
    struct stat st;
    return join_inside(dir, rel, path, sizeof(path)) &&
           snprintf(full, sizeof(full), "%s/%s", r->root, path) > 0 && stat(full, &st) == 0;
}

/* A repository path written from anywhere: from the root, from the file's folder or one of its
 * parents (guests/sdk/boot.c names a guest as tests/...), or, for a document, from docs/. */
static bool resolves(const struct refs *r, const char *file, const char *tok)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", file);
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        *slash = '\0';
        if (exists_in(r, dir, tok))
            return true;
    }
    size_t n = strlen(tok);
    return exists_in(r, "", tok) ||
           (n > 3 && !strcmp(tok + n - 3, ".md") && exists_in(r, "docs", tok));
}

static void file_dir(const char *file, char *dir, size_t len)
{
    snprintf(dir, len, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
}

/* A Markdown link's target: a URL or an anchor, or a file inside the repository relative to the
 * document, which exists. */
static void check_link(struct refs *r, const char *file, const char *text, const char *at,
                       const char *target, size_t len)
{
    char t[512], dir[512], path[1024];
    snprintf(t, sizeof(t), "%.*s", (int)len, target);
    t[strcspn(t, "# ")] = '\0';
    if (strstr(t, "://") || !strncmp(t, "mailto:", 7) || !t[0])
        return;
    file_dir(file, dir, sizeof(dir));
    if (t[0] == '/')
        problem(r, file, text, at, "link to %s: an absolute path leaves the repository", t);
    else if (!join_inside(dir, t, path, sizeof(path)))
        problem(r, file, text, at, "link to %s leaves the repository", t);
    else if (!exists_in(r, "", path))
        problem(r, file, text, at, "link to %s: no such file", t);
}

/* The folders a path written in prose may start with and have to exist under. */
static const char *const repo_dirs[] = {
    "memory/", "cpu/",  "apic/",    "model/",          "traces/",         "tools/", "tests/",
    "guests/", "docs/", "scripts/", "cmake/", "include/snpref/", "include/snpref.h"};

static void check_token(struct refs *r, const char *file, const char *text, const char *at,
                        const char *tok, char next)
{
    char dir[512], path[1024];
    size_t n = strlen(tok);
    /* A pattern, not a path: test_<module>.c, tests/scenarios/test_*.c, fab_NAME.c, tools/.../x */
    if (next == '<' || next == '*' || next == '{' || strstr(tok, "...") || strstr(tok, "NAME") ||
        tok[n - 1] == '_')
        return;
    if (!strncmp(tok, "../", 3)) {
        file_dir(file, dir, sizeof(dir));
        if (!join_inside(dir, tok, path, sizeof(path)))
            problem(r, file, text, at, "%s leaves the repository", tok);
        else if (!exists_in(r, "", path))
            problem(r, file, text, at, "%s: no such file", tok);
        return;
    }
    bool ours = n > 3 && !strcmp(tok + n - 3, ".md") && tok[0] != '/';
    for (size_t i = 0; i < sizeof(repo_dirs) / sizeof(repo_dirs[0]); i++)
        ours |= !strncmp(tok, repo_dirs[i], strlen(repo_dirs[i]));
    if (ours && !resolves(r, file, tok))
        problem(r, file, text, at, "%s: no such file in the repository", tok);
}

/* The directory beside the repository, "shared" followed by a slash: after two dots and a
 * slash, after /work, or at the start of a word; not inside a word such as private/shared/. */
static void check_shared(struct refs *r, const char *file, const char *text)
{
    for (const char *p = strstr(text, "shared/"); p; p = strstr(p + 1, "shared/")) {
        char prev = p > text ? p[-1] : ' ';
        bool dotted = p - text >= 3 && !strncmp(p - 3, "../", 3);
        bool work = prev == '/' && p - text >= 5 && !strncmp(p - 5, "work/", 5);
        if (dotted || work || strchr("`\"('", prev) || isspace((unsigned char)prev))
            problem(r, file, text, p, "a reference to shared/, outside the repository");
    }
}

/*
 * What counts as a reference, in a document (text_kind TK_MARKDOWN) or in the comments of a
 * source file (TK_C, TK_HASH: the caller passes only the comment text, see mask_comments):
 *  - a Markdown link: inside the repository, to a file that exists;
 *  - a path starting with ../, or naming one of the repository's folders, or ending in .md:
 *    inside the repository and existing;
 *  - the directory beside the repository, shared (check_shared);
 *  - "design.md section N" and "sev-snp-facts.md section N" / "fact sheet N": a section that
 *    the document has.
 * file is the repository-relative path the text comes from. Returns the problems found.
 */
static unsigned refs_check_text(struct refs *r, const char *file, const char *text,
                                enum text_kind kind)
{
    unsigned before = r->problems;
    if (kind == TK_MARKDOWN)
        for (const char *p = strstr(text, "]("); p; p = strstr(p + 2, "](")) {
            const char *end = strchr(p + 2, ')');
            if (end)
                check_link(r, file, text, p, p + 2, (size_t)(end - p - 2));
        }
    for (const char *p = text; *p; p++) {
        if (!is_path_char(*p) || (p > text && is_path_char(p[-1])))
            continue;
        size_t n = 0;
        while (is_path_char(p[n]))
            n++;
        char tok[512];
        snprintf(tok, sizeof(tok), "%.*s", (int)n, p);
        size_t k = strlen(tok);
        while (k && (tok[k - 1] == '.' || tok[k - 1] == '-'))
            tok[--k] = '\0';
        if (k && (strchr(tok, '/') || (k > 3 && !strcmp(tok + k - 3, ".md"))))
            check_token(r, file, text, p, tok, p[n]);
        p += n - 1;
    }
    check_shared(r, file, text);
    check_cited_sections(r, &r->design, "design.md", file, text);
    check_cited_sections(r, &r->facts, "sev-snp-facts.md", file, text);
    check_cited_sections(r, &r->facts, "fact sheet", file, text);
    return r->problems - before;
}

/* The comments of a source file, in place: everything else (code, strings, the comment
 * markers, a block comment's leading " * ") becomes spaces, newlines stay, so line numbers
 * hold and a reference broken across comment lines reads as one. */
static void mask_comments(char *s, enum text_kind kind)
{
    enum { CODE, STR, CHR, LINE, BLOCK } st = CODE;
    bool line_start = false;
    for (char *p = s; *p; p++) {
        char c = *p;
        if (c == '\n') {
            if (st == LINE)
                st = CODE;
            line_start = st == BLOCK;
            continue;
        }
        bool keep = false;
        switch (st) {
        case CODE:
            if (kind == TK_HASH && c == '#')
                st = LINE;
            else if (kind == TK_C && c == '/' && (p[1] == '*' || p[1] == '/')) {
                st = p[1] == '*' ? BLOCK : LINE;
                *p++ = ' ';
            } else if (c == '"' || (kind == TK_C && c == '\''))
                st = c == '"' ? STR : CHR;
            break;
        case STR:
        case CHR:
            if (c == '\\' && p[1] && p[1] != '\n')
                *p++ = ' ';
            else if (c == (st == STR ? '"' : '\''))
                st = CODE;
            break;
        case LINE:
            keep = true;
            break;
        case BLOCK:
            if (c == '*' && p[1] == '/') {
                *p++ = ' ';
                st = CODE;
            } else
                keep = !(line_start && (c == '*' || c == ' ' || c == '\t'));
            if (keep)
                line_start = false;
            break;
        }
        if (!keep)
            *p = ' ';
    }
}

static struct refs *walk_refs; /* nftw has no context argument */

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

static int kind_of(const char *rel, const char *base)
{
    static const char *const c_like[] = {".c", ".h", ".cpp", ".S", ".def", ".ld"};
    if (ends_with(base, ".md"))
        return TK_MARKDOWN;
    for (size_t i = 0; i < sizeof(c_like) / sizeof(c_like[0]); i++)
        if (ends_with(base, c_like[i]))
            return TK_C;
    if (!strcmp(base, "CMakeLists.txt") || !strcmp(base, "Makefile") || ends_with(base, ".cmake") ||
        ends_with(base, ".sh") || !strncmp(rel, "scripts/", 8) || !strncmp(rel, ".ci/", 4))
        return TK_HASH;
    return -1;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    struct refs *r = walk_refs;
    const char *rel = path + strlen(r->root) + (path[strlen(r->root)] == '/');
    const char *base = path + ftw->base;
    if (type == FTW_D) {
        /* Not read: .git and other dot folders but .ci, build trees (wherever they are: a
         * folder with a CMakeCache.txt), test data. */
        char cache[2048];
        struct stat cst;
        snprintf(cache, sizeof(cache), "%s/CMakeCache.txt", path);
        bool skip = base[0] == '.' ? strcmp(base, ".ci") != 0
                                   : stat(cache, &cst) == 0 || !strcmp(rel, "tests/fixtures") ||
                                         !strcmp(rel, "tests/fuzz/seeds");
        return ftw->level > 0 && skip ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    }
    int kind = type == FTW_F ? kind_of(rel, base) : -1;
    if (kind < 0)
        return FTW_CONTINUE;
    char *text = slurp(path);
    if (kind != TK_MARKDOWN)
        mask_comments(text, (enum text_kind)kind);
    refs_check_text(r, rel, text, (enum text_kind)kind);
    r->files++;
    r->files_of[kind]++;
    free(text);
    return FTW_CONTINUE;
}

static void refs_init(struct refs *r)
{
    memset(r, 0, sizeof(*r));
    r->root = SNPREF_SOURCE_DIR;
    char *design = slurp(SNPREF_SOURCE_DIR "/docs/design.md");
    char *facts = slurp(SNPREF_SOURCE_DIR "/docs/sev-snp-facts.md");
    parse_sections(&r->design, "docs/design.md", design);
    parse_sections(&r->facts, "docs/sev-snp-facts.md", facts);
    free(design);
    free(facts);
}

/* refs_check_text on a copy of text (comments only for source kinds); the problems found. */
static unsigned check_snippet(struct refs *r, const char *file, const char *text,
                              enum text_kind kind)
{
    char *copy = strdup(text);
    ck_assert(copy);
    if (kind != TK_MARKDOWN)
        mask_comments(copy, kind);
    r->problems = 0;
    r->used = 0;
    r->report[0] = '\0';
    unsigned n = refs_check_text(r, file, copy, kind);
    free(copy);
    return n;
}

#define ASSERT_REFS_OK(r, file, text, kind)                                                        \
    ck_assert_msg(check_snippet(r, file, text, kind) == 0, "%s flagged: %s", text, (r)->report)
#define ASSERT_REFS_BAD(r, file, text, kind, why)                                                  \
    do {                                                                                           \
        ck_assert_msg(check_snippet(r, file, text, kind) > 0, "%s passed", text);                  \
        ck_assert_msg(strstr((r)->report, why), "%s: %s", text, (r)->report);                      \
    } while (0)

START_TEST(the_section_parser_finds_every_numbered_heading)
{
    struct numbered_doc d;
    parse_sections(&d, "x.md", "# Title\n## 0. Sources\n1. not 0.1\n## 4. GHCB\n"
                               "### 4.1 Layout [S1]\n1. not 4.1.1\n#### 4.1.1 too deep\n"
                               "## Unnumbered\n##7. no space\n## 12. Open points\n"
                               "1. one\n2. two\n10 no dot\n");
    ck_assert_uint_eq(d.n, 7);
    ck_assert(has_section(&d, "0") && has_section(&d, "4") && has_section(&d, "4.1"));
    ck_assert(has_section(&d, "12") && has_section(&d, "12.1") && has_section(&d, "12.2"));
    ck_assert(!has_section(&d, "4.1.1") && !has_section(&d, "7") && !has_section(&d, "12.10"));
    static struct refs r;
    refs_init(&r);
    ck_assert_uint_ge(r.design.n, 8);
    ck_assert(has_section(&r.facts, "8.2") && has_section(&r.facts, "12"));
}
END_TEST

START_TEST(references_to_shared_fail)
{
    static struct refs r;
    refs_init(&r);
    ASSERT_REFS_BAD(&r, "README.md", "see `../shared/notes/unicorn.md`", TK_MARKDOWN, "leaves");
    ASSERT_REFS_BAD(&r, "README.md", "the notes in shared/notes/unicorn.md", TK_MARKDOWN,
                    "shared/");
    ASSERT_REFS_BAD(&r, "cpu/x.c", "/* from /work/shared/design.md */", TK_C, "shared/");
    ASSERT_REFS_OK(&r, "memory/x.c", "/* a private/shared/private round trip */", TK_C);
}
END_TEST

START_TEST(cited_sections_must_exist)
{
    static struct refs r;
    refs_init(&r);
    ASSERT_REFS_OK(&r, "docs/cli.md", "## Exit status (design.md section 3)", TK_MARKDOWN);
    ASSERT_REFS_OK(&r, "cpu/cpu.h", "/* (docs/design.md sections 1-2) */", TK_C);
    ASSERT_REFS_BAD(&r, "cpu/cpu.h", "/* (design.md section 42) */", TK_C, "no section 42");
    ASSERT_REFS_BAD(&r, "cpu/cpu.h", "/* design.md sections 1-2, 3 and 99 */", TK_C,
                    "no section 99");
    ASSERT_REFS_OK(&r, "memory/rmp.c", "/* docs/sev-snp-facts.md sections 6.1-6.3, 12.4 */", TK_C);
    ASSERT_REFS_OK(&r, "apic/x.h", "/* fact sheet 7.4 and 12, items 5 and 9 */", TK_C);
    ASSERT_REFS_BAD(&r, "apic/x.h", "/* docs/sev-snp-facts.md 7.9 */", TK_C, "no section 7.9");
    ASSERT_REFS_BAD(&r, "apic/x.h", "/* the Fact sheet section 13 */", TK_C, "no section 13");
    /* Across comment lines, as a reflowed comment has it. */
    ASSERT_REFS_BAD(&r, "apic/x.h", "/* see docs/design.md\n * section 42 for */", TK_C,
                    "x.h:2: docs/design.md has no section 42");
    ASSERT_REFS_BAD(&r, "CMakeLists.txt", "x()\n# design.md\n# section 42\n", TK_HASH,
                    "no section 42");
}
END_TEST

START_TEST(links_and_paths_must_resolve_inside_the_repository)
{
    static struct refs r;
    refs_init(&r);
    ASSERT_REFS_OK(&r, "docs/x.md",
                   "[cli](cli.md), [g](../guests/README.md#sdk), [w](https://a.b/c.md)",
                   TK_MARKDOWN);
    ASSERT_REFS_OK(&r, "docs/x.md", "[here](#anchor); model/hv/hv.c; tests/unit/test_<module>.c",
                   TK_MARKDOWN);
    ASSERT_REFS_BAD(&r, "docs/x.md", "[x](missing.md)", TK_MARKDOWN, "no such file");
    ASSERT_REFS_BAD(&r, "docs/x.md", "[x](../../outside.md)", TK_MARKDOWN, "leaves the repository");
    ASSERT_REFS_BAD(&r, "docs/x.md", "[x](/etc/passwd)", TK_MARKDOWN, "absolute path");
    ASSERT_REFS_BAD(&r, "README.md", "the moved file model/hv.c", TK_MARKDOWN, "model/hv.c");
    ASSERT_REFS_BAD(&r, "cpu/idt.c", "/* (notes/unicorn.md) */", TK_C, "notes/unicorn.md");
    ASSERT_REFS_OK(&r, "cpu/idt.c", "/* (docs/unicorn.md; unicorn.md \"Modes\") */", TK_C);
    ASSERT_REFS_OK(&r, "guests/sdk/boot.c", "/* tests/init_sipi.c */", TK_C);
}
END_TEST

START_TEST(only_comments_of_source_files_are_read)
{
    static struct refs r;
    refs_init(&r);
    ASSERT_REFS_OK(&r, "x.c", "const char *s = \"design.md section 42 /* ../shared/ */\";\n"
                              "char c = '\"'; /* design.md section 3 */", TK_C);
    ASSERT_REFS_BAD(&r, "x.c", "int a; // ../shared/x\n", TK_C, "shared/");
    ASSERT_REFS_OK(&r, "x.cmake", "set(X \"# design.md section 42\")\n", TK_HASH);
}
END_TEST

START_TEST(the_repository_references_stay_inside_it)
{
    static struct refs r;
    refs_init(&r);
    walk_refs = &r;
    ck_assert_int_eq(nftw(r.root, visit, 16, FTW_PHYS | FTW_ACTIONRETVAL), 0);
    ck_assert_msg(r.problems == 0, "%u references leave the repository or do not resolve:\n%s",
                  r.problems, r.report);
    /* The walk read the tree: its documents, C sources and CMake/shell files (15, 202 and 29
     * when this was written). */
    ck_assert_uint_ge(r.files_of[TK_MARKDOWN], 15);
    ck_assert_uint_ge(r.files_of[TK_C], 200);
    ck_assert_uint_ge(r.files_of[TK_HASH], 25);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("generated");
    tcase_add_test(tc, the_trace_format_doc_holds_the_generated_catalogue);
    tcase_add_test(tc, every_config_key_is_documented);
    suite_add_tcase(s, tc);
    TCase *refs = tcase_create("references");
    tcase_add_test(refs, the_section_parser_finds_every_numbered_heading);
    tcase_add_test(refs, references_to_shared_fail);
    tcase_add_test(refs, cited_sections_must_exist);
    tcase_add_test(refs, links_and_paths_must_resolve_inside_the_repository);
    tcase_add_test(refs, only_comments_of_source_files_are_read);
    tcase_add_test(refs, the_repository_references_stay_inside_it);
    suite_add_tcase(s, refs);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
