/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what arrives on a control socket: ctl_parse() of one message, then
 * cn_session_from_json() of the message itself and of every item of its "sessions" array (as
 * coopnet-nfq does for session-add/sync), and every record of its "packed" string (the
 * parent's session-sync). A session that parses must survive to_json -> from_json unchanged;
 * a packed record that decodes must pack back to the same bytes.
 *
 * Then the same bytes as one message through lib's control-socket server (lib/ctl_server.c)
 * on a real SOCK_SEQPACKET socketpair: every message but an empty one (which reads as a close)
 * must get exactly one reply, a JSON object with a boolean "ok", and leave the connection open.
 *
 * The "sp" of a probe request and a session's "peer" through cn_coop_addr_parse_port(): an
 * address that parses formats back to text that parses to the same address and port.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coop.h"
#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_session(const json_t *obj)
{
	struct cn_session s, back;
	char err[256];
	json_t *enc;

	if (cn_session_from_json(&s, obj, err, sizeof(err)) < 0) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return;
	}
	enc = cn_session_to_json(&s);
	if (!enc)
		abort();
	if (cn_session_from_json(&back, enc, err, sizeof(err)) < 0)
		abort();
	json_decref(enc);
	if (back.family != s.family || back.port != s.port || back.id != s.id ||
	    back.expires != s.expires || strcmp(back.vnic, s.vnic) ||
	    memcmp(back.client, s.client, sizeof(s.client)) ||
	    memcmp(back.service, s.service, sizeof(s.service)))
		abort();
}

/* "packed" records (lib/ctl.h): each record that decodes packs back to the same bytes (one
 * form per record) and survives the JSON round trip; a refusal always says why. */
static void check_packed(const json_t *packed)
{
	struct cn_session s;
	char err[256] = "";
	json_t *again, *obj;
	size_t n;

	if (cn_packed_count(packed, &n, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *text = json_string_value(packed) + i * 2 * CN_SESSION_PACKED;

		err[0] = 0;
		if (cn_packed_get(packed, i, &s, err, sizeof(err)) < 0) {
			if (!err[0])
				abort();
			continue;
		}
		again = cn_sessions_pack_json(&s, 1);
		if (!again || strncasecmp(json_string_value(again), text, 2 * CN_SESSION_PACKED))
			abort();
		json_decref(again);
		obj = cn_session_to_json(&s);
		if (!obj)
			abort();
		check_session(obj);
		json_decref(obj);
	}
}

/* "addr:port" (a probe's "sp", sessions.peer): parse -> format -> parse is the identity */
static void check_addr_port(const json_t *v)
{
	const char *text = json_string_value(v);
	struct cn_coop_addr a, b;
	char buf[CN_COOP_ADDRSTRLEN];

	if (!text || cn_coop_addr_parse_port(&a, text) < 0)
		return;
	if (a.port == 0 || cn_coop_addr_parse_port(&b, cn_coop_addr_format(&a, buf, sizeof(buf))) < 0 ||
	    !cn_coop_addr_equal(&a, &b, true))
		abort();
}

/* a command that parses the sessions it is given, as coopnet-nfq's session-add does */
static json_t *cmd_sessions(void *ctx, size_t conn, const json_t *req)
{
	json_t *item;
	size_t i;

	(void)ctx;
	(void)conn;
	json_array_foreach(json_object_get(req, "sessions"), i, item)
		check_session(item);
	return ctl_reply_ok();
}

static const struct ctl_command commands[] = {
	{ "session-add", cmd_sessions },
	{ NULL, NULL },
};

static struct ctl_server server;
static int peer = -1; /* the client's end of the connection the server adopted */

static void connect_server(void)
{
	static const struct ctl_server_ops ops = { .commands = commands };
	static bool opened;
	int sp[2];

	if (!opened && ctl_server_open(&server, -1, 1, &ops) < 0)
		abort();
	opened = true;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0 ||
	    ctl_server_adopt(&server, sp[0]) != 0)
		abort();
	peer = sp[1];
}

static void through_server(const uint8_t *data, size_t size)
{
	char err[256], c;
	bool closed;
	json_t *r;

	if (peer < 0)
		connect_server();
	if (send(peer, data, size, 0) != (ssize_t)size)
		abort();
	ctl_server_input(&server, 0);
	if (size == 0) { /* an empty message reads as a close: the server closed its end */
		if (server.conns[0].fd != -1 || recv(peer, &c, 1, MSG_DONTWAIT) != 0)
			abort();
		close(peer);
		peer = -1;
		return;
	}
	r = ctl_recv(peer, &closed, err, sizeof(err));
	if (!r || !json_is_boolean(json_object_get(r, "ok")) || server.conns[0].fd < 0)
		abort();
	json_decref(r);
	if (recv(peer, &c, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) /* one reply, no more */
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	json_t *msg, *item, *list;
	size_t i;

	if (size > CTL_MSG_MAX)
		return 0;
	through_server(data, size);
	msg = ctl_parse((const char *)data, size, err, sizeof(err));
	if (!msg) {
		if (!err[0])
			abort();
		return 0;
	}
	if (!json_is_object(msg))
		abort();
	check_session(msg);
	check_addr_port(json_object_get(msg, "sp"));
	check_addr_port(json_object_get(msg, "peer"));
	check_packed(json_object_get(msg, "packed"));
	list = json_object_get(msg, "sessions");
	json_array_foreach(list, i, item) {
		check_session(item);
		check_addr_port(json_object_get(item, "peer"));
	}
	json_decref(msg);
	return 0;
}
