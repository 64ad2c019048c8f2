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

int cmd_bench(int argc, char **argv);
int cmd_attacks(int argc, char **argv); /* cmd_attacks.c */
int cmd_compare(int argc, char **argv); /* cmd_compare.c */

#endif
