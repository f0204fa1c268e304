/* SPDX-License-Identifier: MIT */
#include "svcnotify.h"

#ifdef HAVE_LIBSYSTEMD
#include <inttypes.h>
#include <time.h>

#include <systemd/sd-daemon.h>

void svc_notify_ready(void) { (void)sd_notify(0, "READY=1"); }
void svc_notify_stopping(void) { (void)sd_notify(0, "STOPPING=1"); }

/* systemd >= 253 wants the reload's start on CLOCK_MONOTONIC with RELOADING=1 (sd_notify(3));
 * older ones ignore the extra field. */
void svc_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
			 (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}
#else
void svc_notify_ready(void) {}
void svc_notify_reloading(void) {}
void svc_notify_stopping(void) {}
#endif
