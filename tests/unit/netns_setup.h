/* SPDX-License-Identifier: MIT */
/*
 * The group setup of the unit tests that change the kernel (kmtest.c's users, test_ssnat.c,
 * test_vswitch.c): as root, a private network namespace, so that a test never touches the
 * host's rule set; nft must be present. Otherwise the kernel tests skip.
 */
#ifndef COOPNET_TESTS_NETNS_SETUP_H
#define COOPNET_TESTS_NETNS_SETUP_H

#include <stdbool.h>

/* true once group_setup entered a private network namespace with nft present */
extern bool in_netns;

/* cmocka group setup: enters the namespace (or says the kernel tests are skipped); always 0 */
int group_setup(void **state);

#endif
