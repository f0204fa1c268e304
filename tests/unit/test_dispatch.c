/* SPDX-License-Identifier: MIT */
/*
 * The engine's entry for cooperative datagrams (authd/engine_dispatch.c, authd/coop_app.h):
 * every cooperative flag and kind reaches the handler its table names, exactly once; a flag
 * or kind without a handler is counted (coop-unknown) and dropped; a mac that does not verify
 * (or no group key to check it) drops the datagram before any handler runs; a datagram the
 * decoder refuses is counted (decode-error) and reaches no handler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "coop_app.h"

static struct engine E;

/* What the last handler saw, and how many ran. */
static struct {
	int calls;
	enum cn_coop_kind kind;     /* the handler's own kind (not read from the datagram) */
	uint16_t coop;              /* the flag of the datagram it got */
	bool mac_ok;
	size_t len;
} H;

static void record(enum cn_coop_kind k, const struct auth_dgram *d)
{
	H.calls++;
	H.kind = k;
	H.coop = d->m->coop;
	H.mac_ok = d->mac_ok;
	H.len = d->len;
	assert_int_equal(d->kind, k); /* the table slot matches what the decoder found */
}

#define HANDLER(K)                                                                          \
	static void on_##K(struct engine *e, const struct cn_coop_addr *from,              \
			   const struct auth_dgram *d)                                     \
	{                                                                                   \
		(void)e;                                                                    \
		(void)from;                                                                 \
		record(CN_KIND_##K, d);                                                     \
	}
HANDLER(AUTH_REQ)
HANDLER(AUTH_REPREQ)
HANDLER(AUTH_REP)
HANDLER(AUTH_RST)
HANDLER(AUTH_REPRST)
HANDLER(STATUS_REQ)
HANDLER(STATUS_REP)
HANDLER(STATUS_RST)
HANDLER(DEV)

static const struct coop_app t_auth = {
	.name = "auth", .coop = CN_COOP_AUTH,
	.on = {
		[CN_KIND_AUTH_REQ] = on_AUTH_REQ, [CN_KIND_AUTH_REPREQ] = on_AUTH_REPREQ,
		[CN_KIND_AUTH_REP] = on_AUTH_REP, [CN_KIND_AUTH_RST] = on_AUTH_RST,
		[CN_KIND_AUTH_REPRST] = on_AUTH_REPRST,
	},
};
static const struct coop_app t_status = {
	.name = "status", .coop = CN_COOP_STATUS,
	.on = {
		[CN_KIND_STATUS_REQ] = on_STATUS_REQ, [CN_KIND_STATUS_REP] = on_STATUS_REP,
		[CN_KIND_STATUS_RST] = on_STATUS_RST,
	},
};
#define DEV_APP(n) { .name = "dev" #n, .coop = CN_COOP_DEV(n), .on = { [CN_KIND_DEV] = on_DEV } }
static const struct coop_app t_dev[8] = {
	DEV_APP(0), DEV_APP(1), DEV_APP(2), DEV_APP(3), DEV_APP(4), DEV_APP(5), DEV_APP(6),
	DEV_APP(7),
};
/* An auth application without a handler for Auth-REP&RST. */
static const struct coop_app t_auth_partial = {
	.name = "auth", .coop = CN_COOP_AUTH,
	.on = { [CN_KIND_AUTH_REQ] = on_AUTH_REQ },
};

static const struct coop_app *const everything[COOP_APP_SLOTS] = {
	[0] = &t_auth, [1] = &t_status,
	[8] = &t_dev[0], [9] = &t_dev[1], [10] = &t_dev[2], [11] = &t_dev[3],
	[12] = &t_dev[4], [13] = &t_dev[5], [14] = &t_dev[6], [15] = &t_dev[7],
};
static const struct coop_app *const auth_only[COOP_APP_SLOTS] = { [0] = &t_auth_partial };
/* A table whose slot does not match the application's flag: never dispatched through. */
static const struct coop_app *const misplaced[COOP_APP_SLOTS] = { [1] = &t_auth };

static const uint8_t GKEY[CN_KEY_LEN] = { 0x47, 0x47, 0x47 };
static const uint8_t OTHER_KEY[CN_KEY_LEN] = { 0x11 };

static struct cn_coop_addr FROM;

/* A valid datagram of flag coop and kind k; sealed with a mac (and, for an Auth-REQ, the
 * fwd a header adds) when mac_key is not NULL. Returns its length. */
static size_t build(uint8_t *buf, uint16_t coop, enum cn_coop_kind k, const uint8_t *mac_key)
{
	static const uint8_t ctl[] = {
		[CN_KIND_AUTH_REQ] = CN_CTL_REQ, [CN_KIND_AUTH_REPREQ] = CN_CTL_REQ | CN_CTL_REP,
		[CN_KIND_AUTH_REP] = CN_CTL_REP, [CN_KIND_AUTH_RST] = CN_CTL_RST | CN_CTL_ERROR,
		[CN_KIND_AUTH_REPRST] = CN_CTL_REP | CN_CTL_RST,
		[CN_KIND_STATUS_REQ] = CN_CTL_REQ, [CN_KIND_STATUS_REP] = CN_CTL_REP,
		[CN_KIND_STATUS_RST] = CN_CTL_RST | CN_CTL_ERROR, [CN_KIND_DEV] = CN_CTL_REQ,
	};
	bool status = k >= CN_KIND_STATUS_REQ && k <= CN_KIND_STATUS_RST;
	struct cn_coop_msg m;
	size_t len;

	cn_coop_init(&m, coop, ctl[k]);
	m.timestamp_ms = 1795000000000ull;
	memset(m.nonce_ss, 0x11, sizeof(m.nonce_ss));
	if (k == CN_KIND_AUTH_REPREQ || k == CN_KIND_AUTH_REP || k == CN_KIND_STATUS_REP)
		memset(m.nonce_sp, 0x22, sizeof(m.nonce_sp));
	if (k != CN_KIND_AUTH_REQ && k != CN_KIND_AUTH_RST && k != CN_KIND_DEV)
		m.id = 0x1234;
	if (k <= CN_KIND_AUTH_REPRST && k != CN_KIND_AUTH_RST)
		assert_true(cn_coop_set_service(&m, "http"));
	if (k == CN_KIND_AUTH_REQ || k == CN_KIND_STATUS_REQ || k == CN_KIND_STATUS_REP) {
		m.sender.kind = CN_SENDER_CLIENT;
		assert_int_equal(cn_coop_addr_parse(&m.sender.addr, "198.18.1.2"), 0);
		assert_true(cn_coop_set_name(&m.sender, "alice"));
	}
	if (k == CN_KIND_AUTH_RST || k == CN_KIND_STATUS_RST)
		m.error = CN_AUTHERR_DENIED;
	if ((k <= CN_KIND_AUTH_REPRST && k != CN_KIND_AUTH_RST) || (status && !mac_key))
		memset(m.proof, 0xa5, sizeof(m.proof));
	if (k == CN_KIND_DEV) {
		m.dev_len = 4;
		memcpy(m.dev, "TLV!", 4);
	}
	if (mac_key) {
		memset(m.mac, 0xa5, sizeof(m.mac)); /* sealed below */
		if (k == CN_KIND_AUTH_REQ) {
			assert_int_equal(cn_coop_addr_parse(&m.fwd, "198.18.0.1"), 0);
			m.fwd.port = 7447;
		}
	}
	assert_int_equal(cn_coop_encode(&m, buf, CN_COOP_MAX_LEN, &len, NULL), CN_COOP_OK);
	if (mac_key)
		assert_int_equal(cn_auth_seal_mac(buf, len, mac_key), 0);
	return len;
}

static int setup(void **state)
{
	(void)state;
	memset(&E, 0, sizeof(E));
	memset(&H, 0, sizeof(H));
	memcpy(E.group_key, GKEY, sizeof(GKEY));
	E.has_group_key = true;
	assert_int_equal(cn_coop_addr_parse(&FROM, "198.18.0.2"), 0);
	FROM.port = 7447;
	return cn_auth_crypto_init();
}

static void dispatch(const struct coop_app *const apps[COOP_APP_SLOTS], const uint8_t *buf,
		     size_t len)
{
	coop_dispatch(&E, apps, &FROM, buf, len);
}

/* Every coopnet kind to its handler, once. */
static void test_every_kind(void **state)
{
	static const struct { uint16_t coop; enum cn_coop_kind k; } cases[] = {
		{ CN_COOP_AUTH, CN_KIND_AUTH_REQ }, { CN_COOP_AUTH, CN_KIND_AUTH_REPREQ },
		{ CN_COOP_AUTH, CN_KIND_AUTH_REP }, { CN_COOP_AUTH, CN_KIND_AUTH_RST },
		{ CN_COOP_AUTH, CN_KIND_AUTH_REPRST }, { CN_COOP_STATUS, CN_KIND_STATUS_REQ },
		{ CN_COOP_STATUS, CN_KIND_STATUS_REP }, { CN_COOP_STATUS, CN_KIND_STATUS_RST },
	};
	uint8_t buf[CN_COOP_MAX_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = build(buf, cases[i].coop, cases[i].k, NULL);

		H.calls = 0;
		dispatch(everything, buf, len);
		assert_int_equal(H.calls, 1);
		assert_int_equal(H.kind, cases[i].k);
		assert_int_equal(H.coop, cases[i].coop);
		assert_int_equal(H.len, len); /* the raw bytes the proof covers, whole */
		assert_false(H.mac_ok);
	}
	assert_int_equal(E.counters[CNT_COOP_UNKNOWN], 0);
	assert_int_equal(E.counters[AUTH_EV_DECODE_ERROR], 0);
}

/* Each of the eight developer flags to its own application. */
static void test_every_developer_flag(void **state)
{
	uint8_t buf[CN_COOP_MAX_LEN];

	(void)state;
	for (unsigned n = 0; n < 8; n++) {
		size_t len = build(buf, CN_COOP_DEV(n), CN_KIND_DEV, NULL);

		H.calls = 0;
		dispatch(everything, buf, len);
		assert_int_equal(H.calls, 1);
		assert_int_equal(H.kind, CN_KIND_DEV);
		assert_int_equal(H.coop, CN_COOP_DEV(n));
	}
}

/* No application for the flag, no handler for the kind, or an application in the wrong
 * slot: counted, dropped, no handler. */
static void test_unknown_counted_and_dropped(void **state)
{
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;

	(void)state;
	len = build(buf, CN_COOP_STATUS, CN_KIND_STATUS_REQ, NULL);
	dispatch(auth_only, buf, len);
	len = build(buf, CN_COOP_DEV(3), CN_KIND_DEV, NULL);
	dispatch(auth_only, buf, len);
	len = build(buf, CN_COOP_AUTH, CN_KIND_AUTH_REPRST, NULL); /* auth, but no handler */
	dispatch(auth_only, buf, len);
	len = build(buf, CN_COOP_AUTH, CN_KIND_AUTH_REP, NULL);
	dispatch(misplaced, buf, len);
	assert_int_equal(H.calls, 0);
	assert_int_equal(E.counters[CNT_COOP_UNKNOWN], 4);
	/* what the partial table has still runs */
	len = build(buf, CN_COOP_AUTH, CN_KIND_AUTH_REQ, NULL);
	dispatch(auth_only, buf, len);
	assert_int_equal(H.calls, 1);
	assert_int_equal(E.counters[CNT_COOP_UNKNOWN], 4);
	assert_string_equal(engine_counter_name(CNT_COOP_UNKNOWN), "coop-unknown");
}

/* A mac is checked at the entry, before any handler. */
static void test_mac_checked_first(void **state)
{
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;

	(void)state;
	/* a forwarded Auth-REQ sealed with another key, then a status message between SPs */
	len = build(buf, CN_COOP_AUTH, CN_KIND_AUTH_REQ, OTHER_KEY);
	dispatch(everything, buf, len);
	len = build(buf, CN_COOP_STATUS, CN_KIND_STATUS_REQ, OTHER_KEY);
	dispatch(everything, buf, len);
	assert_int_equal(H.calls, 0);
	assert_int_equal(E.counters[AUTH_EV_BAD_MAC], 2);
	/* the same with the group key: handled, and the handler knows the mac verified */
	len = build(buf, CN_COOP_AUTH, CN_KIND_AUTH_REQ, GKEY);
	dispatch(everything, buf, len);
	assert_int_equal(H.calls, 1);
	assert_true(H.mac_ok);
	/* one flipped byte anywhere the mac covers */
	buf[CN_COOP_OFF_SERVICE] ^= 0x01;
	dispatch(everything, buf, len);
	assert_int_equal(H.calls, 1);
	assert_int_equal(E.counters[AUTH_EV_BAD_MAC], 3);
	/* no group key: a mac cannot be checked, so nothing that carries one is taken */
	buf[CN_COOP_OFF_SERVICE] ^= 0x01;
	E.has_group_key = false;
	dispatch(everything, buf, len);
	assert_int_equal(H.calls, 1);
	assert_int_equal(E.counters[AUTH_EV_BAD_MAC], 4);
	/* unknown applications are checked too: a forged mac is a bad mac, not "unknown" */
	assert_int_equal(E.counters[CNT_COOP_UNKNOWN], 0);
}

/* What the decoder refuses reaches no handler and is counted once. */
static void test_decode_error(void **state)
{
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;

	(void)state;
	len = build(buf, CN_COOP_AUTH, CN_KIND_AUTH_REP, NULL);
	dispatch(everything, buf, len - 1);      /* length field differs */
	buf[0] = 'X';
	dispatch(everything, buf, len);          /* magic */
	dispatch(everything, buf, 3);            /* short */
	assert_int_equal(H.calls, 0);
	assert_int_equal(E.counters[AUTH_EV_DECODE_ERROR], 3);
	assert_int_equal(E.counters[CNT_COOP_UNKNOWN], 0);
}

/* The daemon's table: each application sits in the slot of its flag's bit (an entry in the
 * wrong slot would never be dispatched to), and Authentication is there. */
static void test_daemon_table(void **state)
{
	(void)state;
	assert_ptr_equal(coop_apps[0], &coop_app_auth);
	for (unsigned i = 0; i < COOP_APP_SLOTS; i++) {
		if (!coop_apps[i])
			continue;
		assert_int_equal(coop_apps[i]->coop, 1u << i);
		assert_non_null(coop_apps[i]->name);
	}
	for (int k = CN_KIND_AUTH_REQ; k <= CN_KIND_AUTH_REPRST; k++)
		assert_non_null(coop_app_auth.on[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_every_kind, setup),
		cmocka_unit_test_setup(test_every_developer_flag, setup),
		cmocka_unit_test_setup(test_unknown_counted_and_dropped, setup),
		cmocka_unit_test_setup(test_mac_checked_first, setup),
		cmocka_unit_test_setup(test_decode_error, setup),
		cmocka_unit_test_setup(test_daemon_table, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
