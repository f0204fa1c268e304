/* SPDX-License-Identifier: MIT */
/*
 * The status machines writing real databases (authd/status_db.c): an SS and an SP, each with
 * its sqlite file and the session stored as the engine stores it; the reports land in
 * vnic_status (SS) and client_status (SP) keyed like the session, an SP that goes silent is
 * marked unreachable in the SS's database, and the rows go with the session.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status_db.h"

struct side {
	struct status_fsm *f;
	struct authd_db *db;
	enum status_role role;
	struct cn_coop_addr self;
	uint8_t q[8][CN_COOP_MAX_LEN];
	size_t qlen[8], nq;
	int db_errors;
};

static uint64_t mono = 1000, wall = 1795000000000ull;
static struct side ss, sp;
static char dir[64];

static uint64_t now_ms(void *ctx) { (void)ctx; return mono; }
static uint64_t wall_ms(void *ctx) { (void)ctx; return wall; }

static int do_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct side *s = ctx;

	(void)to;
	assert_true(s->nq < 8);
	memcpy(s->q[s->nq], buf, len);
	s->qlen[s->nq++] = len;
	return 0;
}

static void fill(void *ctx, const struct status_session *x, struct cn_status_body *b)
{
	struct side *s = ctx;

	(void)x;
	if (s->role == STATUS_SS)
		b->u.client = (struct cn_status_client){ .last_seen_ms = wall - 5, .segs_c2s = 3,
			.bytes_c2s = 300, .segs_s2c = 4, .bytes_s2c = 40000, .drops = { 0, 1, 0, 0 } };
	else
		b->u.vnic = (struct cn_status_vnic){ .link = CN_LINK_UP, .health = CN_HEALTH_FAILING,
			.check = CN_CHECK_HTTP, .http_code = 503, .weight = 50, .sessions = 1,
			.conns = 2, .bytes_per_s = 1000, .check_ms = 3, .since_s = 9 };
}

static void store(void *ctx, const struct status_session *x, const struct cn_coop_msg *m,
    const struct cn_status_body *b)
{
	struct side *s = ctx;

	if (status_db_store(s->db, s->role, x, m, b, (int64_t)wall) < 0)
		s->db_errors++;
}

static void reach(void *ctx, const struct status_session *x, bool r)
{
	struct side *s = ctx;

	if (status_db_reachability(s->db, s->role, x, r, (int64_t)wall) < 0)
		s->db_errors++;
}

static void addr(struct cn_coop_addr *a, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = CN_FAM_INET;
	a->addr[0] = 198;
	a->addr[1] = 18;
	a->addr[3] = last;
	a->port = port;
}

/* The session as the engine stores it (db) and gives it to the machine. */
static void open_side(struct side *s, enum status_role role, uint8_t last, const char *name)
{
	const struct status_ops ops = { .ctx = s, .now_ms = now_ms, .wall_ms = wall_ms,
		.send = do_send, .fill = fill, .store = store, .reachability = reach };
	const struct status_timing t = { .interval_ms = 1000, .miss_limit = 3 };
	char path[128], err[256];

	memset(s, 0, sizeof(*s));
	s->role = role;
	addr(&s->self, last, 7447);
	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	assert_non_null(s->db = db_open(path, err, sizeof(err)));
	assert_non_null(s->f = status_new(&ops, &t, role, 4));
}

static struct db_session db_sess(enum db_role role, const struct cn_coop_addr *peer)
{
	struct db_session d;

	memset(&d, 0, sizeof(d));
	d.role = role;
	d.s.family = AF_INET;
	inet_pton(AF_INET, "198.18.1.2", d.s.client);
	inet_pton(AF_INET, "198.19.0.10", d.s.service);
	d.s.port = 80;
	d.s.id = 0x4242;
	strcpy(d.s.vnic, "vnic1");
	cn_coop_addr_format(peer, d.peer, sizeof(d.peer));
	strcpy(d.service_name, "www");
	strcpy(d.client_name, "lan1");
	d.created = d.refreshed = 1000;
	return d;
}

static void add_session(struct side *s, const struct side *peer, const char *sender_name,
    uint8_t sender_last, uint16_t sender_port)
{
	struct db_session d = db_sess(s->role == STATUS_SS ? DB_ROLE_SUPERVISOR : DB_ROLE_PROVIDER,
				      &peer->self);
	struct status_session x = { .id = 0x4242, .peer = peer->self };

	assert_int_equal(db_session_put(s->db, &d), 0);
	strcpy(x.service, "www");
	memset(x.key, 0x77, sizeof(x.key));
	addr(&x.sender.addr, sender_last, sender_port);
	x.sender.addr.addr[1] = 19;
	strcpy(x.sender.name, sender_name);
	assert_int_equal(status_add(s->f, &x), 0);
}

static void deliver(struct side *from, struct side *to)
{
	size_t n = from->nq;

	from->nq = 0;
	for (size_t i = 0; i < n; i++)
		status_input(to->f, &from->self, from->q[i], from->qlen[i]);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_status_db.XXXXXX");
	assert_non_null(mkdtemp(dir));
	open_side(&ss, STATUS_SS, 1, "ss");
	open_side(&sp, STATUS_SP, 2, "sp");
	add_session(&ss, &sp, "lan1", 2, 0);
	add_session(&sp, &ss, "vnic1", 10, 80);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	status_free(ss.f);
	status_free(sp.f);
	db_close(ss.db);
	db_close(sp.db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int vnic_cb(const struct db_vnic_status *r, void *arg)
{
	*(struct db_vnic_status *)arg = *r;
	return 0;
}

static int client_cb(const struct db_client_status *r, void *arg)
{
	*(struct db_client_status *)arg = *r;
	return 0;
}

static void test_reports_in_both_databases(void **state)
{
	struct db_vnic_status v = { 0 };
	struct db_client_status c = { 0 };
	struct db_session d = db_sess(DB_ROLE_SUPERVISOR, &sp.self);

	(void)state;
	deliver(&ss, &sp);
	deliver(&sp, &ss);
	assert_int_equal(ss.db_errors + sp.db_errors, 0);
	assert_int_equal(db_vnic_status_foreach(ss.db, vnic_cb, &v), 0);
	assert_string_equal(v.sp, "198.18.0.2:7447");
	assert_int_equal(v.id, 0x4242);
	assert_string_equal(v.service, "www");
	assert_string_equal(v.vnic, "vnic1");
	assert_string_equal(v.address, "198.19.0.10:80");
	assert_int_equal(v.vnic_status, CN_VNIC_DOWN);
	assert_int_equal(v.v.http_code, 503);
	assert_int_equal(v.v.weight, 50);
	assert_int_equal(v.received_ms, (int64_t)wall);
	assert_true(v.reachable);
	assert_int_equal(db_client_status_foreach(sp.db, client_cb, &c), 0);
	assert_string_equal(c.ss, "198.18.0.1:7447");
	assert_string_equal(c.client, "198.19.0.2");
	assert_string_equal(c.client_name, "lan1");
	assert_int_equal(c.c.bytes_s2c, 40000);
	assert_int_equal(c.c.drops[CN_DROP_WRONG_ID], 1);
	/* the SS's row goes with its session */
	assert_int_equal(db_session_del(ss.db, DB_ROLE_SUPERVISOR, &d.s), 1);
	memset(&v, 0, sizeof(v));
	assert_int_equal(db_vnic_status_foreach(ss.db, vnic_cb, &v), 0);
	assert_int_equal(v.id, 0);
}

static void test_silent_sp_unreachable(void **state)
{
	struct db_vnic_status v = { 0 };

	(void)state;
	deliver(&ss, &sp);
	deliver(&sp, &ss);
	for (int i = 0; i < 3; i++) { /* three intervals: the SP's reports are lost */
		mono += 1000;
		wall += 1000;
		status_tick(ss.f);
		status_tick(sp.f);
		sp.nq = 0;
		deliver(&ss, &sp);
	}
	assert_int_equal(db_vnic_status_foreach(ss.db, vnic_cb, &v), 0);
	assert_false(v.reachable);
	assert_int_equal(v.reach_changed_ms, (int64_t)wall);
	/* the SP speaks again: reachable, with the time it came back */
	mono += 1000;
	wall += 1000;
	status_tick(sp.f);
	deliver(&sp, &ss);
	assert_int_equal(db_vnic_status_foreach(ss.db, vnic_cb, &v), 0);
	assert_true(v.reachable);
	assert_int_equal(v.reach_changed_ms, (int64_t)wall);
	assert_int_equal(ss.db_errors + sp.db_errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reports_in_both_databases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_sp_unreachable, setup, teardown),
	};

	if (cn_auth_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
