/* SPDX-License-Identifier: MIT */
/*
 * Random bytes from a pool in front of getrandom(2) (issue 11: an Authentication drew a nonce
 * and ID candidates through libsodium, one getrandom system call each, three per exchange).
 *
 * rndpool_install() makes libsodium's randombytes_*() serve from a 4 KiB pool that one
 * getrandom(2) fills (libsodium's own sysrandom source when that call falls short); a served byte is wiped from the
 * pool, so no byte is handed out twice and none stays in memory once used. The pool is
 * emptied by randombytes_stir() and in the child of every fork() (pthread_atfork): a parent
 * and its child never serve the same bytes. Not thread-safe: for single-threaded processes
 * (coopnet-authd's engine).
 */
#ifndef COOPNET_RNDPOOL_H
#define COOPNET_RNDPOOL_H

#include <stddef.h>

#define RNDPOOL_SIZE 4096

/* 0, or -1 when the fork handler cannot be registered (then nothing is changed). */
int rndpool_install(void);
/* Empty the pool (wiped); the next byte comes from a new getrandom(2). */
void rndpool_discard(void);
/* System calls that filled the pool so far (tests, figures). */
size_t rndpool_fills(void);

#endif
