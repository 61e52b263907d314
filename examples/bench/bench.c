/*
 * bench.c - the benchmark worker: user class BenchUser with no wait
 * (constant(0)) and one task, GET /. Each user keeps its own keep-alive
 * connection, so N users hold N connections, as N Locust HttpUsers would.
 */
#include "../../worker/lw.h"

static void get_index(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/"});
}

static const lw_task bench_tasks[] = {
    {"index", 1, get_index},
};

static const lw_user_class classes[] = {
    {
        .name = "BenchUser",
        .weight = 1,
        .wait_time = LW_CONSTANT(0),
        .tasks = bench_tasks,
        .ntasks = 1,
    },
};

int main(int argc, char **argv)
{
    return lw_main(argc, argv, classes, sizeof classes / sizeof classes[0]);
}
