/* SPDX-License-Identifier: MIT */
/*
 * The platform devices (model/devices): each device on its own, then the
 * dispatch with a stand-in fabric that records the messages it is asked to
 * route and a stand-in host that records exits. What each test expects comes
 * from the device's datasheet or spec (cited in the device's source).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "snpref/abi.h"
#include "testdev.h"
#include "ck_run.h"

/* ---- A fabric that records routed messages ------------------------------------- */

struct routed {
    uint32_t dest;
    bool logical;
    struct fab_msg m;
};

static struct routed g_routed[64];
static int g_nrouted;

static void rec_route(struct fabric *f, uint32_t dest, bool logical, const struct fab_msg *m)
{
    (void)f;
    ck_assert_int_lt(g_nrouted, 64);
    g_routed[g_nrouted++] = (struct routed){dest, logical, *m};
}

static const struct fabric_ops rec_ops = {.name = "recorder", .route = rec_route};
static struct fabric rec_fab = {&rec_ops};

/* ---- A host that records what the devices report ---------------------------------- */

static uint64_t g_now;
static int g_exits;
static uint32_t g_exit_value;

static uint64_t host_now(void *ctx, int vcpu)
{
    (void)ctx, (void)vcpu;
    return g_now;
}

static void host_exit(void *ctx, int vcpu, uint32_t value)
{
    (void)ctx, (void)vcpu;
    g_exits++;
    g_exit_value = value;
}

static void host_post(void *ctx, int vcpu, uint64_t value) { (void)ctx, (void)vcpu, (void)value; }

/* One pending timed callback at a time is all the devices under test need. */
static struct {
    uint64_t at, id;
    void (*fn)(void *);
    void *arg;
} g_timer;

static uint64_t host_schedule(void *ctx, uint64_t at, void (*fn)(void *arg), void *arg)
{
    (void)ctx;
    ck_assert_msg(!g_timer.fn, "a second timed callback while one is pending");
    g_timer.at = at, g_timer.fn = fn, g_timer.arg = arg;
    return ++g_timer.id;
}

static void host_cancel(void *ctx, uint64_t id)
{
    (void)ctx;
    if (id == g_timer.id)
        g_timer.fn = NULL;
}

/* Advances time to `until`, running the callbacks due on the way. */
static void run_until(uint64_t until)
{
    while (g_timer.fn && g_timer.at <= until) {
        void (*fn)(void *) = g_timer.fn;
        g_now = g_timer.at;
        g_timer.fn = NULL;
        fn(g_timer.arg);
    }
    g_now = until;
}

static const struct dev_host host = {NULL, host_now, host_exit, host_post, host_schedule,
                                     host_cancel};

#define CORE_HZ 2000000000ull
#define EPOCH 1767225600ull /* 2026-01-01T00:00:00Z, a Thursday */

static void setup(struct devices *d, int input_fd)
{
    g_nrouted = 0, g_now = 0, g_exits = 0;
    g_timer.fn = NULL;
    struct dev_params p = {4, 64ull << 20, CORE_HZ, EPOCH, input_fd};
    char err[64];
    ck_assert_int_eq(devices_init(d, &p, NULL, NULL, &rec_fab, &host, err, sizeof(err)), 0);
}

static uint64_t in(struct devices *d, uint16_t port, uint8_t size)
{
    uint64_t v = 0;
    ck_assert(!dev_pio(d, 0, port, size, true, &v));
    return v;
}

static bool out(struct devices *d, uint16_t port, uint8_t size, uint64_t v)
{
    return dev_pio(d, 0, port, size, false, &v);
}

static uint32_t mmio_rd(struct devices *d, uint64_t gpa)
{
    uint64_t v = 0;
    dev_mmio(d, 0, gpa, 4, false, &v);
    return (uint32_t)v;
}

static void mmio_wr(struct devices *d, uint64_t gpa, uint32_t v)
{
    uint64_t x = v;
    dev_mmio(d, 0, gpa, 4, true, &x);
}

static void ioapic_set(struct devices *d, unsigned pin, uint64_t rte)
{
    mmio_wr(d, IOAPIC_BASE + IOAPIC_IOREGSEL, IOAPIC_REG_REDIR + 2 * pin + 1);
    mmio_wr(d, IOAPIC_BASE + IOAPIC_IOWIN, (uint32_t)(rte >> 32));
    mmio_wr(d, IOAPIC_BASE + IOAPIC_IOREGSEL, IOAPIC_REG_REDIR + 2 * pin);
    mmio_wr(d, IOAPIC_BASE + IOAPIC_IOWIN, (uint32_t)rte);
}

static uint32_t ioapic_reg(struct devices *d, unsigned reg)
{
    mmio_wr(d, IOAPIC_BASE + IOAPIC_IOREGSEL, reg);
    return mmio_rd(d, IOAPIC_BASE + IOAPIC_IOWIN);
}

/* ---- UART ------------------------------------------------------------------------ */

#define COM1 SNP_PORT_COM1

START_TEST(uart_registers_read_back_as_a_16550a_probe_expects)
{
    struct devices d;
    setup(&d, -1);
    out(&d, COM1 + UART_SCR, 1, 0xA5);
    ck_assert_uint_eq(in(&d, COM1 + UART_SCR, 1), 0xA5);
    out(&d, COM1 + UART_LCR, 1, 0x83); /* DLAB on */
    out(&d, COM1 + 0, 1, 0x01);
    out(&d, COM1 + 1, 1, 0x02);
    ck_assert_uint_eq(in(&d, COM1 + 0, 1), 0x01);
    ck_assert_uint_eq(in(&d, COM1 + 1, 1), 0x02);
    out(&d, COM1 + UART_LCR, 1, 0x03);
    ck_assert_uint_eq(in(&d, COM1 + UART_IER, 1), 0); /* IER, not DLM */
    ck_assert_uint_eq(in(&d, COM1 + UART_IIR_FCR, 1), 0x01);
    out(&d, COM1 + UART_IIR_FCR, 1, 0x01); /* FIFO on: IIR bits 7:6 read 11 */
    ck_assert_uint_eq(in(&d, COM1 + UART_IIR_FCR, 1) & 0xC0, 0xC0);
    ck_assert_uint_eq(in(&d, COM1 + UART_LSR, 1), UART_LSR_THRE | UART_LSR_TEMT);
    ck_assert_uint_eq(in(&d, COM1 + UART_MSR, 1), 0xB0); /* DCD DSR CTS */
    devices_destroy(&d);
}
END_TEST

START_TEST(uart_loopback_mirrors_the_modem_outputs_and_receives_what_it_sends)
{
    struct devices d;
    setup(&d, -1);
    out(&d, COM1 + UART_MCR, 1, UART_MCR_LOOP | 0x0A); /* RTS, OUT2 */
    ck_assert_uint_eq(in(&d, COM1 + UART_MSR, 1) & 0xF0, 0x90); /* CTS, DCD */
    out(&d, COM1 + UART_MCR, 1, UART_MCR_LOOP | 0x05); /* DTR, OUT1 */
    ck_assert_uint_eq(in(&d, COM1 + UART_MSR, 1) & 0xF0, 0x60); /* DSR, RI */
    out(&d, COM1, 1, 'Z');
    ck_assert_uint_eq(in(&d, COM1 + UART_LSR, 1) & UART_LSR_DR, UART_LSR_DR);
    ck_assert_uint_eq(in(&d, COM1, 1), 'Z');
    ck_assert_uint_eq(in(&d, COM1 + UART_LSR, 1) & UART_LSR_DR, 0);
    devices_destroy(&d);
}
END_TEST

START_TEST(uart_thre_interrupt_makes_an_edge_on_irq4_for_every_byte)
{
    struct devices d;
    setup(&d, -1);
    ioapic_set(&d, DEV_COM1_IRQ, 0x24); /* edge, physical, vector 0x24, dest 0 */
    out(&d, COM1 + UART_IER, 1, UART_IER_THRI);
    ck_assert_int_eq(g_nrouted, 1); /* enabling THRI with THR empty raises it */
    ck_assert_uint_eq(g_routed[0].m.vector, 0x24);
    ck_assert_uint_eq(in(&d, COM1 + UART_IIR_FCR, 1), 0x02);
    ck_assert_uint_eq(in(&d, COM1 + UART_IIR_FCR, 1), 0x01); /* reading IIR cleared it */
    out(&d, COM1, 1, 'a');
    out(&d, COM1, 1, 'b');
    ck_assert_int_eq(g_nrouted, 3);
    devices_destroy(&d);
}
END_TEST

START_TEST(uart_receives_its_input_and_raises_received_data)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "hi", 2), 2);
    close(fds[1]);
    struct devices d;
    setup(&d, fds[0]);
    ioapic_set(&d, DEV_COM1_IRQ, 0x30);
    out(&d, COM1 + UART_IER, 1, UART_IER_RDI);
    ck_assert_int_eq(g_nrouted, 0);
    dev_tick(&d);
    ck_assert_int_eq(g_nrouted, 1);
    ck_assert_uint_eq(in(&d, COM1 + UART_IIR_FCR, 1), 0x04);
    ck_assert_uint_eq(in(&d, COM1, 1), 'h');
    ck_assert_uint_eq(in(&d, COM1, 1), 'i');
    ck_assert_uint_eq(in(&d, COM1 + UART_LSR, 1) & UART_LSR_DR, 0); /* end of input */
    devices_destroy(&d);
    close(fds[0]);
}
END_TEST

/* ---- I/O APIC ---------------------------------------------------------------------- */

START_TEST(ioapic_version_names_24_entries_and_only_id_bits_27_24_are_writable)
{
    struct devices d;
    setup(&d, -1);
    ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_VER), 0x00170020u);
    mmio_wr(&d, IOAPIC_BASE + IOAPIC_IOWIN, 0xFFFFFFFF); /* VER is read-only */
    ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_VER), 0x00170020u);
    mmio_wr(&d, IOAPIC_BASE + IOAPIC_IOREGSEL, IOAPIC_REG_ID);
    mmio_wr(&d, IOAPIC_BASE + IOAPIC_IOWIN, 0xFFFFFFFF);
    ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_ID), 0x0F000000u);
    ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_ARB), 0x0F000000u);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) /* masked at reset */
        ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_REDIR + 2 * pin) & IOAPIC_RTE_MASKED,
                          IOAPIC_RTE_MASKED);
    devices_destroy(&d);
}
END_TEST

START_TEST(ioapic_edge_entry_sends_on_each_rising_edge_and_loses_a_masked_one)
{
    struct devices d;
    setup(&d, -1);
    ioapic_set(&d, 14, 0x76 | (3ull << 56));
    out(&d, TESTDEV_PORT_IRQ + 14, 1, 1);
    out(&d, TESTDEV_PORT_IRQ + 14, 1, 1); /* no new edge */
    out(&d, TESTDEV_PORT_IRQ + 14, 1, 0);
    ck_assert_int_eq(g_nrouted, 1);
    ck_assert_uint_eq(g_routed[0].dest, 3);
    ck_assert(!g_routed[0].logical && !g_routed[0].m.level);
    ioapic_set(&d, 14, 0x76 | IOAPIC_RTE_MASKED);
    out(&d, TESTDEV_PORT_IRQ + 14, 1, 1);
    out(&d, TESTDEV_PORT_IRQ + 14, 1, 0);
    ioapic_set(&d, 14, 0x76);
    ck_assert_int_eq(g_nrouted, 1);
    devices_destroy(&d);
}
END_TEST

START_TEST(ioapic_level_entry_waits_for_eoi_and_resends_while_asserted)
{
    struct devices d;
    setup(&d, -1);
    ioapic_set(&d, 15, 0x77 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_DESTMODE | (1ull << 56));
    out(&d, TESTDEV_PORT_IRQ + 15, 1, 1);
    ck_assert_int_eq(g_nrouted, 1);
    ck_assert(g_routed[0].logical && g_routed[0].m.level);
    ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_REDIR + 30) & IOAPIC_RTE_REMOTE_IRR,
                      IOAPIC_RTE_REMOTE_IRR);
    dev_eoi(&d, 0, 0x77); /* still asserted: sends again */
    ck_assert_int_eq(g_nrouted, 2);
    out(&d, TESTDEV_PORT_IRQ + 15, 1, 0);
    dev_eoi(&d, 0, 0x77);
    ck_assert_int_eq(g_nrouted, 2);
    ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_REDIR + 30) & IOAPIC_RTE_REMOTE_IRR, 0);
    /* Unmasking an asserted level input sends. */
    ioapic_set(&d, 15, 0x77 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);
    out(&d, TESTDEV_PORT_IRQ + 15, 1, 1);
    ck_assert_int_eq(g_nrouted, 2);
    ioapic_set(&d, 15, 0x77 | IOAPIC_RTE_LEVEL);
    ck_assert_int_eq(g_nrouted, 3);
    /* The directed EOI register of version 0x20 does the same as the broadcast. */
    out(&d, TESTDEV_PORT_IRQ + 15, 1, 0);
    mmio_wr(&d, IOAPIC_BASE + IOAPIC_EOI, 0x77);
    ck_assert_uint_eq(ioapic_reg(&d, IOAPIC_REG_REDIR + 30) & IOAPIC_RTE_REMOTE_IRR, 0);
    devices_destroy(&d);
}
END_TEST

START_TEST(testdev_irq0_reaches_pin_2_and_other_lines_their_own_pin)
{
    ck_assert_uint_eq(testdev_pin(TESTDEV_PORT_IRQ), 2);
    for (unsigned i = 1; i < TESTDEV_IRQS; i++)
        ck_assert_uint_eq(testdev_pin((uint16_t)(TESTDEV_PORT_IRQ + i)), i);
}
END_TEST

/* ---- RTC ------------------------------------------------------------------------ */

static uint8_t cmos(struct devices *d, uint8_t idx)
{
    out(d, RTC_PORT_INDEX, 1, idx);
    return (uint8_t)in(d, RTC_PORT_DATA, 1);
}

static void cmos_set(struct devices *d, uint8_t idx, uint8_t v)
{
    out(d, RTC_PORT_INDEX, 1, idx);
    out(d, RTC_PORT_DATA, 1, v);
}

START_TEST(rtc_shows_the_epoch_plus_simulated_time_in_bcd)
{
    struct devices d;
    setup(&d, -1);
    g_now = (3600ull + 2 * 60 + 5) * CORE_HZ; /* 01:02:05 */
    ck_assert_uint_eq(cmos(&d, RTC_SEC), 0x05);
    ck_assert_uint_eq(cmos(&d, RTC_MIN), 0x02);
    ck_assert_uint_eq(cmos(&d, RTC_HOUR), 0x01);
    ck_assert_uint_eq(cmos(&d, RTC_MDAY), 0x01);
    ck_assert_uint_eq(cmos(&d, RTC_MON), 0x01);
    ck_assert_uint_eq(cmos(&d, RTC_YEAR), 0x26);
    ck_assert_uint_eq(cmos(&d, RTC_CENTURY), 0x20);
    ck_assert_uint_eq(cmos(&d, RTC_WDAY), 5); /* Thursday, 1 = Sunday */
    ck_assert_uint_eq(cmos(&d, RTC_REG_D), RTC_D_VRT);
    cmos_set(&d, RTC_REG_B, RTC_B_2412 | RTC_B_DM); /* binary */
    ck_assert_uint_eq(cmos(&d, RTC_SEC), 5);
    cmos_set(&d, RTC_REG_B, RTC_B_DM); /* 12-hour: 01 AM */
    ck_assert_uint_eq(cmos(&d, RTC_HOUR), 1);
    g_now += 12 * 3600 * CORE_HZ; /* 13:02:05 = 1 PM */
    ck_assert_uint_eq(cmos(&d, RTC_HOUR), 0x81);
    devices_destroy(&d);
}
END_TEST

START_TEST(rtc_update_in_progress_is_set_only_in_the_last_244us_of_a_second)
{
    struct devices d;
    setup(&d, -1);
    g_now = CORE_HZ / 2;
    ck_assert_uint_eq(cmos(&d, RTC_REG_A) & RTC_A_UIP, 0);
    g_now = CORE_HZ - CORE_HZ / 1000000 * 244;
    ck_assert_uint_eq(cmos(&d, RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
    g_now = CORE_HZ;
    ck_assert_uint_eq(cmos(&d, RTC_REG_A) & RTC_A_UIP, 0);
    devices_destroy(&d);
}
END_TEST

START_TEST(rtc_set_and_write_moves_the_clock_which_keeps_running)
{
    struct devices d;
    setup(&d, -1);
    cmos_set(&d, RTC_REG_B, RTC_B_2412 | RTC_B_SET);
    cmos_set(&d, RTC_YEAR, 0x30);
    cmos_set(&d, RTC_MON, 0x07);
    cmos_set(&d, RTC_MDAY, 0x04);
    cmos_set(&d, RTC_HOUR, 0x12);
    cmos_set(&d, RTC_MIN, 0x00);
    cmos_set(&d, RTC_SEC, 0x00);
    cmos_set(&d, RTC_REG_B, RTC_B_2412);
    g_now = 10 * CORE_HZ;
    ck_assert_uint_eq(cmos(&d, RTC_YEAR), 0x30);
    ck_assert_uint_eq(cmos(&d, RTC_MON), 0x07);
    ck_assert_uint_eq(cmos(&d, RTC_HOUR), 0x12);
    ck_assert_uint_eq(cmos(&d, RTC_SEC), 0x10);
    devices_destroy(&d);
}
END_TEST

START_TEST(civil_dates_round_trip_through_unix_time)
{
    static const uint64_t t[] = {0, 951782400 /* 2000-02-29 */, EPOCH, 4102444799ull};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct rtc_date dt;
        rtc_civil(t[i], &dt);
        ck_assert_uint_eq(rtc_unix(&dt), t[i]);
    }
    struct rtc_date leap;
    rtc_civil(951782400, &leap);
    ck_assert_int_eq(leap.year, 2000);
    ck_assert_int_eq(leap.mon, 2);
    ck_assert_int_eq(leap.mday, 29);
}
END_TEST

/* ---- ACPI PM ------------------------------------------------------------------------ */

START_TEST(pm_timer_counts_at_3_579545_mhz_in_24_bits)
{
    struct devices d;
    setup(&d, -1);
    g_now = CORE_HZ; /* one second */
    ck_assert_uint_eq(in(&d, ACPI_PM_TMR_BLK, 4), 3579545u & 0xFFFFFF);
    g_now = 10 * CORE_HZ;
    ck_assert_uint_eq(in(&d, ACPI_PM_TMR_BLK, 4), 35795450u & 0xFFFFFF);
    ck_assert_uint_eq(in(&d, ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
    devices_destroy(&d);
}
END_TEST

START_TEST(pm1_status_is_write_one_to_clear_and_s5_powers_off)
{
    struct devices d;
    setup(&d, -1);
    d.pm.sts = ACPI_PM1_TMR_STS | ACPI_PM1_WAK_STS;
    out(&d, ACPI_PM1A_EVT_BLK, 2, ACPI_PM1_TMR_STS);
    ck_assert_uint_eq(in(&d, ACPI_PM1A_EVT_BLK, 2), ACPI_PM1_WAK_STS);
    out(&d, ACPI_PM1A_EVT_BLK + 2, 2, 0x0121);
    ck_assert_uint_eq(in(&d, ACPI_PM1A_EVT_BLK + 2, 2), 0x0121);
    ck_assert(!out(&d, ACPI_PM1A_CNT_BLK, 2, (1u << 10) | ACPI_PM1_SLP_EN)); /* S1: ignored */
    ck_assert_int_eq(g_exits, 0);
    ck_assert(out(&d, ACPI_PM1A_CNT_BLK, 2, (ACPI_SLP_TYP_S5 << 10) | ACPI_PM1_SLP_EN));
    ck_assert_int_eq(g_exits, 1);
    ck_assert_uint_eq(g_exit_value, 0);
    devices_destroy(&d);
}
END_TEST

/* ---- PIT ------------------------------------------------------------------------ */

/* Cycles for n PIT ticks, rounded up. */
static uint64_t pit_cycles(uint64_t n)
{
    return (n * CORE_HZ + PIT_HZ - 1) / PIT_HZ;
}

START_TEST(pit_channel0_rate_generator_sends_irq0_to_pin_2_every_period)
{
    struct devices d;
    setup(&d, -1);
    ioapic_set(&d, DEV_PIT_PIN, 0x30);
    out(&d, PIT_PORT_CTRL, 1, 0x34); /* channel 0, LSB then MSB, mode 2 */
    out(&d, PIT_PORT_BASE, 1, 0x9C); /* count 0x049C = 1180 ticks, about 1 ms */
    out(&d, PIT_PORT_BASE, 1, 0x04);
    run_until(pit_cycles(1180 * 10 - 1));
    ck_assert_int_eq(g_nrouted, 9); /* edges at 1180, 2360, ... 10620 ticks */
    run_until(pit_cycles(1180 * 10 + 100));
    ck_assert_int_eq(g_nrouted, 10);
    ck_assert_uint_eq(g_routed[9].m.vector, 0x30);
    /* A new control word stops the channel until a count is written. */
    out(&d, PIT_PORT_CTRL, 1, 0x34);
    run_until(g_now + pit_cycles(5000));
    ck_assert_int_eq(g_nrouted, 10);
    devices_destroy(&d);
}
END_TEST

START_TEST(pit_channel0_mode0_interrupts_once_at_terminal_count)
{
    struct devices d;
    setup(&d, -1);
    ioapic_set(&d, DEV_PIT_PIN, 0x31);
    out(&d, PIT_PORT_CTRL, 1, 0x30); /* channel 0, LSB then MSB, mode 0 */
    out(&d, PIT_PORT_BASE, 1, 100);
    out(&d, PIT_PORT_BASE, 1, 0);
    run_until(pit_cycles(99));
    ck_assert_int_eq(g_nrouted, 0);
    run_until(pit_cycles(100));
    ck_assert_int_eq(g_nrouted, 1);
    run_until(pit_cycles(100000));
    ck_assert_int_eq(g_nrouted, 1);
    devices_destroy(&d);
}
END_TEST

START_TEST(pit_channel2_counts_only_with_its_gate_and_shows_out2_in_port_61)
{
    struct devices d;
    setup(&d, -1);
    out(&d, PIT_PORT_CTRL, 1, 0xB0); /* channel 2, LSB then MSB, mode 0 */
    out(&d, PIT_PORT_BASE + 2, 1, 0xE8); /* 1000 */
    out(&d, PIT_PORT_BASE + 2, 1, 0x03);
    g_now = pit_cycles(5000);
    ck_assert_uint_eq(in(&d, PIT_PORT_61, 1) & 0x20, 0); /* gate low: not counting */
    out(&d, PIT_PORT_61, 1, 0x01);                        /* gate high, speaker off */
    uint64_t t0 = g_now;
    g_now = t0 + pit_cycles(400);
    out(&d, PIT_PORT_CTRL, 1, 0x80); /* latch channel 2 */
    unsigned lo = (unsigned)in(&d, PIT_PORT_BASE + 2, 1), hi = (unsigned)in(&d, PIT_PORT_BASE + 2, 1);
    ck_assert_uint_eq(lo | hi << 8, 600);
    ck_assert_uint_eq(in(&d, PIT_PORT_61, 1) & 0x21, 0x01);
    g_now = t0 + pit_cycles(1000);
    ck_assert_uint_eq(in(&d, PIT_PORT_61, 1) & 0x20, 0x20); /* OUT2 high at terminal count */
    devices_destroy(&d);
}
END_TEST

START_TEST(pit_read_back_latches_status_then_count)
{
    struct devices d;
    setup(&d, -1);
    out(&d, PIT_PORT_CTRL, 1, 0x76); /* channel 1, LSB then MSB, mode 3 */
    ck_assert_uint_eq(in(&d, PIT_PORT_BASE + 1, 1), 0); /* nothing loaded yet: count 0 */
    out(&d, PIT_PORT_BASE + 1, 1, 0x00);
    out(&d, PIT_PORT_BASE + 1, 1, 0x10); /* 4096 */
    out(&d, PIT_PORT_CTRL, 1, 0xC4);     /* read-back: count and status of channel 1 */
    /* Status: OUT high (first half of the square wave), count taken, rw 3, mode 3. */
    ck_assert_uint_eq(in(&d, PIT_PORT_BASE + 1, 1), 0x80 | 0x30 | 0x06);
    ck_assert_uint_eq(in(&d, PIT_PORT_BASE + 1, 1), 0x00);
    ck_assert_uint_eq(in(&d, PIT_PORT_BASE + 1, 1), 0x10);
    devices_destroy(&d);
}
END_TEST

/* ---- fw_cfg --------------------------------------------------------------------- */

static uint64_t fwcfg_item(struct devices *d, uint16_t key, unsigned n)
{
    out(d, FWCFG_PORT_SEL, 2, key);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= in(d, FWCFG_PORT_DATA, 1) << (8 * i);
    return v;
}

START_TEST(fwcfg_reports_signature_cpu_count_and_ram_size)
{
    struct devices d;
    setup(&d, -1);
    ck_assert_uint_eq(fwcfg_item(&d, FWCFG_SIGNATURE, 4), 0x554D4551u); /* "QEMU" */
    ck_assert_uint_eq(fwcfg_item(&d, FWCFG_NB_CPUS, 2), 4);
    ck_assert_uint_eq(fwcfg_item(&d, FWCFG_RAM_SIZE, 8), 64ull << 20);
    ck_assert_uint_eq(fwcfg_item(&d, FWCFG_ID, 4), 1);
    ck_assert_uint_eq(fwcfg_item(&d, 0x1234, 4), 0); /* no such item */
    ck_assert_uint_eq(fwcfg_item(&d, FWCFG_NB_CPUS, 4), 4); /* past the end reads 0 */
    devices_destroy(&d);
}
END_TEST

START_TEST(unclaimed_ports_read_all_ones_and_the_exit_port_ends_the_run)
{
    struct devices d;
    setup(&d, -1);
    ck_assert_uint_eq(in(&d, 0x1234, 2), 0xFFFF);
    ck_assert(out(&d, SNP_PORT_EXIT, 4, 7));
    ck_assert_int_eq(g_exits, 1);
    ck_assert_uint_eq(g_exit_value, 7);
    devices_destroy(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("devices");
    TCase *u = tcase_create("uart");
    tcase_add_test(u, uart_registers_read_back_as_a_16550a_probe_expects);
    tcase_add_test(u, uart_loopback_mirrors_the_modem_outputs_and_receives_what_it_sends);
    tcase_add_test(u, uart_thre_interrupt_makes_an_edge_on_irq4_for_every_byte);
    tcase_add_test(u, uart_receives_its_input_and_raises_received_data);
    suite_add_tcase(s, u);
    TCase *io = tcase_create("ioapic");
    tcase_add_test(io, ioapic_version_names_24_entries_and_only_id_bits_27_24_are_writable);
    tcase_add_test(io, ioapic_edge_entry_sends_on_each_rising_edge_and_loses_a_masked_one);
    tcase_add_test(io, ioapic_level_entry_waits_for_eoi_and_resends_while_asserted);
    tcase_add_test(io, testdev_irq0_reaches_pin_2_and_other_lines_their_own_pin);
    suite_add_tcase(s, io);
    TCase *rtc = tcase_create("rtc");
    tcase_add_test(rtc, rtc_shows_the_epoch_plus_simulated_time_in_bcd);
    tcase_add_test(rtc, rtc_update_in_progress_is_set_only_in_the_last_244us_of_a_second);
    tcase_add_test(rtc, rtc_set_and_write_moves_the_clock_which_keeps_running);
    tcase_add_test(rtc, civil_dates_round_trip_through_unix_time);
    suite_add_tcase(s, rtc);
    TCase *pit = tcase_create("pit");
    tcase_add_test(pit, pit_channel0_rate_generator_sends_irq0_to_pin_2_every_period);
    tcase_add_test(pit, pit_channel0_mode0_interrupts_once_at_terminal_count);
    tcase_add_test(pit, pit_channel2_counts_only_with_its_gate_and_shows_out2_in_port_61);
    tcase_add_test(pit, pit_read_back_latches_status_then_count);
    suite_add_tcase(s, pit);
    TCase *pm = tcase_create("acpi_pm_fwcfg");
    tcase_add_test(pm, pm_timer_counts_at_3_579545_mhz_in_24_bits);
    tcase_add_test(pm, pm1_status_is_write_one_to_clear_and_s5_powers_off);
    tcase_add_test(pm, fwcfg_reports_signature_cpu_count_and_ram_size);
    tcase_add_test(pm, unclaimed_ports_read_all_ones_and_the_exit_port_ends_the_run);
    suite_add_tcase(s, pm);
    return ck_run(s, CK_RUN_FORK);
}
