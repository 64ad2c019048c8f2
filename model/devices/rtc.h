/* SPDX-License-Identifier: MIT */
/*
 * The CMOS real-time clock (Motorola MC146818A datasheet; the PC's CMOS at
 * ports 0x70/0x71). The time is a fixed epoch from the configuration plus
 * simulated time, so a run reads the same clock every time.
 */
#ifndef SNPREF_RTC_H
#define SNPREF_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71

/* Register indices (MC146818A figure 3). */
enum {
    RTC_SEC = 0x00, RTC_MIN = 0x02, RTC_HOUR = 0x04, RTC_WDAY = 0x06, RTC_MDAY = 0x07,
    RTC_MON = 0x08, RTC_YEAR = 0x09, RTC_REG_A = 0x0A, RTC_REG_B = 0x0B, RTC_REG_C = 0x0C,
    RTC_REG_D = 0x0D, RTC_CENTURY = 0x32,
};
#define RTC_A_UIP  0x80
#define RTC_B_SET  0x80
#define RTC_B_DM   0x04 /* binary, not BCD */
#define RTC_B_2412 0x02 /* 24-hour */
#define RTC_D_VRT  0x80

struct rtc {
    uint8_t index;
    uint8_t cmos[128];       /* registers and CMOS RAM; time registers are computed */
    int64_t offset_s;        /* seconds the guest moved the clock by */
    uint64_t epoch_s;        /* Unix time at simulated time 0 */
    uint64_t core_hz;        /* simulated cycles per second */
};

void rtc_reset(struct rtc *r, uint64_t epoch_s, uint64_t core_hz);
uint8_t rtc_read(struct rtc *r, uint16_t port, uint64_t now_cycles);
void rtc_write(struct rtc *r, uint16_t port, uint8_t val, uint64_t now_cycles);

/* Civil date of Unix time t (UTC), for the registers and the tests. */
struct rtc_date {
    int year, mon, mday, hour, min, sec, wday; /* mon 1-12, wday 1 = Sunday */
};
void rtc_civil(uint64_t t, struct rtc_date *d);
uint64_t rtc_unix(const struct rtc_date *d);

#endif
