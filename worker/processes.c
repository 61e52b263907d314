/*
 * processes.c - the --processes supervisor: fork, forward signals, reap.
 *
 * Each child runs in a process group of its own, so a Ctrl-C at the
 * terminal (SIGINT to the foreground group) reaches only the parent, which
 * forwards it once: every child then quits cleanly (final report, quit to
 * the master, exit 0) instead of taking the terminal's signal and the
 * parent's as two, the second of which means "exit at once". A child whose
 * parent dies gets SIGTERM (PR_SET_PDEATHSIG) and quits the same way.
 */
#include "processes.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define MAX_CHILDREN 1024

static pid_t children[MAX_CHILDREN];
static int nchildren;
static volatile sig_atomic_t got_signal;

static void forward(int sig)
{
    got_signal++;
    for (int i = 0; i < nchildren; i++) {
        if (children[i] > 0) {
            kill(children[i], sig);
        }
    }
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void restore_defaults(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

static int reap(void)
{
    int failed = 0, alive = nchildren;
    while (alive > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int i = 0; i < nchildren; i++) {
            if (children[i] != pid) {
                continue;
            }
            children[i] = 0;
            alive--;
            if (WIFSIGNALED(status)) {
                failed = 1;
                log_msg(LOG_ERROR, LOG_MAIN,
                        "worker process %d was killed by signal %d; %d still running", (int)pid,
                        WTERMSIG(status), alive);
            } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
                failed = 1;
                log_msg(LOG_ERROR, LOG_MAIN,
                        "worker process %d exited with code %d; %d still running", (int)pid,
                        WEXITSTATUS(status), alive);
            }
        }
    }
    return failed;
}

int processes_run(int n, int (*child)(void *arg), void *arg)
{
    if (n > MAX_CHILDREN) {
        n = MAX_CHILDREN;
    }
    pid_t parent = getpid();
    install();
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            log_msg(LOG_ERROR, LOG_MAIN, "fork failed: %s", strerror(errno));
            forward(SIGTERM);
            break;
        }
        if (pid == 0) {
            restore_defaults();
            if (setpgid(0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
                getppid() != parent) {
                _exit(1);
            }
            _exit(child(arg));
        }
        children[nchildren++] = pid;
    }
    log_msg(LOG_INFO, LOG_MAIN, "started %d worker processes", nchildren);
    return reap() ? 1 : 0;
}
