/*
 * The /metrics endpoint: just enough HTTP/1.1 for a scraper. One request per
 * connection (the reply says Connection: close), a fixed request buffer, a
 * connection cap and one deadline per connection covering both the request
 * and the reply, so a slow or silent client costs a slot for timeout_ms at
 * most and never memory beyond its buffer and one exposition.
 */
#include "metrics/metrics.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sa.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX 4096
#define CTX     "metrics"

struct hconn {
	struct hconn *next;
	struct metrics_http *h;
	int fd;
	char in[REQ_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	struct tmr tmr;
};

struct metrics_http {
	struct loop *loop;
	struct metrics *m;
	struct metrics_http_config cfg;
	int fd;
	uint16_t port;
	struct hconn *conns;
	unsigned nconns;
};

static void conn_close(struct hconn *c)
{
	struct hconn **pp;

	for (pp = &c->h->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->h->nconns--;
	loop_fd_forget(c->h->loop, c->fd);
	close(c->fd);
	tmr_cancel(&c->tmr);
	free(c->out);
	free(c);
}

static void conn_timeout(void *arg)
{
	conn_close(arg);
}

/* Builds the whole response in c->out; without a body the status line is the body. */
static int respond(struct hconn *c, const char *status, const char *extra, const char *body,
                   size_t blen, bool head)
{
	const char *type = "text/plain; version=0.0.4; charset=utf-8";
	char hdr[320], msg[64];
	int n;

	if (!body) {
		snprintf(msg, sizeof(msg), "%s\n", status);
		body = msg;
		blen = strlen(msg);
		type = "text/plain; charset=utf-8";
	}
	n = snprintf(hdr, sizeof(hdr),
	             "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
	             "Connection: close\r\n\r\n",
	             status, type, blen, extra ? extra : "");
	c->out = malloc((size_t)n + blen);
	if (!c->out)
		return ENOMEM;
	memcpy(c->out, hdr, (size_t)n);
	c->outlen = (size_t)n;
	if (!head) {
		memcpy(c->out + c->outlen, body, blen);
		c->outlen += blen;
	}
	return 0;
}

/* Request line: METHOD SP TARGET SP HTTP/1.x; the headers are not needed. */
static int handle_request(struct hconn *c)
{
	char *sp1, *sp2, *eol = memchr(c->in, '\n', c->inlen);
	struct pl method, target;
	char *text;
	size_t len;
	bool head;
	int err;

	sp1 = memchr(c->in, ' ', (size_t)(eol - c->in));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || (size_t)(eol - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7))
		return respond(c, "400 Bad Request", NULL, NULL, 0, false);
	method = pl_make(c->in, (size_t)(sp1 - c->in));
	target = pl_make(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	head = pl_eq(method, PL("HEAD"));
	if (!head && !pl_eq(method, PL("GET")))
		return respond(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", NULL, 0, false);
	if (!pl_eq(target, PL("/metrics")) && !(target.l > 8 && !memcmp(target.p, "/metrics?", 9)))
		return respond(c, "404 Not Found", NULL, NULL, 0, head);
	err = metrics_render(c->h->m, &text, &len);
	if (err)
		return respond(c, "500 Internal Server Error", NULL, NULL, 0, head);
	err = respond(c, "200 OK", NULL, text, len, head);
	free(text);
	return err;
}

static bool request_complete(const struct hconn *c)
{
	return memmem(c->in, c->inlen, "\r\n\r\n", 4) || memmem(c->in, c->inlen, "\n\n", 2);
}

static void conn_write(struct hconn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			conn_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

static void conn_fd(int fd, unsigned events, void *arg)
{
	struct hconn *c = arg;
	ssize_t n;

	if (c->out) {
		conn_write(c);
		return;
	}
	n = read(fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->inlen += (size_t)n;
	if (!request_complete(c)) {
		if (c->inlen < sizeof(c->in))
			return;
		if (respond(c, "431 Request Header Fields Too Large", NULL, NULL, 0, false)) {
			conn_close(c);
			return;
		}
	} else if (handle_request(c)) {
		conn_close(c);
		return;
	}
	if (loop_fd_listen(c->h->loop, fd, LOOP_WRITE, conn_fd, c)) {
		conn_close(c);
		return;
	}
	conn_write(c);
}

static void accept_fd(int fd, unsigned events, void *arg)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
	                           "Connection: close\r\n\r\n";
	struct metrics_http *h = arg;

	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct hconn *c;

		if (cfd < 0)
			return;
		c = h->nconns < h->cfg.max_conns ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			if (send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0) {
				/* refused either way */
			}
			close(cfd);
			continue;
		}
		c->h = h;
		c->fd = cfd;
		tmr_init(&c->tmr);
		c->next = h->conns;
		h->conns = c;
		h->nconns++;
		if (tmr_start(h->loop, &c->tmr, h->cfg.timeout_ms, conn_timeout, c) ||
		    loop_fd_listen(h->loop, cfd, LOOP_READ, conn_fd, c))
			conn_close(c);
	}
}

static int open_listener(struct metrics_http *h, const struct sa *addr)
{
	struct sa bound;
	int one = 1;

	h->fd = socket(sa_af(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return errno;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, &addr->u.sa, addr->len) < 0 || listen(h->fd, 16) < 0)
		return errno;
	bound.len = sizeof(bound.u);
	if (getsockname(h->fd, &bound.u.sa, &bound.len) < 0)
		return errno;
	h->port = sa_port(&bound);
	return loop_fd_listen(h->loop, h->fd, LOOP_READ, accept_fd, h);
}

int metrics_http_alloc(struct metrics_http **hp, struct loop *loop, struct metrics *m,
                       const struct sa *addr, const struct metrics_http_config *cfg)
{
	struct metrics_http *h;
	struct sa bound;
	char a[SA_STRLEN];
	int err;

	if (!hp || !loop || !m || !addr || !sa_isset(addr))
		return EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ENOMEM;
	h->loop = loop;
	h->m = m;
	if (cfg)
		h->cfg = *cfg;
	if (!h->cfg.max_conns)
		h->cfg.max_conns = 8;
	if (!h->cfg.timeout_ms)
		h->cfg.timeout_ms = 5000;
	err = open_listener(h, addr);
	if (err) {
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return err;
	}
	bound = *addr;
	sa_set_port(&bound, h->port);
	if (!sa_is_loopback(addr))
		LOGW(CTX,
		     "metrics endpoint on a non-loopback address %s: it has no "
		     "authentication",
		     sa_str(&bound, a, sizeof(a)));
	LOGI(CTX, "metrics on http://%s/metrics", sa_str(&bound, a, sizeof(a)));
	*hp = h;
	return 0;
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	while (h->conns)
		conn_close(h->conns);
	loop_fd_forget(h->loop, h->fd);
	close(h->fd);
	free(h);
}

uint16_t metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}
