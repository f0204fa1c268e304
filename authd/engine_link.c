/* SPDX-License-Identifier: MIT */
/*
 * The link state of the vNICs coopnet-authd creates, as the privileged parent reads it
 * (authd/link_poll.c) and sends it in "link-state" messages: the engine's chroot has no /sys
 * and the engine no netlink socket (authd/sandbox.c), so it cannot read it itself.
 *
 *   {"msg": "link-state", "vnics": {"web1": "up", "docs": "down", ...}}
 *
 * Each message replaces the whole table. A message between our own processes is still
 * checked: a name longer than an interface name, a state other than up/down/unknown, or more
 * entries than LINK_MAX refuse the whole message (counted as link-state-bad, and logged). A change of a vNIC's state is sent to the SSs at once
 * (engine_status_changed for each of its services), as a health change is.
 */
#include "engine_status.h"

#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "log.h"

#define LINK_MAX 4096 /* vNICs of one policy, as schemas/policy.schema.json allows */

struct engine_link {
	char name[IFNAMSIZ];
	uint8_t link; /* enum cn_link */
};

static int parse_state(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "up"))
		return CN_LINK_UP;
	if (!strcmp(s, "down"))
		return CN_LINK_DOWN;
	if (!strcmp(s, "unknown"))
		return CN_LINK_UNKNOWN;
	return -1;
}

static const struct engine_link *find(const struct engine_status *st, const char *name)
{
	for (size_t i = 0; i < st->n_links; i++)
		if (!strcmp(st->links[i].name, name))
			return &st->links[i];
	return NULL;
}

/* The services of the vNIC named name: their status goes out at once. */
static void changed(struct engine *e, const char *name)
{
	for (size_t i = 0; i < e->pol.n_vnics; i++)
		if (!strcmp(e->pol.vnics[i].name, name))
			for (size_t k = 0; k < e->pol.vnics[i].n_services; k++)
				engine_status_changed(e, e->pol.vnics[i].services[k].name);
}

void engine_link_state(struct engine *e, const json_t *msg)
{
	const json_t *obj = json_object_get(msg, "vnics"), *v;
	struct engine_status *st = e->status;
	struct engine_link *tab;
	const char *name;
	size_t n = 0;

	if (!st)
		return; /* before the first policy: the parent sends again on the next change */
	if (!json_is_object(obj) || json_object_size(obj) > LINK_MAX)
		goto bad;
	tab = calloc(json_object_size(obj) ? json_object_size(obj) : 1, sizeof(*tab));
	if (!tab)
		return;
	json_object_foreach((json_t *)obj, name, v) {
		int s = parse_state(json_string_value(v));

		if (s < 0 || !name[0] || strlen(name) >= IFNAMSIZ) {
			free(tab);
			goto bad;
		}
		snprintf(tab[n].name, sizeof(tab[n].name), "%s", name);
		tab[n++].link = (uint8_t)s;
	}
	for (size_t i = 0; i < n; i++) {
		const struct engine_link *old = find(st, tab[i].name);

		if (!old || old->link != tab[i].link) {
			log_info("vNIC %s: link %s", tab[i].name, cn_link_name(tab[i].link));
			st->links_seen = true;
			if (old) /* the first report is no change: the next interval carries it */
				changed(e, tab[i].name);
		}
	}
	free(st->links);
	st->links = tab;
	st->n_links = n;
	st->links_seen = true;
	return;
bad:
	e->counters[CNT_LINK_STATE_BAD]++;
	log_warnx("link-state from the parent: a bad entry or too many: dropped");
}

bool engine_link_find(const struct engine *e, const char *vnic, uint8_t *link)
{
	const struct engine_link *l;

	if (!e->status || !e->status->links_seen || !(l = find(e->status, vnic)))
		return false;
	*link = l->link;
	return true;
}

void engine_link_free(struct engine *e)
{
	if (!e->status)
		return;
	free(e->status->links);
	e->status->links = NULL;
	e->status->n_links = 0;
}
