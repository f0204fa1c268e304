/* SPDX-License-Identifier: MIT */
#include "svcnotify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

void svc_notify_ready(void) { (void)sd_notify(0, "READY=1"); }
void svc_notify_reloading(void) { (void)sd_notify(0, "RELOADING=1"); }
void svc_notify_stopping(void) { (void)sd_notify(0, "STOPPING=1"); }
#else
void svc_notify_ready(void) {}
void svc_notify_reloading(void) {}
void svc_notify_stopping(void) {}
#endif
