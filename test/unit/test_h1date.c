/*
 * test_h1date.c - unit tests for worker/h1date.c, the date of a cookie's
 * Expires (RFC 6265's cookie-date algorithm), held against libcurl's
 * curl_getdate, which the cookie jar used before, on dates servers send:
 * the RFC 1123, RFC 850 and asctime forms and their variants. Each row
 * gives the expected time itself; a SAME row must also equal
 * curl_getdate's. The rows where the two differ say why: there the
 * parser follows RFC 6265 (as browsers do), not libcurl.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>

#include "../../worker/h1date.h"

enum { SAME, DIFFERS };

typedef struct {
    const char *date;
    long long want;     /* seconds since the epoch; -1: not a date */
    int vs_curl;        /* SAME: curl_getdate gives want too */
} row;

#define T1994 784111777LL      /* Sun, 06 Nov 1994 08:49:37 GMT */
#define T2015 1445412480LL     /* Wed, 21 Oct 2015 07:28:00 GMT */

static const row rows[] = {
    /* the three forms of RFC 9110 */
    {"Sun, 06 Nov 1994 08:49:37 GMT", T1994, SAME},
    {"Sunday, 06-Nov-94 08:49:37 GMT", T1994, SAME},
    {"Sun Nov  6 08:49:37 1994", T1994, SAME},
    /* as servers write them */
    {"Wed, 21 Oct 2015 07:28:00 GMT", T2015, SAME},
    {"Wed, 21-Oct-2015 07:28:00 GMT", T2015, SAME},
    {"Wed, 21 Oct 15 07:28:00 GMT", T2015, SAME},
    {"Wed 21 Oct 2015 07:28:00 GMT", T2015, SAME},
    {"Wed,21 Oct 2015 07:28:00 GMT", T2015, SAME},
    {"Wed, 21 Oct 2015 07:28:00 GMT garbage", T2015, SAME},
    {"Sun, 06 Nov 1994 08:49:37 GMT; x", T1994, SAME},
    {"Sun, 06 Nov 1994 08:49:37", T1994, SAME},
    {"Sun, 06 Nov 1994 08:49:37 +0000", T1994, SAME},
    {"06 Nov 1994 08:49:37 GMT", T1994, SAME},
    {"Nov 6 1994 08:49:37 GMT", T1994, SAME},
    {"1994 Nov 06 08:49:37", T1994, SAME},
    {"Sun, 6 Nov 1994 8:49:37 GMT", T1994, SAME},
    {"sun, 06 nov 1994 08:49:37 gmt", T1994, SAME},
    {"SUN, 06 NOV 1994 08:49:37 GMT", T1994, SAME},
    {"Sunday, 06-Nov-1994 08:49:37 GMT", T1994, SAME},
    {"Sun, 06 Nov 94 08:49:37 GMT", T1994, SAME},
    {"Wednesday, 09-Nov-99 23:12:40 GMT", 942189160LL, SAME},
    {"Wed, 09 Jun 2021 10:18:14 UTC", 1623233894LL, SAME},
    {"Thu, 31-Dec-2037 23:55:55 GMT", 2145916555LL, SAME},
    {"Mon, 01-Jan-2001 00:00:00 GMT", 978307200LL, SAME},
    {"12 Dec 2030 10:00:00 GMT", 1923300000LL, SAME},
    {"Fri, 01 Jan 2100 00:00:00 GMT", 4102444800LL, SAME},
    {"Sun Nov 6 08:49:37 2094", 3939871777LL, SAME},
    {"Sun, 06 Nov 69 08:49:37 GMT", 3150953377LL, SAME},   /* 2069 */
    /* edges: the epoch, 2038, leap years, the years allowed */
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0, SAME},
    {"Thu Jan 01 00:00:00 1970", 0, SAME},
    {"Wed, 31 Dec 1969 23:59:59 GMT", 0, SAME},   /* its time is -1: 0, not a failure */
    {"Tue, 19 Jan 2038 03:14:07 GMT", 2147483647LL, SAME},
    {"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648LL, SAME},
    {"Fri, 31 Dec 1999 23:59:59 GMT", 946684799LL, SAME},
    {"Tue, 29 Feb 2028 12:00:00 GMT", 1835438400LL, SAME},
    {"Mon, 01 Jan 1900 00:00:00 GMT", -2208988800LL, SAME},
    {"Tue, 01 Jan 1601 00:00:00 GMT", -11644473600LL, SAME},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799LL, SAME},
    /* not dates, for both */
    {"", -1, SAME},
    {"0", -1, SAME},
    {"-1", -1, SAME},
    {"never", -1, SAME},
    {"08:49:37", -1, SAME},
    {"2015-10-21 07:28:00", -1, SAME},
    {"2015-10-21T07:28:00Z", -1, SAME},
    {"Sun, 32 Nov 1994 08:49:37 GMT", -1, SAME},
    {"Sun, 06 Nov 1994 24:00:00 GMT", -1, SAME},
    {"Sun, 06 Nov 1994 23:60:00 GMT", -1, SAME},
    {"Sun, 06 Nov 1500 08:49:37 GMT", -1, SAME},
    {"Sun, 06 Foo 1994 08:49:37 GMT", -1, SAME},
    /* RFC 6265, not libcurl: */
    /* a two-digit year 70-99 is 19xx (libcurl: 2070 for 70) */
    {"Thu, 01-Jan-70 00:00:01 GMT", 1, DIFFERS},
    {"Sun, 06 Nov 70 08:49:37 GMT", 26729377LL, DIFFERS},
    /* a time zone is not read: cookie dates are GMT */
    {"Sun, 06 Nov 1994 08:49:37 +0100", T1994, DIFFERS},
    {"Sun, 06 Nov 1994 08:49:37 -0500", T1994, DIFFERS},
    {"Sun, 06 Nov 1994 08:49:37 PST", T1994, DIFFERS},
    {"Sun, 06 Nov 1994 08:49:37 CET", T1994, DIFFERS},
    /* a month is its name's first three letters */
    {"Wed, 21 October 2015 07:28:00 GMT", T2015, DIFFERS},
    /* a date needs hh:mm:ss, a day the month has, a second up to 59 and
     * a year of 1601 to 9999 */
    {"Sun, 06 Nov 1994", -1, DIFFERS},
    {"Wed, 21 Oct 2015 07:28 GMT", -1, DIFFERS},
    {"Mon, 29 Feb 2027 12:00:00 GMT", -1, DIFFERS},
    {"Wed, 31 Apr 2030 00:00:00 GMT", -1, DIFFERS},
    {"Sun, 06 Nov 1994 23:59:60 GMT", -1, DIFFERS},
    {"Thu, 01 Jan 1600 00:00:00 GMT", -1, DIFFERS},
    {"Sat, 01 Jan 10000 00:00:00 GMT", -1, DIFFERS},
};

static void test_rows(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        long long got = (long long)h1_cookie_date(r->date);
        long long curl = (long long)curl_getdate(r->date, NULL);
        if (got != r->want) {
            print_error("\"%s\": %lld, want %lld\n", r->date, got, r->want);
            bad = 1;
        }
        if (r->vs_curl == SAME && got != curl) {
            print_error("\"%s\": %lld, curl_getdate %lld\n", r->date, got, curl);
            bad = 1;
        }
    }
    assert_int_equal(bad, 0);
}

/* Control bytes and bytes above 127 are part of a token, not delimiters:
 * a time with one in it is not a time. */
static void test_odd_bytes(void **state)
{
    (void)state;
    assert_int_equal(h1_cookie_date("Sun, 06 Nov 1994 08:49\x01:37 GMT"), -1);
    assert_int_equal(h1_cookie_date("Sun, 06 Nov 1994 08:49:37\xff GMT"), T1994);
    assert_int_equal(h1_cookie_date("Sun,\t06\tNov\t1994\t08:49:37\tGMT"), T1994);
    assert_int_equal(h1_cookie_date("Sun, 006 Nov 1994 08:49:37 GMT"), -1);
    assert_int_equal(h1_cookie_date("Sun, 06 Nov 1994 008:49:37 GMT"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_odd_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
