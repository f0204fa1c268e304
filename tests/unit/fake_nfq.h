/* SPDX-License-Identifier: MIT */
/* A fake coopnet-nfq for the unit tests: a thread answering "ok" on a real unix SEQPACKET
 * control socket and logging every request (tests/unit/test_engine.c, test_parent.c); the
 * requests of a session-batch are logged one by one, as coopnet-nfq applies them. */
#ifndef COOPNET_TESTS_FAKE_NFQ_H
#define COOPNET_TESTS_FAKE_NFQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct fake_nfq {
	char path[108];
	int lfd;
	int stop[2];
	pthread_t th;
	pthread_mutex_t mu;
	json_t *log;          /* every request, in order; a session-batch's requests each */
	size_t batches;       /* session-batch requests received */
	const char *refuse;   /* a command answered with an error (not logged), NULL: none */
	const char *slow;     /* a command answered after slow_ms (a busy worker), NULL: none */
	unsigned slow_ms;
	bool hang_up;         /* slow: the connection closed after slow_ms, unanswered (a killed
	                       * worker on its way out) */
	int sub_fd;           /* the subscribed connection, -1 */
	bool running;
};

void nfq_start(struct fake_nfq *f);
void nfq_stop(struct fake_nfq *f);
/* Requests of cmd received so far. */
size_t nfq_count(struct fake_nfq *f, const char *cmd);
/* The last request of cmd (a new reference), or NULL. */
json_t *nfq_last(struct fake_nfq *f, const char *cmd);

#endif
