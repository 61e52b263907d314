/*
 * fuzz_decode.c - libFuzzer target for the master -> worker decoder.
 *
 * Feeds arbitrary bytes to proto_decode() as if they were one frame from a
 * master, and checks under ASan/UBSan that decoding never crashes, reads out
 * of bounds, leaks or misbehaves, whatever the bytes are. When a frame decodes,
 * messages a worker sends are encoded from the result (the spawn's classes
 * as spawning_complete; the node_id, type name and host in the others), so
 * the strings and counts decode hands out go through encode too, and the
 * encoded spawning_complete must decode again.
 *
 * Not part of the library: every target lives in test/fuzz/.
 * Seeds: test/fuzz/corpus/decode, real frames of stock Locust masters 2.47.0 and
 * 2.12.1 plus malformed ones. Build and run: make fuzz [FUZZ_SECONDS=60].
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proto_msg m, back;
    msgpack_sbuffer sbuf;
    char err[256];
    size_t i;
    int rc;

    rc = proto_decode((const char *)data, size, &m, err, sizeof err);
    if (rc != 0) {
        /* A failed decode leaves an empty message and a one-line reason. */
        if (m.type_name != NULL || m.node_id != NULL || m.spawn.classes != NULL ||
            m.spawn.nclasses != 0 || m.spawn.host != NULL || err[0] == '\0' ||
            memchr(err, '\0', sizeof err) == NULL)
            abort();
        proto_msg_free(&m);
        return 0;
    }
    if (m.type_name == NULL)
        abort();
    if (m.type == PROTO_SPAWN) {
        if (m.spawn.nclasses > 0 && m.spawn.classes == NULL)
            abort();
        for (i = 0; i < m.spawn.nclasses; i++)
            if (m.spawn.classes[i].name == NULL || m.spawn.classes[i].count < 0)
                abort();
    }

    msgpack_sbuffer_init(&sbuf);
    if (proto_encode_spawning_complete(&sbuf, m.node_id, m.spawn.classes, m.spawn.nclasses) != 0)
        abort();
    /* What we encode must decode again. */
    if (proto_decode(sbuf.data, sbuf.size, &back, err, sizeof err) != 0 ||
        back.type != PROTO_SPAWNING_COMPLETE)
        abort();
    proto_msg_free(&back);
    if (proto_encode_heartbeat(&sbuf, m.node_id, m.type_name, 0.0, m.ack_index) != 0 ||
        proto_encode_nil(&sbuf, m.type_name, m.node_id) != 0 ||
        proto_encode_client_ready(&sbuf, m.node_id) != 0 ||
        (m.spawn.host != NULL &&
         proto_encode_exception(&sbuf, m.node_id, m.spawn.host, m.type_name) != 0))
        abort();
    msgpack_sbuffer_destroy(&sbuf);
    proto_msg_free(&m);
    return 0;
}
