/*
 * TCP and TLS endpoints: listening, accepting (bounded by max_conns),
 * non-blocking connects, and the send entry point with connection reuse.
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

#define ACCEPTS_PER_EVENT 16u

/* ---- listening and accepting ---- */

static void stream_sockopts(struct sip_tp *tp, int fd, int af)
{
	int on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	(void)tp_sock_opts(tp, fd, af);
}

static void accept_one(struct tp_lsock *ls, int fd, const struct sa *peer)
{
	struct sip_tp *tp = ls->tp;
	struct tp_conn *c;
	char a[SA_STRLEN];

	if (tp->nconns >= tp->cfg.max_conns) {
		uint64_t now = loop_now(tp->loop);

		tp->st.conns_rejected++;
		/* At most one line a second, however hard the flood. */
		if (now - tp->reject_logged >= 1000 || !tp->reject_logged) {
			tp->reject_logged = now ? now : 1;
			LOGW(TP_CTX, "%s from %s rejected: %u connections (%llu rejected so far)",
			     sip_tp_name(ls->t), sa_str(peer, a, sizeof(a)), tp->nconns,
			     (unsigned long long)tp->st.conns_rejected);
		}
		close(fd);
		return;
	}
	stream_sockopts(tp, fd, sa_af(peer));
	if (tp_conn_new(&c, tp, ls->t, fd, peer, false))
		return;
	if (tp_conn_start(c))
		tp_conn_close(c, 0);
}

static void accept_h(int lfd, unsigned events, void *arg)
{
	struct tp_lsock *ls = arg;
	(void)events;

	for (unsigned i = 0; i < ACCEPTS_PER_EVENT; i++) {
		struct sa peer;
		int fd;

		memset(&peer, 0, sizeof(peer));
		peer.len = sizeof(peer.u.ss);
		fd = accept4(lfd, &peer.u.sa, &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				LOGW(TP_CTX, "accept: %s", strerror(errno));
			return;
		}
		accept_one(ls, fd, &peer);
	}
}

static int listen_socket(struct sip_tp *tp, struct tp_lsock *ls, const struct sa *local)
{
	int on = 1, af = sa_af(local);

	ls->fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls->fd < 0)
		return errno;
	if (setsockopt(ls->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return errno;
	if (af == AF_INET6 && setsockopt(ls->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		return errno;
	stream_sockopts(tp, ls->fd, af);
	if (bind(ls->fd, &local->u.sa, local->len) < 0 || listen(ls->fd, 1024) < 0)
		return errno;
	ls->local.len = sizeof(ls->local.u.ss);
	if (getsockname(ls->fd, &ls->local.u.sa, &ls->local.len) < 0)
		return errno;
	return loop_fd_listen(tp->loop, ls->fd, LOOP_READ, accept_h, ls);
}

int tp_stream_listen(struct sip_tp *tp, enum sip_transport t, struct sa *local)
{
	struct tp_lsock *ls;
	int err;

	if (t == SIP_TP_TLS) {
		err = tp_tls_ctx_server(tp);
		if (err)
			return err;
	}
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return ENOMEM;
	ls->tp = tp;
	ls->t = t;
	ls->wildcard = sa_is_any(local);
	err = listen_socket(tp, ls, local);
	if (err) {
		if (ls->fd >= 0)
			close(ls->fd);
		free(ls);
		return err;
	}
	ls->next = tp->lsocks;
	tp->lsocks = ls;
	*local = ls->local;
	return 0;
}

/* ---- connecting and sending ---- */

static int conn_socket(struct sip_tp *tp, enum sip_transport t, const struct sa *dst, int *fdp,
                       bool *inprogress)
{
	struct tp_lsock *ls = tp_lsock_find(tp, t, sa_af(dst), NULL);
	int fd = socket(sa_af(dst), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return errno;
	stream_sockopts(tp, fd, sa_af(dst));
	/* From the listener's address (ephemeral port), so that Via and the
	 * source address agree on a multihomed host. */
	if (ls && !ls->wildcard) {
		struct sa src = ls->local;
		sa_set_port(&src, 0);
		if (bind(fd, &src.u.sa, src.len) < 0) {
			err = errno;
			close(fd);
			return err;
		}
	}
	*inprogress = false;
	if (connect(fd, &dst->u.sa, dst->len) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			close(fd);
			return err;
		}
		*inprogress = true;
	}
	*fdp = fd;
	return 0;
}

static int conn_connect(struct tp_conn **cp, struct sip_tp *tp, enum sip_transport t,
                        const struct sa *dst, const char *host)
{
	struct tp_conn *c;
	bool inprogress;
	int fd = -1, err;

	if (tp->nconns >= tp->cfg.max_conns) {
		tp->st.conns_rejected++;
		return EMFILE;
	}
	err = conn_socket(tp, t, dst, &fd, &inprogress);
	if (err)
		return err;
	err = tp_conn_new(&c, tp, t, fd, dst, true);
	if (err)
		return err;
	c->connecting = true; /* even if done: the first writable event confirms it */
	if (t == SIP_TP_TLS && host && !sa_is_ip_literal(pl_make(host, strlen(host)))) {
		c->host = strdup(host);
		if (!c->host) {
			err = ENOMEM;
			goto out;
		}
	}
	err = tp_conn_start(c);
out:
	if (err) {
		tp_conn_close(c, 0);
		return err;
	}
	*cp = c;
	return 0;
}

int tp_stream_send(struct sip_tp *tp, enum sip_transport t, const struct sa *dst, const char *host,
                   struct tp_conn *conn, const char *buf, size_t len)
{
	struct tp_conn *c = tp_conn_usable(tp, conn, t) ? conn : tp_conn_find(tp, t, dst, host);
	int err;

	if (len > tp->cfg.max_conn_buffer)
		return EMSGSIZE;
	if (!c) {
		err = conn_connect(&c, tp, t, dst, host);
		if (err)
			return err;
	}
	err = tp_conn_write(c, buf, len);
	if (err) {
		/* Nothing else was pending (a direct write happens only on an empty
		 * queue), so closing loses no one else's data. ENOBUFS: the peer is
		 * not reading; the connection stays for what is queued. */
		if (err != ENOBUFS && err != ENOMEM)
			tp_conn_close(c, 0);
		return err;
	}
	tp->st.tx_msgs++;
	return 0;
}
