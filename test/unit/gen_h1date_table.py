#!/usr/bin/env python3
"""gen_h1date_table.py - the expected answers of test/unit/test_h1date.c:
Python's own http.cookiejar.http2time (run it with Python 3.11, the
version it was written for) over the dates below, for a "current year"
set here (the two-digit year rule depends on it) rather than read from the
clock, so the table does not change with the year it runs in.

Run by hand, not by make:
    python3.11 test/unit/gen_h1date_table.py          # print the tables
    python3.11 test/unit/gen_h1date_table.py --write  # put them in test_h1date.c
--write replaces the lines between "/* clang-format off */" and
"/* clang-format on */" in test_h1date.c.
"""
import http.cookiejar
import os
import sys

YEAR = 2026  # the current year of the main and long tables

T1994 = "Sun, 06 Nov 1994 08:49:37"
GROUPS = [
    ("RFC 1123, RFC 850 and asctime, as servers write them", [
        T1994 + " GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
        "Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21-Oct-2015 07:28:00 GMT",
        "Wed, 21 Oct 15 07:28:00 GMT", "Wed 21 Oct 2015 07:28:00 GMT",
        "Wed,21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT garbage",
        T1994 + " GMT; x", T1994, "06 Nov 1994 08:49:37 GMT", "Nov 6 1994 08:49:37 GMT",
        "1994 Nov 06 08:49:37", "Sun, 6 Nov 1994 8:49:37 GMT", "sun, 06 nov 1994 08:49:37 gmt",
        "SUN, 06 NOV 1994 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT", "Wednesday, 09-Nov-99 23:12:40 GMT",
        "Wed, 09 Jun 2021 10:18:14 UTC", "Thu, 31-Dec-2037 23:55:55 GMT",
        "Mon, 01-Jan-2001 00:00:00 GMT", "12 Dec 2030 10:00:00 GMT",
        "Fri, 01 Jan 2100 00:00:00 GMT", "Sun Nov 6 08:49:37 2094",
        "Wed, 21 October 2015 07:28:00 GMT"]),
    ("the forms of http2time's documentation, and its loose ones", [
        "Wed, 09 Feb 1994 22:23:32 GMT", "Tuesday, 08-Feb-94 14:15:29 GMT",
        "Tuesday, 08-Feb-1994 14:15:29 GMT", "09 Feb 1994 22:23:32 GMT",
        "08-Feb-94 14:15:29 GMT", "08-Feb-1994 14:15:29 GMT", "08/Feb/1994 14:15:29 GMT",
        "08/02/1994", "8-2-1994", "08 02 1994 14:15:29", "08-1_1-1994", "08-0_2-1994",
        "08-1__1-1994", "08-_1-1994", "08-1_-1994", "08-13-1994", "08-00-1994",
        "08-February-1994", "08-Sept-1994", "08-nOV-1994", "09 Feb 1994", "09 Feb 1994 GMT",
        "09-Feb-1994", "09 Feb 1994:22:23:32 GMT", "09 Feb 1994\t\t22:23:32\tGMT",
        "09 Feb 1994 22:23 GMT", "Wed, 21 Oct 2015 07:28 GMT", "Sun, 06 Nov 1994 8:49 GMT",
        "09 Feb 1994 22:23:3 GMT", "09 Feb 1994 22:2:32 GMT", "09 Feb 1994 222:23:32 GMT",
        "09 Feb 1994 22:23:32.5 GMT", "09 Feb 1994 22:23:32GMT", "09 Feb 199422:23:32",
        "Sundayy,06 Nov 1994", "Monster 06 Nov 1994", "Sun,,06 Nov 1994", "Sun,06-Nov-1994",
        "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 006 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 008:49:37 GMT", "Sun,\t06\tNov\t1994\t08:49:37\tGMT",
        "Sun, 06 Nov 1994 08:49\x01:37 GMT", "Sun, 06 Nov 1994 08:49:37\xff GMT",
        "Sun, 06 Nov 1994 08:49:37 AM", "Sun, 06 Nov 1994 08:49:37 pm", "06 Nov 1994 AM",
        "06 Nov 1994 AMT", "06 Nov 1994 AM_", "06 Nov 1994 A", "06 Nov 1994 PMZ"]),
    ("the strict form: no two-digit year, a month must be a month", [
        "Sun, 06 Nov 0094 08:49:37 GMT", "Sun, 06 Nov 0094 08:49:37 UTC",
        "Sun, 06 Nov 0999 08:49:37 GMT", "Sun, 06 Nov 0999 08:49:37 UTC",
        "Sun, 06 Jux 1994 08:49:37 GMT", "Sun, 06 Jux 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT\n", "Sun, 06 Nov 1994 08:49:37 GMT\n\n",
        "Xyz, 06 Nov 1994 08:49:37 GMT", " Sun, 06 Nov 1994 08:49:37 GMT"]),
    ("time zones", [
        T1994 + " +0100", T1994 + " -0500", T1994 + " +0000", T1994 + " -0000",
        T1994 + " +01", T1994 + " -05", T1994 + " 0100", T1994 + "+0100", T1994 + " +530",
        T1994 + " -530", T1994 + " -05:30", T1994 + " +05:30", T1994 + " +9999",
        T1994 + " -9999", T1994 + " +12345", T1994 + " +1", T1994 + " +", T1994 + " PST",
        T1994 + " pst", T1994 + " CET", T1994 + " EST", T1994 + " UTC", T1994 + " utc",
        T1994 + " UT", T1994 + " Z", T1994 + " z", T1994 + " gmt", T1994 + " GMT+1",
        T1994 + " GMT (GMT)", T1994 + " +0100 (CET)", T1994 + " (UTC)", T1994 + " ( UTC)",
        T1994 + " ()", T1994 + " (G M T)", T1994 + " (GMT) x", T1994 + " +0100 CET",
        "06 Nov 1994 0849", "06 Nov 1994 08:49 0100", "06 Nov 1994 +0100", "06 Nov 1994 PST"]),
    ("years", [
        "01 Jan 00 00:00:00 GMT", "01 Jan 49 00:00:00 GMT", "01 Jan 50 00:00:00 GMT",
        "01 Jan 51 00:00:00 GMT", "01 Jan 69 00:00:00 GMT", "01 Jan 70 00:00:00 GMT",
        "Thu, 01-Jan-70 00:00:01 GMT", "Sun, 06 Nov 70 08:49:37 GMT",
        "Sun, 06 Nov 69 08:49:37 GMT", "01 Jan 76 00:00:00 GMT", "01 Jan 77 00:00:00 GMT",
        "01 Jan 99 00:00:00 GMT", "01 Jan 100 00:00:00 GMT", "01 Jan 999 00:00:00 GMT",
        "01 Jan 1 00:00:00 GMT", "01 Jan 0999 00:00:00 GMT", "01 Jan 1000 00:00:00 GMT",
        "01 Jan 1969 00:00:00 GMT", "01 Jan 00002026 00:00:00 GMT",
        "Mon, 01 Jan 1900 00:00:00 GMT", "Tue, 01 Jan 1601 00:00:00 GMT",
        "Thu, 01 Jan 1600 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
        "Sat, 01 Jan 10000 00:00:00 GMT", "01 Jan 10000 00:00:00 UTC"]),
    ("the epoch, 2038, days and times out of range (carried over)", [
        "Thu, 01 Jan 1970 00:00:00 GMT", "Thu Jan 01 00:00:00 1970",
        "Wed, 31 Dec 1969 23:59:59 GMT", "01 Jan 1970 00:00:00 +0100",
        "01 Jan 1970 00:59:59 +0100", "01 Jan 1970 01:00:00 +0100",
        "01 Jan 1970 00:00:00 +9999", "Tue, 19 Jan 2038 03:14:07 GMT",
        "Tue, 19 Jan 2038 03:14:08 GMT", "Fri, 31 Dec 1999 23:59:59 GMT",
        "Tue, 29 Feb 2028 12:00:00 GMT", "Mon, 29 Feb 2027 12:00:00 GMT",
        "Sun, 31 Feb 2027 12:00:00 GMT", "Wed, 31 Apr 2030 00:00:00 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 24:59:59 GMT",
        "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 06 Nov 1994 23:60:00 GMT",
        "Sun, 06 Nov 1994 23:59:60 GMT", "Sun, 06 Nov 1994 23:59:61 GMT",
        "Sun, 06 Nov 1994 23:59:62 GMT", "Fri, 31 Dec 9999 24:59:61 GMT"]),
    ("leading and trailing bytes", [
        "  " + T1994 + " GMT", "\t" + T1994 + " GMT", "\xa0" + T1994 + " GMT",
        "\x85" + T1994 + " GMT", "\x1c" + T1994 + " GMT", "\x01" + T1994 + " GMT",
        "x " + T1994 + " GMT", T1994 + " GMT ", T1994 + " GMT\r\n", T1994 + " GMT\xa0",
        T1994 + " GMT;", "\"" + T1994 + " GMT\""]),
    ("not dates", [
        "", " ", "0", "-1", "never", "08:49:37", "2015-10-21 07:28:00",
        "2015-10-21T07:28:00Z", "1994-11-06", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994", "Sun, 06 Nov"]),
]

# (prefix, filler, count, suffix): a very long input, built by the test
LONG = [
    ("01 Jan ", "0", 4296, "1970 00:00:00"), ("01 Jan ", "0", 4297, "1970 00:00:00"),
    ("01 ", "0", 4299, "1 1970"), ("01 ", "0", 4300, "1 1970"), ("01 ", "0_", 4299, "1 1970"),
    ("01 ", "0_", 4300, "1 1970"), ("", " ", 100000, "01 Jan 1970 00:00:01"),
    ("01 Jan 1970 00:00:01", " ", 100000, ""), ("01 Jan 1970 ", "A", 100000, ""),
    ("01 ", "a", 100000, " 1970"), ("01 Jan 1970 (", "w", 100000, ")"),
    ("01 Jan ", "9", 100000, ""), ("Sun", "day", 30000, ", 01 Jan 1970 00:00:01"),
    ("01 Jan 1970 00:00:01 ", "(x)", 30000, ""),
]

# (current year, date): the century of a two- or three-digit year
CENTURY_YEARS = [1999, 2000, 2020, 2049, 2050, 2051, 2077, 2099, 2100]
CENTURY_DATES = ["01 Jan 00", "01 Jan 20", "01 Jan 49", "01 Jan 50", "01 Jan 51",
                 "01 Jan 70", "01 Jan 99", "01 Jan 100", "01 Jan 999"]


class _Clock:
    """time as _str2time reads it (time.localtime(time.time())[0]), at one year."""

    def __init__(self, year):
        self.year = year

    def time(self):
        return 0.0

    def localtime(self, t=None):
        return (self.year, 1, 1, 0, 0, 0, 0, 1, 0)


def answer(text, year):
    """http2time(text) with the current year set: C text for the table."""
    real = http.cookiejar.time
    http.cookiejar.time = _Clock(year)
    try:
        t = http.cookiejar.http2time(text)
    except ValueError:
        return "RAISES"
    finally:
        http.cookiejar.time = real
    return "NONE" if t is None else "%dLL" % t


def c_string(text):
    out = []
    for b in text.encode("latin-1"):
        c = chr(b)
        out.append(c if 0x20 <= b < 0x7f and c not in '"\\?' else "\\%03o" % b)
    return '"' + "".join(out) + '"'


def tables():
    lines = ["/* clang-format off */",
             "/* Generated by test/unit/gen_h1date_table.py: http.cookiejar.http2time's",
             " * answers (Python 3.11), the current year %d. */" % YEAR,
             "#define TABLE_YEAR %d" % YEAR, "static const row rows[] = {"]
    for title, dates in GROUPS:
        lines.append("    /* %s */" % title)
        lines += ["    {%s, %s}," % (c_string(d), answer(d, YEAR)) for d in dates]
    lines += ["};", "static const long_row long_rows[] = {"]
    for pre, fill, n, post in LONG:
        want = answer(pre + fill * n + post, YEAR)
        lines.append("    {%s, %s, %d, %s, %s}," % (c_string(pre), c_string(fill), n,
                                                   c_string(post), want))
    lines += ["};", "static const century_row century_rows[] = {"]
    for year in CENTURY_YEARS:
        row = ["{%d, %s, %s}," % (year, c_string(d), answer(d, year)) for d in CENTURY_DATES]
        lines += ["    " + " ".join(row[i:i + 3]) for i in range(0, len(row), 3)]
    lines += ["};", "/* clang-format on */"]
    return "\n".join(lines) + "\n"


def write(path):
    with open(path, encoding="ascii") as f:
        text = f.read()
    start = text.index("/* clang-format off */")
    end = text.index("/* clang-format on */\n") + len("/* clang-format on */\n")
    with open(path, "w", encoding="ascii") as f:
        f.write(text[:start] + tables() + text[end:])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_h1date.c"))
    else:
        sys.stdout.write(tables())
