/* SPDX-License-Identifier: MIT */
/*
 * Internals of the streaming reader shared by reader.c (every line, through
 * cJSON) and reader_fast.c (the canonical form, decoded in place).
 */
#ifndef SNPREF_READER_INT_H
#define SNPREF_READER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

#define TRC_MAX_EXACT_U 9007199254740991ull /* 2^53 - 1: the largest integer a double holds exactly */
#define TRC_MAX_VCPUS 256                   /* SNP_MAX_VCPUS of the guest ABI */
#define TRC_EV_HASH 128                     /* a power of two above twice TRC_EV_COUNT */

_Static_assert(TRC_EV_COUNT * 2 <= TRC_EV_HASH && TRC_EV_COUNT < 255, "grow TRC_EV_HASH");

/* Event names by hash, built once per reader. */
struct trc_fast {
    uint8_t ids[TRC_EV_HASH]; /* event id + 1, 0 empty */
};

void trc_fast_init(struct trc_fast *f);
/*
 * Decodes line (NUL-terminated, no newline) if it is in the writer's canonical
 * form, its strings terminated in place (valid as long as line is); false,
 * with line unchanged, for anything else. Checks what the line alone says
 * (types, ranges, ENUM values), not seq or time order.
 */
bool trc_fast_event(const struct trc_fast *f, char *line, struct trc_rec *rec);

#endif
