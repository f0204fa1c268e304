/* SPDX-License-Identifier: MIT */
/*
 * The privileged parent's reading of the vNICs' link state for the engine (authd/link_poll.h,
 * engine side: authd/engine_link.c): once a second, the operstate of every vNIC the policy
 * makes (the parent created them: it runs outside the engine's chroot and sees /sys), sent as
 * one "link-state" message when it differs from the last one sent.
 */
#include "link_poll.h"

#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "imsg.h"
#include "log.h"

void link_poll(struct link_poll *lp, const struct policy *pol, int engine_fd)
{
	json_t *vnics = json_object();
	char *text;

	if (!vnics)
		return;
	for (size_t i = 0; pol && i < pol->n_vnics; i++)
		if (pol->vnics[i].parent[0] &&
		    json_object_set_new(vnics, pol->vnics[i].name, json_string(cn_link_name(
			    health_link_state(pol->vnics[i].name)))) < 0) {
			json_decref(vnics);
			return;
		}
	text = json_dumps(vnics, JSON_SORT_KEYS | JSON_COMPACT);
	if (!text || (lp->last && !strcmp(text, lp->last))) {
		free(text);
		json_decref(vnics);
		return;
	}
	if (imsg_send(engine_fd, json_pack("{s:s, s:o}", "msg", "link-state", "vnics", vnics)) == 0) {
		free(lp->last);
		lp->last = text;
	} else {
		free(text);
	}
}

void link_poll_free(struct link_poll *lp)
{
	free(lp->last);
	lp->last = NULL;
}
