/* SPDX-License-Identifier: MIT */
#include "kernelmode.h"

#include "log.h"

int kmode_setup(struct kmode *k, const struct nfq_config *cfg)
{
	(void)cfg;
	k->active = false;
	log_warnx("mode \"kernel\" is not implemented yet: use \"queue\"");
	return -1;
}

int kmode_sync(struct kmode *k, const struct nfq_config *cfg, const struct sess_list *a,
	       const struct sess_list *b)
{
	(void)k;
	(void)cfg;
	(void)a;
	(void)b;
	return -1;
}

void kmode_counters(const struct kmode *k, const struct nfq_config *cfg, uint64_t c[R__COUNT])
{
	(void)k;
	(void)cfg;
	(void)c;
}

void kmode_teardown(struct kmode *k, const struct nfq_config *cfg)
{
	(void)cfg;
	k->active = false;
}
