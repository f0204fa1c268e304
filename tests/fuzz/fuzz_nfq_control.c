/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for coopnet-nfq's control commands (nfq/control.c): arbitrary bytes as one
 * message on a connection of lib's control-socket server (a real SOCK_SEQPACKET socketpair),
 * into the daemon's real command table, publish (queue mode) and session table. Every
 * message but an empty one (which reads as a close) must get exactly one reply, a JSON object
 * with a boolean "ok"; session-add, -del, -accept, -withdraw, -sync and -batch change the
 * table the next inputs meet, which is emptied (a session-sync of nothing) every 1,000 runs.
 *
 *   ./configure --enable-fuzzing CC=clang && make
 *   tests/fuzz/fuzz_nfq_control -max_total_time=60 tests/fuzz/corpus/nfq_control
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "nfqd.h"
#include "fuzzcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CONF "{\"role\": \"provider\", \"mode\": \"queue\", \"control_socket\": \"/nonexistent\"," \
	     " \"services\": [{\"address\": \"198.19.0.10\", \"port\": 80}]}"

static struct nfqd D;

static void start(void)
{
	char path[] = "/tmp/coopnet-fuzz-nfqctl-XXXXXX";
	struct jconf_error err;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, CONF, strlen(CONF)) == (ssize_t)strlen(CONF));
	close(fd);
	memset(&D, 0, sizeof(D));
	memset(&err, 0, sizeof(err));
	D.config_path = strdup(path);
	D.schema = nfq_config_schema(&err);
	CHECK(D.schema && nfq_config_load(&D.cfg, path, D.schema, &err) == 0);
	rcu_init(&D.sh.rcu, 1);
	CHECK(nfqd_table_init(&D) == 0);
	pthread_mutex_init(&D.sh.miss_lock, NULL);
	D.started = time(NULL);
	ctl_server_init(&D.ctl);
	CHECK(nfqctl_start(&D, -1) == 0);
}

/* One message on a new connection; its reply (NULL for an empty message). */
static json_t *exchange(const void *msg, size_t len)
{
	char err[256];
	bool closed = false;
	json_t *r = NULL;
	int sp[2], slot;

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) == 0);
	slot = ctl_server_adopt(&D.ctl, sp[0]);
	CHECK(slot >= 0);
	CHECK(send(sp[1], msg, len, 0) == (ssize_t)len);
	ctl_server_input(&D.ctl, (size_t)slot);
	if (len)
		r = ctl_recv(sp[1], &closed, err, sizeof(err));
	close(sp[1]);
	ctl_server_input(&D.ctl, (size_t)slot); /* the close: a staged sync is dropped */
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char empty[] = "{\"cmd\": \"session-sync\", \"sessions\": []}";
	static unsigned runs;
	json_t *r;

	if (!D.schema)
		start();
	if (size > CTL_MSG_MAX)
		return 0;
	r = exchange(data, size);
	if (size) {
		CHECK(json_is_object(r));
		CHECK(json_is_boolean(json_object_get(r, "ok")));
	}
	json_decref(r);
	if (++runs % 1000 == 0) {
		r = exchange(empty, strlen(empty));
		CHECK(json_is_true(json_object_get(r, "ok")));
		json_decref(r);
	}
	return 0;
}
