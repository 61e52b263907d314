/*
 * log.c - Locust-format log lines on stderr, filtered by level. Every
 * character that could end or fake a line in a log viewer (C0 and C1
 * control characters, DEL, U+2028 LINE SEPARATOR, U+2029 PARAGRAPH
 * SEPARATOR) becomes one '?', so one call is one line.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "utf8.h"

#define LOG_TEXT_MAX 2047 /* bytes of message text per line */

static char log_host[128] = "localhost";
static log_level log_min = LOG_INFO;
static log_tap_fn log_tap;
static void *log_tap_ctx;

void log_set_tap(log_tap_fn tap, void *ctx)
{
    log_tap = tap;
    log_tap_ctx = ctx;
}

void log_init(const char *hostname, log_level level)
{
    if (hostname) {
        snprintf(log_host, sizeof log_host, "%s", hostname);
    }
    log_min = level;
}

int log_parse_level(const char *s, log_level *out)
{
    static const struct {
        const char *name;
        log_level level;
    } names[] = {
        {"DEBUG", LOG_DEBUG},  {"INFO", LOG_INFO},   {"WARNING", LOG_WARNING},
        {"WARN", LOG_WARNING}, {"ERROR", LOG_ERROR}, {"CRITICAL", LOG_ERROR},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

int log_enabled(log_level level)
{
    return level >= log_min;
}

static const char *level_name(log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "DEBUG";
    case LOG_INFO:
        return "INFO";
    case LOG_WARNING:
        return "WARNING";
    default:
        return "ERROR";
    }
}

/* Length of the line-breaking character at p (0: none): C0 controls and
 * DEL (1 byte), C1 controls such as NEL U+0085 (C2 80..9F), U+2028 and
 * U+2029 (E2 80 A8/A9). */
static size_t line_breaker(const unsigned char *p)
{
    if (*p < 0x20 || *p == 0x7f) {
        return 1;
    }
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
        return 2;
    }
    if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
        return 3;
    }
    return 0;
}

size_t log_clean(char *text)
{
    unsigned char *in = (unsigned char *)text, *out = in;
    while (*in) {
        size_t n = line_breaker(in);
        if (n) {
            *out++ = '?';
            in += n;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - (unsigned char *)text);
}

void log_msg(log_level level, const char *logger, const char *fmt, ...)
{
    if (!log_enabled(level)) {
        return;
    }
    struct timeval tv;
    struct tm tm;
    char stamp[32];
    char text[LOG_TEXT_MAX + 4]; /* + the bytes that show where to cut */
    va_list ap;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    text[utf8_cut(text, strlen(text), LOG_TEXT_MAX)] = '\0';
    log_clean(text); /* one call, one line: no forged lines */
    char line[LOG_TEXT_MAX + 256];
    snprintf(line, sizeof line, "[%s,%03ld] %s/%s/%s: %s", stamp, (long)(tv.tv_usec / 1000),
             log_host, level_name(level), logger, text);
    fprintf(stderr, "%s\n", line);
    if (log_tap) {
        log_tap(line, log_tap_ctx);
    }
}
