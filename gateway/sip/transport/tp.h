/*
 * tp: SIP transports (RFC 3261 §18, RFC 3581): UDP, TCP and TLS over IPv4/IPv6.
 *
 * One struct sip_tp owns every listening socket and every connection. Received
 * messages are decoded (sip/msg) and handed to one receive handler with
 * msg->tp, msg->src, msg->dst and (for streams) msg->conn set; the handler
 * borrows the message and takes mem_ref() if it keeps it. msg->conn is a mem
 * reference the message holds on its connection (released with the message);
 * a connection object outlives its socket, so a kept message never dangles.
 * Streams: framed by Content-Length (sip_msg_frame), CRLF keep-alives answered
 * (RFC 5626 §3.5.1), connections reused in both directions (RFC 5923-style
 * lookup by remote address and transport), idle ones and ones whose message
 * does not complete in time (slowloris) closed, limits on
 * message size, buffered bytes per connection and number of connections.
 * A stream peer that sends what cannot be framed is disconnected.
 * Malformed requests get a 400 (513 over a size limit) when they can be answered (enough
 * headers to build a response), else are dropped; malformed responses are dropped.
 * Everything counted in rx_bad.
 * Received requests: the layer does not touch Via; the response builder adds
 * received/rport (§18.2.1, RFC 3581), sip_tp_via_received() tells whether
 * received is due.
 * Runs on the signalling thread's loop; not thread-safe. Nothing blocks.
 * The process must ignore SIGPIPE (OpenSSL writes to sockets with write()).
 * A handler must not free the layer that called it.
 */
#ifndef TANDEM_SIP_TP_H
#define TANDEM_SIP_TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/sa.h"
#include "sip/msg/msg.h"

struct sip_tp;

struct sip_tp_config {
	struct sip_limits limits;    /* message limits; zero fields mean defaults */
	uint32_t idle_timeout_ms;    /* close idle stream connections [300000] */
	uint32_t msg_timeout_ms;     /* a stream message must be complete this long after its
	                              * first byte, or the connection is closed (slow senders
	                              * holding connections) [min(20000, idle_timeout_ms)] */
	uint32_t connect_timeout_ms; /* TCP connect + TLS handshake [10000] */
	unsigned max_conns;          /* stream connections in all [1024] */
	size_t max_conn_buffer;      /* queued output per connection [262144] */
	size_t udp_max;              /* largest request sent over UDP (§18.1.1) [1300] */
	int dscp;                    /* DiffServ code point for signalling (the YAML default
	                              * is 24 = CS3); 0 or -1: leave the system default */
	/* TLS (PEM files); cert+key needed for a TLS listener. */
	const char *tls_cert, *tls_key;
	const char *tls_ca;     /* CA bundle to verify peers; NULL: system default */
	bool tls_verify_server; /* verify servers we connect to [true via config] */
	bool tls_verify_client; /* require client certificates */
};

/* msg is borrowed for the duration of the call. */
typedef void(sip_tp_recv_h)(struct sip_msg *msg, void *arg);
/*
 * A connection to dst failed (connect, TLS handshake or verification) or closed
 * with data pending (err: errno; EPROTO for TLS failures, ETIMEDOUT, ECONNREFUSED...).
 * Called from the loop, never from inside sip_tp_send().
 */
typedef void(sip_tp_err_h)(enum sip_transport t, const struct sa *dst, int err, void *arg);

int sip_tp_alloc(struct sip_tp **tpp, struct loop *loop, const struct sip_tp_config *cfg,
                 sip_tp_recv_h *recvh, sip_tp_err_h *errh, void *arg);
/* Closes every socket and connection; messages still held keep their (closed) conn. */
void sip_tp_free(struct sip_tp *tp);

/*
 * Listens on local (port 0: any; the chosen port is written back to *local).
 * Several listeners per transport and family are allowed (e.g. two addresses).
 * TLS needs tls_cert and tls_key (EINVAL otherwise).
 */
int sip_tp_listen(struct sip_tp *tp, enum sip_transport t, struct sa *local);

/*
 * Sends a request (or an ACK/CANCEL) to dst over t. For streams, reuses a
 * connection to dst (or conn, when given and still open) or opens one
 * (non-blocking; data queued until connected; TLS handshake included).
 * Returns 0 when queued or sent, or an errno: ENOTCONN when UDP has no listener
 * of dst's family to send from; EMSGSIZE when len is over udp_max on UDP, in
 * which case the caller sends over TCP instead (RFC 3261 §18.1.1); ENOBUFS when
 * the connection's output queue is full; EMFILE at max_conns.
 * A UDP datagram the kernel cannot take now (EAGAIN) is dropped and counted in
 * tx_dropped: it is a lost packet that retransmission recovers.
 * Streams need no listener: outbound connections use an ephemeral port.
 */
int sip_tp_send(struct sip_tp *tp, enum sip_transport t, const struct sa *dst, void *conn,
                const char *buf, size_t len);

/*
 * Same, with the server's host name for TLS (SNI and certificate check against
 * the name; RFC 5922). host NULL or an IP literal: the certificate must match
 * dst's address. A TLS connection is reused only for the same name.
 */
int sip_tp_send_named(struct sip_tp *tp, enum sip_transport t, const struct sa *dst,
                      const char *host, void *conn, const char *buf, size_t len);

/*
 * Sends a response to a request received by this transport layer, routed per
 * RFC 3261 §18.2.2 and RFC 3581: over the request's connection if it is still
 * open (else a new one to received/sent-by), over UDP to maddr, or to the
 * source address and port when rport was requested, or to received + sent-by port.
 * "received" is always the request's source address (the response builder
 * puts it in Via when it differs from sent-by). UDP responses leave from the
 * socket and local address the request came to. Up to 65507 bytes over UDP.
 */
int sip_tp_send_response(struct sip_tp *tp, const struct sip_msg *req, const char *buf, size_t len);

/* True if the response to req must carry Via received= (§18.2.1): sent-by is
 * a host name or an address other than the packet's source. */
bool sip_tp_via_received(const struct sip_msg *req);

/* The local address messages sent to dst over t would carry in Via/Contact
 * (the listening address of that transport and family). ENOENT if none. */
int sip_tp_local(struct sip_tp *tp, enum sip_transport t, int af, struct sa *local);

/* "UDP", "TCP", "TLS"; and the reverse ("udp"/"UDP"...; SIP_TP_NONE if unknown). */
const char *sip_tp_name(enum sip_transport t);
enum sip_transport sip_tp_lookup(struct pl name);
bool sip_tp_reliable(enum sip_transport t);
/* 5060, or 5061 for TLS. */
uint16_t sip_tp_default_port(enum sip_transport t);

/* Counters, for metrics and tests. */
struct sip_tp_stats {
	uint64_t rx_msgs, tx_msgs, rx_bad, conns_open, conns_closed, conns_rejected;
	uint64_t tx_dropped; /* UDP datagrams the kernel refused (EAGAIN/ENOBUFS) */
	uint64_t tls_failed; /* TLS handshakes that failed (incl. verification) */
	unsigned conns;      /* stream connections open now */
};
void sip_tp_stats(const struct sip_tp *tp, struct sip_tp_stats *st);

#endif
