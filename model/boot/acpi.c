/* SPDX-License-Identifier: MIT */
/*
 * ACPI table builder and the PC platform's tables (acpi.h). Layouts follow the
 * ACPI Specification 6.5, section by section; the choices that are not fixed by
 * the specification follow QEMU's PC machines, which Linux boots without
 * complaint, and are explained where they are made.
 */
#include "acpi.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "snpref/base.h"

/* ---- Little-endian stores ------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

uint8_t acpi_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

/* ---- Builder --------------------------------------------------------------------- */

/* OEM fields of every header (section 5.2.6): OEMID, OEM Table ID, Creator ID. */
static const char oem_id[6] = {'S', 'N', 'P', 'R', 'E', 'F'};
static const char oem_table_id[8] = {'S', 'N', 'P', 'R', 'E', 'F', 'P', 'C'};
static const char creator_id[4] = {'S', 'N', 'P', 'R'};

void acpi_begin(struct acpi_builder *b, uint8_t *buf, uint64_t base, size_t cap)
{
    SNP_ASSERT((base & 15) == 0 && cap >= 48);
    memset(b, 0, sizeof(*b));
    b->buf = buf;
    b->base = base;
    b->cap = cap;
    memset(buf, 0, cap);
    b->used = 48; /* the RSDP, rounded up to the 16-byte search granule */
}

static uint8_t *reserve(struct acpi_builder *b, size_t len, size_t align, uint64_t *gpa)
{
    SNP_ASSERT(align && (align & (align - 1)) == 0);
    size_t at = (b->used + align - 1) & ~(align - 1);
    SNP_ASSERT(at <= b->cap && len <= b->cap - at); /* area sized for SNP_MAX_VCPUS */
    b->used = at + len;
    *gpa = b->base + at;
    return b->buf + at;
}

uint64_t acpi_add_raw(struct acpi_builder *b, const void *data, size_t len, size_t align)
{
    uint64_t gpa;
    memcpy(reserve(b, len, align, &gpa), data, len);
    return gpa;
}

uint64_t acpi_add_table(struct acpi_builder *b, const char sig[4], uint8_t revision,
                        const void *body, size_t len, int listed)
{
    uint64_t gpa;
    /* Tables are 8-byte aligned: nothing requires it, but every reader expects it. */
    uint8_t *t = reserve(b, ACPI_HEADER_LEN + len, 8, &gpa);
    memcpy(t, sig, 4);
    put32(t + 4, (uint32_t)(ACPI_HEADER_LEN + len));
    t[8] = revision;
    memcpy(t + 10, oem_id, 6);
    memcpy(t + 16, oem_table_id, 8);
    put32(t + 24, 1); /* OEM revision */
    memcpy(t + 28, creator_id, 4);
    put32(t + 32, 1); /* creator revision */
    if (len)
        memcpy(t + ACPI_HEADER_LEN, body, len);
    t[9] = acpi_checksum(t, ACPI_HEADER_LEN + len);
    if (listed) {
        SNP_ASSERT(b->nlisted < ACPI_MAX_TABLES);
        b->listed[b->nlisted++] = gpa;
    }
    return gpa;
}

uint64_t acpi_finish(struct acpi_builder *b)
{
    /* RSDT (section 5.2.7): 32-bit entries, for loaders and OSes that predate the
     * XSDT (kvm-unit-tests reads it); every table here is below 4 GiB. XSDT
     * (section 5.2.8): the same entries, 64-bit. */
    uint8_t rsdt[4 * ACPI_MAX_TABLES], xsdt[8 * ACPI_MAX_TABLES];
    for (unsigned i = 0; i < b->nlisted; i++) {
        SNP_ASSERT(b->listed[i] < (1ull << 32));
        put32(rsdt + 4 * i, (uint32_t)b->listed[i]);
        put64(xsdt + 8 * i, b->listed[i]);
    }
    uint64_t rsdt_gpa = acpi_add_table(b, "RSDT", 1, rsdt, 4 * b->nlisted, 0);
    uint64_t xsdt_gpa = acpi_add_table(b, "XSDT", 1, xsdt, 8 * b->nlisted, 0);
    /* RSDP (section 5.2.5.3), revision 2: the first checksum covers the ACPI 1.0
     * part (20 bytes), the extended one all 36. */
    uint8_t *r = b->buf;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, oem_id, 6);
    r[15] = 2;
    put32(r + 16, (uint32_t)rsdt_gpa);
    put32(r + 20, ACPI_RSDP_LEN);
    put64(r + 24, xsdt_gpa);
    r[8] = acpi_checksum(r, 20);
    r[32] = acpi_checksum(r, ACPI_RSDP_LEN);
    return b->base;
}

/* ---- The platform's tables ------------------------------------------------------ */

/* FACS (section 5.2.10): 64 bytes, 64-byte aligned, no checksum. Required of a
 * platform that is not hardware-reduced; Linux keeps its waking vector and
 * global lock here. */
static uint64_t add_facs(struct acpi_builder *b)
{
    uint8_t f[64] = {0};
    memcpy(f, "FACS", 4);
    put32(f + 4, sizeof(f));
    f[32] = 2; /* version */
    return acpi_add_raw(b, f, sizeof(f), 64);
}

/* DSDT (section 5.2.11.1): a definition block whose only object is the \_S5
 * package (section 7.4.2: the SLP_TYP values of the soft-off state), so an OS
 * can power the machine off through PM1a_CNT (devices/acpi_pm.c answers S5 with
 * SLP_TYP 0, ACPI_SLP_TYP_S5). Revision 2 makes AML integers 64-bit (as that
 * section says). No device is declared: the platform's devices are at their
 * fixed PC addresses. */
static uint64_t add_dsdt(struct acpi_builder *b)
{
    /* Name (_S5, Package (4) {0, 0, 0, 0}) in AML (section 20.2.5):
     * NameOp "_S5_" PackageOp PkgLength(6) NumElements(4) ZeroOp x4. */
    static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};
    return acpi_add_table(b, "DSDT", 2, s5, sizeof(s5), 0);
}

/* A Generic Address Structure (section 5.2.3.2) for an I/O port register. */
static void gas_io(uint8_t *p, uint16_t port, uint8_t bits, uint8_t access_size)
{
    p[0] = 1; /* system I/O space */
    p[1] = bits;
    p[2] = 0;
    p[3] = access_size; /* 1 byte, 2 word, 3 dword */
    put64(p + 4, port);
}

#define FADT_LEN (276 - ACPI_HEADER_LEN) /* the revision 6 FADT */
/* FADT fixed feature flags and IA-PC boot architecture flags (section 5.2.9). */
#define FADT_WBINVD     (1u << 0)
#define FADT_PROC_C1    (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define BOOT_VGA_NOT_PRESENT (1u << 2)

/*
 * FADT (section 5.2.9), revision 6.5, not hardware-reduced. Hardware-reduced
 * ACPI (section 4.1) has no PM timer, which the platform is to have, and Linux
 * on a hardware-reduced x86 platform drops the legacy PIC and the timer setup
 * (arch/x86/kernel/acpi/boot.c, acpi_reduced_hw_init). So the FADT describes
 * fixed hardware at QEMU ICH9's ports: the PM1a event block at 0x600 (4 bytes),
 * PM1a control at 0x604 (2) and the 24-bit PM timer at 0x608 (4; TMR_VAL_EXT
 * clear) — PM1a event and control are the fields ACPICA requires
 * (tbfadt.c). SMI_CMD is 0: the platform is always in ACPI mode, so the OS
 * never performs the SMI handshake (section 5.2.9, SMI_CMD). The 32-bit and X_ fields
 * agree, so ACPICA reports no 32/64X mismatch. IA-PC boot flags: no 8042 (the
 * platform has no keyboard controller), no VGA; a CMOS RTC is present.
 */
static uint64_t add_fadt(struct acpi_builder *b, uint64_t facs, uint64_t dsdt)
{
    uint8_t f[FADT_LEN] = {0};
/* T(offset): a field at its offset in the table, header included. */
#define T(off) (f + (off) - ACPI_HEADER_LEN)
    put32(T(36), (uint32_t)facs);     /* FIRMWARE_CTRL; X_FIRMWARE_CTRL stays 0 */
    put32(T(40), (uint32_t)dsdt);
    put16(T(46), ACPI_SCI_IRQ);
    put32(T(56), ACPI_PM_BASE);       /* PM1a_EVT_BLK */
    put32(T(64), ACPI_PM_BASE + 4);   /* PM1a_CNT_BLK */
    put32(T(76), ACPI_PM_TMR);        /* PM_TMR_BLK */
    *T(88) = 4;                       /* PM1_EVT_LEN */
    *T(89) = 2;                       /* PM1_CNT_LEN */
    *T(91) = 4;                       /* PM_TMR_LEN */
    put16(T(96), 0xFFF);              /* P_LVL2_LAT > 100: C2 not supported */
    put16(T(98), 0xFFF);              /* P_LVL3_LAT > 1000: C3 not supported */
    *T(108) = 0x32;                   /* CENTURY: the RTC's CMOS index, as on PCs */
    put16(T(109), BOOT_VGA_NOT_PRESENT);
    put32(T(112), FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON);
    *T(131) = 5;                      /* FADT minor version: ACPI 6.5 */
    put64(T(140), dsdt);              /* X_DSDT */
    gas_io(T(148), ACPI_PM_BASE, 32, 3);
    gas_io(T(172), ACPI_PM_BASE + 4, 16, 2);
    gas_io(T(208), ACPI_PM_TMR, 32, 3);
    memcpy(T(268), "SNPREF\0\0", 8);  /* hypervisor vendor identity */
#undef T
    return acpi_add_table(b, "FACP", 6, f, sizeof(f), 1);
}

/* MADT flags and interrupt controller structure types (section 5.2.12). */
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC       0
#define MADT_IOAPIC      1
#define MADT_ISO         2
#define MADT_X2APIC      9
#define MADT_ENABLED     1u
#define MPS_INTI_ACTIVE_HIGH 0x1u /* MPS INTI flags (5.2.12.5): polarity bits 1:0 */
#define MPS_INTI_LEVEL       0xCu /* trigger mode bits 3:2 */

static size_t madt_cpu(uint8_t *e, unsigned uid, uint32_t apic_id)
{
    /* Section 5.2.12.12 (compatibility note): an APIC ID below 255 goes in a
     * Processor Local APIC structure (5.2.12.2); IDs of 255 and up, which that
     * structure cannot hold (255 is its broadcast ID), in a Processor Local
     * x2APIC structure. An x2APIC structure for an ID below 255 next to a local
     * APIC one would describe the processor twice: Linux ignores it since
     * "x86/acpi: Ignore invalid x2APIC entries" and older kernels count it twice. */
    if (apic_id < 255) {
        e[0] = MADT_LAPIC, e[1] = 8;
        e[2] = (uint8_t)uid;
        e[3] = (uint8_t)apic_id;
        put32(e + 4, MADT_ENABLED);
        return 8;
    }
    e[0] = MADT_X2APIC, e[1] = 16;
    put16(e + 2, 0);
    put32(e + 4, apic_id);
    put32(e + 8, MADT_ENABLED);
    put32(e + 12, uid);
    return 16;
}

/* Interrupt Source Override (section 5.2.12.5), ISA bus. */
static size_t madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    e[0] = MADT_ISO, e[1] = 10;
    e[2] = 0;
    e[3] = irq;
    put32(e + 4, gsi);
    put16(e + 8, flags);
    return 10;
}

/*
 * MADT (section 5.2.12), revision 5 (the Online Capable flag of ACPI 6.3 and
 * later is 0: every processor is enabled). The local APIC address is the
 * architectural 0xFEE00000; PCAT_COMPAT says dual 8259s are present, as on a PC
 * (Linux masks them). One IOAPIC at 0xFEC00000 with GSI base 0 (5.2.12.3), and
 * QEMU's overrides: IRQ0 (the PIT) on GSI 2 with conforming flags, and the SCI
 * on IRQ 9 level-triggered, active high (5.2.12.5; section 5.2.9: "SCI_INT").
 */
static uint64_t add_madt(struct acpi_builder *b, const struct acpi_platform *p)
{
    uint8_t m[8 + 16 * 256 + 12 + 2 * 10];
    SNP_ASSERT(p->nvcpus <= 256);
    size_t n = 0;
    put32(m, ACPI_LAPIC_BASE);
    put32(m + 4, MADT_PCAT_COMPAT);
    n = 8;
    for (unsigned i = 0; i < p->nvcpus; i++)
        n += madt_cpu(m + n, i, p->apic_ids[i]);
    uint8_t *io = m + n;
    io[0] = MADT_IOAPIC, io[1] = 12;
    io[2] = 0; /* IOAPIC ID, as QEMU */
    io[3] = 0;
    put32(io + 4, ACPI_IOAPIC_BASE);
    put32(io + 8, 0);
    n += 12;
    n += madt_iso(m + n, 0, 2, 0);
    n += madt_iso(m + n, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL);
    return acpi_add_table(b, "APIC", 5, m, n, 1);
}

/* One ASPT register structure: {type, length} then its 28 bytes. */
static uint8_t *aspt_entry(uint8_t *e, uint16_t type)
{
    memset(e, 0, ACPI_ASPT_ENTRY_LEN);
    put16(e, type);
    put16(e + 2, ACPI_ASPT_ENTRY_LEN);
    return e + 4;
}

uint64_t acpi_add_aspt(struct acpi_builder *b, const struct acpi_aspt *a)
{
    uint8_t body[4 + 3 * ACPI_ASPT_ENTRY_LEN];
    put32(body, 3);
    /* acpi_aspt_global_regs: reserved u32, then the three addresses. */
    uint8_t *e = aspt_entry(body + 4, ACPI_ASPT_GLOBAL_REGS);
    put64(e + 4, a->feature);
    put64(e + 12, a->irq_en);
    put64(e + 20, a->irq_st);
    /* acpi_aspt_sev_mbox_regs: mbox_irq_id u8, reserved[3], the three addresses. */
    e = aspt_entry(body + 4 + ACPI_ASPT_ENTRY_LEN, ACPI_ASPT_SEV_MBOX_REGS);
    e[0] = a->mbox_irq_id;
    put64(e + 4, a->cmd_resp);
    put64(e + 12, a->cmd_buf_lo);
    put64(e + 20, a->cmd_buf_hi);
    /* acpi_aspt_acpi_mbox_regs: reserved1 u32, cmd_resp u64, reserved2 u64[2]. */
    e = aspt_entry(body + 4 + 2 * ACPI_ASPT_ENTRY_LEN, ACPI_ASPT_ACPI_MBOX_REGS);
    put64(e + 4, a->acpi_cmd_resp);
    return acpi_add_table(b, "ASPT", ACPI_ASPT_REVISION, body, sizeof(body), 1);
}

uint64_t acpi_build_platform(uint8_t *buf, uint64_t base, size_t cap,
                             const struct acpi_platform *p)
{
    struct acpi_builder b;
    acpi_begin(&b, buf, base, cap);
    uint64_t facs = add_facs(&b);
    uint64_t dsdt = add_dsdt(&b);
    add_fadt(&b, facs, dsdt);
    add_madt(&b, p);
    if (p->aspt)
        acpi_add_aspt(&b, p->aspt);
    return acpi_finish(&b);
}

uint64_t acpi_install(struct mem *m, const struct acpi_platform *p)
{
    SNP_ASSERT(m->size >= ACPI_AREA_BASE + ACPI_AREA_SIZE);
    uint8_t *area = malloc(ACPI_AREA_SIZE);
    SNP_ASSERT(area);
    uint64_t rsdp = acpi_build_platform(area, ACPI_AREA_BASE, ACPI_AREA_SIZE, p);
    SNP_ASSERT(mem_write(m, ACPI_AREA_BASE, area, ACPI_AREA_SIZE));
    free(area);
    return rsdp;
}
