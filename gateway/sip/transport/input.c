/*
 * Stream input (RFC 3261 §18.3): Content-Length framing through
 * sip_msg_frame and CRLF keep-alives (RFC 5626 §3.5.1).
 *
 * Input waits in a per-connection buffer that never grows past max_msg: a
 * peer that has not completed a message by then is sending garbage and is
 * disconnected. Complete messages are copied out (tp_recv_msg), so the
 * buffer is reused at once, and freed whenever it runs empty.
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

#define READS_PER_EVENT 4u
#define IBUF_MIN        4096u

/* ---- input ---- */

/*
 * Leading CR/LF bytes are keep-alives: a double CRLF ("ping") gets a CRLF
 * ("pong"), RFC 5626 §3.5.1. A short run of CR/LF at the end of the data
 * is left in place, as it may be the start of a ping split across reads.
 */
static size_t ka_scan(const char *p, size_t n, unsigned *pings)
{
	size_t i = 0;

	while (i < n) {
		if (n - i >= 4 && !memcmp(p + i, "\r\n\r\n", 4)) {
			(*pings)++;
			i += 4;
			continue;
		}
		if (p[i] != '\r' && p[i] != '\n')
			break;
		if (n - i < 4) {
			size_t j = i;
			while (j < n && (p[j] == '\r' || p[j] == '\n'))
				j++;
			if (j == n)
				break; /* wait for more */
		}
		i++;
	}
	return i;
}

static void conn_bad(struct tp_conn *c, struct sip_tp *tp, const char *why)
{
	char a[SA_STRLEN];

	tp->st.rx_bad++;
	LOGN(TP_CTX, "%s from %s: %s, closing", sip_tp_name(c->t), sa_str(&c->peer, a, sizeof(a)),
	     why);
	tp_conn_close(c, EBADMSG);
}

/*
 * Whether the header section's blank line is in p[0..n). *scan remembers how
 * far earlier calls got, so a header dripped byte by byte costs linear time
 * instead of one full framing pass per byte.
 */
static bool hdr_end_seen(const char *p, size_t n, size_t *scan)
{
	size_t i = *scan;

	while (i < n) {
		const char *q = memchr(p + i, '\n', n - i);

		if (!q) {
			i = n;
			break;
		}
		i = (size_t)(q - p);
		if (i + 1 == n)
			break;
		if (p[i + 1] == '\n')
			return true;
		if (p[i + 1] == '\r') {
			if (i + 2 == n)
				break;
			if (p[i + 2] == '\n')
				return true;
		}
		i++;
	}
	*scan = i;
	return false;
}

/* Frames the message at p: 0 with *skip and *mlen, ENODATA, or an error to close on. */
static int conn_frame(struct tp_conn *c, const char *p, size_t n, size_t *skip, size_t *mlen)
{
	const struct sip_limits *lim = &c->tp->cfg.limits;
	int err;

	if (c->need && n < c->need)
		return ENODATA;
	if (!c->need && !hdr_end_seen(p, n, &c->hscan)) {
		if (n > lim->max_hdr_len)
			return E2BIG;
		/* Judge the start line as soon as it is there: garbage is dropped
		 * at once rather than after a header section's worth of it. */
		if (!c->line1 && memchr(p, '\n', n)) {
			c->line1 = true;
			err = sip_msg_frame(p, n, lim, skip, mlen);
			if (err && err != ENODATA)
				return err;
		}
		return ENODATA;
	}
	*mlen = 0;
	err = sip_msg_frame(p, n, lim, skip, mlen);
	/* With the headers complete, the parser may say how long the message is. */
	if (err == ENODATA && *mlen)
		c->need = *skip + *mlen;
	return err;
}

/* Delivers every complete message in the input buffer. */
static void conn_process(struct tp_conn *c)
{
	struct sip_tp *tp = c->tp;
	size_t off = 0;

	while (!c->closed && off < c->ilen) {
		unsigned pings = 0;
		size_t skip = 0, mlen = 0, ka;
		int err;

		ka = ka_scan(c->ibuf + off, c->ilen - off, &pings);
		if (ka) {
			off += ka;
			c->hscan = 0; /* the message starts after the keep-alives */
			c->need = 0;
			c->line1 = false;
		}
		while (pings-- && !c->closed) {
			err = tp_conn_write(c, "\r\n", 2);
			if (err)
				tp_conn_close(c, err);
		}
		if (c->closed || off == c->ilen)
			break;
		err = conn_frame(c, c->ibuf + off, c->ilen - off, &skip, &mlen);
		if (err == ENODATA)
			break;
		if (err) {
			conn_bad(c, tp, err == E2BIG ? "message too large" : "unframeable data");
			return;
		}
		off += skip;
		c->hscan = 0;
		c->need = 0;
		c->line1 = false;
		err = tp_recv_msg(tp, c->t, c->ibuf + off, mlen, &c->peer, &c->local, c);
		off += mlen;
		if (err == EBADMSG && !c->closed) {
			tp->st.rx_bad--; /* tp_recv_msg counted it */
			conn_bad(c, tp, "undecodable message");
			return;
		}
	}
	if (c->closed)
		return;
	if (off) {
		memmove(c->ibuf, c->ibuf + off, c->ilen - off);
		c->ilen -= off;
		c->msg_start = 0; /* progress: what is left is a new message */
	}
	if (!c->ilen && c->icap > IBUF_MIN) {
		free(c->ibuf);
		c->ibuf = NULL;
		c->icap = 0;
	}
}

/* Room for more input: the buffer grows up to max_msg, never beyond. */
static int conn_ibuf_room(struct tp_conn *c)
{
	size_t max = c->tp->cfg.limits.max_msg, cap;
	char *nb;

	if (c->ilen < c->icap)
		return 0;
	if (c->icap >= max)
		return E2BIG;
	cap = c->icap ? c->icap * 2 : IBUF_MIN;
	if (cap > max)
		cap = max;
	nb = realloc(c->ibuf, cap);
	if (!nb)
		return ENOMEM;
	c->ibuf = nb;
	c->icap = cap;
	return 0;
}

void tp_conn_read(struct tp_conn *c)
{
	struct sip_tp *tp = c->tp;

	/* Bytes TLS has already decrypted raise no socket event: drain them too. */
	for (unsigned i = 0; !c->closed && (i < READS_PER_EVENT || (c->ssl && SSL_pending(c->ssl)));
	     i++) {
		size_t got = 0;
		int err = conn_ibuf_room(c);

		if (err == E2BIG) {
			conn_bad(c, tp, "message too large");
			return;
		}
		if (!err)
			err = tp_conn_recv(c, c->ibuf + c->ilen, c->icap - c->ilen, &got);
		if (err == EAGAIN) {
			c->rd_ww = c->ssl && c->ssl_want_write;
			return;
		}
		if (err) {
			tp_conn_close(c, err == EPIPE ? ECONNRESET : err);
			return;
		}
		c->ilen += got;
		c->last_active = loop_now(tp->loop);
		conn_process(c);
		if (!c->closed && c->ilen)
			tp_conn_msg_pending(c);
	}
}
