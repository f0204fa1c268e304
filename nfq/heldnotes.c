/* SPDX-License-Identifier: MIT */
/* The keys whose sessions changed, main thread -> queue threads (held.h, "notes"). */
#include "held.h"

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct held_notes *held_notes_new(int nthreads)
{
	struct held_notes *n;

	if (nthreads < 1 || nthreads > 65536)
		return NULL;
	n = calloc(1, sizeof(*n) + (size_t)nthreads * sizeof(n->wake_fd[0]));
	if (!n)
		return NULL;
	pthread_mutex_init(&n->lock, NULL);
	for (; n->nwake < nthreads; n->nwake++) {
		n->wake_fd[n->nwake] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->wake_fd[n->nwake] < 0) {
			held_notes_free(n);
			return NULL;
		}
	}
	return n;
}

void held_notes_free(struct held_notes *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nwake; i++)
		close(n->wake_fd[i]);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

void held_notes_post(struct held_notes *n, const struct tbl_change *c, size_t count, bool lost)
{
	uint64_t seq, one = 1;

	if (!n || (!lost && count == 0))
		return;
	pthread_mutex_lock(&n->lock);
	seq = atomic_load_explicit(&n->seq, memory_order_relaxed);
	if (lost || !c || count > HELD_NOTES) {
		n->all_seq = ++seq;
	} else {
		for (size_t i = 0; i < count; i++)
			n->k[seq++ % HELD_NOTES] = c[i].key;
	}
	atomic_store_explicit(&n->seq, seq, memory_order_release);
	pthread_mutex_unlock(&n->lock);
	for (int i = 0; i < n->nwake; i++) {
		ssize_t w = write(n->wake_fd[i], &one, sizeof(one));

		(void)w; /* fails only when the counter saturates: the thread wakes anyway */
	}
}

long held_notes_take(struct held_notes *n, uint64_t *seen, struct sess_key *out)
{
	uint64_t seq, from = *seen;
	long got = 0;

	if (!n || atomic_load_explicit(&n->seq, memory_order_acquire) == from)
		return 0;
	pthread_mutex_lock(&n->lock);
	seq = atomic_load_explicit(&n->seq, memory_order_relaxed);
	if (from < n->all_seq || seq - from > HELD_NOTES)
		got = -1;
	else
		for (; from < seq; from++)
			out[got++] = n->k[from % HELD_NOTES];
	pthread_mutex_unlock(&n->lock);
	*seen = seq;
	return got;
}
