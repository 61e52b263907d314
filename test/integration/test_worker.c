/*
 * test_worker.c - the user classes of the integration tests, in C.
 *
 * These mirror test/integration/locustfile.py one for one: the same class
 * names, weights, wait times and tasks. The master runs that locustfile and
 * dispatches users by class name, so either this binary or a Python worker
 * with the same locustfile can serve it.
 *
 *   HelloUser  GET /
 *   FailUser   GET /fail (500), GET /notfound (404), and GET / failed by a
 *              response check ("no nope in body")
 *   ChainUser  GET /, then POST /echo with body "x" from its response callback
 */
#include <string.h>

#include "../../worker/lw.h"

/* HelloUser */

static void hello_get_root(lw_user *u)
{
    const lw_request req = {.method = "GET", .path = "/", .name = "/"};
    lw_request_send(u, &req);
}

static const lw_task hello_tasks[] = {
    {"get_root", 1, hello_get_root},
};

/* FailUser */

static void fail_get_fail(lw_user *u)
{
    const lw_request req = {.method = "GET", .path = "/fail"};
    lw_request_send(u, &req);
}

static void fail_get_notfound(lw_user *u)
{
    const lw_request req = {.method = "GET", .path = "/notfound"};
    lw_request_send(u, &req);
}

/* Like catch_response: a 200 whose body lacks "nope" is still a failure. */
static void expect_nope(lw_user *u, lw_response *r, void *arg)
{
    (void)u;
    (void)arg;
    size_t len = 0;
    const char *body = lw_response_body(r, &len);
    if (body != NULL && memmem(body, len, "nope", 4) != NULL) {
        lw_response_success(r);
    } else {
        lw_response_failure(r, "no nope in body");
    }
}

static void fail_get_root_expect_nope(lw_user *u)
{
    const lw_request req = {
        .method = "GET", .path = "/", .name = "/", .on_response = expect_nope,
    };
    lw_request_send(u, &req);
}

static const lw_task fail_tasks[] = {
    {"get_fail", 1, fail_get_fail},
    {"get_notfound", 1, fail_get_notfound},
    {"get_root_expect_nope", 1, fail_get_root_expect_nope},
};

/* ChainUser */

static void chain_post_echo(lw_user *u, lw_response *r, void *arg)
{
    (void)r;
    (void)arg;
    const lw_request req = {
        .method = "POST", .path = "/echo", .body = "x", .body_len = 1,
    };
    lw_request_send(u, &req);
}

static void chain_get_root(lw_user *u)
{
    const lw_request req = {
        .method = "GET", .path = "/", .name = "/", .on_response = chain_post_echo,
    };
    lw_request_send(u, &req);
}

static const lw_task chain_tasks[] = {
    {"get_root_then_post_echo", 1, chain_get_root},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const lw_user_class classes[] = {
    {.name = "HelloUser", .weight = 1, .wait_time = LW_CONSTANT(0.2),
     .tasks = hello_tasks, .ntasks = COUNT(hello_tasks)},
    {.name = "FailUser", .weight = 1, .wait_time = LW_CONSTANT(0.2),
     .tasks = fail_tasks, .ntasks = COUNT(fail_tasks)},
    {.name = "ChainUser", .weight = 1, .wait_time = LW_CONSTANT(0.2),
     .tasks = chain_tasks, .ntasks = COUNT(chain_tasks)},
};

static const size_t nclasses = COUNT(classes);

int main(int argc, char **argv) { return lw_main(argc, argv, classes, nclasses); }
