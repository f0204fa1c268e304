/* SPDX-License-Identifier: MIT */
/* vhost_int.h: shared by lib/vhost.c (render, write) and vhost_sync.c (sync a directory). */
#ifndef COOPNET_VHOST_INT_H
#define COOPNET_VHOST_INT_H

#include "vhost.h"

/* Fill err (NULL-safe) with code and the message. */
void vhost_set_err(struct vhost_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* fsync the directory itself, so a rename in it is durable. 0 or -1 (errno). */
int vhost_fsync_dir(const char *dir);

#endif
