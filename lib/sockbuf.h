/* SPDX-License-Identifier: MIT */
/*
 * sockbuf: grow a socket's buffer. As root the FORCE option (SO_RCVBUFFORCE, SO_SNDBUFFORCE)
 * passes net.core.rmem_max / wmem_max; without the privilege the plain option is tried,
 * which the kernel caps at that limit.
 *
 *	cn_sock_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, 4 << 20);
 */
#ifndef COOPNET_SOCKBUF_H
#define COOPNET_SOCKBUF_H

/* Grow fd's buffer opt (SO_RCVBUF / SO_SNDBUF, force its FORCE twin) to at least need bytes
 * as the caller asks for them (the kernel reports twice what was set: its bookkeeping); one
 * that is large enough already is left. The size the kernel reports afterwards, -1 on error. */
int cn_sock_buf(int fd, int opt, int force, int need);

#endif
