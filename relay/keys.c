/* SPDX-License-Identifier: MIT */
/* coopnet-relay's key table and connection registry (relay.h). */
#include "relay.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <sodium.h>

#include "log.h"

int relay_keys_init(struct relay *r)
{
	if (sodium_init() < 0)
		return -1;
	/* guarded, locked pages (sodium_allocarray): the PSKs never reach swap or a core */
	r->keys = sodium_allocarray(RELAY_MAX_KEYS, sizeof(*r->keys));
	if (!r->keys)
		return -1;
	r->n_keys = 0;
	return pthread_mutex_init(&r->lock, NULL) ? -1 : 0;
}

void relay_keys_free(struct relay *r)
{
	if (r->keys)
		sodium_free(r->keys);   /* zeroes the keys */
	r->keys = NULL;
	r->n_keys = 0;
}

bool relay_tuple_eq(const struct relay_tuple *a, const struct relay_tuple *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->client, b->client, 16) && !memcmp(a->service, b->service, 16);
}

static void tuple_of(struct relay_tuple *t, const struct cn_conf_msg *m)
{
	memset(t, 0, sizeof(*t));
	t->family = m->family;
	t->port = m->port;
	memcpy(t->client, m->client, 16);
	memcpy(t->service, m->service, 16);
}

static void key_remove(struct relay *r, size_t i)
{
	r->keys[i] = r->keys[--r->n_keys];
	sodium_memzero(&r->keys[r->n_keys], sizeof(r->keys[0]));
	r->st.c[CN_CONF_C_KEYS_DELETED]++;
}

/* Close (shutdown: the connection's thread notices and frees) every connection of t. */
static void close_conns(struct relay *r, const struct relay_tuple *t)
{
	for (struct relay_conn *c = r->conns; c; c = c->next) {
		if (!c->has_tuple || !relay_tuple_eq(&c->t, t))
			continue;
		shutdown(c->fd_plain, SHUT_RDWR);
		if (c->fd_tls >= 0)
			shutdown(c->fd_tls, SHUT_RDWR);
		c->has_tuple = false;   /* counted once */
		r->st.c[CN_CONF_C_CLOSED_REVOKED]++;
	}
}

static void forget_session(struct relay *r, const struct relay_tuple *t)
{
	for (size_t i = r->n_keys; i-- > 0;)
		if (relay_tuple_eq(&r->keys[i].t, t))
			key_remove(r, i);
	close_conns(r, t);
}

static void set_key(struct relay *r, const struct cn_conf_msg *m, int64_t now)
{
	struct relay_tuple t;
	struct relay_key *k;

	tuple_of(&t, m);
	for (size_t i = r->n_keys; i-- > 0;) {
		k = &r->keys[i];
		if (!relay_tuple_eq(&k->t, &t))
			continue;
		if (!sodium_memcmp(k->ident, m->ident, CN_CONF_IDENT_LEN)) {
			k->stale = false;   /* the same key again (a sync) */
			k->prev_until = 0;
			k->expires = m->expires;
			return;
		}
		if (k->prev_until && k->prev_until <= now)
			key_remove(r, i);
		else if (!k->prev_until)
			k->prev_until = now + RELAY_PREV_GRACE_S;
	}
	if (r->n_keys == RELAY_MAX_KEYS) {
		log_warnx("key table full (%d keys): session of ID %04x not relayed",
			  RELAY_MAX_KEYS, m->id);
		return;
	}
	k = &r->keys[r->n_keys++];
	memset(k, 0, sizeof(*k));
	k->t = t;
	k->id = m->id;
	k->expires = m->expires;
	memcpy(k->ident, m->ident, CN_CONF_IDENT_LEN);
	memcpy(k->psk, m->psk, CN_CONF_PSK_LEN);
	r->st.c[CN_CONF_C_KEYS_SET]++;
}

static void sync_end(struct relay *r)
{
	for (size_t i = r->n_keys; i-- > 0;) {
		if (!r->keys[i].stale || r->keys[i].prev_until)
			continue;
		struct relay_tuple t = r->keys[i].t;
		forget_session(r, &t);
		i = r->n_keys;      /* the table moved under the loop: start over */
	}
	for (size_t i = r->n_keys; i-- > 0;)
		if (r->keys[i].stale)
			key_remove(r, i);
}

void relay_apply(struct relay *r, const struct cn_conf_msg *m, int64_t now)
{
	struct relay_tuple t;
	char a[INET6_ADDRSTRLEN] = "";

	pthread_mutex_lock(&r->lock);
	switch (m->type) {
	case CN_CONF_SET:
		set_key(r, m, now);
		break;
	case CN_CONF_DEL:
		tuple_of(&t, m);
		forget_session(r, &t);
		inet_ntop(m->family, m->client, a, sizeof(a));
		log_info("session %04x of %s port %u: keys forgotten, its connections closed",
			 m->id, a, m->port);
		break;
	case CN_CONF_SYNC_BEGIN:
		for (size_t i = 0; i < r->n_keys; i++)
			r->keys[i].stale = true;
		break;
	case CN_CONF_SYNC_END:
		sync_end(r);
		break;
	default:
		break;
	}
	r->st.c[CN_CONF_C_KEYS_LIVE] = r->n_keys;
	pthread_mutex_unlock(&r->lock);
}

static bool usable(const struct relay_key *k, int64_t now)
{
	return (!k->expires || k->expires > now) && (!k->prev_until || k->prev_until > now);
}

bool relay_key_for_tuple(struct relay *r, const struct relay_tuple *t, struct relay_key *out,
			 int64_t now)
{
	bool found = false;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_keys && !found; i++) {
		const struct relay_key *k = &r->keys[i];
		if (!k->prev_until && usable(k, now) && relay_tuple_eq(&k->t, t)) {
			*out = *k;
			found = true;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

bool relay_key_for_ident(struct relay *r, const uint8_t *ident, size_t len,
			 const struct relay_tuple *t, struct relay_key *out, int64_t now)
{
	bool found = false;

	if (len != CN_CONF_IDENT_LEN)
		return false;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_keys && !found; i++) {
		const struct relay_key *k = &r->keys[i];
		if (usable(k, now) && !sodium_memcmp(k->ident, ident, CN_CONF_IDENT_LEN) &&
		    relay_tuple_eq(&k->t, t)) {
			*out = *k;
			found = true;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

int relay_conn_add(struct relay *r, struct relay_conn *c)
{
	int rc = -1;

	pthread_mutex_lock(&r->lock);
	if (r->n_conns < RELAY_MAX_CONNS) {
		c->next = r->conns;
		r->conns = c;
		r->n_conns++;
		rc = 0;
	}
	r->st.c[CN_CONF_C_CONNS_LIVE] = r->n_conns;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void relay_conn_del(struct relay *r, struct relay_conn *c)
{
	pthread_mutex_lock(&r->lock);
	for (struct relay_conn **p = &r->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			r->n_conns--;
			break;
		}
	}
	r->st.c[CN_CONF_C_CONNS_LIVE] = r->n_conns;
	pthread_mutex_unlock(&r->lock);
}

void relay_count(struct relay *r, enum cn_conf_counter c)
{
	pthread_mutex_lock(&r->lock);
	r->st.c[c]++;
	pthread_mutex_unlock(&r->lock);
}

void relay_stats(struct relay *r, struct cn_conf_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}
