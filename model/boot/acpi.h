/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables a loader gives the guest, as firmware would (docs/guest-abi.md
 * "Linux boot"): a small table builder (append a table, its header and checksum,
 * list it in the RSDT and XSDT, end with the RSDP) and the PC platform's tables
 * built with it: FACS, DSDT, FADT, MADT. A later table (an ASPT for the PSP) is
 * one more acpi_add_table() call before acpi_finish().
 *
 * Section numbers are those of the ACPI Specification 6.5.
 */
#ifndef SNPREF_ACPI_H
#define SNPREF_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct mem;

/* Where the tables live: the BIOS read-only area the RSDP search covers
 * (section 5.2.5.1: 0xE0000-0xFFFFF, on 16-byte boundaries). The RSDP is the
 * first structure of the area. */
#define ACPI_AREA_BASE 0xE0000ull
#define ACPI_AREA_SIZE 0x20000ull

#define ACPI_MAX_TABLES 16
#define ACPI_HEADER_LEN 36 /* section 5.2.6 */
#define ACPI_RSDP_LEN   36 /* section 5.2.5.3, revision 2 */

/* Platform constants the tables describe (the devices themselves live elsewhere). */
#define ACPI_LAPIC_BASE  0xFEE00000u
#define ACPI_IOAPIC_BASE 0xFEC00000u
#define ACPI_SCI_IRQ     9
#define ACPI_PM_BASE     0x600u /* PM1a event; as QEMU's ICH9 LPC: the PM timer at +8 */
#define ACPI_PM_TMR      (ACPI_PM_BASE + 8)

/* A table area being built in a host buffer that will be guest memory at base. */
struct acpi_builder {
    uint8_t *buf;
    uint64_t base;
    size_t cap, used;
    uint64_t listed[ACPI_MAX_TABLES]; /* RSDT/XSDT entries, in order */
    unsigned nlisted;
};

/* Starts an area; its first ACPI_RSDP_LEN bytes (16-aligned) are kept for the RSDP. */
void acpi_begin(struct acpi_builder *b, uint8_t *buf, uint64_t base, size_t cap);

/* Appends raw bytes aligned to align (a power of two). Returns their address. */
uint64_t acpi_add_raw(struct acpi_builder *b, const void *data, size_t len, size_t align);

/*
 * Appends a table: the section 5.2.6 header (signature, length, revision, the
 * snpref OEM fields) followed by body, and its checksum. listed: an entry in
 * the RSDT and XSDT (the DSDT and FACS are reached through the FADT instead).
 * Returns the table's address.
 */
uint64_t acpi_add_table(struct acpi_builder *b, const char sig[4], uint8_t revision,
                        const void *body, size_t len, int listed);

/* Appends the RSDT and XSDT of the listed tables and fills in the RSDP.
 * Returns the RSDP's address. */
uint64_t acpi_finish(struct acpi_builder *b);

/* The byte that makes len bytes sum to zero (0 when they already do). */
uint8_t acpi_checksum(const void *data, size_t len);

/*
 * ASPT, the AMD Secure Processor Table (Microsoft's ACPI table; the layout is
 * ACPICA's, Linux include/acpi/actbl1.h struct acpi_table_aspt and its three
 * register structures, revision ASPT_REVISION_ID 1): after the header a u32
 * count, then structures of {u16 type, u16 length}: 0 global registers, 1 SEV
 * mailbox registers, 2 ACPI mailbox registers, each 32 bytes.
 */
#define ACPI_ASPT_REVISION      1
#define ACPI_ASPT_GLOBAL_REGS   0
#define ACPI_ASPT_SEV_MBOX_REGS 1
#define ACPI_ASPT_ACPI_MBOX_REGS 2
#define ACPI_ASPT_ENTRY_LEN     32
#define ACPI_ASPT_LEN           (ACPI_HEADER_LEN + 4 + 3 * ACPI_ASPT_ENTRY_LEN)

/* The system-physical register addresses the ASPT gives. */
struct acpi_aspt {
    uint64_t feature, irq_en, irq_st;          /* global registers */
    uint8_t mbox_irq_id;
    uint64_t cmd_resp, cmd_buf_lo, cmd_buf_hi; /* SEV mailbox */
    uint64_t acpi_cmd_resp;                    /* ACPI mailbox */
};

/* Appends an ASPT (listed in the RSDT and XSDT); returns its address. */
uint64_t acpi_add_aspt(struct acpi_builder *b, const struct acpi_aspt *a);

/* The platform's tables for n vCPUs with these APIC IDs: MADT, FADT, DSDT,
 * FACS, and an ASPT when aspt is not NULL (a PSP device). */
struct acpi_platform {
    unsigned nvcpus;
    const uint32_t *apic_ids;
    const struct acpi_aspt *aspt;
};

/* Builds the platform tables in buf (cap bytes, to be guest memory at base).
 * Returns the RSDP's address; asserts when cap is too small (a model bug: the
 * area is sized for SNP_MAX_VCPUS). */
uint64_t acpi_build_platform(uint8_t *buf, uint64_t base, size_t cap,
                             const struct acpi_platform *p);

/* Builds the platform tables into guest RAM at ACPI_AREA_BASE; returns the RSDP. */
uint64_t acpi_install(struct mem *m, const struct acpi_platform *p);

#endif
