/*
 * error_key.h - Locust's error identity: Python repr() of a str and the
 * sha256 key Locust 2.28+ uses to merge the same error across reports and
 * workers: sha256("{method}.{name}.{repr(error)}") as 64 lowercase hex chars.
 */
#ifndef LW_ERROR_KEY_H
#define LW_ERROR_KEY_H

#include <stddef.h>

/* Python's repr() of a UTF-8 str. Returns a malloc'd string, NULL on OOM. */
char *py_repr_str(const char *s);

/* Writes 64 hex chars and a NUL into out. Returns 0, or -1 on failure. */
int error_key(const char *method, const char *name, const char *error, char out[65]);

#endif
