/*
 * test_log.c - unit tests for worker/log.c and worker/utf8.c: every
 * character that could break a log line (C0 and C1 controls such as NEL,
 * DEL, U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR) becomes one '?',
 * other text (printable ASCII, accents, CJK, emoji, U+2027, U+202A) is
 * kept byte for byte, and a message longer than a line's bound is cut on a
 * character boundary. log_msg's output is read back from stderr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../worker/log.h"
#include "../../worker/utf8.h"

static void check_clean(const char *in, const char *want)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", in);
    size_t n = log_clean(buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_clean_controls(void **state)
{
    (void)state;
    check_clean("plain text", "plain text");
    check_clean("a\nb\rc\td", "a?b?c?d");
    check_clean("\x1b[31mred\x7f", "?[31mred?");
    check_clean("nel\xc2\x85here", "nel?here");            /* U+0085 */
    check_clean("c1 \xc2\x80 \xc2\x9f", "c1 ? ?");         /* U+0080, U+009F */
    check_clean("ls\xe2\x80\xa8ps\xe2\x80\xa9", "ls?ps?"); /* U+2028, U+2029 */
    check_clean("\xe2\x80\xa8\xe2\x80\xa8", "??");
}

static void test_clean_keeps_text(void **state)
{
    (void)state;
    check_clean("caf\xc3\xa9 \xc2\xa0nbsp", "caf\xc3\xa9 \xc2\xa0nbsp");   /* U+00E9, U+00A0 */
    check_clean("\xe2\x80\xa7 \xe2\x80\xaa", "\xe2\x80\xa7 \xe2\x80\xaa"); /* U+2027, U+202A */
    check_clean("\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
                "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
    /* truncated sequences at the end are not read past the NUL */
    check_clean("x\xc2", "x\xc2");
    check_clean("x\xe2\x80", "x\xe2\x80");
}

static void test_utf8_cut(void **state)
{
    (void)state;
    const char *s = "ab\xe2\x82\xac"
                    "cd"; /* a b EURO(3 bytes) c d */
    assert_int_equal(utf8_cut(s, 7, 10), 7);
    assert_int_equal(utf8_cut(s, 7, 7), 7);
    assert_int_equal(utf8_cut(s, 7, 6), 6);
    assert_int_equal(utf8_cut(s, 7, 5), 5); /* after the euro sign */
    assert_int_equal(utf8_cut(s, 7, 4), 2); /* inside it: before it */
    assert_int_equal(utf8_cut(s, 7, 3), 2);
    assert_int_equal(utf8_cut(s, 7, 2), 2);
    assert_int_equal(utf8_cut("\xf0\x9f\x98\x80!", 5, 3), 0);
    /* a run of stray continuation bytes is cut at the bound */
    assert_int_equal(utf8_cut("a\x80\x80\x80\x80\x80\x80", 7, 6), 6);
}

/* Runs log_msg with stderr sent to a file and returns what it wrote. */
static char *captured(const char *fmt, const char *arg)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
    log_msg(LOG_WARNING, LOG_RUNNER, fmt, arg);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    long n = ftell(f);
    assert_true(n > 0);
    char *out = calloc(1, (size_t)n + 1);
    assert_non_null(out);
    rewind(f);
    assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return out;
}

static void test_log_msg_one_line(void **state)
{
    (void)state;
    log_init("testhost", LOG_INFO);
    char *out =
        captured("type %s", "x\xe2\x80\xa8[2026-01-01] forged\xc2\x85more\xe2\x80\xa9\nend");
    assert_non_null(
        strstr(out, " testhost/WARNING/locust.runners: type x?[2026-01-01] forged?more??end\n"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
    free(out);
}

static void test_log_msg_long_text_cut_on_boundary(void **state)
{
    (void)state;
    enum { N = 3000 };
    char *big = malloc(N * 3 + 1);
    assert_non_null(big);
    for (size_t i = 0; i < N; i++) {
        memcpy(big + i * 3, "\xe2\x82\xac", 3); /* EURO SIGN */
    }
    big[N * 3] = '\0';
    log_init("h", LOG_INFO);
    for (int shift = 0; shift < 3; shift++) { /* every alignment of the cut */
        char *out = captured(shift == 0 ? "%s" : shift == 1 ? "a%s" : "ab%s", big);
        char *text = strstr(out, "locust.runners: ");
        assert_non_null(text);
        text += strlen("locust.runners: ");
        size_t len = strlen(text) - 1; /* without the newline */
        assert_true(len <= 2047 && len >= 2044);
        assert_int_equal((len - (size_t)shift) % 3, 0); /* whole euro signs */
        assert_memory_equal(text + len - 3, "\xe2\x82\xac\n", 4);
        free(out);
    }
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_controls),
        cmocka_unit_test(test_clean_keeps_text),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_log_msg_one_line),
        cmocka_unit_test(test_log_msg_long_text_cut_on_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
