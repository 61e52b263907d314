/*
 * lw.h - the public API for writing Locust user classes in C.
 *
 * A user class is a name (the master's class name), a weight, a wait_time and
 * weighted tasks, with optional on_start/on_stop. A task issues HTTP requests
 * through lw_request_send(); each request runs asynchronously and its
 * on_response callback may judge it (like Locust's catch_response) and may
 * send a follow-up request. A task is finished when the task function has
 * returned and no request of that user is in flight any more; then the user
 * waits its wait_time and picks its next task.
 *
 * Each user has its own session, as Locust's HttpUser: its own keep-alive
 * connection, cookie jar and default headers.
 */
#ifndef LW_H
#define LW_H

#include <stddef.h>
#include <stdint.h>

/* This library's version. */
#define LW_VERSION_MAJOR 0
#define LW_VERSION_MINOR 2
#define LW_VERSION_PATCH 0
#define LW_STR2_(x) #x
#define LW_STR_(x) LW_STR2_(x)
#define LW_VERSION \
    LW_STR_(LW_VERSION_MAJOR) "." LW_STR_(LW_VERSION_MINOR) "." LW_STR_(LW_VERSION_PATCH)

/* The number of elements of an array (not of a pointer). */
#define LW_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct lw_user lw_user;
typedef struct lw_response lw_response;

/* Locust's wait_time functions. */
typedef enum {
    LW_WAIT_CONSTANT = 0,       /* constant(a) */
    LW_WAIT_BETWEEN,            /* between(a, b): uniform in [a, b] */
    LW_WAIT_CONSTANT_PACING,    /* constant_pacing(a): a task every a s */
    LW_WAIT_CONSTANT_THROUGHPUT /* constant_throughput(a): a tasks per s */
} lw_wait_kind;

typedef struct {
    lw_wait_kind kind;
    double a, b;
} lw_wait_time;

#define LW_CONSTANT(s) ((lw_wait_time){LW_WAIT_CONSTANT, (s), 0})
#define LW_BETWEEN(lo, hi) ((lw_wait_time){LW_WAIT_BETWEEN, (lo), (hi)})
#define LW_CONSTANT_PACING(s) ((lw_wait_time){LW_WAIT_CONSTANT_PACING, (s), 0})
#define LW_CONSTANT_THROUGHPUT(n) ((lw_wait_time){LW_WAIT_CONSTANT_THROUGHPUT, (n), 0})

typedef void (*lw_task_fn)(lw_user *u);

/* The HTTP client of a class's users. */
typedef enum {
    LW_CLIENT_CURL = 0, /* libcurl, like HttpUser: http, https, proxies */
    LW_CLIENT_FAST      /* own HTTP/1.1 client, like FastHttpUser: http://
                             only (https:// requests still go through curl) */
} lw_client;

typedef struct {
    const char *name; /* the locustfile's task name: the web UI's class
                           picker selects tasks by it */
    int weight;       /* relative weight, >= 1; a class's add up to
                           INT_MAX at most (lw_main checks) */
    lw_task_fn fn;
    const char *const *tags; /* NULL-terminated, like @tag(...); NULL: none.
                                 The master's --tags / --exclude-tags filter
                                 tasks by them at the start of each test */
} lw_task;

typedef struct {
    const char *name; /* must equal the master's class name */
    int weight;       /* documentation; the master dispatches */
    lw_wait_time wait_time;
    const lw_task *tasks;
    size_t ntasks;
    lw_task_fn on_start;   /* optional; runs before the first task */
    lw_task_fn on_stop;    /* optional; runs when the user stops */
    size_t user_data_size; /* zeroed bytes per user: lw_user_data() */
    lw_client client;      /* default LW_CLIENT_CURL; --http-client
                                    overrides it for every class */
    /* Appended fields: initialize by name (.arg = ...). */
    void *arg; /* optional, for the class's functions:
                                    lw_user_class_of(u)->arg */
} lw_user_class;

/* The longest request timeout: a day, as --request-timeout allows. */
#define LW_MAX_TIMEOUT_S 86400.0

typedef void (*lw_response_fn)(lw_user *u, lw_response *r, void *arg);

typedef struct {
    const char *method;         /* default "GET" */
    const char *path;           /* relative to the host, or a full URL */
    const char *name;           /* stats row name; default: path */
    const char *body;           /* NULL: no body */
    size_t body_len;            /* 0 with a body: strlen(body) */
    const char *const *headers; /* NULL-terminated "Name: value" list */
    double timeout;             /* seconds, more than 0 and at most
                                    LW_MAX_TIMEOUT_S (under 1 ms counts as
                                    1 ms); 0: the worker default */
    lw_response_fn on_response; /* optional: judge, read, chain */
    void *arg;
} lw_request;

/* Start a request. Returns 0, or -1 if it could not be started (the failure
 * is logged in stats under the request's name). */
int lw_request_send(lw_user *u, const lw_request *req);

/* The most bytes of a response body kept for on_response: a longer body
 * is read to its end and counted whole (stats' content size), but only its
 * first LW_RESPONSE_BODY_MAX bytes are kept, and lw_response_body_cut()
 * tells so. Bodies of requests without on_response are never kept. */
#define LW_RESPONSE_BODY_MAX ((size_t)16 * 1024 * 1024)

/* Response accessors, valid inside on_response. */
long lw_response_status(const lw_response *r); /* 0: no response */
/* The kept body (NUL-terminated; *len: the bytes kept, at most
 * LW_RESPONSE_BODY_MAX). */
const char *lw_response_body(const lw_response *r, size_t *len);
/* 1 if the body was longer than LW_RESPONSE_BODY_MAX and was cut there,
 * else 0. */
int lw_response_body_cut(const lw_response *r);
const char *lw_response_header(const lw_response *r, const char *name);
double lw_response_time_ms(const lw_response *r);
const char *lw_response_error(const lw_response *r); /* current verdict */

/* Verdicts (like catch_response's success()/failure()). By default a
 * response with status 400 or more, or no response at all, is a failure. */
void lw_response_success(lw_response *r);
void lw_response_failure(lw_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Per-user state and session. */
void *lw_user_data(lw_user *u);
const lw_user_class *lw_user_class_of(const lw_user *u);
/* The task the user runs now (inside its function and its requests'
 * callbacks): a pointer into its class's tasks array, or NULL in on_start
 * and on_stop. With it and lw_user_class.arg one function can serve many
 * tasks and classes (the Lua binding's do). */
const lw_task *lw_current_task(const lw_user *u);
/* Add a default header sent with every request of this user's session,
 * like self.client.headers. Returns 0 or -1. */
int lw_user_add_header(lw_user *u, const char *header);
/* Report an error to the master's Exceptions tab and the log. */
void lw_user_exception(lw_user *u, const char *msg);
/* A uniform random double in [0, 1) from the worker's generator. */
double lw_random(void);
/* Writes a random UUID4 (36 chars + NUL). */
void lw_uuid4(char out[37]);

/* The master's value of an option for the current test (its parsed_options,
 * e.g. a custom option a locustfile adds with init_command_line_parser), as
 * the text Python's str() gives it ("True"/"False" for bools, items joined
 * by "," for a list); NULL when the master sent none or None. */
const char *lw_option(const lw_user *u, const char *name);
/* The same as a number or a bool (true: True, true, yes, on, 1); `dflt`
 * when the option is missing or is not one. */
double lw_option_number(const lw_user *u, const char *name, double dflt);
int lw_option_bool(const lw_user *u, const char *name, int dflt);

/* ---- Any protocol --------------------------------------------------
 *
 * A task may load-test anything that runs on the user's libev loop (Redis,
 * gRPC, raw TCP, a message queue), not only HTTP:
 *
 *   - lw_record() puts one operation into the stats, exactly as a request
 *     (Locust's events.request.fire): its row is (type, name), its time is
 *     bucketed like an HTTP response time, an error counts a failure.
 *   - lw_task_hold() keeps the current phase (on_start, a task, on_stop)
 *     open while the task's own I/O runs; lw_task_release() ends one hold.
 *     The user waits its wait_time and picks its next task only when every
 *     hold is released and no HTTP request is in flight.
 *   - lw_user_loop() is the loop to attach the I/O to; lw_timer_after()
 *     runs a function later on it, holding the task until then.
 *   - lw_user_set_cleanup() registers what closes the user's own I/O: it
 *     runs once when the user is freed (after its on_stop, or without one
 *     when the user is cut off at the end of a stop's grace time). While
 *     it runs, lw_record() and lw_task_release() of the cut-off I/O do
 *     nothing: such operations are not counted, as an HTTP request cut
 *     off at the end of a stop is not.
 *
 * Everything runs on the user's loop thread; none of it is thread-safe.
 */
struct ev_loop;

/* Record one operation. type: the stats row's Type column, as
 * request_type of events.request ("GET", "REDIS", "grpc", ...; NULL: "").
 * response_time_ms < 0 or NaN: no response time (Locust's None).
 * error NULL: a success; else a failure with this text (the Failures tab).
 * Returns 0; or -1, with an exception reported and logged, when name is
 * NULL (u NULL: only logged). */
int lw_record(lw_user *u, const char *type, const char *name, double response_time_ms,
              int64_t response_length, const char *error);

/* Keep the current task open until the matching lw_task_release(). Holds
 * nest. Releasing more than was held is reported as an exception and
 * ignored. */
void lw_task_hold(lw_user *u);
void lw_task_release(lw_user *u);

/* The libev loop this user runs on (one per worker process). */
struct ev_loop *lw_user_loop(lw_user *u);

/* Run fn(u, arg) once, `seconds` from now (0: on the next loop
 * iteration), holding the task until it has run. Returns 0, or -1 when
 * out of memory (nothing is held then). A timer still pending when the
 * user is freed is dropped without running. */
typedef void (*lw_timer_fn)(lw_user *u, void *arg);
int lw_timer_after(lw_user *u, double seconds, lw_timer_fn fn, void *arg);

/* fn(u, arg) runs once when the user is freed (see above); a later call
 * replaces an earlier one. */
void lw_user_set_cleanup(lw_user *u, lw_timer_fn fn, void *arg);

/* This worker's index from the master's ack (Locust's
 * runner.worker_index): 0, 1, ... in the order workers registered; -1
 * before the first ack; 0 in a standalone run. With --processes each
 * process has its own. Use it to split test data between workers. */
long lw_worker_index(void);

/* Run the worker: parses argv like `locust --worker` and serves the master.
 * Returns the process exit code. */
int lw_main(int argc, char **argv, const lw_user_class *classes, size_t nclasses);

#endif
