/*
 * opscore.c - the Ops-Core scenario pack's user classes (build/opscore-worker).
 *
 * The same classes, weights, waits, request names and bodies as the master's
 * examples/opscore/locustfile.py, so C and Python workers can share a test:
 *
 *   QuickStateUser   Scenario 0   between(1, 2)    POST state
 *   StateUpdateUser  Scenario 1   between(5, 10)   POST state
 *   WorkflowUser     Scenario 2   between(30, 60)  POST workflow
 *   MixedUser        Scenarios 3, 4  between(1, 5) POST state 80,
 *                                                   GET state 15, POST workflow 5
 *
 * Every user first registers its own agent (a UUID4) through the notify
 * endpoint, then works on it with "Authorization: Bearer $OPSCORE_API_KEY"
 * (default test-api-key). An unexpected status is a failure whose text names
 * the status and the service's "detail".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../../worker/lw.h"
#include "sample_workflow.h" /* generated from sample_workflow.json */

#define NAME_STATE "/v1/opscore/agent/[id]/state"
#define NAME_WORKFLOW "/v1/opscore/agent/[id]/workflow"
#define NAME_NOTIFY "/v1/opscore/internal/agent/notify"

#define PREFIX_MAX 64 /* bytes of --agent-prefix used */

typedef struct {
    char agent_id[PREFIX_MAX + 37];
} agent;

static char auth_header[600];
static char *workflow_body;

/* The "detail" of an Ops-Core error body, or a short excerpt of the body. */
static void detail_of(const char *body, char *out, size_t len)
{
    const char *d = strstr(body, "\"detail\"");
    const char *p = d ? strchr(d + 8, ':') : NULL;
    size_t n = 0;
    if (p) {
        p++;
        while (*p == ' ') {
            p++;
        }
        if (*p == '"') {
            for (p++; *p && *p != '"' && n + 1 < len; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }
                out[n++] = *p;
            }
            out[n] = '\0';
            return;
        }
        body = p;
    }
    snprintf(out, len, "%.120s", body);
}

/* Response check: the expected status is a success, anything else fails
 * with "HTTP <status>: <detail>". Transport errors keep their own text. */
static void expect_status(lw_user *u, lw_response *r, void *arg)
{
    (void)u;
    long want = (long)(intptr_t)arg;
    long got = lw_response_status(r);
    char detail[256];
    if (got == want) {
        lw_response_success(r);
    } else if (got != 0) {
        detail_of(lw_response_body(r, NULL), detail, sizeof detail);
        lw_response_failure(r, "HTTP %ld: %s", got, detail);
    }
}

static void iso_now(char *out, size_t len)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%06ld+00:00", base, (long)tv.tv_usec);
}

static void agent_path(const agent *a, const char *leaf, char *out, size_t len)
{
    snprintf(out, len, "/v1/opscore/agent/%s/%s", a->agent_id, leaf);
}

static void post_state(lw_user *u)
{
    static const char *const states[] = {"idle", "active", "error", "finished"};
    agent *a = lw_user_data(u);
    char path[128], stamp[48], body[512];
    agent_path(a, "state", path, sizeof path);
    iso_now(stamp, sizeof stamp);
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"timestamp\":\"%s\",\"state\":\"%s\","
             "\"details\":{\"load_test\":true,\"user\":\"user-%s\"}}",
             a->agent_id, stamp, states[(int)(lw_random() * 4)], a->agent_id);
    lw_request_send(u, &(lw_request){.method = "POST",
                                     .path = path,
                                     .name = NAME_STATE,
                                     .body = body,
                                     .on_response = expect_status,
                                     .arg = (void *)(intptr_t)202});
}

static void get_state(lw_user *u)
{
    agent *a = lw_user_data(u);
    char path[128];
    agent_path(a, "state", path, sizeof path);
    lw_request_send(u, &(lw_request){.method = "GET",
                                     .path = path,
                                     .name = NAME_STATE,
                                     .on_response = expect_status,
                                     .arg = (void *)(intptr_t)200});
}

static void post_workflow(lw_user *u)
{
    agent *a = lw_user_data(u);
    char path[128];
    agent_path(a, "workflow", path, sizeof path);
    lw_request_send(u, &(lw_request){.method = "POST",
                                     .path = path,
                                     .name = NAME_WORKFLOW,
                                     .body = workflow_body,
                                     .on_response = expect_status,
                                     .arg = (void *)(intptr_t)202});
}

/* on_start: a fresh agent id, the session headers, then registration. */
static void register_agent(lw_user *u)
{
    agent *a = lw_user_data(u);
    char body[1024];
    const char *prefix = lw_option(u, "agent_prefix"); /* the locustfile's --agent-prefix */
    char uuid[37];
    lw_uuid4(uuid);
    snprintf(a->agent_id, sizeof a->agent_id, "%.*s%s", PREFIX_MAX, prefix ? prefix : "", uuid);
    if (lw_user_add_header(u, auth_header) ||
        lw_user_add_header(u, "Content-Type: application/json")) {
        lw_user_exception(u, "out of memory adding session headers");
        return;
    }
    snprintf(body, sizeof body,
             "{\"event_type\":\"REGISTER\",\"agent_details\":{\"agentId\":\"%s\","
             "\"agentName\":\"LoadTestAgent-%s\",\"version\":\"1.0\","
             "\"capabilities\":[\"state_reporting\",\"test_capability\",\"another_capability\"],"
             "\"contactEndpoint\":\"http://fake-agent-%s.local/run\","
             "\"metadata\":{\"load_test_user\":\"%s\"}}}",
             a->agent_id, a->agent_id, a->agent_id, a->agent_id);
    lw_request_send(u, &(lw_request){.method = "POST",
                                     .path = "/v1/opscore/internal/agent/notify",
                                     .name = NAME_NOTIFY,
                                     .body = body,
                                     .on_response = expect_status,
                                     .arg = (void *)(intptr_t)200});
}

/* Task names and tags are the locustfile's: the web UI's class picker
 * selects tasks by name, and --tags / --exclude-tags filter by tag. */
static const char *const tags_update[] = {"state", "write", NULL};
static const char *const tags_read[] = {"state", "read", NULL};
static const char *const tags_workflow[] = {"workflow", "write", NULL};

static const lw_task state_tasks[] = {{"state_update", 1, post_state, tags_update}};
static const lw_task workflow_tasks[] = {{"trigger_workflow", 1, post_workflow, tags_workflow}};
static const lw_task mixed_tasks[] = {
    {"state_update", 80, post_state, tags_update},
    {"state_read", 15, get_state, tags_read},
    {"trigger_workflow", 5, post_workflow, tags_workflow},
};

#define OPSCORE_CLASS(cls_name, wait, task_list)                                      \
    {                                                                                 \
        .name = cls_name, .weight = 1, .wait_time = wait, .tasks = task_list,         \
        .ntasks = sizeof task_list / sizeof task_list[0], .on_start = register_agent, \
        .user_data_size = sizeof(agent),                                              \
    }

static const lw_user_class classes[] = {
    OPSCORE_CLASS("QuickStateUser", LW_BETWEEN(1, 2), state_tasks),
    OPSCORE_CLASS("StateUpdateUser", LW_BETWEEN(5, 10), state_tasks),
    OPSCORE_CLASS("WorkflowUser", LW_BETWEEN(30, 60), workflow_tasks),
    OPSCORE_CLASS("MixedUser", LW_BETWEEN(1, 5), mixed_tasks),
};

int main(int argc, char **argv)
{
    const char *key = getenv("OPSCORE_API_KEY");
    if (!key || !*key) {
        key = "test-api-key";
    }
    if (strlen(key) > 500) {
        fprintf(stderr, "%s: error: OPSCORE_API_KEY is too long\n", argv[0]);
        return 2;
    }
    snprintf(auth_header, sizeof auth_header, "Authorization: Bearer %s", key);
    size_t n = strlen(sample_workflow) + 32;
    workflow_body = malloc(n);
    if (!workflow_body) {
        fprintf(stderr, "%s: error: out of memory\n", argv[0]);
        return 1;
    }
    snprintf(workflow_body, n, "{\"workflowDefinition\":%s}", sample_workflow);
    int rc = lw_main(argc, argv, classes, sizeof classes / sizeof classes[0]);
    free(workflow_body);
    return rc;
}
