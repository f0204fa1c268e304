/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what arrives on a control socket: ctl_parse() of one message, then
 * cn_session_from_json() of the message itself and of every item of its "sessions" array (as
 * coopnet-nfq does for session-add/sync). A session that parses must survive
 * to_json -> from_json unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	json_t *msg, *item, *list;
	size_t i;

	if (size > CTL_MSG_MAX)
		return 0;
	msg = ctl_parse((const char *)data, size, err, sizeof(err));
	if (!msg) {
		if (!err[0])
			abort();
		return 0;
	}
	if (!json_is_object(msg))
		abort();
	check_session(msg);
	list = json_object_get(msg, "sessions");
	json_array_foreach(list, i, item)
		check_session(item);
	json_decref(msg);
	return 0;
}
