/* SPDX-License-Identifier: MIT */
/*
 * The ACPI fixed-hardware power-management registers (ACPI 6.5 section 4.8):
 * the PM1a event block (status, enable), the PM1a control block and the
 * 24-bit PM timer at 3.579545 MHz, at the ports QEMU's ICH9 places them
 * (PMBASE 0x600), which the loader's FADT names. Writing SLP_EN with the S5
 * sleep type powers the machine off.
 */
#ifndef SNPREF_ACPI_PM_H
#define SNPREF_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_BASE      0x600u
#define ACPI_PM1A_EVT_BLK 0x600 /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define ACPI_PM1A_CNT_BLK 0x604 /* PM1_CNT (2 bytes) */
#define ACPI_PM_TMR_BLK   0x608 /* PM_TMR (4 bytes, 24 bits valid) */
#define ACPI_PM_LEN       0x0C
#define ACPI_PM_TMR_HZ    3579545u /* ACPI 6.5 4.8.3.3 */
#define ACPI_SLP_TYP_S5   0        /* the DSDT's \_S5 package says 0, as QEMU's */

#define ACPI_PM1_TMR_STS 0x0001
#define ACPI_PM1_WAK_STS 0x8000
#define ACPI_PM1_SCI_EN  0x0001
#define ACPI_PM1_SLP_EN  0x2000

struct acpi_pm {
    uint16_t sts, en, cnt;
    uint64_t core_hz;
};

void acpi_pm_reset(struct acpi_pm *pm, uint64_t core_hz);
bool acpi_pm_claims(uint16_t port);
uint32_t acpi_pm_read(struct acpi_pm *pm, uint16_t port, unsigned size, uint64_t now_cycles);
/* Returns true if the write put the machine into S5 (*slp_typ gets the type). */
bool acpi_pm_write(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t val,
                   unsigned *slp_typ);

#endif
