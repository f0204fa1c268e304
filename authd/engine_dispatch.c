/* SPDX-License-Identifier: MIT */
/*
 * The engine's entry for cooperative datagrams (authd/coop_app.h): decode once, check a mac
 * first, then one handler from the table of applications.
 */
#include "coop_app.h"

#include <string.h>

#include "log.h"

/* Adding an application: one line here, one handler file (docs/protocol.md). */
const struct coop_app *const coop_apps[COOP_APP_SLOTS] = {
	[0] = &coop_app_auth,                /* CN_COOP_AUTH 0x0001 */
	[1] = &coop_app_status,              /* CN_COOP_STATUS 0x0002 */
	[2] = &coop_app_group,               /* CN_COOP_GROUP 0x0004 */
	[3] = &coop_app_probe,               /* CN_COOP_PROBE 0x0008 */
	/* [8 + n]: CN_COOP_DEV(n), applications a developer defines */
};

static void event(struct engine *e, enum auth_event_kind kind, const struct cn_coop_addr *from,
		  const char *service, const char *detail)
{
	struct auth_event ev = {
		.kind = kind, .peer = from, .service = service, .error = 0, .detail = detail,
	};

	engine_auth_event(e, &ev);
}

/* The application a flag names: bit n of a one-bit flag (the decoder refuses none or two). */
static const struct coop_app *app_for(const struct coop_app *const apps[COOP_APP_SLOTS],
				      uint16_t coop)
{
	unsigned bit;

	if (coop == 0 || (coop & (coop - 1)) != 0)
		return NULL;
	bit = (unsigned)__builtin_ctz(coop);
	if (bit >= COOP_APP_SLOTS || apps[bit] == NULL || apps[bit]->coop != coop)
		return NULL;
	return apps[bit];
}

void coop_dispatch(struct engine *e, const struct coop_app *const apps[COOP_APP_SLOTS],
		   const struct cn_coop_addr *from, const uint8_t *buf, size_t len)
{
	const struct coop_app *app;
	struct cn_coop_msg m;
	struct auth_dgram d;
	enum cn_coop_err err;
	char peer[CN_COOP_ADDRSTRLEN];

	err = auth_dgram_decode(&d, &m, buf, len, e->has_group_key ? e->group_key : NULL);
	if (err != CN_COOP_OK) {
		event(e, AUTH_EV_DECODE_ERROR, from, NULL, cn_coop_err_name(err));
		return;
	}
	/* A mac is checked before anything else looks at the message: a forged one costs one
	 * keyed hash and reaches no handler (and no lookup, no rate limit, no answer). */
	if (d.has_mac && !d.mac_ok) {
		event(e, AUTH_EV_BAD_MAC, from, m.service[0] ? m.service : NULL,
		      e->has_group_key ? "mac does not verify with the group key" : "no group key");
		return;
	}
	app = app_for(apps, m.coop);
	if (!app || (unsigned)d.kind > CN_KIND_DEV || !app->on[d.kind]) {
		e->counters[CNT_COOP_UNKNOWN]++; /* silently: no answer, a debug line */
		log_debug("dropped a %s datagram (cooperative flags 0x%04x) from %s: no handler",
			  cn_coop_kind_name(d.kind), m.coop,
			  cn_coop_addr_format(from, peer, sizeof(peer)));
		return;
	}
	app->on[d.kind](e, from, &d);
}

static void engine_dispatch(struct engine *e, const struct cn_coop_addr *from,
			    const uint8_t *buf, size_t len)
{
	coop_dispatch(e, coop_apps, from, buf, len);
}

void engine_udp_input(struct engine *e, size_t i)
{
	engine_udp_drain(e, i, engine_dispatch); /* up to 64 datagrams, one recvmmsg */
}

/* --- the applications' state and timers ---------------------------------------------------- */

int engine_apps_setup(struct engine *e)
{
	for (size_t i = 0; i < COOP_APP_SLOTS; i++)
		if (coop_apps[i] && coop_apps[i]->setup && coop_apps[i]->setup(e) < 0) {
			log_warnx("cooperative application %s: cannot set up", coop_apps[i]->name);
			return -1;
		}
	return 0;
}

void engine_apps_free(struct engine *e)
{
	for (size_t i = 0; i < COOP_APP_SLOTS; i++)
		if (coop_apps[i] && coop_apps[i]->free)
			coop_apps[i]->free(e);
}

void engine_apps_tick(struct engine *e)
{
	for (size_t i = 0; i < COOP_APP_SLOTS; i++)
		if (coop_apps[i] && coop_apps[i]->tick)
			coop_apps[i]->tick(e);
}

uint64_t engine_apps_deadline(const struct engine *e)
{
	uint64_t d = UINT64_MAX, x;

	for (size_t i = 0; i < COOP_APP_SLOTS; i++)
		if (coop_apps[i] && coop_apps[i]->deadline && (x = coop_apps[i]->deadline(e)) < d)
			d = x;
	return d;
}
