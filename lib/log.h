/* SPDX-License-Identifier: MIT */
/*
 * Logging in the OpenBSD style: log_warn() appends strerror(errno), log_warnx() does not;
 * fatal()/fatalx() log and exit(1). Every helper preserves errno. Messages go to stderr
 * until log_init() selects syslog.
 */
#ifndef COOPNET_LOG_H
#define COOPNET_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_dest { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* ident: program name in every line; verbose: also print log_debug(). */
void log_init(const char *ident, enum log_dest dest, bool verbose);
void log_setverbose(bool verbose);

/*
 * Hold the lines for stderr until log_flush() (or exit: registered with atexit), to write a
 * turn's lines in one write instead of one each (coopnet-authd's engine: issue 11). Writes
 * carry whole lines, at most 4,096 bytes each; with syslog, or log_hold(false), every line
 * goes out at once as before. log_hold(false) writes what is held.
 */
void log_hold(bool on);
void log_flush(void);

/* For a line repeated with a count n (1, 2, ...): log the first ten, then only at powers of
 * two, so a flood of the same event writes a few dozen lines and says how many there were. */
static inline bool log_sampled(uint64_t n)
{
	return n <= 10 || !(n & (n - 1));
}

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
