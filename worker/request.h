/*
 * request.h - a user's HTTP requests: building them on reusable easy
 * handles, judging responses (Locust's default verdict or the task's own,
 * like catch_response) and logging each one in stats exactly once.
 */
#ifndef LW_REQUEST_H
#define LW_REQUEST_H

#include "user.h"

/* Cancel all of the user's requests in flight; none of them is counted. */
void request_cancel_all(lw_user *u);
/* Free the user's idle request slots. */
void request_free_spares(lw_user *u);

#endif
