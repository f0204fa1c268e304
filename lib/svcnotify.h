/* SPDX-License-Identifier: MIT */
/*
 * Telling the service manager about the daemon's state (systemd Type=notify, sd_notify(3)):
 * READY=1 once the daemon serves, RELOADING=1 / READY=1 around a reload, STOPPING=1.
 * Built with libsystemd when ./configure finds it; otherwise these do nothing and the units
 * cannot use Type=notify (docs/deployment.md). Outside systemd ($NOTIFY_SOCKET unset) they
 * do nothing either.
 */
#ifndef COOPNET_SVCNOTIFY_H
#define COOPNET_SVCNOTIFY_H

void svc_notify_ready(void);
void svc_notify_reloading(void);
void svc_notify_stopping(void);

#endif
