/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the trace reader (traces/reader.c) and the comparer that
 * runs on it (traces/compare.c). Any input is read line by line; every event
 * the reader accepts is formatted again (traces/trace.c); a trace read without
 * error must agree with itself under `snpref check` (trc_cmp_files). Run by
 * `make fuzz` (scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compare.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-trace", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    char path[64], err[512], line[4096];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct trc_reader *r = trc_reader_open(path, err, sizeof(err));
    int k = -1;
    if (r) {
        struct trc_rec rec;
        while ((k = trc_reader_next(r, &rec, err, sizeof(err))) == 1)
            trc_format(&rec, line, sizeof(line));
        trc_reader_close(r);
    }
    if (k == 0) {
        trc_ignore_t ign;
        trc_ignore_defaults(ign);
        struct trc_cmp_opts o = {.ignore = ign};
        struct trc_cmp_result *res = malloc(sizeof(*res));
        int status;
        if (!res || trc_cmp_files(path, path, &o, res, &status, err, sizeof(err)) < 0 ||
            !res->agree)
            abort(); /* a valid trace always agrees with itself */
        trc_cmp_free(res);
        free(res);
    }
    close(fd);
    return 0;
}
