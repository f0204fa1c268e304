/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char *log_ident = "coopnet";
static enum log_dest log_dest = LOG_TO_STDERR;
static bool log_verbose;

void log_init(const char *ident, enum log_dest dest, bool verbose)
{
	log_ident = ident;
	log_dest = dest;
	log_verbose = verbose;
	if (dest == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_setverbose(bool verbose)
{
	log_verbose = verbose;
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
