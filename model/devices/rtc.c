/* SPDX-License-Identifier: MIT */
/*
 * The CMOS RTC (rtc.h). Time registers are derived at each read from the
 * epoch, simulated time and the guest's adjustment, in BCD or binary and 12-
 * or 24-hour form as register B says (MC146818A "Time, Calendar and Alarm
 * Locations"). Update-in-progress (register A bit 7) is set during the last
 * 244 us of each simulated second, the window in which the MC146818A updates
 * its registers, so a driver that waits for UIP to clear sees it clear. A
 * write to a time register while SET is on moves the clock: the offset is
 * recomputed when SET is cleared. Register D reads "valid RAM and time".
 *
 * XXX(model): the periodic, alarm and update-ended interrupts (IRQ 8) are not
 * generated; register C reads 0.
 */
#include "rtc.h"

#include <string.h>

#define UIP_WINDOW_US 244 /* MC146818A: t_BUC, update cycle */

void rtc_reset(struct rtc *r, uint64_t epoch_s, uint64_t core_hz)
{
    memset(r, 0, sizeof(*r));
    r->epoch_s = epoch_s;
    r->core_hz = core_hz ? core_hz : 1;
    r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
    r->cmos[RTC_REG_B] = RTC_B_2412;
    r->cmos[RTC_REG_D] = RTC_D_VRT;
}

/* Howard Hinnant's days-from-civil algorithm (public domain, "chrono-Compatible
 * Low-Level Date Algorithms"), in our own words. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void rtc_civil(uint64_t t, struct rtc_date *d)
{
    int64_t z = (int64_t)(t / 86400) + 719468;
    uint64_t secs = t % 86400;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    d->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    d->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    d->year = (int)(yoe + era * 400 + (d->mon <= 2));
    d->hour = (int)(secs / 3600);
    d->min = (int)(secs / 60 % 60);
    d->sec = (int)(secs % 60);
    d->wday = (int)((t / 86400 + 4) % 7) + 1; /* 1970-01-01 was a Thursday */
}

uint64_t rtc_unix(const struct rtc_date *d)
{
    return (uint64_t)(days_from_civil(d->year, d->mon, d->mday) * 86400 + d->hour * 3600 +
                      d->min * 60 + d->sec);
}

static uint64_t now_s(const struct rtc *r, uint64_t cycles)
{
    return (uint64_t)((int64_t)(r->epoch_s + cycles / r->core_hz) + r->offset_s);
}

static uint8_t enc(const struct rtc *r, int v)
{
    return (r->cmos[RTC_REG_B] & RTC_B_DM) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int dec(const struct rtc *r, uint8_t v)
{
    return (r->cmos[RTC_REG_B] & RTC_B_DM) ? v : (v >> 4) * 10 + (v & 0x0F);
}

static uint8_t hour_reg(const struct rtc *r, int h)
{
    if (r->cmos[RTC_REG_B] & RTC_B_2412)
        return enc(r, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(enc(r, h12) | (h >= 12 ? 0x80 : 0)); /* bit 7: PM */
}

/* The time registers as they read at `cycles` (SET on: as the guest wrote them). */
static uint8_t time_reg(const struct rtc *r, unsigned idx, uint64_t cycles)
{
    if (r->cmos[RTC_REG_B] & RTC_B_SET)
        return r->cmos[idx];
    struct rtc_date d;
    rtc_civil(now_s(r, cycles), &d);
    switch (idx) {
    case RTC_SEC: return enc(r, d.sec);
    case RTC_MIN: return enc(r, d.min);
    case RTC_HOUR: return hour_reg(r, d.hour);
    case RTC_WDAY: return enc(r, d.wday);
    case RTC_MDAY: return enc(r, d.mday);
    case RTC_MON: return enc(r, d.mon);
    case RTC_YEAR: return enc(r, d.year % 100);
    case RTC_CENTURY: return enc(r, d.year / 100);
    default: return r->cmos[idx];
    }
}

static bool is_time_reg(unsigned idx)
{
    return idx == RTC_SEC || idx == RTC_MIN || idx == RTC_HOUR || idx == RTC_WDAY ||
           idx == RTC_MDAY || idx == RTC_MON || idx == RTC_YEAR || idx == RTC_CENTURY;
}

static bool in_update(const struct rtc *r, uint64_t cycles)
{
    uint64_t into = cycles % r->core_hz;
    return into >= r->core_hz - r->core_hz / 1000000 * UIP_WINDOW_US;
}

uint8_t rtc_read(struct rtc *r, uint16_t port, uint64_t now_cycles)
{
    if (port == RTC_PORT_INDEX)
        return 0xFF; /* the index register is write-only */
    unsigned idx = r->index & 0x7F;
    if (is_time_reg(idx))
        return time_reg(r, idx, now_cycles);
    if (idx == RTC_REG_A) {
        bool uip = !(r->cmos[RTC_REG_B] & RTC_B_SET) && in_update(r, now_cycles);
        return (uint8_t)((r->cmos[RTC_REG_A] & 0x7F) | (uip ? RTC_A_UIP : 0));
    }
    return r->cmos[idx];
}

/* SET cleared: the registers the guest wrote become the time from now on. */
static void apply_set(struct rtc *r, uint64_t cycles)
{
    struct rtc_date d = {
        .year = dec(r, r->cmos[RTC_CENTURY]) * 100 + dec(r, r->cmos[RTC_YEAR]),
        .mon = dec(r, r->cmos[RTC_MON]), .mday = dec(r, r->cmos[RTC_MDAY]),
        .min = dec(r, r->cmos[RTC_MIN]), .sec = dec(r, r->cmos[RTC_SEC]),
    };
    uint8_t h = r->cmos[RTC_HOUR];
    if (r->cmos[RTC_REG_B] & RTC_B_2412)
        d.hour = dec(r, h);
    else
        d.hour = dec(r, h & 0x7F) % 12 + ((h & 0x80) ? 12 : 0);
    if (d.mon < 1 || d.mon > 12 || d.mday < 1 || d.mday > 31)
        return; /* not a date: the clock keeps running as it was */
    r->offset_s = (int64_t)rtc_unix(&d) - (int64_t)(r->epoch_s + cycles / r->core_hz);
}

void rtc_write(struct rtc *r, uint16_t port, uint8_t val, uint64_t now_cycles)
{
    if (port == RTC_PORT_INDEX) {
        r->index = val; /* bit 7 is the PC's NMI mask, not part of the index */
        return;
    }
    unsigned idx = r->index & 0x7F;
    if (idx == RTC_REG_B) {
        bool was_set = r->cmos[RTC_REG_B] & RTC_B_SET;
        if ((val & RTC_B_SET) && !was_set) /* freeze what reads now, for the writes */
            for (unsigned i = 0; i < 128; i++)
                if (is_time_reg(i))
                    r->cmos[i] = time_reg(r, i, now_cycles);
        r->cmos[RTC_REG_B] = val;
        if (was_set && !(val & RTC_B_SET))
            apply_set(r, now_cycles);
        return;
    }
    if (idx == RTC_REG_C || idx == RTC_REG_D)
        return; /* read-only */
    if (is_time_reg(idx) && !(r->cmos[RTC_REG_B] & RTC_B_SET)) {
        /* A running clock takes the write at once. */
        for (unsigned i = 0; i < 128; i++)
            if (is_time_reg(i))
                r->cmos[i] = time_reg(r, i, now_cycles);
        r->cmos[idx] = val;
        apply_set(r, now_cycles);
        return;
    }
    if (idx == RTC_REG_A)
        val &= 0x7F; /* UIP is read-only */
    r->cmos[idx] = val;
}
