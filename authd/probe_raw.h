/* SPDX-License-Identifier: MIT */
/*
 * The path probe's raw sockets, in the privileged parent only (docs/probe.md, "Who does
 * what"). The engine never holds a raw socket: it asks for a probe segment with a fixed
 * message (IMSG_PROBE_SEND, checked in parent_msg.c) and gets what the SP's raw socket
 * received as bytes it parses itself ("probe-seen"): the parent parses no packet.
 */
#ifndef COOPNET_AUTHD_PROBE_RAW_H
#define COOPNET_AUTHD_PROBE_RAW_H

#include <stdint.h>

#include "imsg.h"

#define PROBE_RAW_RATE 10        /* probe segments sent and received per second, at most */

struct probe_raw {
	int fd[2];               /* receive sockets, IPv4 and IPv6; -1: none */
	uint64_t send_window_ms; /* the second the send count is for */
	unsigned sent;
	uint64_t recv_window_ms;
	unsigned received;
	uint64_t dropped;        /* received beyond the rate: not passed on */
};

/* A provider: open the receive sockets for TCP SYNs to port (the cooperative port), with a
 * locked socket filter that lets nothing else through. Without CAP_NET_RAW: a warning, and
 * the SP answers probes "not seen". */
void probe_raw_open(struct probe_raw *r, uint16_t port);
void probe_raw_close(struct probe_raw *r);
/* Send one probe segment (fields checked by parent_msg.c). 0, or -1 (rate, socket; logged). */
int probe_raw_send(struct probe_raw *r, const struct imsg_probe *p);
/* fd[i] is readable: pass what arrived to the engine as "probe-seen" messages. */
void probe_raw_input(struct probe_raw *r, int i, int engine_fd);

#endif
