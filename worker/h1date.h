/*
 * h1date.h - the date of a cookie's Expires attribute, read as browsers
 * read it: RFC 6265's cookie-date algorithm (section 5.1.1), which takes
 * the RFC 1123 form ("Sun, 06 Nov 1994 08:49:37 GMT"), the RFC 850 form
 * ("Sunday, 06-Nov-94 08:49:37 GMT"), asctime's ("Sun Nov  6 08:49:37
 * 1994") and the variants servers send (any order of the day, month name,
 * year and hh:mm:ss; extra words ignored).
 */
#ifndef LW_H1DATE_H
#define LW_H1DATE_H

#include <time.h>

/* The date (UTC, seconds since the epoch; negative before 1970) of a
 * NUL-terminated cookie date, or -1 when it is not one (a missing part, a
 * part out of range, a day the month does not have, a year before 1601).
 * A two-digit year is 1970-2069. 1969-12-31 23:59:59, whose time is -1,
 * gives 0, as curl_getdate does. */
time_t h1_cookie_date(const char *s);

#endif
