/* SPDX-License-Identifier: MIT */
/* The engine's confinement: chroot into its state directory and a seccomp filter
 * (authd/sandbox.c; docs/authd.md "Privilege separation"). */
#ifndef COOPNET_AUTHD_SANDBOX_H
#define COOPNET_AUTHD_SANDBOX_H

#include <stdbool.h>

/* Before the chroot: what needs files outside it (time zone, random sources). 0 or -1. */
int sandbox_prepare(void);
/* chroot(dir) and chdir("/") as root (a no-op when not root). 0, or -1 logged. */
int sandbox_chroot(const char *dir);
/* The seccomp filter of the engine's loop (last step, after its files and sockets are
 * open). unix_connect: also socket(AF_UNIX) and connect (coopnet-relay's key socket).
 * 0, or -1 logged. */
int sandbox_seccomp(bool unix_connect);

#endif
