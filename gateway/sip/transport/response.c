/*
 * Where a response goes: RFC 3261 §18.2.2 with RFC 3581 (rport).
 *
 * The "received" address is always the request's packet source: the
 * response builder writes received= exactly when sent-by differs from it
 * (§18.2.1, sip_tp_via_received), so using the source address directly is
 * the same as reading the parameter back.
 */
#include "sip/transport/tp_int.h"

#include "core/err.h"
#include "core/log.h"

#include <string.h>

bool sip_tp_via_received(const struct sip_msg *req)
{
	struct sa a;

	if (!req || !req->via.host.l)
		return false;
	if (sa_set(&a, req->via.host, 0))
		return true; /* a host name */
	return !sa_eq_addr(&a, &req->src);
}

static uint16_t via_port(const struct sip_msg *req)
{
	return req->via.port ? req->via.port : sip_tp_default_port(req->tp);
}

static int resp_stream(struct sip_tp *tp, const struct sip_msg *req, const char *buf, size_t len)
{
	char host[256];
	const char *name = NULL;
	struct sa dst;

	/* The connection the request came on, while it lasts (§18.2.2 bullet 1). */
	if (tp_conn_usable(tp, req->conn, req->tp))
		return tp_stream_send(tp, req->tp, &req->src, NULL, req->conn, buf, len);
	/* Else a connection to received, at the sent-by port (or a live one to it). */
	dst = req->src;
	sa_set_port(&dst, via_port(req));
	if (req->tp == SIP_TP_TLS && req->via.host.l < sizeof(host) &&
	    !sa_is_ip_literal(req->via.host))
		name = pl_strcpy(req->via.host, host, sizeof(host));
	return tp_stream_send(tp, req->tp, &dst, name, NULL, buf, len);
}

static int resp_udp(struct sip_tp *tp, const struct sip_msg *req, const char *buf, size_t len)
{
	struct tp_lsock *ls;
	struct sa dst;

	if (len > TP_UDP_MAX)
		return EMSGSIZE;
	if (req->via.maddr.l && !sa_set(&dst, req->via.maddr, via_port(req))) {
		/* maddr (multicast or not) over UDP, sent-by port (§18.2.2 bullet 2). A
		 * maddr naming a host is not resolved here: the source address is. */
	} else if (req->via.rport) {
		/* RFC 3581 §4: back to the source address and port. */
		dst = req->src;
	} else {
		dst = req->src;
		sa_set_port(&dst, via_port(req));
	}
	/* From the socket and address the request came to (RFC 3581 §4). */
	ls = tp_lsock_find(tp, SIP_TP_UDP, sa_af(&dst),
	                   sa_af(&dst) == sa_af(&req->dst) ? &req->dst : NULL);
	if (!ls)
		return ENOTCONN;
	return tp_udp_send(tp, ls, &dst, sa_af(&dst) == sa_af(&req->dst) ? &req->dst : NULL, buf,
	                   len);
}

int sip_tp_send_response(struct sip_tp *tp, const struct sip_msg *req, const char *buf, size_t len)
{
	if (!tp || !req || !buf || !len || !sa_isset(&req->src))
		return EINVAL;
	switch (req->tp) {
	case SIP_TP_UDP:
		return resp_udp(tp, req, buf, len);
	case SIP_TP_TCP:
	case SIP_TP_TLS:
		return resp_stream(tp, req, buf, len);
	default:
		return EINVAL;
	}
}
