/*
 * h1date.c - a cookie's Expires date, by RFC 6265's cookie-date algorithm
 * (section 5.1.1): the value is cut into tokens at delimiters, and each
 * token is taken, in this order, as the first time (hh:mm:ss), the first
 * day of the month (1-2 digits), the first month (its name's first three
 * letters) or the first year (2-4 digits) not found yet. A time zone is
 * not read: cookie dates are in GMT. See h1date.h.
 */
#include "h1date.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* The parts of a date found so far; -1: not yet. */
typedef struct {
    int hour, min, sec, mday, month, year;
} date_parts;

/* RFC 6265's delimiter: tab, and the printable ASCII that is neither a
 * letter, a digit nor ':'. */
static int is_delimiter(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
           (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* 1 to max digits at t (n bytes), then the end or a non-digit: their
 * value, and their count in *used. -1 when t does not start so. */
static int digits(const char *t, size_t n, size_t max, size_t *used)
{
    size_t i = 0;
    int v = 0;
    while (i < n && isdigit((unsigned char)t[i])) {
        if (i == max) {
            return -1;
        }
        v = v * 10 + (t[i++] - '0');
    }
    *used = i;
    return i > 0 ? v : -1;
}

/* hh:mm:ss (each 1-2 digits), then the end or a non-digit. */
static int take_time(const char *t, size_t n, date_parts *d)
{
    int f[3];
    size_t at = 0, used;
    for (int i = 0; i < 3; i++) {
        if ((f[i] = digits(t + at, n - at, 2, &used)) < 0) {
            return 0;
        }
        at += used;
        if (i < 2) {
            if (at >= n || t[at] != ':') {
                return 0;
            }
            at++;
        }
    }
    d->hour = f[0];
    d->min = f[1];
    d->sec = f[2];
    return 1;
}

/* A month's name: its first three letters, any case. */
static int month_of(const char *t, size_t n)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 3) {
        return -1;
    }
    for (int m = 0; m < 12; m++) {
        if (strncasecmp(t, names + 3 * m, 3) == 0) {
            return m;
        }
    }
    return -1;
}

/* One token, into the first part it can be that is not found yet. */
static void take_token(const char *t, size_t n, date_parts *d)
{
    size_t used;
    int v;
    if (d->hour < 0 && take_time(t, n, d)) {
        return;
    }
    if (d->mday < 0 && (v = digits(t, n, 2, &used)) >= 0) {
        d->mday = v;
        return;
    }
    if (d->month < 0 && (v = month_of(t, n)) >= 0) {
        d->month = v;
        return;
    }
    if (d->year < 0 && (v = digits(t, n, 4, &used)) >= 0 && used >= 2) {
        d->year = v;
    }
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Whether the parts make a date that exists. */
static int valid(const date_parts *d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d->hour < 0 || d->mday < 0 || d->month < 0 || d->year < 0) {
        return 0;
    }
    int mdays = days[d->month] + (d->month == 1 && is_leap(d->year));
    return d->mday >= 1 && d->mday <= mdays && d->year >= 1601 && d->hour <= 23 &&
           d->min <= 59 && d->sec <= 59;
}

time_t h1_cookie_date(const char *s)
{
    date_parts d = {-1, -1, -1, -1, -1, -1};
    const char *p = s;
    while (*p) {
        while (*p && is_delimiter((unsigned char)*p)) {
            p++;
        }
        const char *t = p;
        while (*p && !is_delimiter((unsigned char)*p)) {
            p++;
        }
        if (p > t) {
            take_token(t, (size_t)(p - t), &d);
        }
    }
    if (d.year >= 70 && d.year <= 99) {
        d.year += 1900;
    } else if (d.year >= 0 && d.year <= 69) {
        d.year += 2000;
    }
    if (!valid(&d)) {
        return -1;
    }
    struct tm tm = {.tm_year = d.year - 1900, .tm_mon = d.month, .tm_mday = d.mday,
                    .tm_hour = d.hour, .tm_min = d.min, .tm_sec = d.sec};
    time_t t = timegm(&tm);
    return t == -1 ? 0 : t;   /* 1969-12-31 23:59:59: not a failure (curl_getdate's 0) */
}
