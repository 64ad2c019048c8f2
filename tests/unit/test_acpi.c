/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the ACPI tables (model/boot/acpi.c) against the ACPI
 * Specification 6.5: the RSDP's two checksums and its length, every table's
 * checksum and length, the RSDT/XSDT entries, the FADT's DSDT, FACS and PM
 * timer, the MADT's entry counts for 1, 4, 255 and 256 vCPUs (Processor Local
 * APIC entries below APIC ID 255, x2APIC entries only from 255), the IOAPIC
 * and the interrupt source overrides; that a scan of the BIOS area as an OS
 * does it (section 5.2.5.1) finds the RSDP; and that one more table (the ASPT a
 * later issue adds) is listed like the others. The tables are parsed here with
 * offsets written from the specification, not with the builder's code.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "mem.h"
#include "ck_run.h"

static uint8_t g_area[ACPI_AREA_SIZE];
static uint32_t g_ids[300];
static uint64_t g_rsdp;

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* The host bytes of guest-physical gpa inside the area (asserts it is inside). */
static const uint8_t *at(uint64_t gpa, size_t len)
{
    ck_assert_uint_ge(gpa, ACPI_AREA_BASE);
    ck_assert_uint_le(gpa + len, ACPI_AREA_BASE + ACPI_AREA_SIZE);
    return g_area + (gpa - ACPI_AREA_BASE);
}

static void build(unsigned n)
{
    ck_assert_uint_le(n, 300);
    for (unsigned i = 0; i < n; i++)
        g_ids[i] = i;
    struct acpi_platform p = {n, g_ids, NULL};
    g_rsdp = acpi_build_platform(g_area, ACPI_AREA_BASE, sizeof(g_area), &p);
}

/* A table by address: checks its header (section 5.2.6) and returns it. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
    const uint8_t *t = at(gpa, 36);
    uint32_t len = rd32(t + 4);
    ck_assert_uint_ge(len, 36);
    t = at(gpa, len);
    ck_assert_msg(memcmp(t, sig, 4) == 0, "expected %s, found %.4s", sig, t);
    ck_assert_uint_eq(sum(t, len), 0);
    ck_assert_int_eq(memcmp(t + 10, "SNPREF", 6), 0);
    return t;
}

/* The XSDT's entry with this signature (0 if none). */
static uint64_t find(const char *sig)
{
    const uint8_t *x = table(rd64(at(g_rsdp, 36) + 24), "XSDT");
    for (uint32_t off = 36; off < rd32(x + 4); off += 8)
        if (memcmp(at(rd64(x + off), 4), sig, 4) == 0)
            return rd64(x + off);
    return 0;
}

START_TEST(rsdp_has_revision_2_length_36_and_both_checksums_sum_to_zero)
{
    build(4);
    ck_assert_uint_eq(g_rsdp % 16, 0);
    const uint8_t *r = at(g_rsdp, 36);
    ck_assert_int_eq(memcmp(r, "RSD PTR ", 8), 0);
    ck_assert_uint_eq(r[15], 2);
    ck_assert_uint_eq(rd32(r + 20), 36);
    ck_assert_uint_eq(sum(r, 20), 0);
    ck_assert_uint_eq(sum(r, 36), 0);
    table(rd32(r + 16), "RSDT");
    table(rd64(r + 24), "XSDT");
}
END_TEST

START_TEST(rsdt_and_xsdt_list_the_fadt_and_the_madt_with_the_same_addresses)
{
    build(4);
    const uint8_t *r = at(g_rsdp, 36);
    const uint8_t *rs = table(rd32(r + 16), "RSDT"), *xs = table(rd64(r + 24), "XSDT");
    ck_assert_uint_eq(rd32(rs + 4), 36 + 2 * 4);
    ck_assert_uint_eq(rd32(xs + 4), 36 + 2 * 8);
    for (unsigned i = 0; i < 2; i++)
        ck_assert_uint_eq(rd32(rs + 36 + 4 * i), rd64(xs + 36 + 8 * i));
    table(find("FACP"), "FACP");
    table(find("APIC"), "APIC");
    ck_assert_uint_eq(find("DSDT"), 0); /* reached through the FADT, not listed */
}
END_TEST

START_TEST(fadt_points_at_a_valid_dsdt_and_facs_and_describes_the_pm_timer)
{
    build(1);
    const uint8_t *f = table(find("FACP"), "FACP");
    ck_assert_uint_eq(rd32(f + 4), 276); /* revision 6 layout (section 5.2.9) */
    ck_assert_uint_eq(f[8], 6);
    ck_assert_uint_eq(f[131], 5);
    /* DSDT at offset 40 and X_DSDT at 140 agree. */
    ck_assert_uint_eq(rd32(f + 40), rd64(f + 140));
    const uint8_t *d = table(rd64(f + 140), "DSDT");
    ck_assert_uint_ge(d[8], 2); /* 64-bit AML integers */
    /* FACS (section 5.2.10): 64 bytes, 64-byte aligned, through FIRMWARE_CTRL. */
    uint64_t facs = rd32(f + 36);
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert_uint_eq(rd64(f + 132), 0);
    ck_assert_int_eq(memcmp(at(facs, 64), "FACS", 4), 0);
    ck_assert_uint_eq(rd32(at(facs, 64) + 4), 64);
    ck_assert_uint_eq(rd16(f + 46), 9); /* SCI_INT */
    ck_assert_uint_eq(rd32(f + 48), 0); /* SMI_CMD: always in ACPI mode */
    /* PM1a event (4 bytes) and control (2), the PM timer (4) at 0x608, and the
     * matching X_ Generic Address Structures (I/O space, width 8 x length). */
    static const struct { unsigned off32, len_off, xoff; uint32_t port, len; } blk[] = {
        {56, 88, 148, 0x600, 4}, {64, 89, 172, 0x604, 2}, {76, 91, 208, 0x608, 4}};
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(rd32(f + blk[i].off32), blk[i].port);
        ck_assert_uint_eq(f[blk[i].len_off], blk[i].len);
        ck_assert_uint_eq(f[blk[i].xoff], 1);
        ck_assert_uint_eq(f[blk[i].xoff + 1], 8 * blk[i].len);
        ck_assert_uint_eq(rd64(f + blk[i].xoff + 4), blk[i].port);
    }
    ck_assert_uint_eq(rd32(f + 112) & (1u << 20), 0); /* not HW_REDUCED_ACPI */
    ck_assert_uint_eq(rd32(f + 112) & (1u << 8), 0);  /* a 24-bit PM timer */
}
END_TEST

struct madt_counts {
    unsigned lapic, x2apic, ioapic, iso, other;
};

/* Walks the MADT's interrupt controller structures (section 5.2.12). */
static struct madt_counts walk_madt(const uint8_t *m, uint32_t *ids, unsigned cap)
{
    struct madt_counts c = {0};
    uint32_t len = rd32(m + 4), off = 44;
    unsigned n = 0;
    while (off < len) {
        const uint8_t *e = m + off;
        ck_assert_uint_ge(e[1], 2);
        ck_assert_uint_le(off + e[1], len);
        switch (e[0]) {
        case 0:
            ck_assert_uint_eq(e[1], 8);
            ck_assert_uint_eq(rd32(e + 4) & 1, 1);
            ck_assert_uint_lt(e[3], 255);
            ck_assert_uint_lt(n, cap);
            ids[n++] = e[3];
            c.lapic++;
            break;
        case 9:
            ck_assert_uint_eq(e[1], 16);
            ck_assert_uint_eq(rd32(e + 8) & 1, 1);
            ck_assert_uint_lt(n, cap);
            ids[n++] = rd32(e + 4);
            c.x2apic++;
            break;
        case 1: c.ioapic++; break;
        case 2: c.iso++; break;
        default: c.other++; break;
        }
        off += e[1];
    }
    ck_assert_uint_eq(off, len);
    return c;
}

static const unsigned vcpu_counts[] = {1, 4, 255, 256};

START_TEST(madt_has_one_processor_entry_per_vcpu_lapic_below_255_x2apic_from_255)
{
    unsigned n = vcpu_counts[_i];
    build(n);
    const uint8_t *m = table(find("APIC"), "APIC");
    ck_assert_uint_eq(rd32(m + 36), 0xFEE00000u);
    ck_assert_uint_eq(rd32(m + 40) & 1, 1); /* PCAT_COMPAT */
    uint32_t ids[300];
    struct madt_counts c = walk_madt(m, ids, 300);
    ck_assert_uint_eq(c.lapic, n < 255 ? n : 255);
    ck_assert_uint_eq(c.x2apic, n > 255 ? n - 255 : 0);
    ck_assert_uint_eq(c.ioapic, 1);
    ck_assert_uint_eq(c.iso, 2);
    ck_assert_uint_eq(c.other, 0);
    for (unsigned i = 0; i < n; i++)
        ck_assert_uint_eq(ids[i], i);
    ck_assert_uint_eq(rd32(m + 4), 44 + 8 * c.lapic + 16 * c.x2apic + 12 + 2 * 10);
}
END_TEST

START_TEST(apic_ids_from_255_up_get_x2apic_entries_only)
{
    static const uint32_t sparse[] = {0, 254, 255, 300, 0x1000};
    struct acpi_platform p = {5, sparse, NULL};
    g_rsdp = acpi_build_platform(g_area, ACPI_AREA_BASE, sizeof(g_area), &p);
    const uint8_t *m = table(find("APIC"), "APIC");
    uint32_t ids[8];
    struct madt_counts c = walk_madt(m, ids, 8);
    ck_assert_uint_eq(c.lapic, 2);
    ck_assert_uint_eq(c.x2apic, 3);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(ids[i], sparse[i]);
    /* The x2APIC entries carry the processor UID at offset 12. */
    const uint8_t *e = m + 44 + 2 * 8;
    for (unsigned i = 2; i < 5; i++, e += 16) {
        ck_assert_uint_eq(e[0], 9);
        ck_assert_uint_eq(rd32(e + 12), i);
    }
}
END_TEST

START_TEST(madt_has_the_ioapic_at_fec00000_and_the_qemu_interrupt_overrides)
{
    build(4);
    const uint8_t *m = table(find("APIC"), "APIC");
    const uint8_t *e = m + 44 + 4 * 8;
    ck_assert_uint_eq(e[0], 1);
    ck_assert_uint_eq(e[1], 12);
    ck_assert_uint_eq(rd32(e + 4), 0xFEC00000u);
    ck_assert_uint_eq(rd32(e + 8), 0); /* GSI base */
    e += 12;
    /* IRQ0 -> GSI 2, conforming; IRQ9 (the SCI) -> GSI 9, active high, level. */
    ck_assert_uint_eq(e[0], 2);
    ck_assert_uint_eq(e[1], 10);
    ck_assert_uint_eq(e[2], 0);
    ck_assert_uint_eq(e[3], 0);
    ck_assert_uint_eq(rd32(e + 4), 2);
    ck_assert_uint_eq(rd16(e + 8), 0);
    e += 10;
    ck_assert_uint_eq(e[3], 9);
    ck_assert_uint_eq(rd32(e + 4), 9);
    ck_assert_uint_eq(rd16(e + 8), 0xD);
}
END_TEST

START_TEST(rsdp_is_found_by_scanning_the_bios_area_in_guest_ram)
{
    struct mem m;
    char err[128];
    ck_assert_int_eq(mem_init(&m, 4ull << 20, err, sizeof(err)), 0);
    struct acpi_platform p = {2, (uint32_t[]){0, 1}, NULL};
    uint64_t rsdp = acpi_install(&m, &p);
    /* As an OS does it (section 5.2.5.1): 16-byte boundaries of
     * 0xE0000-0xFFFFF, the signature and the ACPI 1.0 checksum. */
    uint64_t found = 0;
    for (uint64_t a = 0xE0000; a < 0x100000 && !found; a += 16)
        if (memcmp(m.ram + a, "RSD PTR ", 8) == 0 && sum(m.ram + a, 20) == 0)
            found = a;
    ck_assert_uint_eq(found, rsdp);
    ck_assert_uint_eq(sum(m.ram + found, 36), 0);
    uint64_t xsdt = rd64(m.ram + found + 24);
    ck_assert_int_eq(memcmp(m.ram + xsdt, "XSDT", 4), 0);
    mem_destroy(&m);
}
END_TEST

START_TEST(one_more_table_is_listed_checksummed_and_placed_after_the_others)
{
    struct acpi_builder b;
    acpi_begin(&b, g_area, ACPI_AREA_BASE, sizeof(g_area));
    uint8_t body[20];
    for (unsigned i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(0x40 + i);
    uint64_t a = acpi_add_table(&b, "FAKE", 1, body, sizeof(body), 1);
    uint64_t t = acpi_add_table(&b, "ASPT", 1, body, 7, 1);
    g_rsdp = acpi_finish(&b);
    ck_assert_uint_eq(g_rsdp, ACPI_AREA_BASE);
    ck_assert_uint_eq(find("FAKE"), a);
    ck_assert_uint_eq(find("ASPT"), t);
    ck_assert_uint_gt(t, a);
    const uint8_t *p = table(t, "ASPT");
    ck_assert_uint_eq(rd32(p + 4), 36 + 7);
    ck_assert_int_eq(memcmp(p + 36, body, 7), 0);
    ck_assert_uint_eq(acpi_checksum(body, 3), (uint8_t) - (0x40 + 0x41 + 0x42));
}
END_TEST

/*
 * The ASPT against ACPICA's definitions (Linux include/acpi/actbl1.h, added by
 * ACPICA "Add support for ASPT table in disassembler"): struct acpi_table_aspt
 * {header; u32 num_entries}, then acpi_aspt_header {u16 type; u16 length} led
 * structures: global_regs {reserved u32; feature, irq_en, irq_st u64},
 * sev_mbox_regs {mbox_irq_id u8; reserved[3]; cmd_resp, cmd_buf_lo,
 * cmd_buf_hi u64}, acpi_mbox_regs {reserved1 u32; cmd_resp u64;
 * reserved2[2] u64}; revision ASPT_REVISION_ID 1 (drivers/hv/psp.c checks it).
 * Offsets written out here from those structs, not taken from the builder.
 */
START_TEST(the_aspt_has_actbl1_layout_and_is_listed_in_the_xsdt)
{
    const struct acpi_aspt a = {0xFEB00000, 0xFEB00004, 0xFEB00008, 7,
                                0xFEB00010, 0xFEB00014, 0xFEB00018, 0xFEB00020};
    g_ids[0] = 0;
    struct acpi_platform p = {1, g_ids, &a};
    g_rsdp = acpi_build_platform(g_area, ACPI_AREA_BASE, sizeof(g_area), &p);
    uint64_t at_gpa = find("ASPT");
    ck_assert_uint_ne(at_gpa, 0);
    const uint8_t *t = table(at_gpa, "ASPT");
    ck_assert_uint_eq(rd32(t + 4), 136);       /* 36 + 4 + 3 * 32 */
    ck_assert_uint_eq(t[8], 1);                /* revision */
    ck_assert_uint_eq(rd32(t + 36), 3);        /* num_entries */
    /* 0: global registers at 40. */
    ck_assert_uint_eq(rd16(t + 40), 0);
    ck_assert_uint_eq(rd16(t + 42), 32);
    ck_assert_uint_eq(rd32(t + 44), 0);
    ck_assert_uint_eq(rd64(t + 48), 0xFEB00000);
    ck_assert_uint_eq(rd64(t + 56), 0xFEB00004);
    ck_assert_uint_eq(rd64(t + 64), 0xFEB00008);
    /* 1: SEV mailbox at 72. */
    ck_assert_uint_eq(rd16(t + 72), 1);
    ck_assert_uint_eq(rd16(t + 74), 32);
    ck_assert_uint_eq(t[76], 7);
    ck_assert(t[77] == 0 && t[78] == 0 && t[79] == 0);
    ck_assert_uint_eq(rd64(t + 80), 0xFEB00010);
    ck_assert_uint_eq(rd64(t + 88), 0xFEB00014);
    ck_assert_uint_eq(rd64(t + 96), 0xFEB00018);
    /* 2: ACPI mailbox at 104. */
    ck_assert_uint_eq(rd16(t + 104), 2);
    ck_assert_uint_eq(rd16(t + 106), 32);
    ck_assert_uint_eq(rd32(t + 108), 0);
    ck_assert_uint_eq(rd64(t + 112), 0xFEB00020);
    ck_assert_uint_eq(rd64(t + 120), 0);
    ck_assert_uint_eq(rd64(t + 128), 0);
    /* Linux's psp_validate_regs: every register in one page. */
    static const unsigned regs[] = {48, 56, 64, 80, 88, 96, 112};
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        ck_assert_uint_eq(rd64(t + regs[i]) >> 12, 0xFEB00);
    ck_assert_uint_eq(find("APIC") != 0 && find("FACP") != 0, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, rsdp_has_revision_2_length_36_and_both_checksums_sum_to_zero);
    tcase_add_test(tc, rsdt_and_xsdt_list_the_fadt_and_the_madt_with_the_same_addresses);
    tcase_add_test(tc, fadt_points_at_a_valid_dsdt_and_facs_and_describes_the_pm_timer);
    tcase_add_loop_test(tc, madt_has_one_processor_entry_per_vcpu_lapic_below_255_x2apic_from_255,
                        0, sizeof(vcpu_counts) / sizeof(vcpu_counts[0]));
    tcase_add_test(tc, apic_ids_from_255_up_get_x2apic_entries_only);
    tcase_add_test(tc, madt_has_the_ioapic_at_fec00000_and_the_qemu_interrupt_overrides);
    tcase_add_test(tc, rsdp_is_found_by_scanning_the_bios_area_in_guest_ram);
    tcase_add_test(tc, one_more_table_is_listed_checksummed_and_placed_after_the_others);
    tcase_add_test(tc, the_aspt_has_actbl1_layout_and_is_listed_in_the_xsdt);
    suite_add_tcase(s, tc);
    return ck_run(s, CK_RUN_FORK);
}
