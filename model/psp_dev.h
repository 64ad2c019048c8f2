/* SPDX-License-Identifier: MIT */
/*
 * The PSP device's place in the system (psp_dev.c; docs/psp.md): model/ code
 * that system.c calls, kept apart so that the composition stays one file.
 */
#ifndef SNPREF_PSP_DEV_H
#define SNPREF_PSP_DEV_H

#include <stddef.h>

#include "acpi.h"
#include "machine.h"

/* The register addresses the ASPT gives for this configuration. */
void psp_dev_aspt(const struct snp_config *c, struct acpi_aspt *a);
/* With psp.enable, an SDK guest's ACPI tables (with the ASPT) at 0xE0000 and
 * bootinfo.acpi_rsdp; before loader_build writes the boot info. -1 with err
 * when the image occupies that area. */
int psp_dev_install_acpi(struct system *sys, const struct guest_image *img, char *err,
                         size_t errlen);
/* After the SEV launch: the mailbox in the MMIO dispatch, on the launch's PSP
 * in mode snp, else on one of its own. */
void psp_dev_setup(struct system *sys);
/* The RMP a guest with hardware isolation changes (mode snp: the SNP one). */
struct rmp *psp_dev_rmp(struct system *sys);
void psp_dev_set_trace(struct system *sys, struct trc *trace);
void psp_dev_teardown(struct system *sys);

#endif
