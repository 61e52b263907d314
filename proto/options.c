/*
 * options.c - decode the master's parsed_options (in spawn) and the data of
 * update_user_class into C strings. Tolerant: a value of a kind a worker
 * cannot use becomes NULL instead of failing the message.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

/* A float as Python's repr() writes it: the shortest text that reads back
 * as the same double, with ".0" when it would look like an int. */
static void float_text(double v, char *buf, size_t len)
{
    int prec;

    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "inf" : "-inf");
        return;
    }
    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (prec == 17)
        snprintf(buf, len, "%.17g", v);
    if (strchr(buf, 'e') != NULL && v != 0) {
        int exp10 = (int)floor(log10(fabs(v)));
        if (exp10 >= -4 && exp10 < 16) /* Python writes these without 'e' */
            snprintf(buf, len, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, v);
    }
    if (strpbrk(buf, ".en") == NULL && strlen(buf) + 3 <= len)
        strcat(buf, ".0");
}

/* A scalar as text, or NULL (nil, containers, strings with NUL bytes). */
static char *scalar_text(const msgpack_object *o)
{
    char buf[64];

    switch (o->type) {
    case MSGPACK_OBJECT_STR:
        if (o->via.str.size > 0 && memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
            return NULL;
        return strndup(o->via.str.size ? o->via.str.ptr : "", o->via.str.size);
    case MSGPACK_OBJECT_BOOLEAN:
        return strdup(o->via.boolean ? "True" : "False");
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(buf, sizeof buf, "%" PRIu64, o->via.u64);
        return strdup(buf);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(buf, sizeof buf, "%" PRId64, o->via.i64);
        return strdup(buf);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        float_text(o->via.f64, buf, sizeof buf);
        return strdup(buf);
    default:
        return NULL;
    }
}

/* The scalar items of a list, and their text joined by ",". */
static int list_items(const msgpack_object *o, proto_option *opt)
{
    uint32_t i, n = o->via.array.size;
    size_t total = 1;

    opt->is_list = 1;
    opt->items = calloc(n ? n : 1, sizeof *opt->items);
    if (opt->items == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        char *t = scalar_text(&o->via.array.ptr[i]);
        if (t != NULL) {
            opt->items[opt->nitems++] = t;
            total += strlen(t) + 1;
        }
    }
    opt->value = malloc(total);
    if (opt->value == NULL)
        return -1;
    opt->value[0] = '\0';
    for (i = 0; i < opt->nitems; i++) {
        if (i > 0)
            strcat(opt->value, ",");
        strcat(opt->value, opt->items[i]);
    }
    return 0;
}

int decode_options(const msgpack_object *po, proto_spawn *s, dctx *d)
{
    uint32_t i, n;

    if (po->type != MSGPACK_OBJECT_MAP || po->via.map.size == 0)
        return 0;
    n = po->via.map.size;
    s->options = calloc(n, sizeof *s->options);
    if (s->options == NULL)
        return fail(d, "out of memory");
    for (i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &po->via.map.ptr[i];
        proto_option *opt = &s->options[s->noptions];
        if (kv->key.type != MSGPACK_OBJECT_STR ||
            copy_str(&kv->key, &opt->name, "option name", d) != 0)
            continue;
        s->noptions++;
        if (kv->val.type == MSGPACK_OBJECT_ARRAY) {
            if (list_items(&kv->val, opt) != 0)
                return fail(d, "out of memory");
        } else {
            opt->value = scalar_text(&kv->val);
        }
    }
    return 0;
}

const proto_option *proto_spawn_option(const proto_spawn *s, const char *name)
{
    size_t i;

    for (i = s->noptions; i > 0; i--) /* the last one wins, as in a dict */
        if (strcmp(s->options[i - 1].name, name) == 0)
            return &s->options[i - 1];
    return NULL;
}

void free_options(proto_spawn *s)
{
    size_t i, j;

    for (i = 0; i < s->noptions; i++) {
        for (j = 0; j < s->options[i].nitems; j++)
            free(s->options[i].items[j]);
        free(s->options[i].items);
        free(s->options[i].name);
        free(s->options[i].value);
    }
    free(s->options);
}

/* Appends ", key" to *other. */
static int note_key(char **other, const msgpack_object *key)
{
    char *k = scalar_text(key);
    size_t have = *other ? strlen(*other) : 0;
    char *grown;

    if (k == NULL)
        return 0;
    grown = realloc(*other, have + strlen(k) + 3);
    if (grown == NULL) {
        free(k);
        return -1;
    }
    if (have == 0)
        grown[0] = '\0';
    else
        strcat(grown, ", ");
    strcat(grown, k);
    free(k);
    *other = grown;
    return 0;
}

static int update_tasks(const msgpack_object *v, proto_update *u)
{
    uint32_t i, n;

    if (v->type != MSGPACK_OBJECT_ARRAY)
        return 0;
    for (i = 0; i < u->ntasks; i++) /* a repeated key: the last one wins */
        free(u->tasks[i]);
    free(u->tasks);
    u->tasks = NULL;
    u->ntasks = 0;
    n = v->via.array.size;
    u->has_tasks = 1;
    u->tasks = calloc(n ? n : 1, sizeof *u->tasks);
    if (u->tasks == NULL)
        return -1;
    for (i = 0; i < n; i++)
        if (v->via.array.ptr[i].type == MSGPACK_OBJECT_STR &&
            (u->tasks[u->ntasks] = scalar_text(&v->via.array.ptr[i])) != NULL)
            u->ntasks++;
    return 0;
}

int decode_update(const msgpack_object *data, proto_update *u, dctx *d)
{
    uint32_t i;

    if (data->type != MSGPACK_OBJECT_MAP)
        return fail(d, "update_user_class: data is not a map");
    for (i = 0; i < data->via.map.size; i++) {
        const msgpack_object *k = &data->via.map.ptr[i].key;
        const msgpack_object *v = &data->via.map.ptr[i].val;
        int rc = 0;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 15 &&
            memcmp(k->via.str.ptr, "user_class_name", 15) == 0) {
            free(u->class_name);
            u->class_name = NULL;
            rc = copy_str(v, &u->class_name, "update_user_class: user_class_name", d);
        } else if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 5 &&
                   memcmp(k->via.str.ptr, "tasks", 5) == 0) {
            rc = update_tasks(v, u);
        } else if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 4 &&
                   memcmp(k->via.str.ptr, "host", 4) == 0) {
            free(u->host);
            u->host = v->type == MSGPACK_OBJECT_STR && v->via.str.size > 0 ? scalar_text(v) : NULL;
        } else {
            rc = note_key(&u->other, k);
        }
        if (rc != 0)
            return d->err != NULL && d->err[0] ? -1 : fail(d, "out of memory");
    }
    if (u->class_name == NULL)
        return fail(d, "update_user_class: user_class_name is missing");
    return 0;
}

void free_update(proto_update *u)
{
    size_t i;

    for (i = 0; i < u->ntasks; i++)
        free(u->tasks[i]);
    free(u->tasks);
    free(u->class_name);
    free(u->host);
    free(u->other);
}
