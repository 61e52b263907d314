/*
 * h1date.c - a cookie's Expires date, read step by step as Python's
 * http.cookiejar.http2time (3.11) reads it (see h1date.h):
 *   1. STRICT_DATE_RE, "Wed, 09 Feb 1994 22:23:32 GMT" to the letter: its
 *      date as it stands (no two-digit year, no zone);
 *   2. else the text without leading whitespace and without a leading
 *      weekday (WEEKDAY_RE) is matched by LOOSE_HTTP_DATE_RE, whose
 *      backtracking comes down here to one choice (a clock or not, then
 *      the same tail), so each byte is looked at a bounded number of times;
 *   3. _str2time: int() of the year and month, the century of a year
 *      under 1000, _timegm's ranges (a year from 1970, a day up to 31 in
 *      any month, hour 24 and seconds 60-61 carry over), the zone's offset.
 * Classes are those of re.ASCII: \s is [ \t\n\v\f\r], \w is [A-Za-z0-9_].
 */
#include "h1date.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define INT_MAX_STR_DIGITS 4300 /* int() refuses a str of more digits */
#define MAXYEAR 9999            /* datetime.MAXYEAR */

/* A piece of the text; len 0: absent. */
typedef struct {
    const char *at;
    size_t len;
} span;

/* The groups of LOOSE_HTTP_DATE_RE. */
typedef struct {
    span day, mon, year, hour, min, sec, tz;
} loose_groups;

/* A UTC date and time, each part as read (not normalized). */
typedef struct {
    long long year;
    int mon, day, hour, min, sec;
} civil;

static int re_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* str.isspace() of the Latin-1 character c (what str.lstrip() removes). */
static int py_space(unsigned char c)
{
    return re_space(c) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0;
}

static int re_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int re_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int re_word(unsigned char c)
{
    return re_alpha(c) || re_digit(c) || c == '_';
}

static const char *skip(const char *p, int (*in)(unsigned char))
{
    while (in((unsigned char)*p)) {
        p++;
    }
    return p;
}

/* Up to max bytes of class in at p, at least one: their span in *s, and
 * the end. NULL: none. */
static const char *take(const char *p, int (*in)(unsigned char), size_t max, span *s)
{
    size_t n = 0;
    while (n < max && in((unsigned char)p[n])) {
        n++;
    }
    *s = (span){p, n};
    return n ? p + n : NULL;
}

/* Whether p starts with the n letters of lower, in any case (ASCII). */
static int starts_ci(const char *p, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((p[i] | 0x20) != lower[i]) {
            return 0;
        }
    }
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), y >= 0. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = y / 400, yoe = y - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* _timegm: 0 (None) when a part is out of its range, else 1 and *t. */
static int py_timegm(const civil *c, long long *t)
{
    if (c->year < 1970 || c->year > MAXYEAR || c->mon < 1 || c->mon > 12 || c->day < 1 ||
        c->day > 31 || c->hour > 24 || c->min > 59 || c->sec > 61) {
        return 0; /* (a year over MAXYEAR: calendar.timegm raises) */
    }
    long long days = days_from_civil(c->year, c->mon, 1) + c->day - 1;
    *t = ((days * 24 + c->hour) * 60 + c->min) * 60 + c->sec;
    return 1;
}

/* int() of s, capped at cap: digits with single '_' between them, at
 * most INT_MAX_STR_DIGITS of them. -1: int() raises. */
static long long py_int(span s, long long cap)
{
    size_t ndigits = 0;
    long long v = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.at[i];
        if (c == '_' && i > 0 && i + 1 < s.len && s.at[i - 1] != '_') {
            continue;
        }
        if (!re_digit(c)) {
            return -1;
        }
        ndigits++;
        v = v * 10 + (c - '0');
        v = v > cap ? cap : v;
    }
    return s.len && ndigits <= INT_MAX_STR_DIGITS ? v : -1;
}

/* A month: its name's three letters, any case, or int() of it, 1-12.
 * -1: neither. */
static int month_of(span m)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    for (int i = 0; i < 12 && m.len == 3; i++) {
        if (starts_ci(m.at, names + 3 * i, 3)) {
            return i + 1;
        }
    }
    long long v = py_int(m, 13);
    return v >= 1 && v <= 12 ? (int)v : -1;
}

/* The value of up to two digits; 0 when absent. */
static int small(span s)
{
    int v = 0;
    for (size_t i = 0; i < s.len; i++) {
        v = v * 10 + (s.at[i] - '0');
    }
    return v;
}

/* A year under 1000 goes to the century that puts it closest to
 * this_year (within 50 years, ties to this century), as _str2time does. */
static long long full_year(long long yr, int this_year)
{
    if (yr >= 1000) {
        return yr;
    }
    long long m = ((this_year % 100) + 100) % 100;
    long long y = yr + this_year - m;
    m -= yr;
    return m > 50 ? y + 100 : m < -50 ? y - 100 : y;
}

/* offset_from_tz_string of the zone found (none: UTC): 0 for GMT, UTC,
 * UT and Z in any case; [+-]hh, [+-]hmm, [+-]hhmm by TIMEZONE_RE, no
 * range checked. 0 (None) for any other zone. */
static int zone_offset(span z, long long *off)
{
    static const char *const utc[] = {"gmt", "utc", "ut", "z"};
    *off = 0;
    if (z.len == 0) {
        return 1;
    }
    if (re_alpha((unsigned char)z.at[0])) {
        for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++) {
            if (strlen(utc[i]) == z.len && starts_ci(z.at, utc[i], z.len)) {
                return 1;
            }
        }
        return 0;
    }
    int sign = z.at[0] == '-' ? -1 : 1, has_sign = z.at[0] == '-' || z.at[0] == '+';
    span d = {z.at + has_sign, z.len - (size_t)has_sign}; /* 2-4 digits */
    size_t hl = d.len == 3 ? 1 : 2;
    span h = {d.at, hl}, mi = {d.at + hl, d.len - hl};
    *off = sign * (3600LL * small(h) + 60LL * small(mi));
    return 1;
}

/* A (\s+|[-/]) separator at p: its end, or NULL. */
static const char *separator(const char *p)
{
    if (re_space((unsigned char)*p)) {
        return skip(p, re_space);
    }
    return *p == '-' || *p == '/' ? p + 1 : NULL;
}

/* The tail of LOOSE_HTTP_DATE_RE at p: \s*, an optional zone
 * ([-+]?\d{2,4}, or letters not starting with a word AM or PM), \s*, an
 * optional \(\w+\)\s*, the end. Whether it matches, its zone in *tz. */
static int tail(const char *p, span *tz)
{
    p = skip(p, re_space);
    *tz = (span){p, 0};
    if (*p == '+' || *p == '-' || re_digit((unsigned char)*p)) {
        span d;
        const char *e = take(p + (*p == '+' || *p == '-'), re_digit, 5, &d);
        if (!e || d.len < 2 || d.len > 4) {
            return 0;
        }
        *tz = (span){p, (size_t)(e - p)};
        p = skip(e, re_space);
    } else if (re_alpha((unsigned char)*p)) {
        if (strchr("APap", *p) && (p[1] | 0x20) == 'm' && !re_word((unsigned char)p[2])) {
            return 0; /* (?![APap][Mm]\b) */
        }
        p = skip(take(p, re_alpha, SIZE_MAX, tz), re_space);
    }
    if (*p == '(') {
        span w;
        const char *e = take(p + 1, re_word, SIZE_MAX, &w);
        if (!e || *e != ')') {
            return 0;
        }
        p = skip(e + 1, re_space);
    }
    return *p == '\0';
}

/* The clock, (\s+|:)(\d\d?):(\d\d)(?::(\d\d))?, at p: its end, or NULL. */
static const char *clock_at(const char *p, loose_groups *g)
{
    p = re_space((unsigned char)*p) ? skip(p, re_space) : *p == ':' ? p + 1 : NULL;
    if (!p || !(p = take(p, re_digit, 2, &g->hour)) || *p != ':') {
        return NULL;
    }
    if (!(p = take(p + 1, re_digit, 2, &g->min)) || g->min.len != 2) {
        return NULL;
    }
    if (p[0] == ':' && re_digit((unsigned char)p[1]) && re_digit((unsigned char)p[2])) {
        g->sec = (span){p + 1, 2};
        p += 3;
    }
    return p;
}

/* LOOSE_HTTP_DATE_RE at p: whether it matches, its groups in *g. Each
 * greedy run can only give back what the next part refuses, but for the
 * clock: with it the tail may fail where without it the tail matches
 * (" 0849" is a zone). */
static int loose_match(const char *p, loose_groups *g)
{
    memset(g, 0, sizeof *g);
    if (!(p = take(p, re_digit, 2, &g->day)) || !(p = separator(p)) ||
        !(p = take(p, re_word, SIZE_MAX, &g->mon)) || !(p = separator(p)) ||
        !(p = take(p, re_digit, SIZE_MAX, &g->year))) {
        return 0;
    }
    const char *c = clock_at(p, g);
    if (c && tail(c, &g->tz)) {
        return 1;
    }
    g->hour = g->min = g->sec = (span){p, 0};
    return tail(p, &g->tz);
}

/* The text after str.lstrip() and WEEKDAY_RE's substitution. */
static const char *skip_weekday(const char *p)
{
    static const char days[] = "sunmontuewedthufrisat";
    p = skip(p, py_space);
    for (int i = 0; i < 7; i++) {
        if (starts_ci(p, days + 3 * i, 3)) {
            p = skip(p + 3, re_alpha);
            return skip(p + (*p == ','), re_space);
        }
    }
    return p;
}

/* The loose form and _str2time: 0 (None), or 1 and *t. */
static int loose_time(const char *s, int this_year, long long *t)
{
    loose_groups g;
    long long off;
    if (!loose_match(skip_weekday(s), &g)) {
        return 0;
    }
    long long yr = py_int(g.year, MAXYEAR + 1);
    civil c = {full_year(yr, this_year),
               month_of(g.mon),
               small(g.day),
               small(g.hour),
               small(g.min),
               small(g.sec)};
    if (yr < 0 || yr > MAXYEAR || !zone_offset(g.tz, &off) || !py_timegm(&c, t)) {
        return 0;
    }
    *t -= off;
    return 1;
}

/* STRICT_DATE_RE ('$' also before a final newline): -1 when s does not
 * have its form, else 0 (None, or a month that is not a month's name:
 * http2time raises) or 1 and *t. */
static int strict_time(const char *s, long long *t)
{
    static const char form[] = "Waa, dd Maa dddd dd:dd:dd GMT";
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    for (size_t i = 0; form[i]; i++) {
        unsigned char c = (unsigned char)s[i], f = (unsigned char)form[i];
        int ok = f == 'W'   ? c && strchr("SMTWF", c)
                 : f == 'a' ? c >= 'a' && c <= 'z'
                 : f == 'd' ? re_digit(c)
                 : f == 'M' ? c && strchr("JFMASOND", c)
                            : c == f;
        if (!ok) {
            return -1;
        }
    }
    if (s[29] != '\0' && (s[29] != '\n' || s[30] != '\0')) {
        return -1;
    }
    civil c = {py_int((span){s + 12, 4}, MAXYEAR),
               0,
               small((span){s + 5, 2}),
               small((span){s + 17, 2}),
               small((span){s + 20, 2}),
               small((span){s + 23, 2})};
    for (int i = 0; i < 12 && !c.mon; i++) {
        c.mon = starts_ci(s + 8, names + 3 * i, 3) ? i + 1 : 0;
    }
    return c.mon && py_timegm(&c, t);
}

time_t h1_cookie_date_in(const char *s, int this_year)
{
    long long t;
    int r = strict_time(s, &t);
    if (r < 0) {
        r = loose_time(s, this_year, &t);
    }
    if (!r) {
        return -1;
    }
    return t == -1 ? 0 : (time_t)t; /* -1 is "not a date" to the cookie jar */
}

time_t h1_cookie_date(const char *s)
{
    time_t now = time(NULL);
    struct tm tm;
    /* localtime_r fails only past year INT_MAX: then its UTC year, near enough */
    int year = localtime_r(&now, &tm) ? tm.tm_year + 1900 : (int)(1970 + now / 31556952);
    return h1_cookie_date_in(s, year);
}
