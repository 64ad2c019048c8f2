/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the KVM log importer (traces/ftrace.c): any input is
 * imported; when the import succeeds, what it wrote must be a trace the reader
 * accepts to the end (the importer never writes an invalid trace). Run by
 * `make fuzz` (scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ftrace.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int header(void *ctx, const struct ftr_scan *scan, struct trc_header *h, int *status,
                  char *err, size_t errlen)
{
    (void)ctx, (void)scan, (void)status, (void)err, (void)errlen;
    h->model = "fuzz";
    h->fabric = "emulated";
    h->quantum = 2000;
    h->config_json = "{}";
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int in = memfd_create("fuzz-log", 0), out = memfd_create("fuzz-out", 0);
    if (in < 0 || out < 0 || write(in, data, size) != (ssize_t)size)
        abort();
    char inp[64], outp[64], err[512];
    snprintf(inp, sizeof(inp), "/proc/self/fd/%d", in);
    snprintf(outp, sizeof(outp), "/proc/self/fd/%d", out);
    FILE *stream = fdopen(dup(out), "w");
    struct ftr_opts o = {2000000000};
    struct ftr_stats st;
    int status;
    int rc = ftr_import(inp, &o, header, NULL, NULL, stream, &st, &status, err, sizeof(err));
    fclose(stream);
    if (rc == 0) {
        struct trc_reader *r = trc_reader_open(outp, err, sizeof(err));
        if (!r)
            abort();
        struct trc_rec rec;
        int k;
        while ((k = trc_reader_next(r, &rec, err, sizeof(err))) == 1)
            ;
        if (k < 0) {
            fprintf(stderr, "importer wrote an invalid trace: %s\n", err);
            abort();
        }
        trc_reader_close(r);
    }
    close(in);
    close(out);
    return 0;
}
