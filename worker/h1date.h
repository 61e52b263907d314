/*
 * h1date.h - the date of a cookie's Expires attribute, read as Locust's
 * cookie jar reads it: Python's http.cookiejar.http2time (Python 3.11),
 * which both of Locust's clients use. It takes "Wed, 09 Feb 1994 22:23:32
 * GMT" to the letter, else, loosely, an optional weekday, then day, month
 * (its name or number), year, an optional hh:mm or hh:mm:ss, an optional
 * time zone (GMT, UTC, UT, Z or a numeric offset like +0100; any other
 * name is not a date) and an optional "(word)".
 */
#ifndef LW_H1DATE_H
#define LW_H1DATE_H

#include <time.h>

/* The date (UTC, seconds since the epoch) of a NUL-terminated cookie
 * date, the bytes read as Latin-1 (as http.client decodes headers): what
 * http2time returns, or -1 when it returns None (and also where it raises
 * ValueError: a strict-form date whose month is not a month's name, a year
 * of more than 4300 digits). A two-digit (up to three-digit) year is put in
 * the century closest to this_year, the current year in local time. A
 * date whose time is -1 (01 Jan 1970 00:59:59 +0100) gives 0: still in
 * the past, and not mistaken for "not a date". */
time_t h1_cookie_date_in(const char *s, int this_year);

/* h1_cookie_date_in for the current year in local time, from time(NULL),
 * as http2time reads it. */
time_t h1_cookie_date(const char *s);

#endif
