/*
 * Private to sip/transport: the layer's state shared by its files.
 */
#ifndef TANDEM_SIP_TP_INT_H
#define TANDEM_SIP_TP_INT_H

#include <openssl/ssl.h>

#include "sip/transport/tp.h"

#define TP_CTX       "tp"
#define TP_HBUCKETS  256u
#define TP_UDP_MAX   65507u /* largest UDP payload over IPv4 */
#define TP_UDP_BATCH 8u     /* datagrams per recvmmsg */

/* A listening socket: a UDP socket or a TCP/TLS listener. */
struct tp_lsock {
	struct tp_lsock *next;
	struct sip_tp *tp;
	enum sip_transport t;
	int fd;
	struct sa local;
	bool wildcard; /* bound to 0.0.0.0 / :: */
};

/*
 * A stream connection. A mem object: the layer holds one reference while it
 * is open, each message received on it holds one more. Closing releases the
 * socket at once; the object lives on while messages refer to it.
 */
struct tp_conn {
	struct tp_conn *hnext, **hprev; /* in tp->htab */
	struct sip_tp *tp;              /* NULL once closed */
	enum sip_transport t;
	int fd;
	struct sa peer, local;
	char *host; /* TLS: name the server was verified against (malloc'd), or NULL */
	bool outbound, connecting, closed;
	/* TLS */
	SSL *ssl;
	bool handshaking;
	bool ssl_want_write;      /* set by tls.c: the last TLS call's EAGAIN wants writability */
	bool hs_ww, wr_ww, rd_ww; /* handshake / write / read wait for writability */
	/* input: at most max_msg bytes wait for framing */
	char *ibuf;
	size_t ilen, icap;
	size_t hscan; /* bytes of the pending message searched for the header end */
	size_t need;  /* its full length once known (0: not yet) */
	bool line1;   /* its start line was checked */
	uint64_t msg_start; /* when the pending partial message began (0: none) */
	/* output: bytes obuf[ohead .. ohead + olen) wait for the socket */
	char *obuf;
	size_t ohead, olen, ocap;
	uint64_t last_active;
	struct tmr tmr;
	unsigned events; /* loop interest now */
};

struct sip_tp {
	struct loop *loop;
	struct sip_tp_config cfg; /* defaults resolved */
	sip_tp_recv_h *recvh;
	sip_tp_err_h *errh;
	void *arg;
	struct tp_lsock *lsocks;
	struct tp_conn *htab[TP_HBUCKETS];
	unsigned nconns;
	SSL_CTX *ssl_srv, *ssl_cli;
	char *udpbuf; /* TP_UDP_BATCH receive buffers of udpbuf_sz bytes */
	size_t udpbuf_sz;
	struct sip_tp_stats st;
	uint64_t reject_logged; /* when a rejected connection was last logged */
};

/* tp.c */
struct tp_lsock *tp_lsock_find(struct sip_tp *tp, enum sip_transport t, int af,
                               const struct sa *local);
int tp_sock_opts(struct sip_tp *tp, int fd, int af);

/* recv.c: decodes one message from buf (copied) and delivers it. EBADMSG:
 * garbage (a stream connection that sent it is to be closed). */
int tp_recv_msg(struct sip_tp *tp, enum sip_transport t, const char *buf, size_t len,
                const struct sa *src, const struct sa *dst, struct tp_conn *conn);

/* udp.c */
int tp_udp_listen(struct sip_tp *tp, struct sa *local);
int tp_udp_send(struct sip_tp *tp, struct tp_lsock *ls, const struct sa *dst, const struct sa *src,
                const char *buf, size_t len);

/* conn.c */
int tp_conn_new(struct tp_conn **cp, struct sip_tp *tp, enum sip_transport t, int fd,
                const struct sa *peer, bool outbound);
int tp_conn_start(struct tp_conn *c);
struct tp_conn *tp_conn_find(struct sip_tp *tp, enum sip_transport t, const struct sa *dst,
                             const char *host);
int tp_conn_write(struct tp_conn *c, const char *buf, size_t len);
int tp_conn_recv(struct tp_conn *c, char *buf, size_t n, size_t *got);
bool tp_conn_usable(struct sip_tp *tp, const struct tp_conn *c, enum sip_transport t);
void tp_conn_close(struct tp_conn *c, int err);
/* Input is pending: makes sure the timer fires by the message deadline. */
void tp_conn_msg_pending(struct tp_conn *c);
void tp_streams_close_all(struct sip_tp *tp);

/* input.c: reads and delivers what the socket has. */
void tp_conn_read(struct tp_conn *c);

/* stream.c */
int tp_stream_listen(struct sip_tp *tp, enum sip_transport t, struct sa *local);
int tp_stream_send(struct sip_tp *tp, enum sip_transport t, const struct sa *dst, const char *host,
                   struct tp_conn *conn, const char *buf, size_t len);

/* tls.c: 0 done; EAGAIN: wait for the socket (c->ssl_want_write says which way);
 * EPIPE: orderly end; other errno: failure. */
int tp_tls_ctx_server(struct sip_tp *tp);
int tp_tls_conn_start(struct tp_conn *c);
int tp_tls_handshake(struct tp_conn *c);
int tp_tls_read(struct tp_conn *c, char *buf, size_t n, size_t *got);
int tp_tls_write(struct tp_conn *c, const char *buf, size_t n, size_t *done);
void tp_tls_conn_free(struct tp_conn *c);
void tp_tls_free(struct sip_tp *tp);

#endif
