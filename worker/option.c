/*
 * option.c - lw_option: user code reads the master's options of the
 * current test (its parsed_options, custom locustfile options included),
 * as Python user code reads environment.parsed_options.
 */
#include <stdlib.h>
#include <string.h>

#include "boolword.h"
#include "lw.h"
#include "user.h"

const char *lw_option(const lw_user *u, const char *name)
{
    const proto_option *o;
    if (!u || !name || !u->env->options) {
        return NULL;
    }
    o = proto_spawn_option(u->env->options, name);
    return o ? o->value : NULL;
}

double lw_option_number(const lw_user *u, const char *name, double dflt)
{
    const char *v = lw_option(u, name);
    char *end;
    if (!v || !*v) {
        return dflt;
    }
    double d = strtod(v, &end);
    return *end ? dflt : d;
}

int lw_option_bool(const lw_user *u, const char *name, int dflt)
{
    const char *v = lw_option(u, name);
    int on;
    return v && bool_word(v, &on) == 0 ? on : dflt;
}
