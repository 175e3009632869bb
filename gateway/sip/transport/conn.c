/*
 * Stream connections (TCP and TLS): the table used for reuse, life cycle,
 * output queue and socket events.
 *
 * Why it looks like this:
 * - Output is written directly while the socket takes it and queued when it
 *   does not, up to max_conn_buffer; past that sends fail with ENOBUFS.
 * - One timer per connection: the connect/handshake deadline first, then the
 *   idle check, which re-arms itself for the time left since the last
 *   activity instead of being restarted on every packet.
 * - A handler may send, close or free anything; the connection being
 *   processed is held by a reference and checked for `closed` after each call.
 */
#include "sip/transport/tp_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define OBUF_KEEP 16384u /* an empty output buffer larger than this is freed */

static void conn_io_h(int fd, unsigned events, void *arg);
static void conn_tmr_h(void *arg);

/* ---- the connection table ---- */

static unsigned conn_hash(enum sip_transport t, const struct sa *sa)
{
	const unsigned char *p;
	size_t n;
	uint32_t h = 2166136261u ^ (uint32_t)t;

	if (sa_af(sa) == AF_INET6) {
		p = (const unsigned char *)&sa->u.in6.sin6_addr;
		n = 16;
	} else {
		p = (const unsigned char *)&sa->u.in.sin_addr;
		n = 4;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ sa_port(sa)) * 16777619u;
	return h % TP_HBUCKETS;
}

static void conn_link(struct sip_tp *tp, struct tp_conn *c)
{
	struct tp_conn **head = &tp->htab[conn_hash(c->t, &c->peer)];

	c->hnext = *head;
	if (*head)
		(*head)->hprev = &c->hnext;
	c->hprev = head;
	*head = c;
}

static void conn_unlink(struct tp_conn *c)
{
	if (!c->hprev)
		return;
	*c->hprev = c->hnext;
	if (c->hnext)
		c->hnext->hprev = c->hprev;
	c->hnext = NULL;
	c->hprev = NULL;
}

/* A TLS connection is reused only for the name it was verified against. */
static bool conn_name_ok(const struct tp_conn *c, const char *host)
{
	bool named = host && !sa_is_ip_literal(pl_make(host, strlen(host)));

	if (c->t != SIP_TP_TLS)
		return true;
	if (!named)
		return c->host == NULL;
	return c->host && !strcasecmp(c->host, host);
}

struct tp_conn *tp_conn_find(struct sip_tp *tp, enum sip_transport t, const struct sa *dst,
                             const char *host)
{
	for (struct tp_conn *c = tp->htab[conn_hash(t, dst)]; c; c = c->hnext) {
		if (c->t == t && sa_eq(&c->peer, dst) && conn_name_ok(c, host))
			return c;
	}
	return NULL;
}

bool tp_conn_usable(struct sip_tp *tp, const struct tp_conn *c, enum sip_transport t)
{
	return c && c->tp == tp && !c->closed && c->t == t;
}

/* ---- life cycle ---- */

static void conn_destroy(void *arg)
{
	struct tp_conn *c = arg;

	tp_tls_conn_free(c);
	if (c->fd >= 0)
		close(c->fd);
	free(c->ibuf);
	free(c->obuf);
	free(c->host);
}

static int conn_arm(struct tp_conn *c)
{
	struct sip_tp *tp = c->tp;
	uint32_t ms =
	    c->connecting || c->handshaking ? tp->cfg.connect_timeout_ms : tp->cfg.idle_timeout_ms;

	return tmr_start(tp->loop, &c->tmr, ms, conn_tmr_h, c);
}

static void conn_update_events(struct tp_conn *c)
{
	unsigned ev = LOOP_READ;

	/* TLS may need the socket writable to read, or readable to write. */
	if (c->connecting || (c->handshaking && c->hs_ww) || (c->olen && c->wr_ww) || c->rd_ww)
		ev |= LOOP_WRITE;
	if (ev == c->events)
		return;
	if (loop_fd_listen(c->tp->loop, c->fd, ev, conn_io_h, c) == 0)
		c->events = ev;
}

/* Takes fd; on failure fd is closed. */
int tp_conn_new(struct tp_conn **cp, struct sip_tp *tp, enum sip_transport t, int fd,
                const struct sa *peer, bool outbound)
{
	struct tp_conn *c = mem_zalloc(sizeof(*c), conn_destroy);

	if (!c) {
		close(fd);
		return ENOMEM;
	}
	c->fd = fd;
	c->tp = tp;
	c->t = t;
	c->peer = *peer;
	c->outbound = outbound;
	c->last_active = loop_now(tp->loop);
	tmr_init(&c->tmr);
	c->local.len = sizeof(c->local.u.ss);
	if (getsockname(fd, &c->local.u.sa, &c->local.len) < 0)
		memset(&c->local, 0, sizeof(c->local));
	conn_link(tp, c);
	tp->nconns++;
	tp->st.conns_open++;
	*cp = c;
	return 0;
}

/* Registers with the loop and starts TLS if needed. On failure the caller closes. */
int tp_conn_start(struct tp_conn *c)
{
	int err;

	if (c->t == SIP_TP_TLS) {
		err = tp_tls_conn_start(c);
		if (err)
			return err;
		c->handshaking = true;
	}
	err = conn_arm(c);
	if (err)
		return err;
	c->events = LOOP_READ | (c->outbound ? LOOP_WRITE : 0);
	return loop_fd_listen(c->tp->loop, c->fd, c->events, conn_io_h, c);
}

void tp_conn_close(struct tp_conn *c, int err)
{
	struct sip_tp *tp = c->tp;
	bool pending;

	if (c->closed || !tp)
		return;
	pending = c->olen > 0 || (c->outbound && (c->connecting || c->handshaking));
	c->closed = true;
	conn_unlink(c);
	tp->nconns--;
	tp->st.conns_closed++;
	tmr_cancel(&c->tmr);
	loop_fd_forget(tp->loop, c->fd);
	/* Our own orderly close: a best-effort close_notify that never waits. */
	if (c->ssl && !c->handshaking && !err)
		(void)SSL_shutdown(c->ssl);
	close(c->fd);
	c->fd = -1;
	c->tp = NULL;
	c->olen = 0;
	if (err && pending && tp->errh)
		tp->errh(c->t, &c->peer, err, tp->arg);
	mem_deref(c); /* the layer's reference */
}

void tp_streams_close_all(struct sip_tp *tp)
{
	for (unsigned i = 0; i < TP_HBUCKETS; i++) {
		while (tp->htab[i])
			tp_conn_close(tp->htab[i], 0);
	}
}

/* ---- raw I/O: plain or TLS ---- */

int tp_conn_recv(struct tp_conn *c, char *buf, size_t n, size_t *got)
{
	ssize_t r;

	if (c->ssl)
		return tp_tls_read(c, buf, n, got);
	r = recv(c->fd, buf, n, MSG_DONTWAIT);
	if (r > 0) {
		*got = (size_t)r;
		return 0;
	}
	if (r == 0)
		return EPIPE;
	return errno == EWOULDBLOCK ? EAGAIN : errno;
}

static int conn_sendraw(struct tp_conn *c, const char *buf, size_t n, size_t *done)
{
	ssize_t r;

	if (c->ssl)
		return tp_tls_write(c, buf, n, done);
	r = send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r >= 0) {
		*done = (size_t)r;
		return 0;
	}
	return errno == EWOULDBLOCK ? EAGAIN : errno;
}

/* ---- output ---- */

static int conn_queue(struct tp_conn *c, const char *buf, size_t len)
{
	size_t need;

	if (c->olen > c->tp->cfg.max_conn_buffer || len > c->tp->cfg.max_conn_buffer - c->olen)
		return ENOBUFS;
	if (c->ohead && c->ohead + c->olen + len > c->ocap) {
		memmove(c->obuf, c->obuf + c->ohead, c->olen);
		c->ohead = 0;
	}
	need = c->ohead + c->olen + len;
	if (need > c->ocap) {
		size_t cap = c->ocap ? c->ocap * 2 : 4096;
		char *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(c->obuf, cap);
		if (!nb)
			return ENOMEM;
		c->obuf = nb;
		c->ocap = cap;
	}
	memcpy(c->obuf + c->ohead + c->olen, buf, len);
	c->olen += len;
	return 0;
}

/* Writes what the socket takes. 0: queue empty; EAGAIN: wait; else failure. */
static int conn_flush(struct tp_conn *c)
{
	while (c->olen) {
		size_t done = 0;
		int err = conn_sendraw(c, c->obuf + c->ohead, c->olen, &done);

		if (err == EAGAIN)
			c->wr_ww = c->ssl ? c->ssl_want_write : true;
		if (err)
			return err;
		c->ohead += done;
		c->olen -= done;
		c->last_active = loop_now(c->tp->loop);
	}
	c->ohead = 0;
	if (c->ocap > OBUF_KEEP) {
		free(c->obuf);
		c->obuf = NULL;
		c->ocap = 0;
	}
	return 0;
}

/* Sends or queues; a hard write error is returned (the caller closes). */
int tp_conn_write(struct tp_conn *c, const char *buf, size_t len)
{
	size_t done = 0;
	int err;

	if (!c->olen && !c->connecting && !c->handshaking) {
		err = conn_sendraw(c, buf, len, &done);
		if (err == EAGAIN)
			c->wr_ww = c->ssl ? c->ssl_want_write : true;
		else if (err)
			return err;
		c->last_active = loop_now(c->tp->loop);
	}
	/* After a TLS EAGAIN the same bytes must be offered again: they head the queue. */
	if (done < len) {
		err = conn_queue(c, buf + done, len - done);
		if (err)
			return done ? ECONNABORTED : err; /* half a message went: unusable */
	}
	conn_update_events(c);
	return 0;
}

/* ---- events ---- */

static int conn_connected(struct tp_conn *c)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return errno;
	if (soerr)
		return soerr;
	c->connecting = false;
	c->local.len = sizeof(c->local.u.ss);
	if (getsockname(c->fd, &c->local.u.sa, &c->local.len) < 0)
		return errno;
	return c->handshaking ? 0 : conn_arm(c);
}

static int conn_handshake(struct tp_conn *c)
{
	struct sip_tp *tp = c->tp;
	char a[SA_STRLEN];
	int err = tp_tls_handshake(c);

	c->hs_ww = err == EAGAIN && c->ssl_want_write;
	if (err == EAGAIN)
		return EAGAIN;
	if (err) {
		tp->st.tls_failed++;
		if (c->outbound)
			LOGN(TP_CTX, "TLS handshake with %s failed",
			     sa_str(&c->peer, a, sizeof(a)));
		else
			LOGD(TP_CTX, "TLS handshake from %s failed",
			     sa_str(&c->peer, a, sizeof(a)));
		return EPROTO;
	}
	c->handshaking = false;
	c->last_active = loop_now(tp->loop);
	return conn_arm(c);
}

static void conn_io_h(int fd, unsigned events, void *arg)
{
	struct tp_conn *c = mem_ref(arg);
	int err = 0;
	(void)fd;

	if (c->connecting) {
		if (!(events & (LOOP_WRITE | LOOP_ERROR)))
			goto out;
		err = conn_connected(c);
		if (err)
			goto out;
	}
	if (c->handshaking) {
		err = conn_handshake(c);
		if (err)
			goto out;
	}
	err = conn_flush(c);
	if (err && err != EAGAIN)
		goto out;
	err = 0;
	if ((events & (LOOP_READ | LOOP_ERROR)) || c->ssl)
		tp_conn_read(c);
out:
	if (err == EAGAIN)
		err = 0;
	if (err)
		tp_conn_close(c, err);
	else if (!c->closed)
		conn_update_events(c);
	mem_deref(c);
}

void tp_conn_msg_pending(struct tp_conn *c)
{
	struct sip_tp *tp = c->tp;
	uint64_t now = loop_now(tp->loop), due;

	if (!c->msg_start) {
		c->msg_start = now ? now : 1;
		due = tp->cfg.msg_timeout_ms;
		if (c->connecting || c->handshaking || !tmr_running(&c->tmr) ||
		    tmr_left(&c->tmr) <= due)
			return;
		if (tmr_start(tp->loop, &c->tmr, due, conn_tmr_h, c))
			tp_conn_close(c, 0);
	}
}

static void conn_tmr_h(void *arg)
{
	struct tp_conn *c = arg;
	struct sip_tp *tp = c->tp;
	uint64_t now = loop_now(tp->loop), idle = now - c->last_active, next;
	char a[SA_STRLEN];

	if (c->connecting || c->handshaking) {
		if (c->handshaking && !c->connecting)
			tp->st.tls_failed++;
		tp_conn_close(c, ETIMEDOUT);
		return;
	}
	if (idle >= tp->cfg.idle_timeout_ms) {
		tp_conn_close(c, c->olen ? ETIMEDOUT : 0);
		return;
	}
	next = tp->cfg.idle_timeout_ms - idle;
	/* Activity does not excuse a message that never completes (slowloris). */
	if (c->msg_start && c->ilen) {
		uint64_t age = now - c->msg_start;

		if (age >= tp->cfg.msg_timeout_ms) {
			tp->st.rx_bad++;
			LOGN(TP_CTX, "%s from %s: message not complete after %llu ms, closing",
			     sip_tp_name(c->t), sa_str(&c->peer, a, sizeof(a)),
			     (unsigned long long)age);
			tp_conn_close(c, c->olen ? ETIMEDOUT : 0);
			return;
		}
		if (tp->cfg.msg_timeout_ms - age < next)
			next = tp->cfg.msg_timeout_ms - age;
	}
	if (tmr_start(tp->loop, &c->tmr, next, conn_tmr_h, c))
		tp_conn_close(c, 0);
}
