/* SPDX-License-Identifier: MIT */
/* Shared by the snpref command-line tools (snpref.c, bench.c). */
#ifndef SNPREF_TOOLS_H
#define SNPREF_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_image;

/* The built-in demo guest (generated from guests/demo at build time). */
extern const unsigned char snpref_demo_elf[];
extern const size_t snpref_demo_elf_len;

/* "snpref: MESSAGE" on stderr, user text escaped to keep it one line. */
void error_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* User text s escaped into buf for a line of its own (snp_esc_inplace). */
const char *esc_text(const char *s, char *buf, size_t len);
/* The same with " (see snpref --help)"; returns 64. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* Reads a guest file; on error prints one line and returns the exit status. */
int read_image(const char *path, struct guest_image *img, uint8_t **owned);
/* The path of the run-time guest NAME.elf (guest_path.c): installed, else in the
 * build tree; on neither prints one line and returns 66. */
int guest_path(const char *name, char *path, size_t len);
/* GUEST.elf at path, or the built-in demo when path is NULL (*owned: free it). */
int load_guest(const char *path, struct guest_image *img, uint8_t **owned);
/* After getopt_long: the one optional GUEST.elf operand; 64 on a second operand. */
int guest_arg(int argc, char **argv, const char **guest);
/* getopt_long's ':' or '?': one line naming the option, status 64. */
int bad_option(int ch, char **argv);

/* xml.c: s as XML character data or attribute text (&lt; &gt; &amp; &quot;;
 * control characters but newline and tab left out, as XML 1.0 forbids them). */
#include <stdio.h>
void xml_text(FILE *f, const char *s);

/* runctl.c: the signal handlers and progress line of `snpref run`. */
#include <signal.h>
/* Installs SIGINT/SIGTERM handlers; returns the flag they set (the signal). */
const volatile sig_atomic_t *runctl_signals(void);
struct progress {
    bool on, tty, shown;
    int64_t start, last;      /* host ns: display pacing only */
    uint64_t insns, cycles, core_hz;
};
void progress_init(struct progress *p, bool on, uint64_t core_hz);
/* snpref_options.progress: redraws at most a few times per host second. */
void progress_tick(void *ctx, uint64_t insns, uint64_t cycles);
/* The final line, when progress is on. */
void progress_end(struct progress *p, uint64_t insns, uint64_t cycles);

int cmd_bench(int argc, char **argv);
int cmd_attacks(int argc, char **argv); /* cmd_attacks.c */
int cmd_compare(int argc, char **argv); /* cmd_compare.c */
int cmd_stats(int argc, char **argv);   /* cmd_stats.c */
int cmd_export(int argc, char **argv);  /* cmd_export.c */

#endif
