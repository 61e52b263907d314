/*
 * test_error_key.c - unit tests for worker/error_key.c.
 *
 * Checks py_repr_str() and error_key() against values computed with
 * CPython 3.11 (Unicode 14.0.0): repr(s) for ASCII, quote choice, control
 * characters, printable and non-printable non-ASCII, invalid UTF-8 (one
 * U+FFFD per invalid byte, like proto_pack_str()), random strings, and
 * sha256(f"{method}.{name}.{error!r}".encode()).hexdigest() keys, including
 * the vectors of the protocol notes. One test runs repr() over every code
 * point and compares a digest of the concatenated results with Python's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "../../worker/error_key.h"

struct repr_case {
    const char *in;
    const char *want;
};

struct key_case {
    const char *method, *name, *error;
    const char *want;
};

/*
 * Generated with CPython 3.11: repr(raw.decode("utf-8", "perbyte")), where
 * "perbyte" is an error handler returning ("\ufffd", start + 1).
 */
static const struct repr_case repr_cases[] = {
    {"", "''"},
    {"plain", "'plain'"},
    {"a'b", "\"a'b\""},
    {"a\"b", "'a\"b'"},
    {"a'b\"c", "'a\\'b\"c'"},
    {"'", "\"'\""},
    {"\"", "'\"'"},
    {"''\"", "'\\'\\'\"'"},
    {"\\", "'\\\\'"},
    {"tab\x09here\x0anewline\\backslash", "'tab\\there\\nnewline\\\\backslash'"},
    {"cr\x0d", "'cr\\r'"},
    {"\x01\x02\x1f\x7f", "'\\x01\\x02\\x1f\\x7f'"},
    {"HTTPError('500 Server Error')", "\"HTTPError('500 Server Error')\""},
    {"ConnectionError(\"boom 'quoted'\")", "'ConnectionError(\"boom \\'quoted\\'\")'"},
    {"caf\xc3\xa9 \xc3\xbc\xc3\x9f \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
     "'caf\xc3\xa9 \xc3\xbc\xc3\x9f \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80'"},
    {"\xc2\x80\xc2\x85\xc2\x9f\xc2\xa0\xc2\xa1\xc2\xad", "'\\x80\\x85\\x9f\\xa0\xc2\xa1\\xad'"},
    {"\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\xe3\x80\x80\xe2\x80\x80\xe2\x80\xaf",
     "'\\u200b\\u200c\\u200d\\u200e\\u200f\\u2028\\u2029\\ufeff\\u3000\\u2000\\u202f'"},
    {"\xee\x80\x80\xf3\xb0\x80\x80\xf4\x8f\xbf\xbf\xcd\xb8\xf3\xa0\x80\x81\xf3\xa0\x84\x80",
     "'\\ue000\\U000f0000\\U0010ffff\\u0378\\U000e0001\xf3\xa0\x84\x80'"},
    {"\xef\xbf\xbd\xef\xbf\xbf\xef\xbf\xbe", "'\xef\xbf\xbd\\uffff\\ufffe'"},
    {"bad\xff"
     "byte",
     "'bad\xef\xbf\xbd"
     "byte'"},
    {"\xc3", "'\xef\xbf\xbd'"},
    {"\xe2\x82", "'\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\xe2\x82"
     "A",
     "'\xef\xbf\xbd\xef\xbf\xbd"
     "A'"},
    {"\xf0\x9f\x98", "'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\xed\xa0\x80", "'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\xc0\xaf", "'\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\xe0\x80\x80", "'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\xf4\x90\x80\x80", "'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\xf8\x88\x80\x80\x80", "'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\x80\xbf", "'\xef\xbf\xbd\xef\xbf\xbd'"},
    {"mixed 'q' \xff \"", "'mixed \\'q\\' \xef\xbf\xbd \"'"},
    {"O'Reilly\\\"x", "'O\\'Reilly\\\\\"x'"},
    {"\xf2\x9a\x97\x98\xc2\xa0\xc3\xa9\xef\xbb\xbf\xe2\x80\x8b\xf0\x9f\x98\x80\xd2\xbf",
     "'\\U0009a5d8\\xa0\xc3\xa9\\ufeff\\u200b\xf0\x9f\x98\x80\xd2\xbf'"},
    {"\xef\x92\x9c\xce\xa9\xe0\xa6\xb5\xc3\xa9", "'\\uf49c\xce\xa9\\u09b5\xc3\xa9'"},
    {"\xf2\x87\x86\xa1\xf0\xb0\x80\x80", "'\\U000871a1\xf0\xb0\x80\x80'"},
    {"\xe8\x9f\x8d\xce\xa9\xc3\x95\xe5\xbe\x8b'\xed\x92\x90",
     "\"\xe8\x9f\x8d\xce\xa9\xc3\x95\xe5\xbe\x8b'\xed\x92\x90\""},
    {"\xee\x8f\xb0\xe3\x80\x80"
     "fz",
     "'\\ue3f0\\u3000fz'"},
    {"\x0a\xe2\x80\x8b\xef\xbf\xbd ", "'\\n\\u200b\xef\xbf\xbd '"},
    {"\x0a\xef\xa7\xbe\x01\xef\x94\xa6\xe2\x80\xa8\xe4\x9e\xba\xef\xbb\xbf\x0d\xec\x9f\x88\x09\xef\xbf\xbd",
     "'\\n\xef\xa7\xbe\\x01\\uf526\\u2028\xe4\x9e\xba\\ufeff\\r\xec\x9f\x88\\t\xef\xbf\xbd'"},
    {"\xec\xbb\xb7\xe2\x8e\x89\xef\xb1\xab\xe3\x80\x80\xf0\x9f\x98\x80' \x09v\xe6\xb6\x9e"
     "A",
     "\"\xec\xbb\xb7\xe2\x8e\x89\xef\xb1\xab\\u3000\xf0\x9f\x98\x80' \\tv\xe6\xb6\x9e"
     "A\""},
    {"\xc2\xad"
     "A\xf0\xaf\xa8\x9e\x0d\x09\xcc\xa9\xce\xa9z\xf0\xaf\xa8\x9e\\\xe2\x80\xa8\xe2\x80\xa8",
     "'\\xadA\\U0002fa1e\\r\\t\xcc\xa9\xce\xa9z\\U0002fa1e\\\\\\u2028\\u2028'"},
    {"\xf0\x9f\x98\x80\xf0\xaf\xa8\x9e\xf0\x97\xb2\xa1\xe2\x80\x8b\xf4\x8f\xbf\xbf\xe7\x88\xa2\xee\x84\x97z\xf3\xa0\x80\x81",
     "'\xf0\x9f\x98\x80\\U0002fa1e\xf0\x97\xb2\xa1\\u200b\\U0010ffff\xe7\x88\xa2\\ue117z\\U000e0001'"},
    {"\xe2\x80\xa8\xf1\x81\x97\x84'\x0d\xc2\x85", "\"\\u2028\\U000415c4'\\r\\x85\""},
    {"\xc3\xa9\x01\xf3\xa0\x80\x81\xe2\x80\xa8\xee\x80\x80\xee\xb6\xb0\xf0\xb3\xad\xa2\xe9\xa4\x9c",
     "'\xc3\xa9\\x01\\U000e0001\\u2028\\ue000\\uedb0\\U00033b62\xe9\xa4\x9c'"},
    {"\xf0\x9f\x98\x80\xf3\xb6\xad\x94 \xe2\x80\x8b", "'\xf0\x9f\x98\x80\\U000f6b54 \\u200b'"},
    {"\xc2\xad\"\\\xc2\x85\xe2\x80\xa8\x0d\xf0\x92\xb7\x9e\xc2\xb0\xc2\xb9\xf2\x90\xa9\xaa\x09",
     "'\\xad\"\\\\\\x85\\u2028\\r\\U00012dde\xc2\xb0\xc2\xb9\\U00090a6a\\t'"},
    {"\xf3\xa0\x80\x81\x0d\xe3\x80\x80\xee\xb5\xb2\xf2\x9f\x96\x99\"y\xef\x84\x8c\xc4\xbd\xe7\xb5\xb7",
     "'\\U000e0001\\r\\u3000\\ued72\\U0009f599\"y\\uf10c\xc4\xbd\xe7\xb5\xb7'"},
    {"\xe2\xb3\xba\xe3\x80\x80'", "\"\xe2\xb3\xba\\u3000'\""},
    {"\xe3\x80\x80\xcd\x86\xef\x8c\x9d \xc2\xa0\xcd\xb8", "'\\u3000\xcd\x86\\uf31d \\xa0\\u0378'"},
    {"\xe5\x8e\xa4\xee\x8b\xb6\"\x0d", "'\xe5\x8e\xa4\\ue2f6\"\\r'"},
    {"\x7f", "'\\x7f'"},
    {"\xe2\x80\x8b\xef\x98\xb0\\\xc2\x85>\x09\xef\xbf\xbd\xf0\xaf\xa8\x9e\xc2\xa0\xef\xbf\xbd",
     "'\\u200b\\uf630\\\\\\x85>\\t\xef\xbf\xbd\\U0002fa1e\\xa0\xef\xbf\xbd'"},
    {"=\xc3\xa9 ", "'=\xc3\xa9 '"},
    {"v\"\xed\x9a\x96", "'v\"\xed\x9a\x96'"},
    {"E\x7f\xe2\x80\x8b\xef\xbf\xbd \x7f", "'E\\x7f\\u200b\xef\xbf\xbd \\x7f'"},
    {"\xec\x90\x80\xef\xa6\xab\\", "'\xec\x90\x80\xef\xa6\xab\\\\'"},
    {"\xc2\x85\xee\x9b\xba\xf4\x8f\xbf\xbf\xe2\x9b\xbe\xce\xa9\xf0\x9f\x98\x80\\\x7f\\\xe9\x9b\xa7 ",
     "'\\x85\\ue6fa\\U0010ffff\xe2\x9b\xbe\xce\xa9\xf0\x9f\x98\x80\\\\\\x7f\\\\\xe9\x9b\xa7 '"},
    {"\xef\xae\xba\\\x01\xc2\xa0\x0d", "'\xef\xae\xba\\\\\\x01\\xa0\\r'"},
    {"\xde\xb9 -\xe0\xad\x92", "'\\u07b9 -\\u0b52'"},
    {" \xee\x91\xba\xcc\x9f\x09\xf0\xb0\x80\x80\x01 \\] \xc2\xad",
     "' \\ue47a\xcc\x9f\\t\xf0\xb0\x80\x80\\x01 \\\\] \\xad'"},
    {"\xe2\x80\x8b\x0a\x7f\x09\xc2\xad\\\xc3\xa9\xf2\xb9\xa4\xaf\x7f\xee\x98\xb5\xf4\x8f\xbf\xbf",
     "'\\u200b\\n\\x7f\\t\\xad\\\\\xc3\xa9\\U000b992f\\x7f\\ue635\\U0010ffff'"},
    {"\xe2\x80\x8b", "'\\u200b'"},
    {"\xf4\x8f\xbf\xbf\xc3\xa9\xf3\xb0\xaa\x83z\xe5\xbf\xaf\xee\xbf\xa9\xf2\x99\xa9\x9f\xf3\xa0\x80\x81\xe2\x80\x8b\xe9\x80\x96\xc2\x85",
     "'\\U0010ffff\xc3\xa9\\U000f0a83z\xe5\xbf\xaf\\uefe9\\U00099a5f\\U000e0001\\u200b\xe9\x80\x96\\x85'"},
    {"\xc2\x85\xe7\x95\x94\xc3\xa9\xee\x86\x91\xdb\xa8\xf0\xaf\xa8\x9e\xf3\x9a\xba\xa2",
     "'\\x85\xe7\x95\x94\xc3\xa9\\ue191\xdb\xa8\\U0002fa1e\\U000daea2'"},
    {"\xef\xbf\xbd\xdc\xaa\xc9\x9d\xee\xa3\xa0\xc2\xa0I\xf2\xba\x83\x90\xc2\xad\x0d\\\x0a",
     "'\xef\xbf\xbd\xdc\xaa\xc9\x9d\\ue8e0\\xa0I\\U000ba0d0\\xad\\r\\\\\\n'"},
    {"\xf3\xa0\x80\x81\xf2\x81\xb7\xa1\xef\x83\xbb \xf3\x8b\x90\x82\xe1\xa0\x9e\xf0\xb4\x84\xac\xf3\xa0\x80\x81\xe2\x80\xa8",
     "'\\U000e0001\\U00081de1\\uf0fb \\U000cb402\\u181e\\U0003412c\\U000e0001\\u2028'"},
    {"\xf1\xb6\xb8\x9a\xe7\x8e\xa2\xc2\xa0\xef\xb2\x9b\xdf\xa2\x0a\xef\xbb\xbf",
     "'\\U00076e1a\xe7\x8e\xa2\\xa0\xef\xb2\x9b\xdf\xa2\\n\\ufeff'"},
    {"z\xeb\x9a\x88\x7f\xf4\x8f\xbf\xbf\xef\xbf\xbd\xf3\xa0\x80\x81\xef\xbf\xbd\x0a"
     "A",
     "'z\xeb\x9a\x88\\x7f\\U0010ffff\xef\xbf\xbd\\U000e0001\xef\xbf\xbd\\nA'"},
    {"\xee\x95\xa9{g\xee\xb6\x85\xc2\xa0\xe5\x82\x9b\\", "'\\ue569{g\\ued85\\xa0\xe5\x82\x9b\\\\'"},
    {"\x7f\xf0\xb0\x80\x80\xc2\xa0\xf0\x96\x87\x81\"", "'\\x7f\xf0\xb0\x80\x80\\xa0\\U000161c1\"'"},
    {"\\D\xc2\xa0z\xf4\x8f\xbf\xbf\xce\xa9\xf0\xaf\xa8\x9e\xf2\xb1\xa7\xafz",
     "'\\\\D\\xa0z\\U0010ffff\xce\xa9\\U0002fa1e\\U000b19efz'"},
    {"\xee\xae\xac\xc7\xb4\xf0\xaf\xa8\x9eR\\q\xea\xb4\x9b \xe1\xb0\x96\xef\xbb\xbf\xee\xb3\xa4",
     "'\\uebac\xc7\xb4\\U0002fa1eR\\\\q\xea\xb4\x9b \xe1\xb0\x96\\ufeff\\uece4'"},
    {"w?h\xdd^\xce\x85"
     "B\xc3\xba",
     "'w?h\xef\xbf\xbd^\xce\x85"
     "B\xc3\xba'"},
    {"k\x8f\xfc\xa2\x18\x03\xd7U\xda\x1e"
     "A\xcfG",
     "'k\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\\x18\\x03\xef\xbf\xbdU\xef\xbf\xbd\\x1eA\xef\xbf\xbdG'"},
    {"\xa7#\x82\xd0\xaa\xb3n\xcau",
     "'\xef\xbf\xbd#\xef\xbf\xbd\xd0\xaa\xef\xbf\xbdn\xef\xbf\xbdu'"},
    {"\xf1\x17"
     "dCB\xcai\x06\x83",
     "'\xef\xbf\xbd\\x17dCB\xef\xbf\xbdi\\x06\xef\xbf\xbd'"},
    {"cJ)V\xf7\x98\xf8,>)\xdb", "'cJ)V\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd,>)\xef\xbf\xbd'"},
    {"\xc2\x1f]1@j\x96%\xef[\xca\x0f",
     "'\xef\xbf\xbd\\x1f]1@j\xef\xbf\xbd%\xef\xbf\xbd[\xef\xbf\xbd\\x0f'"},
    {"\xea\xa3\x9a\\\xda\xb6\x14\x85\xb0\x07\x80\xad\xb3\xe0\xfa",
     "'\\ua8da\\\\\xda\xb6\\x14\xef\xbf\xbd\xef\xbf\xbd\\x07\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'"},
    {"\x16)\xdaN\x9b"
     "2\xaa\xd8\xbb\xbd\x8aM9N\xcf!",
     "'\\x16)\xef\xbf\xbdN\xef\xbf\xbd"
     "2\xef\xbf\xbd\xd8\xbb\xef\xbf\xbd\xef\xbf\xbdM9N\xef\xbf\xbd!'"},
    {"\xe0\xfa(\xc2\x16\xf0\\\x14\xde\xed\x06\xea.\xd0\x91",
     "'\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\\x16\xef\xbf\xbd\\\\\\x14\xef\xbf\xbd\xef\xbf\xbd\\x06\xef\xbf\xbd.\xd0\x91'"},
    {"\xfb\xdf\x0e\xfb\x17", "'\xef\xbf\xbd\xef\xbf\xbd\\x0e\xef\xbf\xbd\\x17'"},
};

static const struct key_case key_cases[] = {
    {"GET", "/c-fail", "HTTPError('500 Server Error')",
     "e9931e901dcf5cfed490837f51586d4111352bbfb99ee633dfbf89fb2d60d01a"},
    {"GET", "/x", "tab\x09here\x0anewline\\backslash",
     "8380cabbde535d519accc8f81434c4e11f7d5dd71a807458a68f5339145bbdeb"},
    {"POST", "/fail", "ConnectionError(\"boom 'quoted'\")",
     "b4666e2f1394708bc98143363d64873f29ea7639ca1045f8b5defebca7eb650d"},
    {"GET", "/q", "it's", "63082e04a71a825856f1bba3ad96e4cbb7924d6ce1f646ae18b810caa93a018a"},
    {"GET", "/q", "say \"hi\"", "c5a6afa078410d2c74b67ef91ef05043e3a459ed55af1fc3832a6c10217b49aa"},
    {"GET", "/q", "both ' and \"",
     "583ed4326648175fc8c6d6ad258913863451c5e00556f8203606b4eaf5054316"},
    {"PUT", "/caf\xc3\xa9",
     "\xc3\xa9"
     "chec \xe4\xb8\xad \xf0\x9f\x98\x80 \xc2\xa0\xe2\x80\x8b",
     "354d38edfe2b0e7e72c9f39d6d40530546ff19697666a08b14166beffbfe7bdf"},
    {"", "", "", "7fee77453246c32b5f29dc5d73e7a4c19941147e82db6fc28c84566aad2f4265"},
    {"custom", "a.b", "c.d", "79158ab6612e7eed4d54259b3f4a971faf044a1897071aa4a2fb46ab9ee94dc0"},
    {"GET", "/x", "\x01\x7f\xc2\x85",
     "88208befdc0432b6e36e25ee6eef809e67d904d1538780832bac2c68e7e1cb40"},
    {"GET", "/bad", "latin1 caf\xe9 \xe2\x82 'q'",
     "e566a148e13dca1e3149ce0efd270697f7b804ee2f6a2ca5bafc9c1a9dd1a0a8"},
};

/* key of GET, /long, and 300 x */
static const char long_x_key[] = "8f15de399b4af49542751d9581d4a7f44123b1f1c87a82c236809b57dd095c49";

/* sha256 of repr(chr(c)) for every code point 1..0x10ffff but surrogates */
static const char all_cp_digest[] =
    "f993e0cb39d410a106abcdcd0245bf30ebac56f1f8bfacf332f7d16b43935884";

static void test_repr_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof repr_cases / sizeof repr_cases[0]; i++) {
        char *got = py_repr_str(repr_cases[i].in);
        int same;
        assert_non_null(got);
        same = strcmp(got, repr_cases[i].want) == 0;
        if (!same)
            print_error("case %zu: got [%s] want [%s]\n", i, got, repr_cases[i].want);
        free(got);
        assert_true(same);
    }
}

static void check_repr(const char *in, const char *want)
{
    char *got = py_repr_str(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_repr_quote_choice(void **state)
{
    (void)state;
    check_repr("no quotes", "'no quotes'");
    check_repr("it's", "\"it's\"");
    check_repr("say \"hi\"", "'say \"hi\"'");
    check_repr("both ' and \"", "'both \\' and \"'");
    check_repr("back\\slash 'q'", "\"back\\\\slash 'q'\"");
}

static void test_repr_escapes(void **state)
{
    (void)state;
    check_repr("\t\n\r", "'\\t\\n\\r'");
    check_repr("\x01\x1b\x7f", "'\\x01\\x1b\\x7f'");
    check_repr("\xc2\x80\xc2\x9f", "'\\x80\\x9f'"); /* C1 controls */
    check_repr("\xc2\xa0\xc2\xad", "'\\xa0\\xad'"); /* NBSP, SHY */
    check_repr("\xe2\x80\x8b\xe2\x80\x8f", "'\\u200b\\u200f'");
    check_repr("\xe2\x80\xa8\xe2\x80\xa9", "'\\u2028\\u2029'");
    check_repr("\xef\xbb\xbf", "'\\ufeff'");
    check_repr("\xf3\xa0\x80\x81", "'\\U000e0001'"); /* Cf, plane 14 */
    check_repr("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "'\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80'");
}

static void test_repr_invalid_utf8(void **state)
{
    (void)state;
    check_repr("a\xff"
               "b",
               "'a\xef\xbf\xbd"
               "b'");
    check_repr("\xe2\x82", "'\xef\xbf\xbd\xef\xbf\xbd'");
    check_repr("\xf0\x9f\x98"
               "A",
               "'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
               "A'");
    check_repr("\xed\xa0\x80", "'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'");
    check_repr(NULL, "''");
}

/* Every code point from 1 to 0x10ffff (no surrogates) against Python. */
static void test_repr_all_code_points(void **state)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32], buf[5];
    unsigned int mdlen = 0;
    char hex[65];

    (void)state;
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    for (uint32_t cp = 1; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        memset(buf, 0, sizeof buf);
        if (cp < 0x80) {
            buf[0] = (unsigned char)cp;
        } else if (cp < 0x800) {
            buf[0] = (unsigned char)(0xc0 | (cp >> 6));
            buf[1] = (unsigned char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            buf[0] = (unsigned char)(0xe0 | (cp >> 12));
            buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            buf[2] = (unsigned char)(0x80 | (cp & 0x3f));
        } else {
            buf[0] = (unsigned char)(0xf0 | (cp >> 18));
            buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
            buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            buf[3] = (unsigned char)(0x80 | (cp & 0x3f));
        }
        char *r = py_repr_str((const char *)buf);
        assert_non_null(r);
        EVP_DigestUpdate(ctx, r, strlen(r));
        free(r);
    }
    assert_int_equal(EVP_DigestFinal_ex(ctx, md, &mdlen), 1);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(hex, all_cp_digest);
}

static void test_key_vectors(void **state)
{
    char out[65];

    (void)state;
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const struct key_case *k = &key_cases[i];
        memset(out, 'Z', sizeof out);
        assert_int_equal(error_key(k->method, k->name, k->error, out), 0);
        if (strcmp(out, k->want) != 0)
            fail_msg("key case %zu: got %s want %s", i, out, k->want);
    }
}

static void test_key_protocol_doc(void **state)
{
    char out[65];

    (void)state;
    assert_int_equal(error_key("GET", "/c-fail", "HTTPError('500 Server Error')", out), 0);
    assert_string_equal(out, "e9931e901dcf5cfed490837f51586d41"
                             "11352bbfb99ee633dfbf89fb2d60d01a");
    assert_int_equal(error_key("GET", "/x", "tab\there\nnewline\\backslash", out), 0);
    assert_string_equal(out, "8380cabbde535d519accc8f81434c4e1"
                             "1f7d5dd71a807458a68f5339145bbdeb");
}

static void test_key_long_error(void **state)
{
    char err[301], out[65];

    (void)state;
    memset(err, 'x', 300);
    err[300] = '\0';
    assert_int_equal(error_key("GET", "/long", err, out), 0);
    assert_string_equal(out, long_x_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repr_vectors),         cmocka_unit_test(test_repr_quote_choice),
        cmocka_unit_test(test_repr_escapes),         cmocka_unit_test(test_repr_invalid_utf8),
        cmocka_unit_test(test_repr_all_code_points), cmocka_unit_test(test_key_vectors),
        cmocka_unit_test(test_key_protocol_doc),     cmocka_unit_test(test_key_long_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
