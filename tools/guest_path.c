/* SPDX-License-Identifier: MIT */
/*
 * Where the tool finds the guest images it loads at run time (the bench guests;
 * the demo and the attack probe are embedded). An installed snpref looks next
 * to itself first, at SNPREF_INSTALLED_GUEST_DIR relative to its own binary
 * (`make install` puts them there, docs/cli.md "Installing"), so a prefix can be
 * moved and the build tree deleted; a binary in the build tree has no such
 * directory and uses the build's guests/ (SNPREF_GUEST_DIR).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "snpref.h"
#include "tools.h"

/* The directory of the running binary, from /proc/self/exe (Linux). */
static bool exe_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

int guest_path(const char *name, char *path, size_t len)
{
    char dir[PATH_MAX], installed[PATH_MAX + 256] = "";
    if (exe_dir(dir, sizeof(dir))) {
        snprintf(installed, sizeof(installed), "%s/%s", dir, SNPREF_INSTALLED_GUEST_DIR);
        snprintf(path, len, "%s/%s.elf", installed, name);
        if (access(path, R_OK) == 0)
            return 0;
    }
    snprintf(path, len, "%s/%s.elf", SNPREF_GUEST_DIR, name);
    if (access(path, R_OK) == 0)
        return 0;
    fprintf(stderr, "snpref: guest %s.elf is in neither %s nor %s: reinstall snpref (make install)"
            " or rebuild it (make build)\n", name, installed[0] ? installed : "(no binary path)",
            SNPREF_GUEST_DIR);
    return SNPREF_ST_NOINPUT;
}
