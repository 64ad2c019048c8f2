/* SPDX-License-Identifier: MIT */
/*
 * JUnit XML for `snpref check` (junit.h). The writer prints the one layout
 * snpref produces; the merge reads any JUnit file with libxml2 (a testsuite or
 * a testsuites root), refuses a testcase two inputs share (same classname and
 * name: the merged report would hide one), and writes one <testsuites> whose
 * counts are those of the testcases it holds. The layout follows the JUnit
 * schema CI servers read (Jenkins junit plugin, GitLab's and GitHub's
 * reporters): testsuite name/tests/failures/errors/skipped, testcase
 * classname/name, failure type/message with the detail as its text.
 */
#include <errno.h>
#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "junit.h"
#include "snpref/base.h"
#include "snpref/text.h"
#include "tools.h"

struct junit_case *junit_add(struct junit_suite *s, const char *fmt, ...)
{
    if (s->ncases == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->cases = realloc(s->cases, s->cap * sizeof(*s->cases));
        SNP_ASSERT(s->cases);
    }
    struct junit_case *c = &s->cases[s->ncases++];
    memset(c, 0, sizeof(*c));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof(c->name), fmt, ap);
    va_end(ap);
    return c;
}

void junit_free(struct junit_suite *s)
{
    for (size_t i = 0; i < s->ncases; i++)
        free(s->cases[i].text);
    free(s->cases);
    s->cases = NULL;
    s->ncases = s->cap = 0;
}

static void write_case(FILE *f, const struct junit_suite *s, const struct junit_case *c)
{
    fputs("  <testcase classname=\"", f);
    xml_text(f, s->name);
    fputs("\" name=\"", f);
    xml_text(f, c->name);
    if (!c->type) {
        fputs("\"/>\n", f);
        return;
    }
    fputs("\">\n    <failure type=\"", f);
    xml_text(f, c->type);
    fputs("\" message=\"", f);
    xml_text(f, c->message);
    fputs("\">", f);
    xml_text(f, c->text ? c->text : "");
    fputs("</failure>\n  </testcase>\n", f);
}

int junit_write(const struct junit_suite *s, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        error_line("%s: cannot write: %s", path, strerror(errno));
        return 66;
    }
    size_t failures = 0;
    for (size_t i = 0; i < s->ncases; i++)
        failures += s->cases[i].type != NULL;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"", f);
    xml_text(f, s->name);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n", s->ncases, failures);
    fputs("  <properties>\n    <property name=\"expected\" value=\"", f);
    xml_text(f, s->expected);
    fputs("\"/>\n    <property name=\"actual\" value=\"", f);
    xml_text(f, s->actual);
    fputs("\"/>\n  </properties>\n", f);
    for (size_t i = 0; i < s->ncases; i++)
        write_case(f, s, &s->cases[i]);
    fputs("</testsuite>\n", f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        error_line("%s: cannot write: %s", path, strerror(errno));
        remove(tmp);
        return 66;
    }
    return 0;
}

/* ---- Merge ------------------------------------------------------------------------- */

struct merge {
    xmlDocPtr out;
    xmlNodePtr root;
    xmlHashTablePtr seen; /* (name, classname) -> the input file that has it */
    unsigned long tests, failures, errors, skipped;
};

static bool is_elem(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST name);
}

/* Counts and registers the testcases of one suite; 65 on a testcase seen before. */
static int take_suite(struct merge *m, xmlNodePtr suite, const char *path)
{
    for (xmlNodePtr c = suite->children; c; c = c->next) {
        if (!is_elem(c, "testcase"))
            continue;
        xmlChar *cls = xmlGetProp(c, BAD_CAST "classname"), *name = xmlGetProp(c, BAD_CAST "name");
        const char *other = xmlHashLookup2(m->seen, name ? name : BAD_CAST "", cls ? cls : BAD_CAST "");
        if (other) {
            error_line("%s: testcase '%s' of '%s' is also in %s: the merged report would hide one",
                       path, name ? (char *)name : "", cls ? (char *)cls : "", other);
            xmlFree(cls), xmlFree(name);
            return 65;
        }
        xmlHashAddEntry2(m->seen, name ? name : BAD_CAST "", cls ? cls : BAD_CAST "", (void *)path);
        xmlFree(cls), xmlFree(name);
        m->tests++;
        for (xmlNodePtr r = c->children; r; r = r->next) {
            m->failures += is_elem(r, "failure");
            m->errors += is_elem(r, "error");
            m->skipped += is_elem(r, "skipped");
        }
    }
    xmlAddChild(m->root, xmlDocCopyNode(suite, m->out, 1));
    return 0;
}

static int take_file(struct merge *m, const char *path)
{
    FILE *f = snp_fopen_input(path, "r");
    if (!f) {
        error_line("%s: cannot open: %s", path, strerror(errno));
        return 66;
    }
    fclose(f);
    xmlDocPtr d = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                              XML_PARSE_NOWARNING);
    if (!d) {
        const xmlError *e = xmlGetLastError();
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "not XML");
        msg[strcspn(msg, "\n")] = '\0';
        error_line("%s:%d: not well-formed XML: %s", path, e ? e->line : 0, msg);
        return 65;
    }
    xmlNodePtr root = xmlDocGetRootElement(d);
    int rc = 0;
    if (root && is_elem(root, "testsuite")) {
        rc = take_suite(m, root, path);
    } else if (root && is_elem(root, "testsuites")) {
        for (xmlNodePtr s = root->children; s && !rc; s = s->next)
            if (is_elem(s, "testsuite"))
                rc = take_suite(m, s, path);
    } else {
        error_line("%s: not a JUnit file: the root element is <%s>, not <testsuite> or <testsuites>",
                   path, root ? (const char *)root->name : "");
        rc = 65;
    }
    xmlFreeDoc(d);
    return rc;
}

static void set_count(xmlNodePtr n, const char *attr, unsigned long v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%lu", v);
    xmlSetProp(n, BAD_CAST attr, BAD_CAST buf);
}

int junit_merge_cmd(int argc, char **argv)
{
    if (argc < 3)
        return usage_error("check --junit-merge: needs OUT.xml and at least one IN.xml");
    const char *out = argv[1];
    struct merge m = {0};
    m.out = xmlNewDoc(BAD_CAST "1.0");
    m.root = xmlNewNode(NULL, BAD_CAST "testsuites");
    xmlDocSetRootElement(m.out, m.root);
    xmlSetProp(m.root, BAD_CAST "name", BAD_CAST "snpref check");
    m.seen = xmlHashCreate(64);
    int rc = 0;
    for (int i = 2; i < argc && !rc; i++)
        rc = take_file(&m, argv[i]);
    if (!rc) {
        set_count(m.root, "tests", m.tests);
        set_count(m.root, "failures", m.failures);
        set_count(m.root, "errors", m.errors);
        set_count(m.root, "skipped", m.skipped);
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", out);
        if (xmlSaveFormatFileEnc(tmp, m.out, "UTF-8", 1) < 0 || rename(tmp, out) != 0) {
            error_line("%s: cannot write: %s", out, strerror(errno));
            remove(tmp);
            rc = 66;
        }
    }
    xmlHashFree(m.seen, NULL);
    xmlFreeDoc(m.out);
    return rc;
}
