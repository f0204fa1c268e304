/* SPDX-License-Identifier: MIT */
/* Grow a socket's buffer (sockbuf.h). */
#include "sockbuf.h"

#include <sys/socket.h>

int cn_sock_buf(int fd, int opt, int force, int need)
{
	socklen_t len = sizeof(int);
	int have = 0;

	if (getsockopt(fd, SOL_SOCKET, opt, &have, &len) < 0)
		return -1;
	if (have >= need)
		return have;
	if (setsockopt(fd, SOL_SOCKET, force, &need, sizeof(need)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &need, sizeof(need));
	len = sizeof(int);
	return getsockopt(fd, SOL_SOCKET, opt, &have, &len) < 0 ? -1 : have;
}
