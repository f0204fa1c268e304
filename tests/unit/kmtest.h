/* SPDX-License-Identifier: MIT */
/*
 * The helpers of the kernel-mode unit tests (test_nfq_kmode.c, test_nfq_kmsync.c): a session
 * entry, the supervisor config in kernel mode with one static session (198.18.1.2 ->
 * 198.18.2.1:80, ID 0x1111), a shell command's output without the element counters; the
 * group setup that enters a private network namespace as root is netns_setup.h's.
 */
#ifndef COOPNET_TESTS_KMTEST_H
#define COOPNET_TESTS_KMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netns_setup.h"
#include "nfqconf.h"

void entry(struct sess_entry *e, int family, const char *client, const char *service,
	   uint16_t port, cn_id_t id);
/* cmd's output into out (size bytes; NULL: discarded), without the counters `nft list` prints
 * after the elements of ids and ok. 0 if cmd succeeded. */
int run(const char *cmd, char *out, size_t size);
/* The test config (nfq_config_clear after use). */
void load_config(struct nfq_config *cfg);
/* A config from text (fails the test when it does not load). */
void load_config_text(struct nfq_config *cfg, const char *text);

#endif
