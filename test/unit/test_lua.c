/*
 * test_lua.c - unit tests of the Lua binding (worker/lua/): scripts loaded
 * into a real LuaJIT state, their classes run by the real runner on a real
 * libev loop, without a master.
 *
 * Covered: the classes a script declares (names, order, wait times, task
 * forms and weights, client), every declaration error as one line; the lw
 * helpers (uuid4, random, json, env, wait times); users as coroutines
 * (on_start before any task, per-user state in self, on_stop once, the
 * coroutine reused across tasks); a request that yields and resumes with
 * the response (a refused connection: status 0, the default verdict, the
 * script's own verdict recorded in stats, a response closed after the next
 * request), a request that cannot start (no host) that returns at once; a
 * hard stop while a request hangs (the coroutine dropped, on_stop run);
 * async requests in flight together, judged in their check, wait(); a
 * runtime error as an exception with its traceback while the user goes on;
 * an endless loop stopped by the instruction limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../worker/cli.h"
#include "../../worker/log.h"
#include "../../worker/lua/lwlua.h"
#include "../../worker/runner.h"
#include "../../worker/stats.h"

#define T0 1700000000.0

static struct {
    lwlua_script s;
    struct ev_loop *loop;
    lw_stats *stats;
    runner *r;
    int exceptions;
    char last_exception[2048];
    char path[64];
} fx;

static void ev_none(void *ctx)
{
    (void)ctx;
}

static void ev_exception(const char *msg, void *ctx)
{
    (void)ctx;
    fx.exceptions++;
    snprintf(fx.last_exception, sizeof fx.last_exception, "%s", msg);
}

/* Writes text to a fresh script file and loads it; returns lwlua_load's code. */
static int load(const char *text, long limit, char *err, size_t len)
{
    snprintf(fx.path, sizeof fx.path, "/tmp/lw-test-XXXXXX.lua");
    int fd = mkstemps(fx.path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    lwlua_free(&fx.s);
    fx.s.limit = limit;
    int rc = lwlua_load(&fx.s, fx.path, err, len);
    unlink(fx.path);
    return rc;
}

static void load_ok(const char *text, long limit)
{
    char err[512] = "";
    if (load(text, limit, err, sizeof err) != 0) {
        fail_msg("script did not load: %s", err);
    }
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    log_init("test", (log_level)(LOG_ERROR + 10)); /* quiet: exceptions are expected */
    fx.loop = ev_loop_new(EVFLAG_AUTO);
    fx.stats = stats_new(T0);
    return fx.loop && fx.stats ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    runner_free(fx.r);
    lwlua_free(&fx.s);
    stats_free(fx.stats);
    ev_loop_destroy(fx.loop);
    memset(&fx, 0, sizeof fx);
    return 0;
}

static void start_runner(void)
{
    static lw_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.processes = 1;
    cfg.loglevel = LOG_ERROR;
    cfg.request_timeout = 5.0;
    cfg.http_client = -1;
    runner_events events = {ev_none, ev_none, ev_exception, &fx};
    fx.r = runner_new(fx.loop, fx.s.classes, fx.s.nclasses, &cfg, fx.stats, events);
    assert_non_null(fx.r);
}

static void on_break(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void run_for(double seconds)
{
    ev_timer t;
    ev_now_update(fx.loop);
    ev_timer_init(&t, on_break, seconds, 0.0);
    ev_timer_start(fx.loop, &t);
    ev_run(fx.loop, 0);
    ev_timer_stop(fx.loop, &t);
}

static void spawn(const char *cls, int64_t n, const char *host)
{
    proto_class_count cc = {(char *)cls, n};
    proto_spawn sp;
    memset(&sp, 0, sizeof sp);
    sp.timestamp = T0;
    sp.host = (char *)host;
    sp.classes = &cc;
    sp.nclasses = 1;
    runner_spawn(fx.r, &sp);
}

static void stop_all(void)
{
    runner_stop(fx.r, 5.0);
    for (int i = 0; i < 400 && !runner_idle(fx.r); i++) {
        run_for(0.005);
    }
    assert_true(runner_idle(fx.r));
}

static double global_number(const char *name)
{
    lua_getglobal(fx.s.L, name);
    double v = lua_tonumber(fx.s.L, -1);
    lua_pop(fx.s.L, 1);
    return v;
}

static const char *global_string(const char *name)
{
    lua_getglobal(fx.s.L, name);
    const char *v = lua_tostring(fx.s.L, -1); /* kept alive by the global */
    lua_pop(fx.s.L, 1);
    return v ? v : "";
}

/* ---- declarations ------------------------------------------------------ */

static void test_hello_and_opscore_examples(void **state)
{
    (void)state;
    char err[512];
    fx.s.limit = LWLUA_DEFAULT_LIMIT;
    if (lwlua_load(&fx.s, "examples/hello/hello.lua", err, sizeof err)) {
        fail_msg("%s", err);
    }
    assert_int_equal(fx.s.nclasses, 1);
    const lw_user_class *c = &fx.s.classes[0];
    assert_string_equal(c->name, "HelloUser");
    assert_int_equal(c->wait_time.kind, LW_WAIT_CONSTANT);
    assert_true(c->wait_time.a == 1.0);
    assert_int_equal(c->ntasks, 1);
    assert_string_equal(c->tasks[0].name, "get_root");
    assert_int_equal(c->tasks[0].weight, 1);
    assert_int_equal(c->client, LW_CLIENT_CURL);
    assert_non_null(c->on_start);
    assert_non_null(c->on_stop);
    assert_ptr_equal(c->arg, &fx.s.lclasses[0]);
    lwlua_free(&fx.s);

    if (lwlua_load(&fx.s, "examples/opscore/opscore.lua", err, sizeof err)) {
        fail_msg("%s", err);
    }
    const char *names[] = {"QuickStateUser", "StateUpdateUser", "WorkflowUser", "MixedUser"};
    assert_int_equal(fx.s.nclasses, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(fx.s.classes[i].name, names[i]);
        assert_int_equal(fx.s.classes[i].wait_time.kind, LW_WAIT_BETWEEN);
    }
    const lw_user_class *m = &fx.s.classes[3];
    assert_true(m->wait_time.a == 1.0 && m->wait_time.b == 5.0);
    int sum = 0, post = 0;
    for (size_t i = 0; i < m->ntasks; i++) {
        sum += m->tasks[i].weight;
        post += strcmp(m->tasks[i].name, "state_update") == 0 ? m->tasks[i].weight : 0;
    }
    assert_int_equal(m->ntasks, 3);
    assert_int_equal(sum, 100);
    assert_int_equal(post, 80);
}

static void test_task_forms_and_options(void **state)
{
    (void)state;
    load_ok("local lw = require 'lw'\n"
            "local A = lw.user('A', {weight = 3, client = 'fast',\n"
            "  wait_time = lw.constant_throughput(4)})\n"
            "function A:m() end\n"
            "A.tasks = {function() end, 'm'}\n"
            "A.tags = {m = {'write', 'state'}}\n"
            "local B = lw.user('B', {wait_time = lw.constant_pacing(2)})\n"
            "function B:x() end\n"
            "B.tasks = {x = 7, [function() end] = 2}\n"
            "lw.user('C', {tasks = {function() end}})\n",
            LWLUA_DEFAULT_LIMIT);
    assert_int_equal(fx.s.nclasses, 3);
    const lw_user_class *a = &fx.s.classes[0], *b = &fx.s.classes[1], *c = &fx.s.classes[2];
    assert_string_equal(a->name, "A");
    assert_int_equal(a->weight, 3);
    assert_int_equal(a->client, LW_CLIENT_FAST);
    assert_int_equal(a->wait_time.kind, LW_WAIT_CONSTANT_THROUGHPUT);
    assert_true(a->wait_time.a == 4.0);
    assert_int_equal(a->ntasks, 2);
    assert_int_equal(a->tasks[0].weight + a->tasks[1].weight, 2);
    assert_non_null(strstr(a->tasks[0].name, ".lua:5")); /* a function: file:line */
    assert_string_equal(a->tasks[1].name, "m");
    assert_null(a->tasks[0].tags);
    assert_non_null(a->tasks[1].tags);
    assert_string_equal(a->tasks[1].tags[0], "write");
    assert_string_equal(a->tasks[1].tags[1], "state");
    assert_null(a->tasks[1].tags[2]);
    assert_int_equal(b->wait_time.kind, LW_WAIT_CONSTANT_PACING);
    assert_int_equal(b->ntasks, 2);
    assert_int_equal(b->tasks[0].weight + b->tasks[1].weight, 9);
    assert_int_equal(c->wait_time.kind, LW_WAIT_CONSTANT); /* Locust's default */
    assert_true(c->wait_time.a == 0.0);
    assert_int_equal(c->client, LW_CLIENT_CURL);
}

static void test_declaration_errors_are_one_line(void **state)
{
    (void)state;
    static const struct {
        const char *script, *want;
    } cases[] = {
        {"local x = = 1\n", ".lua:1: unexpected symbol near '='"},
        {"\nerror('at load')\n", ".lua:2: at load"},
        {"local lw = require 'lw'\n", "declares no user class"},
        {"lw.user('A', {})\n", "user class 'A' has no tasks"},
        {"lw.user('A', {tasks = {}})\n", "user class 'A' has no tasks"},
        {"lw.user('A', {tasks = {'m'}})\n", "task 'm' is not a method of the class"},
        {"local A = lw.user('A'); function A:m() end; A.tasks = {m = 0.5}\n",
         "task weights must be integers >= 1"},
        {"lw.user('A', {tasks = {3}})\n", "a task must be a function or a method name"},
        {"lw.user('A', {wait_time = 'x', tasks = {print}})\n", "wait_time must be"},
        {"lw.constant(-1)\n", "constant: invalid arguments"},
        {"lw.constant_throughput(0)\n", "constant_throughput: invalid arguments"},
        {"lw.user('A', {client = 'x', tasks = {print}})\n", "client must be"},
        {"lw.user('A'); lw.user('A')\n", "user class 'A' is declared twice"},
        {"local A = lw.user('A', {tasks = {print}, tags = {[print] = {1}}})\n",
         "a task's tags must be a list of strings"},
        {"local A = lw.user('A', {tasks = {print}, tags = {[print] = 'x'}})\n",
         "a task's tags must be a list of strings"},
        {"lw.user('')\n", "a class needs a name"},
        {"lw.user('A', {tasks = {print}}); error({})\n", "(error object is not a string)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        if (load(cases[i].script, LWLUA_DEFAULT_LIMIT, err, sizeof err) != -1) {
            fail_msg("case %zu loaded", i);
        }
        if (!strstr(err, cases[i].want) || strchr(err, '\n')) {
            fail_msg("case %zu: '%s' does not say '%s' in one line", i, err, cases[i].want);
        }
    }
    char err[512];
    lwlua_free(&fx.s);
    assert_int_equal(lwlua_load(&fx.s, "/nonexistent/x.lua", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open /nonexistent/x.lua"));
}

static void test_helpers(void **state)
{
    (void)state;
    setenv("LW_TEST_SECRET", "s3cret", 1);
    load_ok(
        "local lw = require 'lw'\n"
        "assert(lw == _G.lw)\n"
        "local id = lw.uuid4()\n"
        "assert(id:match('^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$'), id)\n"
        "assert(lw.uuid4() ~= id)\n"
        "local seen = {}\n"
        "for i = 1, 2000 do\n"
        "  local f = lw.random(); assert(f >= 0 and f < 1)\n"
        "  local n = lw.random(4); assert(n >= 1 and n <= 4 and n == math.floor(n))\n"
        "  local m = lw.random(-2, 2); assert(m >= -2 and m <= 2)\n"
        "  seen[n] = true\n"
        "end\n"
        "assert(seen[1] and seen[2] and seen[3] and seen[4])\n"
        "assert(not pcall(lw.random, 3, 1))\n"
        "assert(math.abs(lw.time() - os.time()) < 2)\n"
        "assert(lw.env('LW_TEST_SECRET') == 's3cret')\n"
        "assert(lw.env('LW_TEST_NONE') == nil and lw.env('LW_TEST_NONE', 'd') == 'd')\n"
        "local t = lw.json.decode(lw.json.encode({a = {1, 2, 'x'}, b = true}))\n"
        "assert(t.a[3] == 'x' and t.b == true)\n"
        "assert(require('cjson') == lw.json)\n"
        "local w = lw.between(1, 5)\n"
        "assert(w.kind == 'between' and w.a == 1 and w.b == 5)\n"
        "lw.user('A', {tasks = {print}})\n",
        LWLUA_DEFAULT_LIMIT);
    unsetenv("LW_TEST_SECRET");
}

/* ---- users ------------------------------------------------------------- */

static const char users_script[] =
    "local lw = require 'lw'\n"
    "starts, stops, tasks, bad, maxn = 0, 0, 0, 0, 0\n"
    "local U = lw.user('U', {wait_time = lw.constant(0.001)})\n"
    "function U:on_start() starts = starts + 1; self.id = starts; self.n = 0 end\n"
    "function U:on_stop() stops = stops + 1; if not self.id then bad = bad + 1 end end\n"
    "function U:work()\n"
    "  if not self.id or self.stopped then bad = bad + 1 end\n"
    "  self.n = self.n + 1; tasks = tasks + 1\n"
    "  if self.n > maxn then maxn = self.n end\n"
    "  co = co or coroutine.running()\n"
    "  if self.id == 1 and coroutine.running() ~= co then bad = bad + 1 end\n"
    "  return 'a value, not an error'\n"
    "end\n"
    "U.tasks = {work = 1}\n";

static void test_users_are_coroutines_with_their_own_state(void **state)
{
    (void)state;
    load_ok(users_script, LWLUA_DEFAULT_LIMIT);
    start_runner();
    spawn("U", 3, NULL);
    run_for(0.2);
    stop_all();
    assert_int_equal((int)global_number("starts"), 3);
    assert_int_equal((int)global_number("stops"), 3);
    assert_true(global_number("tasks") >= 30);
    assert_true(global_number("maxn") >= 10);       /* state kept in self */
    assert_int_equal((int)global_number("bad"), 0); /* and one coroutine per user */
    assert_int_equal(fx.exceptions, 0);
}

static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static const char request_script[] =
    "local lw = require 'lw'\n"
    "sent, after, status, ok, err, closed, judged = 0, 0, -1, nil, '', '', 0\n"
    "local U = lw.user('U', {wait_time = lw.constant(0.01), client = CLIENT})\n"
    "function U:work()\n"
    "  sent = sent + 1\n"
    "  local r = self.client:get('/x', {name = 'x', headers = {['X-A'] = 'b'}})\n"
    "  after = after + 1; status = r.status; ok = r.ok; err = r.error or ''\n"
    "  r:failure('judged by the script'); judged = judged + 1\n"
    "  local r2 = self.client:post('/y', {name = 'y', json = {a = 1}})\n"
    "  local okc, e = pcall(r.success, r); closed = e\n"
    "  r2:success()\n"
    "end\n"
    "U.tasks = {'work'}\n";

static void run_request_script(const char *client)
{
    char script[2048], host[64];
    snprintf(script, sizeof script, "CLIENT = '%s'\n%s", client, request_script);
    load_ok(script, LWLUA_DEFAULT_LIMIT);
    start_runner();
    snprintf(host, sizeof host, "http://127.0.0.1:%d", closed_port());
    spawn("U", 1, host);
    for (int i = 0; i < 400 && global_number("after") < 3; i++) {
        run_for(0.005);
    }
    stop_all();
    assert_true(global_number("after") >= 3); /* resumed with the response */
    assert_true(global_number("after") == global_number("sent"));
    assert_int_equal((int)global_number("status"), 0); /* connection refused */
    lua_getglobal(fx.s.L, "ok");
    assert_false(lua_toboolean(fx.s.L, -1));
    lua_pop(fx.s.L, 1);
    assert_non_null(strstr(global_string("err"), "ConnectionError"));
    assert_non_null(strstr(global_string("closed"), "only until the task's next request"));
    assert_int_equal(fx.exceptions, 0);
}

static void test_request_yields_and_resumes_curl(void **state)
{
    (void)state;
    run_request_script("curl");
}

static void test_request_yields_and_resumes_fast(void **state)
{
    (void)state;
    run_request_script("fast");
}

static void test_request_that_cannot_start_returns_at_once(void **state)
{
    (void)state;
    load_ok("local lw = require 'lw'\n"
            "n, status, err = 0, -1, ''\n"
            "local U = lw.user('U', {wait_time = lw.constant(0.01)})\n"
            "function U:work()\n"
            "  local r = self.client:get('/x')\n"
            "  n = n + 1; status = r.status; err = r.error\n"
            "  local h = self.client:async('GET', '/y', {check = function() error('never') end})\n"
            "  astatus = h:wait().status\n"
            "end\n"
            "U.tasks = {'work'}\n",
            LWLUA_DEFAULT_LIMIT);
    start_runner();
    spawn("U", 1, NULL); /* no host: the request never starts */
    run_for(0.1);
    stop_all();
    assert_true(global_number("n") >= 2);
    assert_int_equal((int)global_number("status"), 0);
    assert_non_null(strstr(global_string("err"), "not sent"));
    assert_int_equal((int)global_number("astatus"), 0); /* async: a done handle */
    assert_int_equal(fx.exceptions, 0);
}

/* A port that accepts connections (the kernel's backlog) and never answers. */
static int silent_port(int *fd_out)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *fd_out = fd;
    return ntohs(a.sin_port);
}

static void test_hard_stop_drops_a_waiting_coroutine_and_runs_on_stop(void **state)
{
    (void)state;
    char host[64];
    int fd;
    load_ok("local lw = require 'lw'\n"
            "started, after, stops, stop_status = 0, 0, 0, -1\n"
            "local U = lw.user('U', {wait_time = lw.constant(0), client = 'fast'})\n"
            "function U:work()\n"
            "  started = started + 1\n"
            "  self.client:get('/hang')\n"
            "  after = after + 1\n"
            "end\n"
            "function U:on_stop()\n"
            "  stops = stops + 1\n"
            "  stop_status = self.client:get('/bye').status\n"
            "end\n"
            "U.tasks = {'work'}\n",
            LWLUA_DEFAULT_LIMIT);
    start_runner();
    snprintf(host, sizeof host, "http://127.0.0.1:%d", silent_port(&fd));
    spawn("U", 2, host);
    run_for(0.1);
    assert_int_equal((int)global_number("started"), 2);
    runner_stop(fx.r, 0.05); /* grace, then a hard stop, then the drain */
    for (int i = 0; i < 1000 && !runner_idle(fx.r); i++) {
        run_for(0.005);
    }
    close(fd);
    assert_true(runner_idle(fx.r));
    assert_int_equal((int)global_number("after"), 0);       /* never resumed */
    assert_int_equal((int)global_number("stops"), 2);       /* on_stop ran anyway */
    assert_int_equal((int)global_number("stop_status"), 0); /* not sent: cancelled */
    assert_int_equal(fx.exceptions, 0);
}

static void test_async_requests_are_in_flight_together(void **state)
{
    (void)state;
    char host[64];
    int fd;
    load_ok(
        "local lw = require 'lw'\n"
        "checked, waited, statuses, closed, took, unwaited, errs = 0, 0, '', '', 99, 0, ''\n"
        "local U = lw.user('U', {wait_time = lw.constant(0.01), client = 'fast'})\n"
        "function U:work()\n"
        "  local t0 = lw.time()\n"
        "  local a = self.client:async('get', '/a', {name = 'a', timeout = 0.3,\n"
        "    check = function(r) checked = checked + 1; errs = r.error; r:failure('judged') end})\n"
        "  local b = self.client:async('POST', '/b', {name = 'b', json = {x = 1}, timeout = 0.3})\n"
        "  local rb = b:wait()\n"
        "  local ra = a:wait()\n"
        "  assert(a:wait() == ra)   -- again: at once, the same response\n"
        "  took = lw.time() - t0\n"
        "  waited = waited + 1\n"
        "  statuses = ra.status .. ',' .. rb.status\n"
        "  local ok, e = pcall(ra.success, ra); closed = e\n"
        "  self.client:async('GET', '/c', {timeout = 0.3, check = function(r)\n"
        "    unwaited = unwaited + 1; error('bad check') end})\n"
        "end\n"
        "U.tasks = {'work'}\n",
        LWLUA_DEFAULT_LIMIT);
    start_runner();
    snprintf(host, sizeof host, "http://127.0.0.1:%d", silent_port(&fd));
    spawn("U", 1, host);
    for (int i = 0; i < 400 && global_number("unwaited") < 2; i++) {
        run_for(0.005);
    }
    stop_all();
    close(fd);
    assert_true(global_number("waited") >= 2);
    assert_int_equal((int)global_number("checked"), (int)global_number("waited"));
    assert_true(global_number("unwaited") >= 2); /* not waited for: checked all the same */
    assert_string_equal(global_string("statuses"), "0,0"); /* both timed out */
    assert_non_null(strstr(global_string("errs"), "Timeout"));
    assert_true(global_number("took") < 0.5); /* together: one timeout, not two */
    assert_non_null(strstr(global_string("closed"), "in its check"));
    /* an error in a check is an exception with its line, like a task's */
    assert_int_equal(fx.exceptions, (int)global_number("unwaited"));
    assert_non_null(strstr(fx.last_exception, ".lua:17: bad check"));
    assert_non_null(strstr(fx.last_exception, "stack traceback:"));
}

static void test_runtime_error_is_an_exception_and_the_user_goes_on(void **state)
{
    (void)state;
    load_ok("local lw = require 'lw'\n"
            "n = 0\n"
            "local U = lw.user('U', {wait_time = lw.constant(0.001)})\n"
            "local function deeper(x) return x.field end\n"
            "function U:work()\n"
            "  n = n + 1\n"
            "  deeper(nil)\n"
            "end\n"
            "U.tasks = {'work'}\n",
            LWLUA_DEFAULT_LIMIT);
    start_runner();
    spawn("U", 1, NULL);
    run_for(0.1);
    stop_all();
    assert_true(global_number("n") >= 5);
    assert_int_equal(fx.exceptions, (int)global_number("n"));
    const char *e = fx.last_exception;
    assert_non_null(strstr(e, ".lua:4: attempt to index local 'x' (a nil value)"));
    assert_non_null(strstr(e, "stack traceback:"));
    assert_non_null(strstr(e, ".lua:7: in function <")); /* the caller's line */
    assert_null(strstr(e, "xpcall"));
}

static void test_endless_loop_is_stopped_by_the_limit(void **state)
{
    (void)state;
    load_ok("local lw = require 'lw'\n"
            "n = 0\n"
            "local U = lw.user('U', {wait_time = lw.constant(0.001)})\n"
            "function U:work()\n"
            "  n = n + 1\n"
            "  while true do end\n"
            "end\n"
            "U.tasks = {'work'}\n",
            100000);
    start_runner();
    spawn("U", 1, NULL);
    run_for(0.1);
    stop_all();
    assert_true(global_number("n") >= 3); /* each run stopped, the user went on */
    assert_int_equal(fx.exceptions, (int)global_number("n"));
    assert_non_null(strstr(fx.last_exception, ".lua:6: the task ran 100000 Lua instructions"));
    assert_non_null(strstr(fx.last_exception, "endless loop"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_and_opscore_examples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_forms_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declaration_errors_are_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_are_coroutines_with_their_own_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request_yields_and_resumes_curl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_yields_and_resumes_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_that_cannot_start_returns_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hard_stop_drops_a_waiting_coroutine_and_runs_on_stop,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_requests_are_in_flight_together, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_runtime_error_is_an_exception_and_the_user_goes_on,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_loop_is_stopped_by_the_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
