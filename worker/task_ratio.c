/*
 * task_ratio.c - prints the class and task ratios as JSON (task_ratio.h).
 * A class's share is its weight over all weights (Locust with no user
 * count given and no fixed_count); a task's is its weight over its class's.
 */
#include "task_ratio.h"

/* A JSON string of an identifier-like name: quotes and backslashes and
 * control bytes escaped. */
static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(out, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(out, "\\u%04x", c);
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

static double class_weights(const lw_user_class *c, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += c[i].weight > 0 ? c[i].weight : 0;
    }
    return sum > 0 ? sum : 1;
}

static void print_class(FILE *out, const lw_user_class *c, double ratio, int total)
{
    double sum = 0;
    for (size_t t = 0; t < c->ntasks; t++) {
        sum += c->tasks[t].weight;
    }
    fprintf(out, "        ");
    json_str(out, c->name);
    fprintf(out, ": {\n            \"ratio\": %.17g,\n            \"tasks\": {", ratio);
    for (size_t t = 0; t < c->ntasks; t++) {
        double r = sum > 0 ? c->tasks[t].weight / sum : 0;
        fprintf(out, "%s\n                ", t ? "," : "");
        json_str(out, c->tasks[t].name);
        fprintf(out, ": {\"ratio\": %.17g}", total ? r * ratio : r);
    }
    fprintf(out, "\n            }\n        }");
}

void task_ratio_print(FILE *out, const lw_user_class *classes, size_t n)
{
    double all = class_weights(classes, n);
    for (int total = 0; total < 2; total++) {
        fprintf(out, "%s\n    \"%s\": {", total ? "," : "{", total ? "total" : "per_class");
        for (size_t i = 0; i < n; i++) {
            double w = classes[i].weight > 0 ? classes[i].weight : 0;
            fprintf(out, "%s\n", i ? "," : "");
            print_class(out, &classes[i], w / all, total);
        }
        fprintf(out, "\n    }");
    }
    fprintf(out, "\n}\n");
}
