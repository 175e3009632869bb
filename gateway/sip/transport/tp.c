/*
 * The transport layer object: configuration, listeners, send dispatch,
 * names and counters.
 */
#include "sip/transport/tp_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum sip_transport t;
	bool reliable;
	uint16_t port;
} tp_names[] = {
    {"UDP", SIP_TP_UDP, false, 5060},
    {"TCP", SIP_TP_TCP, true, 5060},
    {"TLS", SIP_TP_TLS, true, 5061},
};

const char *sip_tp_name(enum sip_transport t)
{
	for (size_t i = 0; i < ARRAY_SIZE(tp_names); i++) {
		if (tp_names[i].t == t)
			return tp_names[i].name;
	}
	return "NONE";
}

enum sip_transport sip_tp_lookup(struct pl name)
{
	for (size_t i = 0; i < ARRAY_SIZE(tp_names); i++) {
		if (pl_caseeq_str(name, tp_names[i].name))
			return tp_names[i].t;
	}
	return SIP_TP_NONE;
}

bool sip_tp_reliable(enum sip_transport t)
{
	for (size_t i = 0; i < ARRAY_SIZE(tp_names); i++) {
		if (tp_names[i].t == t)
			return tp_names[i].reliable;
	}
	return false;
}

uint16_t sip_tp_default_port(enum sip_transport t)
{
	return t == SIP_TP_TLS ? 5061 : 5060;
}

static void config_defaults(struct sip_tp_config *c)
{
	if (!c->limits.max_msg)
		c->limits.max_msg = 65535;
	if (!c->limits.max_hdr_len)
		c->limits.max_hdr_len = 16384;
	if (!c->limits.max_body)
		c->limits.max_body = 32768;
	if (!c->idle_timeout_ms)
		c->idle_timeout_ms = 300000;
	if (!c->msg_timeout_ms)
		c->msg_timeout_ms = c->idle_timeout_ms < 20000 ? c->idle_timeout_ms : 20000;
	if (!c->connect_timeout_ms)
		c->connect_timeout_ms = 10000;
	if (!c->max_conns)
		c->max_conns = 1024;
	if (!c->max_conn_buffer)
		c->max_conn_buffer = 262144;
	if (!c->udp_max)
		c->udp_max = 1300;
	if (c->udp_max > TP_UDP_MAX)
		c->udp_max = TP_UDP_MAX;
}

int sip_tp_alloc(struct sip_tp **tpp, struct loop *loop, const struct sip_tp_config *cfg,
                 sip_tp_recv_h *recvh, sip_tp_err_h *errh, void *arg)
{
	struct sip_tp *tp;

	if (!tpp || !loop || !recvh)
		return EINVAL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return ENOMEM;
	if (cfg)
		tp->cfg = *cfg;
	config_defaults(&tp->cfg);
	tp->loop = loop;
	tp->recvh = recvh;
	tp->errh = errh;
	tp->arg = arg;
	*tpp = tp;
	return 0;
}

void sip_tp_free(struct sip_tp *tp)
{
	if (!tp)
		return;
	tp->errh = NULL; /* no callbacks into a user tearing down */
	tp_streams_close_all(tp);
	while (tp->lsocks) {
		struct tp_lsock *ls = tp->lsocks;
		tp->lsocks = ls->next;
		loop_fd_forget(tp->loop, ls->fd);
		close(ls->fd);
		free(ls);
	}
	tp_tls_free(tp);
	free(tp->udpbuf);
	free(tp);
}

/* Options every signalling socket gets: DSCP for QoS marking. */
int tp_sock_opts(struct sip_tp *tp, int fd, int af)
{
	int tos;

	if (tp->cfg.dscp <= 0)
		return 0;
	if (tp->cfg.dscp > 63)
		return EINVAL;
	tos = tp->cfg.dscp << 2;
	if (af == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) < 0)
			return errno;
	} else if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0) {
		return errno;
	}
	return 0;
}

/*
 * The listener of t and family af; with local given, the one bound to that
 * address and port (or a wildcard one on that port) is preferred.
 */
struct tp_lsock *tp_lsock_find(struct sip_tp *tp, enum sip_transport t, int af,
                               const struct sa *local)
{
	struct tp_lsock *first = NULL, *wild = NULL;

	for (struct tp_lsock *ls = tp->lsocks; ls; ls = ls->next) {
		if (ls->t != t || sa_af(&ls->local) != af)
			continue;
		if (!local || !sa_isset(local))
			return ls;
		if (sa_eq(&ls->local, local))
			return ls;
		if (ls->wildcard && sa_port(&ls->local) == sa_port(local) && !wild)
			wild = ls;
		if (!first)
			first = ls;
	}
	return wild ? wild : first;
}

int sip_tp_listen(struct sip_tp *tp, enum sip_transport t, struct sa *local)
{
	if (!tp || !local || !sa_isset(local))
		return EINVAL;
	switch (t) {
	case SIP_TP_UDP:
		return tp_udp_listen(tp, local);
	case SIP_TP_TCP:
	case SIP_TP_TLS:
		return tp_stream_listen(tp, t, local);
	default:
		return EPROTONOSUPPORT;
	}
}

int sip_tp_send_named(struct sip_tp *tp, enum sip_transport t, const struct sa *dst,
                      const char *host, void *conn, const char *buf, size_t len)
{
	struct tp_lsock *ls;
	int err;

	if (!tp || !dst || !sa_isset(dst) || !buf || !len)
		return EINVAL;
	if (t == SIP_TP_UDP) {
		if (len > tp->cfg.udp_max)
			return EMSGSIZE;
		ls = tp_lsock_find(tp, SIP_TP_UDP, sa_af(dst), NULL);
		if (!ls)
			return ENOTCONN;
		err = tp_udp_send(tp, ls, dst, NULL, buf, len);
	} else if (t == SIP_TP_TCP || t == SIP_TP_TLS) {
		err = tp_stream_send(tp, t, dst, host, conn, buf, len);
	} else {
		return EPROTONOSUPPORT;
	}
	return err;
}

int sip_tp_send(struct sip_tp *tp, enum sip_transport t, const struct sa *dst, void *conn,
                const char *buf, size_t len)
{
	return sip_tp_send_named(tp, t, dst, NULL, conn, buf, len);
}

int sip_tp_local(struct sip_tp *tp, enum sip_transport t, int af, struct sa *local)
{
	struct tp_lsock *ls;

	if (!tp || !local)
		return EINVAL;
	ls = tp_lsock_find(tp, t, af, NULL);
	if (!ls)
		return ENOENT;
	*local = ls->local;
	return 0;
}

void sip_tp_stats(const struct sip_tp *tp, struct sip_tp_stats *st)
{
	*st = tp->st;
	st->conns = tp->nconns;
}
