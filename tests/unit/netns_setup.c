/* SPDX-License-Identifier: MIT */
/* The group setup of the kernel unit tests (netns_setup.h). */
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "netns_setup.h"

bool in_netns;

int group_setup(void **state)
{
	(void)state;
	/* the kernel only in a namespace of our own: never the host's rule set */
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
		   access("/usr/sbin/nft", X_OK) == 0;
	if (!in_netns)
		fprintf(stderr, "# not root or no unshare(CLONE_NEWNET): kernel tests skipped\n");
	return 0;
}
