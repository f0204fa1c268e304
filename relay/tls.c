/* SPDX-License-Identifier: MIT */
/*
 * coopnet-relay's connections (relay.h): TLS 1.3 with an external PSK (OpenSSL), one detached
 * thread per relayed connection. The SS is the TLS client, the SP the server. No certificate:
 * a handshake succeeds only with the session's PSK (psk_dhe_ke: an X25519 exchange on top,
 * so a PSK that leaks later does not open recorded traffic).
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"

#define RELAY_BUF 16384
#define RELAY_IO_TIMEOUT_S 10    /* connect and handshake */

static const unsigned char tls13_aes128gcm_sha256[] = { 0x13, 0x01 };
static int ex_relay = -1, ex_conn = -1;

struct job {
	struct relay *r;
	struct relay_conn c;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static SSL_SESSION *psk_session(SSL *ssl, const uint8_t *psk)
{
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, tls13_aes128gcm_sha256);
	SSL_SESSION *s = SSL_SESSION_new();

	if (!s || !cipher || !SSL_SESSION_set1_master_key(s, psk, CN_CONF_PSK_LEN) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

/* SS: offer the session's key (found before the handshake, stored in ex_conn's key) */
static int use_psk(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		   SSL_SESSION **sess)
{
	struct relay_key *k = SSL_get_ex_data(ssl, ex_conn);

	(void)md;
	*sess = psk_session(ssl, k->psk);
	if (!*sess)
		return 0;
	*id = k->ident;
	*idlen = CN_CONF_IDENT_LEN;
	return 1;
}

/* SP: the identity names the key; it must belong to this connection's session */
static int find_psk(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	struct relay *r = SSL_get_ex_data(ssl, ex_relay);
	struct relay_key *k = SSL_get_ex_data(ssl, ex_conn);   /* holds the tuple on entry */
	struct relay_key found;

	*sess = NULL;
	if (!relay_key_for_ident(r, id, idlen, &k->t, &found, now_s()))
		return 1;               /* unknown: the handshake fails (no certificate) */
	*k = found;
	OPENSSL_cleanse(&found, sizeof(found));
	*sess = psk_session(ssl, k->psk);
	return *sess ? 1 : 0;
}

int relay_tls_init(struct relay *r)
{
	SSL_CTX *ctx = SSL_CTX_new(r->role == RELAY_SS ? TLS_client_method() : TLS_server_method());

	if (!ctx)
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") != 1) {
		SSL_CTX_free(ctx);
		return -1;
	}
	if (r->role == RELAY_SS)
		SSL_CTX_set_psk_use_session_callback(ctx, use_psk);
	else
		SSL_CTX_set_psk_find_session_callback(ctx, find_psk);
	ex_relay = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ex_conn = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	r->ssl_ctx = ctx;
	return 0;
}

void relay_tls_free(struct relay *r)
{
	SSL_CTX_free(r->ssl_ctx);
	r->ssl_ctx = NULL;
}

static int sock_tuple(int fd, struct relay_tuple *t)
{
	struct sockaddr_storage l, p;
	socklen_t ll = sizeof(l), pl = sizeof(p);

	memset(t, 0, sizeof(*t));
	if (getsockname(fd, (struct sockaddr *)&l, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&p, &pl) < 0 || l.ss_family != p.ss_family)
		return -1;
	t->family = (uint8_t)l.ss_family;
	if (l.ss_family == AF_INET) {
		memcpy(t->service, &((struct sockaddr_in *)&l)->sin_addr, 4);
		memcpy(t->client, &((struct sockaddr_in *)&p)->sin_addr, 4);
		t->port = ntohs(((struct sockaddr_in *)&l)->sin_port);
	} else if (l.ss_family == AF_INET6) {
		memcpy(t->service, &((struct sockaddr_in6 *)&l)->sin6_addr, 16);
		memcpy(t->client, &((struct sockaddr_in6 *)&p)->sin6_addr, 16);
		t->port = ntohs(((struct sockaddr_in6 *)&l)->sin6_port);
	} else {
		return -1;
	}
	return 0;
}

static socklen_t tuple_addr(const struct relay_tuple *t, bool service, uint16_t port,
			    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = t->family;
	if (t->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		memcpy(&a->sin_addr, service ? t->service : t->client, 4);
		a->sin_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memcpy(&a6->sin6_addr, service ? t->service : t->client, 16);
	a6->sin6_port = htons(port);
	return sizeof(*a6);
}

static void set_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* SS: from the client's address (IP_TRANSPARENT) to the service it dialed.
 * SP: from the host to the service on the vNIC, marked so the rules let it pass. */
static int connect_onward(struct relay *r, const struct relay_tuple *t)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	set_timeouts(fd, RELAY_IO_TIMEOUT_S);
	if (r->role == RELAY_SS) {
		int lvl = t->family == AF_INET ? SOL_IP : SOL_IPV6;
		int opt = t->family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT;
		len = tuple_addr(t, false, 0, &ss);
		if (setsockopt(fd, lvl, opt, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&ss, len) < 0)
			goto fail;
	} else if (r->mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &r->mark, sizeof(r->mark)) < 0) {
		goto fail;
	}
	len = tuple_addr(t, true, t->port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	set_timeouts(fd, 0);
	return fd;
fail:
	log_warn("onward connection");
	close(fd);
	return -1;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Copy both ways until both directions ended (TLS half-close: close_notify one way). */
static void pump(SSL *ssl, int plain, int tls)
{
	uint8_t buf[RELAY_BUF];
	bool plain_eof = false, tls_eof = false;

	while (!plain_eof || !tls_eof) {
		struct pollfd p[2] = {
			{ .fd = plain_eof ? -1 : plain, .events = POLLIN },
			{ .fd = tls_eof ? -1 : tls, .events = POLLIN },
		};
		if (!(SSL_pending(ssl) > 0 && !tls_eof) && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (!tls_eof && (SSL_pending(ssl) > 0 || p[1].revents)) {
			int n = SSL_read(ssl, buf, sizeof(buf));
			if (n > 0) {
				if (!write_all(plain, buf, (size_t)n))
					return;
			} else {
				int e = SSL_get_error(ssl, n);
				if (e == SSL_ERROR_WANT_READ)
					continue;
				if (e != SSL_ERROR_ZERO_RETURN)
					return;      /* reset, bad record, revoked (shutdown) */
				tls_eof = true;
				shutdown(plain, SHUT_WR);
			}
		}
		if (!plain_eof && p[0].revents) {
			ssize_t n = read(plain, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return;
			if (n == 0) {
				plain_eof = true;
				SSL_shutdown(ssl);   /* close_notify: our direction ends */
			} else if (SSL_write(ssl, buf, (int)n) <= 0) {
				return;
			}
		}
	}
}

static bool wait_key(struct relay *r, const struct relay_tuple *t, struct relay_key *k)
{
	for (int waited = 0; waited <= RELAY_KEY_WAIT_MS; waited += 50) {
		if (relay_key_for_tuple(r, t, k, now_s()))
			return true;
		struct timespec ts = { .tv_nsec = 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void describe(const struct relay_tuple *t, char *out, size_t size)
{
	char c[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];

	inet_ntop(t->family, t->client, c, sizeof(c));
	inet_ntop(t->family, t->service, s, sizeof(s));
	snprintf(out, size, "%s -> %s port %u", c, s, t->port);
}

static void log_tls_error(const char *what, const char *conn)
{
	unsigned long e = ERR_get_error();
	char msg[256] = "";

	if (e)
		ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	log_warnx("%s: TLS handshake failed: %s", conn, msg[0] ? msg : what);
}

/* The connection now belongs to session t: from here a DEL of t closes it (under the lock, so
 * that the registry never sees a half-set connection). */
static void attach(struct relay *r, struct relay_conn *c, const struct relay_tuple *t,
		   int *slot, int fd)
{
	pthread_mutex_lock(&r->lock);
	*slot = fd;
	c->t = *t;
	c->has_tuple = true;
	pthread_mutex_unlock(&r->lock);
}

/* One connection, start to end (the job's thread). */
static void run(struct relay *r, struct relay_conn *c)
{
	struct relay_key *k = OPENSSL_secure_zalloc(sizeof(*k));
	SSL *ssl = NULL;
	char desc[128];
	int ok;

	if (!k || sock_tuple(c->fd_plain, &k->t) < 0)
		goto out;
	describe(&k->t, desc, sizeof(desc));
	if (r->role == RELAY_SS) {
		if (!wait_key(r, &k->t, k)) {
			log_warnx("%s: no key for this session (not confidential, or not "
				  "authenticated): closed", desc);
			relay_count(r, CN_CONF_C_NO_KEY);
			goto out;
		}
		int fd = connect_onward(r, &k->t);
		if (fd < 0) {
			relay_count(r, CN_CONF_C_BACKEND_FAILED);
			goto out;
		}
		attach(r, c, &k->t, &c->fd_tls, fd);
		if (!relay_key_for_tuple(r, &k->t, k, now_s()))
			goto out;           /* revoked while we connected */
	} else {
		pthread_mutex_lock(&r->lock);
		c->fd_tls = c->fd_plain;    /* the accepted socket carries TLS on the SP */
		c->fd_plain = -1;
		pthread_mutex_unlock(&r->lock);
		set_timeouts(c->fd_tls, RELAY_IO_TIMEOUT_S);
	}
	ssl = SSL_new(r->ssl_ctx);
	if (!ssl || !SSL_set_fd(ssl, c->fd_tls))
		goto out;
	SSL_set_ex_data(ssl, ex_relay, r);
	SSL_set_ex_data(ssl, ex_conn, k);
	ok = r->role == RELAY_SS ? SSL_connect(ssl) : SSL_accept(ssl);
	if (ok != 1) {
		log_tls_error("wrong key or not TLS", desc);
		relay_count(r, CN_CONF_C_HANDSHAKE_FAILED);
		goto out;
	}
	relay_count(r, CN_CONF_C_HANDSHAKE_OK);
	log_info("%s: session %04x, key %02x%02x%02x%02x: TLS 1.3 up", desc, k->id, k->ident[0],
		 k->ident[1], k->ident[2], k->ident[3]);
	if (r->role == RELAY_SP) {
		set_timeouts(c->fd_tls, 0);
		int fd = connect_onward(r, &k->t);
		if (fd < 0) {
			relay_count(r, CN_CONF_C_BACKEND_FAILED);
			goto out;
		}
		attach(r, c, &k->t, &c->fd_plain, fd);
		struct relay_key again;
		bool live = relay_key_for_ident(r, k->ident, CN_CONF_IDENT_LEN, &k->t, &again,
						now_s());
		OPENSSL_cleanse(&again, sizeof(again));
		if (!live)
			goto out;           /* revoked during the handshake */
	}
	OPENSSL_secure_clear_free(k, sizeof(*k));
	k = NULL;
	SSL_set_ex_data(ssl, ex_conn, NULL);
	pump(ssl, c->fd_plain, c->fd_tls);
out:
	relay_conn_del(r, c);       /* before the close: the registry never names a closed fd */
	SSL_free(ssl);
	if (k)
		OPENSSL_secure_clear_free(k, sizeof(*k));
	if (c->fd_plain >= 0)
		close(c->fd_plain);
	if (c->fd_tls >= 0)
		close(c->fd_tls);
	ERR_clear_error();
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	run(j->r, &j->c);
	free(j);
	return NULL;
}

void relay_spawn(struct relay *r, int fd)
{
	struct job *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t th;

	relay_count(r, CN_CONF_C_ACCEPTED);
	if (!j) {
		close(fd);
		return;
	}
	j->r = r;
	j->c.fd_plain = fd;
	j->c.fd_tls = -1;
	if (relay_conn_add(r, &j->c) < 0) {
		log_warnx("%d connections open: refused", RELAY_MAX_CONNS);
		close(fd);
		free(j);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&th, &attr, job_main, j)) {
		relay_conn_del(r, &j->c);
		close(fd);
		free(j);
	}
	pthread_attr_destroy(&attr);
}
