/*
 * test_option.c - unit tests for lw_option_bool (worker/option.c) and the
 * true/false words it shares with the command line (worker/boolword.c):
 * every word in any case, and the default for a missing option, a
 * None (NULL) value or a word that is neither.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../worker/boolword.h"
#include "../../worker/user.h"

/* A user whose test's parsed_options hold the one option "flag" = value. */
typedef struct {
    proto_option opt;
    proto_spawn spawn;
    user_env env;
    lw_user user;
} fixture;

static lw_user *with_flag(fixture *f, const char *value)
{
    memset(f, 0, sizeof *f);
    f->opt.name = "flag";
    f->opt.value = (char *)value;
    f->spawn.options = &f->opt;
    f->spawn.noptions = 1;
    f->env.options = &f->spawn;
    f->user.env = &f->env;
    return &f->user;
}

static void test_true_and_false_words(void **state)
{
    static const char *const yes[] = {"True", "true", "TRUE", "yes", "Yes", "on", "ON", "1"};
    static const char *const no[] = {"False", "false", "FALSE", "no", "NO", "off", "Off", "0"};
    fixture f;
    (void)state;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        assert_int_equal(lw_option_bool(with_flag(&f, yes[i]), "flag", 0), 1);
        assert_int_equal(lw_option_bool(with_flag(&f, no[i]), "flag", 1), 0);
    }
}

static void test_default_when_not_a_word(void **state)
{
    static const char *const neither[] = {"", "maybe", "tru", "yess", "2", " true", "of"};
    fixture f;
    int out = 7;
    (void)state;
    for (size_t i = 0; i < sizeof neither / sizeof neither[0]; i++) {
        assert_int_equal(lw_option_bool(with_flag(&f, neither[i]), "flag", 1), 1);
        assert_int_equal(lw_option_bool(with_flag(&f, neither[i]), "flag", 0), 0);
        assert_int_equal(bool_word(neither[i], &out), -1);
        assert_int_equal(out, 7);
    }
    assert_int_equal(lw_option_bool(with_flag(&f, NULL), "flag", 1), 1);
    assert_int_equal(lw_option_bool(with_flag(&f, "true"), "other", 0), 0);
    assert_int_equal(lw_option_bool(NULL, "flag", 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_and_false_words),
        cmocka_unit_test(test_default_when_not_a_word),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
