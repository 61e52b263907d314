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
 *   IdleUser   GET /, waiting between(5.5, 6): longer than a target's 5 s
 *              keep-alive timeout, so every request after the first finds
 *              its idle connection closed by the server
 *   NamedFailUser  GET /fail?id=<0-999> (500), all named "/fail?id=[id]": one
 *              name for many URLs, like /agent/[id]/state
 *   AuthUser   session header "Authorization: Bearer s3cr3t-key" (on_start);
 *              GET /auth (200 only with that header) and GET /fail (500) with
 *              a request header "X-Api-Key: s3cr3t-api-key": secrets that
 *              must never reach the worker's log
 *   SessionUser  on_start GET /login?user=<n>: nginx sets a session cookie;
 *              then GET /whoami (401 without the cookie; its body, the
 *              cookie's value, is checked against the user's own) and
 *              GET /moved (302 to /whoami)
 *   BodyUser   GET /big: a 100,000-byte body, failed by a response check
 *              unless it is all there ("0123456789" ... "ENDOFBODY!")
 *   CookieScopeUser  on_start GET /cookie/set (nginx sets "scoped=SECRET;
 *              Path=/admin", host-only, and a Secure one); then GET
 *              /admin/need (401 without the cookie), GET /public and GET
 *              /admin/leak on the other host name $LW_TEST_OTHER_HOST
 *              (both 500 if the cookie comes along)
 *   SlowDnsUser  GET $LW_TEST_SLOW_HOST/?via=slow (a host name a test's
 *              own DNS server answers slowly), named "/?via=slow"
 *   HugeBodyUser  GET /huge: a body longer than LW_RESPONSE_BODY_MAX, failed
 *              by a response check unless exactly its first
 *              LW_RESPONSE_BODY_MAX bytes are kept and lw_response_body_cut
 *              says so (the Python class checks the whole body)
 *   LongNameUser  GET / under three long names: "/long/x" and 100 EURO
 *              SIGNs then "/1" or "/2" (307 bytes: the same first 255 bytes,
 *              and byte 255 inside a euro sign), and "/huge/" and 3,000 euro
 *              signs (9,006 bytes: over the stats' 8,192-byte bound)
 *   BurstUser  4 GET / at once in each task: 4 connections per user
 *   TinyTimeoutUser  GET /tiny with a timeout of 0.4 ms (counts as 1 ms)
 *   BadTimeoutUser  GET /neg with a timeout of -1 s, GET /inf with one of
 *              infinity: refused with a ValueError, never sent
 *   DelayUser  GET /delay, waiting constant(0.1): against a target that
 *              answers after a known delay (response times, drain at stop)
 *   WeightUser GET /w/80, /w/15, /w/5 with task weights 80, 15, 5, no wait
 *   EqualUser  GET /e/1, /e/2, /e/3 with equal task weights, no wait
 *   RedirectUser  session header "Authorization: Bearer r3dir-key"; POSTs
 *              "p303", "p307", "p308" to /r303, /r307, /r308 (each redirected
 *              to /sink with that status), and GET /cross with a
 *              "Cookie: c=r3dir-cookie" header (302 to another server)
 *   LoopUser   GET /loop/0: a redirect loop (each /loop/n to /loop/n+1)
 *   ExceptionUser  GET /, then lw_user_exception "ExceptionUser boom"
 *   ByeUser    on_start GET /hi, task GET /, on_stop GET /bye
 *   PacingUser GET /delay, constant_pacing(1)
 *   ThroughputUser  GET /delay, constant_throughput(4)
 *   OwnConnUser  GET /own/<n> (named "/own") and GET /own-moved/<n> (named
 *              "/own-moved", 302 to /own/<n>), <n> the user's own number
 *              (on_start), waiting constant(1) (a paced user: the curl
 *              client keeps its connection itself): the target's log
 *              tells whose connection each request came on
 *   HeavyUser, LightUser  (class weights 3 and 1) on_start GET /hi/heavy or
 *              /hi/light, then GET /
 *   RecordUser lw_record "CUSTOM worker-<index>", then after a 50 ms timer
 *              a failed "CUSTOM timed"; NullNameUser lw_record(NULL name)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/lw.h"

/* HelloUser */

static void hello_get_root(lw_user *u)
{
    const lw_request req = {.method = "GET", .path = "/", .name = "/"};
    lw_request_send(u, &req);
}

static const lw_task hello_tasks[] = {
    {"get_root", 1, hello_get_root, NULL},
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
        .method = "GET",
        .path = "/",
        .name = "/",
        .on_response = expect_nope,
    };
    lw_request_send(u, &req);
}

static const lw_task fail_tasks[] = {
    {"get_fail", 1, fail_get_fail, NULL},
    {"get_notfound", 1, fail_get_notfound, NULL},
    {"get_root_expect_nope", 1, fail_get_root_expect_nope, NULL},
};

/* ChainUser */

static void chain_post_echo(lw_user *u, lw_response *r, void *arg)
{
    (void)r;
    (void)arg;
    const lw_request req = {
        .method = "POST",
        .path = "/echo",
        .body = "x",
        .body_len = 1,
    };
    lw_request_send(u, &req);
}

static void chain_get_root(lw_user *u)
{
    const lw_request req = {
        .method = "GET",
        .path = "/",
        .name = "/",
        .on_response = chain_post_echo,
    };
    lw_request_send(u, &req);
}

static const lw_task chain_tasks[] = {
    {"get_root_then_post_echo", 1, chain_get_root, NULL},
};

/* IdleUser */

static const lw_task idle_tasks[] = {
    {"get_root", 1, hello_get_root, NULL},
};

/* NamedFailUser */

static void named_get_fail(lw_user *u)
{
    char path[32];
    snprintf(path, sizeof path, "/fail?id=%d", (int)(lw_random() * 1000));
    const lw_request req = {.method = "GET", .path = path, .name = "/fail?id=[id]"};
    lw_request_send(u, &req);
}

static const lw_task named_fail_tasks[] = {
    {"get_fail_with_id", 1, named_get_fail, NULL},
};

/* AuthUser */

static void auth_on_start(lw_user *u)
{
    lw_user_add_header(u, "Authorization: Bearer s3cr3t-key");
}

static void auth_get_auth(lw_user *u)
{
    const lw_request req = {.method = "GET", .path = "/auth"};
    lw_request_send(u, &req);
}

static void auth_get_fail(lw_user *u)
{
    const lw_request req = {
        .method = "GET",
        .path = "/fail",
        .headers = (const char *const[]){"X-Api-Key: s3cr3t-api-key", NULL},
    };
    lw_request_send(u, &req);
}

static const lw_task auth_tasks[] = {
    {"get_auth", 1, auth_get_auth, NULL},
    {"get_fail", 1, auth_get_fail, NULL},
};

/* SessionUser: the session cookie from /login goes back with every request */

typedef struct {
    char me[32];
} session_data;

static void session_on_start(lw_user *u)
{
    session_data *d = lw_user_data(u);
    char path[48];
    int n = (int)(lw_random() * 1000000);
    snprintf(d->me, sizeof d->me, "s-%d", n);
    snprintf(path, sizeof path, "/login?user=%d", n);
    lw_request_send(u, &(lw_request){.method = "GET", .path = path, .name = "/login"});
}

static void session_check(lw_user *u, lw_response *r, void *arg)
{
    (void)arg;
    const session_data *d = lw_user_data(u);
    size_t len = 0;
    const char *body = lw_response_body(r, &len);
    if (lw_response_status(r) == 200 && (len != strlen(d->me) || memcmp(body, d->me, len) != 0)) {
        lw_response_failure(r, "session of another user: %.*s", (int)len, body);
    }
}

static void session_whoami(lw_user *u)
{
    lw_request_send(
        u, &(lw_request){.method = "GET", .path = "/whoami", .on_response = session_check});
}

static void session_moved(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/moved"});
}

static const lw_task session_tasks[] = {
    {"whoami", 1, session_whoami, NULL},
    {"moved", 1, session_moved, NULL},
};

/* OwnConnUser: every request names its user */

typedef struct {
    int n;
} own_data;

static void own_on_start(lw_user *u)
{
    own_data *d = lw_user_data(u);
    d->n = (int)(lw_random() * 1000000);
}

static void own_send(lw_user *u, const char *prefix)
{
    const own_data *d = lw_user_data(u);
    char path[48];
    snprintf(path, sizeof path, "%s/%d", prefix, d->n);
    lw_request_send(u, &(lw_request){.method = "GET", .path = path, .name = prefix});
}

static void own_get(lw_user *u)
{
    own_send(u, "/own");
}

static void own_moved(lw_user *u)
{
    own_send(u, "/own-moved");
}

static const lw_task own_tasks[] = {
    {"own", 2, own_get, NULL},
    {"own_moved", 1, own_moved, NULL},
};

/* BodyUser */

static void body_check(lw_user *u, lw_response *r, void *arg)
{
    (void)u;
    (void)arg;
    size_t len = 0;
    const char *body = lw_response_body(r, &len);
    if (len != 100000 || memcmp(body + len - 10, "ENDOFBODY!", 10) != 0) {
        lw_response_failure(r, "body of %zu bytes", len);
    }
}

static void body_get_big(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/big", .on_response = body_check});
}

static const lw_task body_tasks[] = {
    {"big", 1, body_get_big, NULL},
};

/* CookieScopeUser */

static void cookie_on_start(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/cookie/set"});
}

static void cookie_requests(lw_user *u)
{
    static char other[512];
    const char *host = getenv("LW_TEST_OTHER_HOST");
    snprintf(other, sizeof other, "%s/admin/leak", host ? host : "");
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/admin/need"});
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/public"});
    lw_request_send(u, &(lw_request){.method = "GET", .path = other, .name = "/admin/leak"});
}

static const lw_task cookie_tasks[] = {
    {"scoped", 1, cookie_requests, NULL},
};

/* SlowDnsUser */

static void slow_dns_get(lw_user *u)
{
    static char url[512];
    const char *host = getenv("LW_TEST_SLOW_HOST");
    snprintf(url, sizeof url, "%s/?via=slow", host ? host : "");
    lw_request_send(u, &(lw_request){.method = "GET", .path = url, .name = "/?via=slow"});
}

static const lw_task slow_dns_tasks[] = {
    {"slow", 1, slow_dns_get, NULL},
};

/* HugeBodyUser */

static void huge_check(lw_user *u, lw_response *r, void *arg)
{
    (void)u;
    (void)arg;
    size_t len = 0;
    const char *body = lw_response_body(r, &len);
    int cut = lw_response_body_cut(r);
    if (len != LW_RESPONSE_BODY_MAX || !cut || memcmp(body, "0123456789", 10) != 0 ||
        body[len] != '\0') {
        lw_response_failure(r, "kept %zu bytes, cut %d", len, cut);
    }
}

static void huge_get(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/huge", .on_response = huge_check});
}

static const lw_task huge_tasks[] = {
    {"huge", 1, huge_get, NULL},
};

/* LongNameUser */

#define EURO "\xe2\x82\xac"
#define EURO10 EURO EURO EURO EURO EURO EURO EURO EURO EURO EURO
#define EURO100 EURO10 EURO10 EURO10 EURO10 EURO10 EURO10 EURO10 EURO10 EURO10 EURO10

static void long_name_get(lw_user *u, const char *name)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/", .name = name});
}

static void long_name_1(lw_user *u)
{
    long_name_get(u, "/long/x" EURO100 "/1");
}
static void long_name_2(lw_user *u)
{
    long_name_get(u, "/long/x" EURO100 "/2");
}

static void long_name_huge(lw_user *u)
{
    static char name[6 + 3000 * 3 + 1];
    if (!name[0]) {
        memcpy(name, "/huge/", 6);
        for (size_t i = 0; i < 3000; i++) {
            memcpy(name + 6 + i * 3, EURO, 3);
        }
    }
    long_name_get(u, name);
}

static const lw_task long_name_tasks[] = {
    {"long1", 1, long_name_1, NULL},
    {"long2", 1, long_name_2, NULL},
    {"huge", 1, long_name_huge, NULL},
};

/* BurstUser */

static void burst_get(lw_user *u)
{
    for (int i = 0; i < 4; i++) {
        lw_request_send(u, &(lw_request){.method = "GET", .path = "/", .name = "/"});
    }
}

static const lw_task burst_tasks[] = {
    {"burst", 1, burst_get, NULL},
};

/* TinyTimeoutUser, BadTimeoutUser */

static void tiny_timeout(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/tiny", .timeout = 0.0004});
}

static void negative_timeout(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/neg", .timeout = -1});
}

static void infinite_timeout(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/inf", .timeout = HUGE_VAL});
}

static const lw_task tiny_timeout_tasks[] = {{"tiny", 1, tiny_timeout, NULL}};
static const lw_task bad_timeout_tasks[] = {
    {"negative", 1, negative_timeout, NULL},
    {"infinite", 1, infinite_timeout, NULL},
};

/* DelayUser, PacingUser, ThroughputUser */

static void delay_get(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/delay"});
}

static const lw_task delay_tasks[] = {
    {"delay", 1, delay_get, NULL},
};

/* WeightUser and EqualUser: one path per task, so the target counts picks */

static void get_path(lw_user *u, const char *path)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = path});
}

static void w80(lw_user *u)
{
    get_path(u, "/w/80");
}
static void w15(lw_user *u)
{
    get_path(u, "/w/15");
}
static void w5(lw_user *u)
{
    get_path(u, "/w/5");
}
static void e1(lw_user *u)
{
    get_path(u, "/e/1");
}
static void e2(lw_user *u)
{
    get_path(u, "/e/2");
}
static void e3(lw_user *u)
{
    get_path(u, "/e/3");
}

static const lw_task weight_tasks[] = {
    {"w80", 80, w80, NULL},
    {"w15", 15, w15, NULL},
    {"w5", 5, w5, NULL},
};

static const lw_task equal_tasks[] = {
    {"e1", 1, e1, NULL},
    {"e2", 1, e2, NULL},
    {"e3", 1, e3, NULL},
};

/* RedirectUser and LoopUser */

static void redirect_on_start(lw_user *u)
{
    lw_user_add_header(u, "Authorization: Bearer r3dir-key");
}

static void post_to(lw_user *u, const char *path, const char *body)
{
    lw_request_send(u, &(lw_request){.method = "POST", .path = path, .body = body});
}

static void r303(lw_user *u)
{
    post_to(u, "/r303", "p303");
}
static void r307(lw_user *u)
{
    post_to(u, "/r307", "p307");
}
static void r308(lw_user *u)
{
    post_to(u, "/r308", "p308");
}

static void cross(lw_user *u)
{
    lw_request_send(u, &(lw_request){
                           .method = "GET",
                           .path = "/cross",
                           .headers = (const char *const[]){"Cookie: c=r3dir-cookie", NULL},
                       });
}

static const lw_task redirect_tasks[] = {
    {"r303", 1, r303, NULL},
    {"r307", 1, r307, NULL},
    {"r308", 1, r308, NULL},
    {"cross", 1, cross, NULL},
};

static void loop_get(lw_user *u)
{
    get_path(u, "/loop/0");
}

static const lw_task loop_tasks[] = {
    {"loop", 1, loop_get, NULL},
};

/* ExceptionUser */

static void exception_task(lw_user *u)
{
    hello_get_root(u);
    lw_user_exception(u, "ExceptionUser boom");
}

static const lw_task exception_tasks[] = {
    {"boom", 1, exception_task, NULL},
};

/* ByeUser */

static void bye_on_start(lw_user *u)
{
    get_path(u, "/hi");
}
static void bye_on_stop(lw_user *u)
{
    get_path(u, "/bye");
}

/* HeavyUser and LightUser */

static void heavy_on_start(lw_user *u)
{
    get_path(u, "/hi/heavy");
}
static void light_on_start(lw_user *u)
{
    get_path(u, "/hi/light");
}

/* RecordUser (lw_record, a hold released by a timer, lw_worker_index),
 * NullNameUser (lw_record with a NULL name: an exception, no crash) */

static void record_timed_done(lw_user *u, void *arg)
{
    (void)arg;
    lw_record(u, "CUSTOM", "timed", 50.0, 0, "Boom('late')");
    lw_task_release(u);
}

static void record_ops(lw_user *u)
{
    char name[32];
    snprintf(name, sizeof name, "worker-%ld", lw_worker_index());
    lw_record(u, "CUSTOM", name, 5.0, 10, NULL);
    lw_task_hold(u);
    if (lw_timer_after(u, 0.05, record_timed_done, NULL) != 0) {
        lw_task_release(u);
    }
}

static void record_null_name(lw_user *u)
{
    lw_record(u, "CUSTOM", NULL, 1.0, 0, NULL);
}

static const lw_task record_tasks[] = {{"record_ops", 1, record_ops, NULL}};
static const lw_task null_name_tasks[] = {{"record_null_name", 1, record_null_name, NULL}};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const lw_user_class classes[] = {
    {.name = "HelloUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = hello_tasks,
     .ntasks = COUNT(hello_tasks)},
    {.name = "FailUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = fail_tasks,
     .ntasks = COUNT(fail_tasks)},
    {.name = "ChainUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = chain_tasks,
     .ntasks = COUNT(chain_tasks)},
    {.name = "IdleUser",
     .weight = 1,
     .wait_time = LW_BETWEEN(5.5, 6),
     .tasks = idle_tasks,
     .ntasks = COUNT(idle_tasks)},
    {.name = "NamedFailUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = named_fail_tasks,
     .ntasks = COUNT(named_fail_tasks)},
    {.name = "AuthUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = auth_tasks,
     .ntasks = COUNT(auth_tasks),
     .on_start = auth_on_start},
    {.name = "SessionUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = session_tasks,
     .ntasks = COUNT(session_tasks),
     .on_start = session_on_start,
     .user_data_size = sizeof(session_data)},
    {.name = "BodyUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.1),
     .tasks = body_tasks,
     .ntasks = COUNT(body_tasks)},
    {.name = "CookieScopeUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = cookie_tasks,
     .ntasks = COUNT(cookie_tasks),
     .on_start = cookie_on_start},
    {.name = "SlowDnsUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = slow_dns_tasks,
     .ntasks = COUNT(slow_dns_tasks)},
    {.name = "HugeBodyUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = huge_tasks,
     .ntasks = COUNT(huge_tasks)},
    {.name = "LongNameUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = long_name_tasks,
     .ntasks = COUNT(long_name_tasks)},
    {.name = "BurstUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = burst_tasks,
     .ntasks = COUNT(burst_tasks)},
    {.name = "TinyTimeoutUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = tiny_timeout_tasks,
     .ntasks = COUNT(tiny_timeout_tasks)},
    {.name = "BadTimeoutUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = bad_timeout_tasks,
     .ntasks = COUNT(bad_timeout_tasks)},
    {.name = "DelayUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.1),
     .tasks = delay_tasks,
     .ntasks = COUNT(delay_tasks)},
    {.name = "WeightUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0),
     .tasks = weight_tasks,
     .ntasks = COUNT(weight_tasks)},
    {.name = "EqualUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0),
     .tasks = equal_tasks,
     .ntasks = COUNT(equal_tasks)},
    {.name = "RedirectUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.1),
     .tasks = redirect_tasks,
     .ntasks = COUNT(redirect_tasks),
     .on_start = redirect_on_start},
    {.name = "LoopUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = loop_tasks,
     .ntasks = COUNT(loop_tasks)},
    {.name = "ExceptionUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.5),
     .tasks = exception_tasks,
     .ntasks = COUNT(exception_tasks)},
    {.name = "ByeUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = hello_tasks,
     .ntasks = COUNT(hello_tasks),
     .on_start = bye_on_start,
     .on_stop = bye_on_stop},
    {.name = "PacingUser",
     .weight = 1,
     .wait_time = LW_CONSTANT_PACING(1),
     .tasks = delay_tasks,
     .ntasks = COUNT(delay_tasks)},
    {.name = "ThroughputUser",
     .weight = 1,
     .wait_time = LW_CONSTANT_THROUGHPUT(4),
     .tasks = delay_tasks,
     .ntasks = COUNT(delay_tasks)},
    {.name = "OwnConnUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(1),
     .tasks = own_tasks,
     .ntasks = COUNT(own_tasks),
     .on_start = own_on_start,
     .user_data_size = sizeof(own_data)},
    {.name = "HeavyUser",
     .weight = 3,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = hello_tasks,
     .ntasks = COUNT(hello_tasks),
     .on_start = heavy_on_start},
    {.name = "LightUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = hello_tasks,
     .ntasks = COUNT(hello_tasks),
     .on_start = light_on_start},
    {.name = "RecordUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = record_tasks,
     .ntasks = COUNT(record_tasks)},
    {.name = "NullNameUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.2),
     .tasks = null_name_tasks,
     .ntasks = COUNT(null_name_tasks)},
};

static const size_t nclasses = COUNT(classes);

int main(int argc, char **argv)
{
    return lw_main(argc, argv, classes, nclasses);
}
