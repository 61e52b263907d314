/*
 * proto.h - the Locust master/worker message codec.
 *
 * Every Locust message is one msgpack array [type, data, node_id]. This module
 * turns C values into those bytes and back. It does no I/O and holds no global
 * state. Decoding is tolerant of what different Locust versions send (nil, int
 * or float where a number is expected, unknown keys, arrays in parsed_options)
 * and never crashes on malformed input: it returns an error text instead.
 */
#ifndef LW_PROTO_H
#define LW_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

/* Message types a worker receives from the master. */
typedef enum {
    PROTO_UNKNOWN = 0, /* any type we do not know: log and ignore */
    PROTO_ACK,
    PROTO_SPAWN,
    PROTO_STOP,
    PROTO_QUIT,
    PROTO_RECONNECT,
    PROTO_HEARTBEAT,         /* 2.19+: master's reply to our heartbeat */
    PROTO_SPAWNING_COMPLETE, /* 2.29+: whole ramp done; informational */
    PROTO_UPDATE_USER_CLASS  /* 2.25+: accepted and ignored */
} proto_type;

/* One user-class target of a spawn message. */
typedef struct {
    char *name;
    int64_t count;
} proto_class_count;

/* One of the master's parsed_options (Locust's own and the locustfile's
 * custom ones). value: the text Python's str() gives a scalar (bools are
 * "True"/"False"), the items joined by "," for a list, NULL for None or a
 * value of another kind. items: a list's scalar items. */
typedef struct {
    char *name;
    char *value;
    char **items;
    size_t nitems;
    int is_list;
} proto_option;

typedef struct {
    double timestamp;           /* master's time.time() of this dispatch step */
    char *host;                 /* NULL when the master sends nil or "" */
    int has_stop_timeout;       /* 0 when nil */
    double stop_timeout;        /* seconds */
    proto_class_count *classes; /* absolute per-class targets */
    size_t nclasses;
    proto_option *options; /* parsed_options; none if not a map */
    size_t noptions;
} proto_spawn;

/* update_user_class (2.25+, the web UI's class picker): the class, the
 * names of its selected tasks, its host, and the names of other settings. */
typedef struct {
    char *class_name;
    int has_tasks; /* 0: the task selection is unchanged */
    char **tasks;
    size_t ntasks;
    char *host;  /* NULL: absent, nil or "" */
    char *other; /* other keys, joined by ", "; or NULL */
} proto_update;

/* A decoded master->worker message. Free with proto_msg_free(). */
typedef struct {
    proto_type type;
    char *type_name;     /* the type string as received */
    char *node_id;       /* NULL if not a str */
    int64_t ack_index;   /* PROTO_ACK: index, or -1 when data is nil */
    proto_spawn spawn;   /* PROTO_SPAWN only */
    proto_update update; /* PROTO_UPDATE_USER_CLASS only */
} proto_msg;

/* The option called `name` in a spawn, or NULL. */
const proto_option *proto_spawn_option(const proto_spawn *s, const char *name);

/*
 * Decode one message. Returns 0 on success. On failure returns -1, leaves *out
 * empty (safe to free) and writes a one-line reason into err.
 */
int proto_decode(const char *buf, size_t len, proto_msg *out, char *err, size_t errlen);
void proto_msg_free(proto_msg *m);

/*
 * Encoding. Each proto_encode_* function resets sbuf and writes one complete
 * message into it. All strings go out as msgpack str, all times as float64.
 * They return 0, or -1 when sbuf could not grow; sbuf is then empty (size 0).
 */
int proto_encode_client_ready(msgpack_sbuffer *sbuf, const char *node_id);
int proto_encode_nil(msgpack_sbuffer *sbuf, const char *type, const char *node_id);
int proto_encode_heartbeat(msgpack_sbuffer *sbuf, const char *node_id, const char *state,
                           double cpu_percent, int64_t rss_bytes);
int proto_encode_spawning_complete(msgpack_sbuffer *sbuf, const char *node_id,
                                   const proto_class_count *classes, size_t nclasses);
int proto_encode_exception(msgpack_sbuffer *sbuf, const char *node_id, const char *msg,
                           const char *traceback);
/* ["logs", {"worker_id": node_id, "logs": [line, ...]}, node_id]: the
 * worker's recent log lines for the master's Logs tab (Locust 2.29+). */
int proto_encode_logs(msgpack_sbuffer *sbuf, const char *node_id, const char *const *lines,
                      size_t n);

/*
 * For messages whose data another module builds (stats): proto_begin resets
 * sbuf, inits pk and writes the array header and the type; the caller packs
 * exactly one data object; proto_end writes the node_id. Both return 0, or -1
 * when the buffer could not grow (then do not send what sbuf holds).
 */
int proto_begin(msgpack_sbuffer *sbuf, msgpack_packer *pk, const char *type);
int proto_end(msgpack_packer *pk, const char *node_id);

/* Pack a C string as msgpack str (NULL packs nil). Invalid UTF-8 bytes are
 * replaced with U+FFFD so a master never fails to decode what we send.
 * Returns 0, or -1 when the buffer could not grow. */
int proto_pack_str(msgpack_packer *pk, const char *s);

/* Append a class->count map. Returns 0, or -1 when the buffer could not grow. */
int proto_pack_class_counts(msgpack_packer *pk, const proto_class_count *classes, size_t n);

#endif
