/* SPDX-License-Identifier: MIT */
/* A fake coopnet-nfq for the unit tests (fake_nfq.h). */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "fake_nfq.h"

#define NFQ_MAX_CONN 64


/* What the log keeps of a request: the request itself; one with "packed" records (what the
 * parent sends for session-sync, session-add, -accept and -withdraw) also gets them decoded as a "sessions" array, so that the tests read
 * one form. The real decoder: what it refuses is logged as "packed-error" with no
 * "sessions", which no test expects (no cmocka assert here: this is not the test's thread). */
static json_t *logged(json_t *req)
{
	const json_t *packed = json_object_get(req, "packed");
	json_t *copy, *arr;
	char err[256] = "out of memory";
	size_t n;

	if (!packed)
		return json_incref(req);
	copy = json_copy(req);
	arr = json_array();
	if (!copy || !arr || cn_packed_count(packed, &n, err, sizeof(err)) < 0)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		struct cn_session s;

		if (cn_packed_get(packed, i, &s, err, sizeof(err)) < 0)
			goto bad;
		json_array_append_new(arr, cn_session_to_json(&s));
	}
	json_object_set_new(copy, "sessions", arr);
	return copy;
bad:
	json_decref(arr);
	if (copy)
		json_object_set_new(copy, "packed-error", json_string(err));
	return copy;
}

static void *nfq_thread(void *arg)
{
	struct fake_nfq *f = arg;
	int conns[NFQ_MAX_CONN];
	size_t nc = 0;

	for (int loops = 0; loops < 1000000; loops++) {
		struct pollfd p[NFQ_MAX_CONN + 2] = { { f->stop[0], POLLIN, 0 }, { f->lfd, POLLIN, 0 } };
		for (size_t i = 0; i < nc; i++)
			p[i + 2] = (struct pollfd){ conns[i], POLLIN, 0 };
		if (poll(p, nc + 2, 1000) < 0)
			continue;
		if (p[0].revents)
			break;
		if (p[1].revents && nc < NFQ_MAX_CONN) {
			int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				conns[nc++] = fd;
		}
		for (size_t i = 0; i < nc; i++) {
			char err[256];
			bool closed = false;
			json_t *req, *r;
			const char *cmd;

			if (!p[i + 2].revents)
				continue;
			req = ctl_recv(conns[i], &closed, err, sizeof(err));
			if (!req) {
				pthread_mutex_lock(&f->mu);
				if (f->sub_fd == conns[i])
					f->sub_fd = -1;
				pthread_mutex_unlock(&f->mu);
				close(conns[i]);
				conns[i] = conns[--nc];
				p[i + 2] = p[nc + 2];
				i--;
				continue;
			}
			cmd = json_string_value(json_object_get(req, "cmd"));
			r = cmd && !strcmp(cmd, "status") ?
			    json_pack("{s:b, s:s, s:s}", "ok", 1, "role", "fake", "mode", "queue") :
			    cmd && f->refuse && !strcmp(cmd, f->refuse) ?
			    ctl_reply_error("unknown command \"%s\"", cmd) : ctl_reply_ok();
			pthread_mutex_lock(&f->mu);
			if (cmd && f->refuse && !strcmp(cmd, f->refuse)) {
				if (!strcmp(cmd, "session-batch"))
					f->batches++;
			} else if (cmd && !strcmp(cmd, "session-batch")) {
				json_t *sub;
				size_t k;

				f->batches++;
				json_array_foreach(json_object_get(req, "requests"), k, sub)
					json_array_append_new(f->log, logged(sub));
			} else {
				json_array_append_new(f->log, logged(req));
			}
			if (cmd && !strcmp(cmd, "subscribe"))
				f->sub_fd = conns[i];
			pthread_mutex_unlock(&f->mu);
			if (cmd && f->slow && !strcmp(cmd, f->slow))
				usleep(f->slow_ms * 1000u); /* logged, then answered late */
			if (cmd && f->slow && !strcmp(cmd, f->slow) && f->hang_up)
				shutdown(conns[i], SHUT_RDWR); /* the caller sees it closed; the
								* next poll here reads its end */
			else
				ctl_send(conns[i], r);
			json_decref(r);
			json_decref(req);
		}
	}
	for (size_t i = 0; i < nc; i++)
		close(conns[i]);
	return NULL;
}

void nfq_start(struct fake_nfq *f)
{
	f->lfd = ctl_listen(f->path, 0600);
	assert_true(f->lfd >= 0);
	assert_int_equal(pipe(f->stop), 0);
	f->sub_fd = -1;
	if (!f->log)
		f->log = json_array();
	pthread_mutex_init(&f->mu, NULL);
	assert_int_equal(pthread_create(&f->th, NULL, nfq_thread, f), 0);
	f->running = true;
}

void nfq_stop(struct fake_nfq *f)
{
	if (!f->running)
		return;
	(void)!write(f->stop[1], "x", 1);
	pthread_join(f->th, NULL);
	close(f->stop[0]);
	close(f->stop[1]);
	close(f->lfd);
	unlink(f->path);
	pthread_mutex_destroy(&f->mu);
	f->running = false;
}

size_t nfq_count(struct fake_nfq *f, const char *cmd)
{
	size_t n = 0, i;
	json_t *r;

	pthread_mutex_lock(&f->mu);
	json_array_foreach(f->log, i, r)
		n += !strcmp(json_string_value(json_object_get(r, "cmd")) ?: "", cmd);
	pthread_mutex_unlock(&f->mu);
	return n;
}

json_t *nfq_last(struct fake_nfq *f, const char *cmd)
{
	json_t *r, *found = NULL;
	size_t i;

	pthread_mutex_lock(&f->mu);
	json_array_foreach(f->log, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "cmd")) ?: "", cmd))
			found = r;
	json_incref(found);
	pthread_mutex_unlock(&f->mu);
	return found;
}

