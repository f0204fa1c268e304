/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const char *log_ident = "coopnet";
static enum log_dest log_dest = LOG_TO_STDERR;
static bool log_verbose;

/*
 * Lines held for stderr (log_hold): written by log_flush in writes of whole lines of at most
 * LOG_HELD_MAX bytes, so that one write stays atomic on a pipe (PIPE_BUF) shared with
 * another process (the parent's lines), and lines are never split or reordered.
 */
#define LOG_HELD_MAX 4096
static bool log_held;
static char held[LOG_HELD_MAX];
static size_t held_len;

void log_init(const char *ident, enum log_dest dest, bool verbose)
{
	log_ident = ident;
	log_dest = dest;
	log_verbose = verbose;
	log_flush();
	if (dest == LOG_TO_SYSLOG) {
		log_held = false; /* syslog sends each line at once */
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void log_setverbose(bool verbose)
{
	log_verbose = verbose;
}

void log_flush(void)
{
	int saved_errno = errno;
	size_t off = 0;

	while (off < held_len) {
		ssize_t w = write(STDERR_FILENO, held + off, held_len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* as fprintf to a closed stderr: the lines are lost */
		off += (size_t)w;
	}
	held_len = 0;
	errno = saved_errno;
}

void log_hold(bool on)
{
	static bool registered;
	int saved_errno = errno;

	if (!on)
		log_flush();
	else if (!registered && atexit(log_flush) == 0)
		registered = true;
	log_held = on && registered && log_dest == LOG_TO_STDERR;
	errno = saved_errno;
}

/* one line into the held buffer, after writing what it holds if the line does not fit */
static void hold_line(const char *msg, const char *errstr)
{
	char line[LOG_HELD_MAX];
	int n = errstr ? snprintf(line, sizeof(line), "%s: %s: %s\n", log_ident, msg, errstr)
		       : snprintf(line, sizeof(line), "%s: %s\n", log_ident, msg);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) { /* cut: still one line */
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (held_len + (size_t)n > sizeof(held))
		log_flush();
	memcpy(held + held_len, line, (size_t)n);
	held_len += (size_t)n;
}

static void vlog(int prio, const char *fmt, va_list ap, const char *errstr)
	__attribute__((format(printf, 2, 0)));

static void vlog(int prio, const char *fmt, va_list ap, const char *errstr)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_dest == LOG_TO_SYSLOG) {
		if (errstr)
			syslog(prio, "%s: %s", msg, errstr);
		else
			syslog(prio, "%s", msg);
		return;
	}
	if (log_held) {
		hold_line(msg, errstr);
		return;
	}
	if (errstr)
		fprintf(stderr, "%s: %s: %s\n", log_ident, msg, errstr);
	else
		fprintf(stderr, "%s: %s\n", log_ident, msg);
}

#define LOG_BODY(prio, with_errno)                                         \
	do {                                                               \
		int saved_errno = errno;                                   \
		va_list ap;                                                \
		va_start(ap, fmt);                                         \
		vlog(prio, fmt, ap, with_errno ? strerror(saved_errno) : NULL); \
		va_end(ap);                                                \
		errno = saved_errno;                                       \
	} while (0)

void log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, true);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, false);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, false);
}

void log_debug(const char *fmt, ...)
{
	if (!log_verbose)
		return;
	LOG_BODY(LOG_DEBUG, false);
}

void fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, true);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, false);
	exit(1);
}
