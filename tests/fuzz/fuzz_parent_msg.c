/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what the privileged parent takes from its unprivileged engine
 * (authd/parent_msg.c, authd/imsg.h): the input is a sequence of messages, each a 2-byte
 * length (little endian) and that many bytes, handled in order by one parent holding a
 * provider policy (sync state and the set of added sessions carry over between messages).
 * No data plane: what would be forwarded is only built. Aborts when a count goes backwards or
 * the set of sessions the engine may remove holds more than the limit.
 *
 *   ./configure --enable-fuzzing CC=clang && make
 *   tests/fuzz/fuzz_parent_msg -max_total_time=60
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parent_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
static const char *const POLICY =
	"{ \"provider\": {"
	"    \"vnics\": [ { \"name\": \"vnic1\", \"address\": \"198.19.0.10\","
	"                   \"addresses\": [ \"2001:db8::10/64\" ],"
	"                   \"data_folder\": \"/srv/vnic1\","
	"                   \"services\": [ { \"name\": \"http\", \"port\": 80 } ] } ],"
	"    \"clients\": ["
	"      { \"name\": \"lan\", \"address\": \"198.18.1.0/24\", \"services\": [\"http\"],"
	"        \"keys\": { \"http\": \"" K1 "\" } },"
	"      { \"name\": \"lan6\", \"address\": \"2001:db8:1::/48\", \"services\": [\"http\"],"
	"        \"keys\": { \"http\": \"" K1 "\" } } ] } }";

static struct parent_msg pm;
static bool ready;

/* One parent for the whole run (loading the policy is slow), emptied between inputs. */
static void fresh_parent(void)
{
	struct jconf_error err;
	struct policy p;

	if (!ready) {
		log_init("fuzz", LOG_TO_STDERR, false);
		if (policy_load_buffer(&p, "fuzz", POLICY, strlen(POLICY), POLICY_ROLE_PROVIDER, true,
				       &err) < 0)
			abort();
		parent_msg_init(&pm, -1, NULL, NULL, NULL, NULL);
		parent_msg_set_policy(&pm, &p);
		ready = true;
	}
	keyset_clear(&pm.live);
	keyset_clear(&pm.stage);
	pm.stage_n = 0;
	pm.syncing = false;
	pm.refused_msgs = pm.refused_sessions = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[IMSG_BIN_MAX + 8];
	uint64_t last = 0;

	fresh_parent();
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2, size -= 2;
		if (len > size)
			len = size;
		memcpy(buf, data, len); /* aligned, as the receive buffer is */
		parent_msg_handle(&pm, buf, len);
		data += len, size -= len;
		if (pm.refused_msgs + pm.refused_sessions < last || pm.live.n > IMSG_SYNC_MAX ||
		    pm.stage_n > IMSG_SYNC_MAX)
			abort();
		last = pm.refused_msgs + pm.refused_sessions;
	}
	return 0;
}
