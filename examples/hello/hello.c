/*
 * hello.c - the smallest complete worker: one user class, HelloUser, whose
 * only task is GET /. It matches examples/hello/locustfile.py, which the
 * master runs:
 *
 *   locust -f examples/hello/locustfile.py --master --host http://127.0.0.1:8080
 *   build/hello-worker --master-host 127.0.0.1
 */
#include <lw.h> /* installed by make install; here -Iworker */

static void get_root(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/"});
}

static const lw_task hello_tasks[] = {
    {"get_root", 1, get_root, NULL}, /* the locustfile's task name */
};

static const lw_user_class classes[] = {
    {
        .name = "HelloUser",
        .weight = 1,
        .wait_time = LW_CONSTANT(1),
        .tasks = hello_tasks,
        .ntasks = 1,
    },
};

int main(int argc, char **argv)
{
    return lw_main(argc, argv, classes, sizeof classes / sizeof classes[0]);
}
