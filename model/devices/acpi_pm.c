/* SPDX-License-Identifier: MIT */
/*
 * The ACPI PM registers (acpi_pm.h). PM1_STS bits are write-one-to-clear
 * (ACPI 6.5 4.8.3.1); the timer's status bit is set when bit 23 of the
 * counter toggles, which the model computes from time rather than signals,
 * so it is never set: no SCI is raised (the FADT's SCI is not wired).
 * SCI_EN reads 1: the machine is always in ACPI mode, so the FADT needs no
 * SMI command port. Accesses are by byte, word or dword at any offset of a
 * block, as the ACPI register model allows.
 */
#include "acpi_pm.h"

void acpi_pm_reset(struct acpi_pm *pm, uint64_t core_hz)
{
    *pm = (struct acpi_pm){.cnt = ACPI_PM1_SCI_EN, .core_hz = core_hz ? core_hz : 1};
}

bool acpi_pm_claims(uint16_t port)
{
    return port >= ACPI_PM_BASE && port < ACPI_PM_BASE + ACPI_PM_LEN;
}

static uint32_t tmr(const struct acpi_pm *pm, uint64_t cycles)
{
    return (uint32_t)((unsigned __int128)cycles * ACPI_PM_TMR_HZ / pm->core_hz) & 0xFFFFFFu;
}

/* The 12 bytes of the blocks as one little-endian image, for any access width. */
static void image(const struct acpi_pm *pm, uint64_t cycles, uint8_t b[ACPI_PM_LEN])
{
    uint32_t t = tmr(pm, cycles);
    uint16_t w[4] = {pm->sts, pm->en, pm->cnt, 0};
    for (unsigned i = 0; i < 3; i++)
        b[2 * i] = (uint8_t)w[i], b[2 * i + 1] = (uint8_t)(w[i] >> 8);
    b[6] = b[7] = 0;
    for (unsigned i = 0; i < 4; i++)
        b[8 + i] = (uint8_t)(t >> (8 * i));
}

uint32_t acpi_pm_read(struct acpi_pm *pm, uint16_t port, unsigned size, uint64_t now_cycles)
{
    uint8_t b[ACPI_PM_LEN];
    image(pm, now_cycles, b);
    unsigned off = port - ACPI_PM_BASE;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)(off + i < ACPI_PM_LEN ? b[off + i] : 0xFF) << (8 * i);
    return v;
}

static void write_word(struct acpi_pm *pm, unsigned reg, uint16_t val, uint16_t mask)
{
    switch (reg) {
    case 0: pm->sts &= (uint16_t)~(val & mask); break; /* write one to clear */
    case 1: pm->en = (uint16_t)((pm->en & ~mask) | (val & mask)); break;
    case 2:
        pm->cnt = (uint16_t)((pm->cnt & ~mask) | (val & mask));
        pm->cnt |= ACPI_PM1_SCI_EN;
        break;
    default: break; /* the timer is read-only */
    }
}

bool acpi_pm_write(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t val,
                   unsigned *slp_typ)
{
    unsigned off = port - ACPI_PM_BASE;
    for (unsigned i = 0; i < size && off + i < 6; i++) {
        unsigned o = off + i;
        uint16_t byte = (uint16_t)((val >> (8 * i)) & 0xFF);
        write_word(pm, o / 2, (uint16_t)(byte << (8 * (o & 1))), (uint16_t)(0xFF << (8 * (o & 1))));
    }
    if (!(pm->cnt & ACPI_PM1_SLP_EN))
        return false;
    pm->cnt &= (uint16_t)~ACPI_PM1_SLP_EN; /* SLP_EN is write-only, reads 0 */
    *slp_typ = (pm->cnt >> 10) & 7;
    return true;
}
