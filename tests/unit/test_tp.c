/*
 * sip/transport on loopback with a real loop: UDP (v4, v6, rport), TCP
 * (round trip, reuse, pipelining, split writes, keep-alive, limits, idle
 * timeout, max_conns) and TLS (self-signed certificate made at test time).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/mem.h"
#include "sip/msg/msg.h"
#include "sip/transport/tp.h"

#define MAXKEEP 8

struct side {
	struct sip_tp *tp;
	unsigned nrx, nerr;
	int last_err;
	struct sip_msg *kept[MAXKEEP]; /* references on received messages */
	bool respond;                  /* answer requests with 200 */
	struct sip_tp_config cfg;
};

struct env {
	struct loop *loop;
	struct side srv, cli;
	char tmpdir[64];
};

static struct env *E;

static void recv_h(struct sip_msg *msg, void *arg)
{
	struct side *s = arg;

	if (s->nrx < MAXKEEP)
		s->kept[s->nrx] = mem_ref(msg);
	s->nrx++;
	if (s->respond && msg->req) {
		struct sip_mb mb;
		assert_int_equal(sip_mb_init(&mb, 512), 0);
		assert_int_equal(
		    sip_msg_build_response(&mb, msg, 200, "OK", "tt", false, NULL, NULL, NULL, 0),
		    0);
		assert_int_equal(sip_mb_finish(&mb), 0);
		assert_int_equal(sip_tp_send_response(s->tp, msg, mb.buf, mb.len), 0);
		mem_deref(mb.buf);
	}
}

static void err_h(enum sip_transport t, const struct sa *dst, int err, void *arg)
{
	struct side *s = arg;
	(void)t;
	(void)dst;
	s->nerr++;
	s->last_err = err;
}

static int side_open(struct side *s)
{
	return sip_tp_alloc(&s->tp, E->loop, &s->cfg, recv_h, err_h, s);
}

/* The layer goes first: kept messages (and their connections) must outlive it. */
static void side_close(struct side *s)
{
	sip_tp_free(s->tp);
	s->tp = NULL;
	for (unsigned i = 0; i < MAXKEEP; i++)
		s->kept[i] = mem_deref(s->kept[i]);
}

static int setup(void **state)
{
	E = calloc(1, sizeof(*E));
	assert_non_null(E);
	assert_int_equal(loop_alloc(&E->loop), 0);
	*state = E;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	side_close(&E->srv);
	side_close(&E->cli);
	loop_free(E->loop);
	if (E->tmpdir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", E->tmpdir);
		assert_int_equal(system(cmd), 0);
	}
	free(E);
	E = NULL;
	return 0;
}

/* Runs the loop until *counter reaches want or ms pass. */
static bool pump_until(const unsigned *counter, unsigned want, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (*counter < want && loop_clock_ms() < end)
		loop_run_once(E->loop, 10);
	return *counter >= want;
}

static void pump(int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (loop_clock_ms() < end)
		loop_run_once(E->loop, 5);
}

static size_t mkreq(char *buf, size_t n, const char *tp, const char *sentby, bool rport, int seq,
                    const char *body)
{
	int r = snprintf(buf, n,
	                 "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n"
	                 "Via: SIP/2.0/%s %s;branch=z9hG4bK-%d%s\r\n"
	                 "Max-Forwards: 70\r\n"
	                 "From: <sip:alice@example.com>;tag=f%d\r\n"
	                 "To: <sip:gw@example.com>\r\n"
	                 "Call-ID: call-%d@test\r\n"
	                 "CSeq: %d OPTIONS\r\n"
	                 "Content-Length: %zu\r\n\r\n%s",
	                 tp, sentby, seq, rport ? ";rport" : "", seq, seq, seq,
	                 body ? strlen(body) : 0, body ? body : "");
	assert_true(r > 0 && (size_t)r < n);
	return (size_t)r;
}

static struct sa addr(const char *ip, uint16_t port)
{
	struct sa a;
	assert_int_equal(sa_set_str(&a, ip, port), 0);
	return a;
}

static struct sip_tp_stats stats(struct side *s)
{
	struct sip_tp_stats st;
	sip_tp_stats(s->tp, &st);
	return st;
}

/* ---- raw sockets for playing a misbehaving peer ---- */

static int raw_socket(int type, const struct sa *connect_to)
{
	int fd = socket(sa_af(connect_to), type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (type == SOCK_STREAM)
		assert_int_equal(connect(fd, &connect_to->u.sa, connect_to->len), 0);
	return fd;
}

static void raw_write(int fd, const char *s, size_t n)
{
	assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads what is there while pumping the loop; returns bytes, 0 on EOF, -1 nothing. */
static ssize_t raw_read(int fd, char *buf, size_t n, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (loop_clock_ms() < end) {
		struct pollfd pfd = {fd, POLLIN, 0};
		loop_run_once(E->loop, 5);
		if (poll(&pfd, 1, 0) == 1) {
			ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
			if (r >= 0)
				return r;
			if (errno == ECONNRESET)
				return 0;
		}
	}
	return -1;
}

/* ---- UDP ---- */

static void udp_round_trip(const char *ip)
{
	struct sa s = addr(ip, 0), c = addr(ip, 0);
	char buf[1024], sentby[80];
	struct sip_msg *m;
	size_t n;

	E->srv.respond = true;
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(side_open(&E->cli), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_UDP, &s), 0);
	assert_int_equal(sip_tp_listen(E->cli.tp, SIP_TP_UDP, &c), 0);
	assert_true(sa_port(&s) != 0);
	sa_str(&c, sentby, sizeof(sentby));
	n = mkreq(buf, sizeof(buf), "UDP", sentby, false, 1, NULL);
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_UDP, &s, NULL, buf, n), 0);
	assert_true(pump_until(&E->srv.nrx, 1, 2000));
	m = E->srv.kept[0];
	assert_true(m->req);
	assert_int_equal(m->tp, SIP_TP_UDP);
	assert_true(sa_eq(&m->src, &c));
	assert_true(sa_eq(&m->dst, &s));
	assert_null(m->conn);
	assert_false(sip_tp_via_received(m));
	assert_true(pump_until(&E->cli.nrx, 1, 2000));
	m = E->cli.kept[0];
	assert_false(m->req);
	assert_int_equal(m->scode, 200);
	assert_true(sa_eq(&m->src, &s));
	assert_int_equal(stats(&E->srv).rx_msgs, 1);
	assert_int_equal(stats(&E->srv).tx_msgs, 1);
	assert_int_equal(stats(&E->cli).tx_msgs, 1);
}

static void test_udp_v4(void **state)
{
	(void)state;
	udp_round_trip("127.0.0.1");
}

static void test_udp_v6(void **state)
{
	(void)state;
	udp_round_trip("::1");
}

/* A wildcard socket still reports the real destination (IP_PKTINFO). */
static void test_udp_wildcard_dst(void **state)
{
	struct sa s = addr("0.0.0.0", 0), dst;
	char buf[1024];
	int fd;
	size_t n;
	(void)state;

	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_UDP, &s), 0);
	dst = addr("127.0.0.1", sa_port(&s));
	fd = raw_socket(SOCK_DGRAM, &dst);
	n = mkreq(buf, sizeof(buf), "UDP", "127.0.0.1:9", true, 1, NULL);
	assert_int_equal(sendto(fd, buf, n, 0, &dst.u.sa, dst.len), (ssize_t)n);
	assert_true(pump_until(&E->srv.nrx, 1, 2000));
	assert_true(sa_eq(&E->srv.kept[0]->dst, &dst));
	close(fd);
}

/* rport: to the source port; without it, to the sent-by port. */
static void test_udp_rport(void **state)
{
	struct sa s = addr("127.0.0.1", 0), c = addr("127.0.0.1", 0), other;
	char buf[1024], sentby[64];
	socklen_t sl = sizeof(other.u.ss);
	int fd;
	size_t n;
	(void)state;

	E->srv.respond = true;
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(side_open(&E->cli), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_UDP, &s), 0);
	assert_int_equal(sip_tp_listen(E->cli.tp, SIP_TP_UDP, &c), 0);

	/* Via says port 9 (discard): with rport the response still reaches us. */
	n = mkreq(buf, sizeof(buf), "UDP", "127.0.0.1:9", true, 1, NULL);
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_UDP, &s, NULL, buf, n), 0);
	assert_true(pump_until(&E->cli.nrx, 1, 2000));
	assert_int_equal(E->cli.kept[0]->scode, 200);

	/* Without rport it goes to the sent-by port: another socket. */
	other = addr("127.0.0.1", 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, &other.u.sa, other.len), 0);
	assert_int_equal(getsockname(fd, &other.u.sa, &sl), 0);
	snprintf(sentby, sizeof(sentby), "127.0.0.1:%u", sa_port(&other));
	n = mkreq(buf, sizeof(buf), "UDP", sentby, false, 2, NULL);
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_UDP, &s, NULL, buf, n), 0);
	n = (size_t)raw_read(fd, buf, sizeof(buf) - 1, 2000);
	assert_true(n > 12 && n < sizeof(buf));
	assert_memory_equal(buf, "SIP/2.0 200 ", 12);
	assert_int_equal(E->cli.nrx, 1);
	close(fd);
}

/* A burst of requests that arrives while the loop is busy elsewhere is not lost
 * in the kernel: the receive buffer holds far more than the default ~100 datagrams. */
static void test_udp_burst(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	char buf[1024];
	unsigned sent = 0;
	size_t n;
	int fd;
	(void)state;

	FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
	long rmem_max = 0;

	if (f) {
		if (fscanf(f, "%ld", &rmem_max) != 1)
			rmem_max = 0;
		fclose(f);
	}
	if (geteuid() != 0 && rmem_max < (2l << 20))
		skip(); /* neither SO_RCVBUFFORCE nor a large rmem_max: nothing to test */
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_UDP, &s), 0);
	fd = raw_socket(SOCK_DGRAM, &s);
	for (int i = 0; i < 600; i++) {
		n = mkreq(buf, sizeof(buf), "UDP", "127.0.0.1:9", false, i + 1, NULL);
		if (sendto(fd, buf, n, 0, &s.u.sa, s.len) == (ssize_t)n)
			sent++;
	}
	assert_int_equal(sent, 600);
	assert_true(pump_until(&E->srv.nrx, 600, 3000));
	assert_int_equal(E->srv.nrx, 600);
	close(fd);
}

static void test_udp_limits(void **state)
{
	struct sa s = addr("127.0.0.1", 0), dst;
	char big[1500], buf[1024];
	ssize_t n;
	int fd;
	(void)state;

	E->srv.respond = true;
	assert_int_equal(side_open(&E->srv), 0);
	/* No UDP socket of that family yet. */
	assert_int_equal(sip_tp_send(E->srv.tp, SIP_TP_UDP, &s, NULL, "x", 1), ENOTCONN);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_UDP, &s), 0);
	memset(big, 'a', sizeof(big));
	/* Over 1300 bytes: the caller must switch to TCP (§18.1.1). */
	assert_int_equal(sip_tp_send(E->srv.tp, SIP_TP_UDP, &s, NULL, big, sizeof(big)), EMSGSIZE);

	dst = s;
	fd = raw_socket(SOCK_DGRAM, &dst);
	/* Garbage, then a CRLF keep-alive (ignored, not bad), then an answerable
	 * malformed request, which gets a 400. */
	assert_int_equal(sendto(fd, "\x01\x02hello", 7, 0, &dst.u.sa, dst.len), 7);
	assert_int_equal(sendto(fd, "\r\n\r\n", 4, 0, &dst.u.sa, dst.len), 4);
	n = (ssize_t)mkreq(buf, sizeof(buf), "UDP", "127.0.0.1:9", true, 3, NULL);
	memcpy(strstr(buf, "Max-Forwards: 70"), "Max-Forwards: xx", 16);
	assert_int_equal(sendto(fd, buf, (size_t)n, 0, &dst.u.sa, dst.len), n);
	n = raw_read(fd, buf, sizeof(buf) - 1, 2000);
	assert_true(n > 12);
	assert_memory_equal(buf, "SIP/2.0 400 ", 12);
	assert_int_equal(E->srv.nrx, 0);
	assert_int_equal(stats(&E->srv).rx_bad, 2);
	close(fd);
}

/* ---- TCP ---- */

static void tcp_pair_ip(struct sa *s, const char *ip)
{
	*s = addr(ip, 0);
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(side_open(&E->cli), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, s), 0);
}

static void tcp_pair(struct sa *s)
{
	tcp_pair_ip(s, "127.0.0.1");
}

static void tcp_round_trip(const char *ip)
{
	struct sa s;
	char buf[1024];
	size_t n;

	E->srv.respond = true;
	tcp_pair_ip(&s, ip);
	n = mkreq(buf, sizeof(buf), "TCP", "client.invalid", false, 1, "hello");
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_TCP, &s, NULL, buf, n), 0);
	assert_true(pump_until(&E->srv.nrx, 1, 2000));
	assert_int_equal(E->srv.kept[0]->tp, SIP_TP_TCP);
	assert_non_null(E->srv.kept[0]->conn);
	assert_true(sa_eq(&E->srv.kept[0]->dst, &s));
	assert_int_equal(E->srv.kept[0]->body.l, 5);
	assert_true(sip_tp_via_received(E->srv.kept[0])); /* sent-by is a name */
	/* The response came back over the same connection. */
	assert_true(pump_until(&E->cli.nrx, 1, 2000));
	assert_int_equal(E->cli.kept[0]->scode, 200);
	assert_ptr_not_equal(E->cli.kept[0]->conn, NULL);
	assert_int_equal(stats(&E->cli).conns_open, 1);
	assert_int_equal(stats(&E->srv).conns_open, 1);
	assert_int_equal(stats(&E->srv).conns, 1);
}

static void test_tcp_round_trip(void **state)
{
	(void)state;
	tcp_round_trip("127.0.0.1");
}

static void test_tcp_v6(void **state)
{
	(void)state;
	tcp_round_trip("::1");
}

/* A peer that does not read: the output queue stops at max_conn_buffer. */
static void test_tcp_backpressure(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	socklen_t sl = sizeof(s.u.ss);
	int lfd, afd = -1, small = 4096, err = 0;
	char msg[1000];
	unsigned sent = 0;
	(void)state;

	memset(msg, 'x', sizeof(msg));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(bind(lfd, &s.u.sa, s.len), 0);
	assert_int_equal(getsockname(lfd, &s.u.sa, &sl), 0);
	assert_int_equal(listen(lfd, 4), 0);
	E->cli.cfg.max_conn_buffer = 16384;
	assert_int_equal(side_open(&E->cli), 0);
	for (unsigned i = 0; i < 20000 && !err; i++) {
		err = sip_tp_send(E->cli.tp, SIP_TP_TCP, &s, NULL, msg, sizeof(msg));
		if (!err)
			sent++;
		if (afd < 0)
			afd = accept(lfd, NULL, NULL);
		loop_run_once(E->loop, 0);
	}
	assert_int_equal(err, ENOBUFS);
	/* Kernel buffers took some, the queue at most 16 messages of the rest. */
	assert_true(sent > 16 && sent < 20000);
	assert_int_equal(stats(&E->cli).conns, 1);
	assert_int_equal(stats(&E->cli).tx_msgs, sent);
	close(afd);
	close(lfd);
}

static void test_tcp_reuse(void **state)
{
	struct sa s;
	char buf[1024];
	size_t n;
	(void)state;

	tcp_pair(&s);
	for (int i = 1; i <= 2; i++) {
		n = mkreq(buf, sizeof(buf), "TCP", "127.0.0.1", false, i, NULL);
		assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_TCP, &s, NULL, buf, n), 0);
	}
	assert_true(pump_until(&E->srv.nrx, 2, 2000));
	assert_int_equal(stats(&E->cli).conns_open, 1);
	assert_ptr_equal(E->srv.kept[0]->conn, E->srv.kept[1]->conn);
	/* The other direction reuses the same connection too (by address). */
	n = mkreq(buf, sizeof(buf), "TCP", "127.0.0.1", false, 3, NULL);
	assert_int_equal(sip_tp_send(E->srv.tp, SIP_TP_TCP, &E->srv.kept[0]->src, NULL, buf, n), 0);
	assert_true(pump_until(&E->cli.nrx, 1, 2000));
	assert_int_equal(stats(&E->srv).conns_open, 1);
	assert_int_equal(stats(&E->cli).conns_open, 1);
	assert_int_equal(stats(&E->srv).tx_msgs, 1);
	assert_int_equal(stats(&E->cli).tx_msgs, 2);
}

static void test_tcp_pipeline_split(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	char a[1024], b[1024], both[2048];
	size_t na, nb;
	int fd;
	(void)state;

	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	na = mkreq(a, sizeof(a), "TCP", "127.0.0.1", false, 1, NULL);
	nb = mkreq(b, sizeof(b), "TCP", "127.0.0.1", false, 2, "v=0\r\n");
	memcpy(both, a, na);
	memcpy(both + na, b, nb);
	raw_write(fd, both, na + nb); /* two messages in one write */
	assert_true(pump_until(&E->srv.nrx, 2, 2000));
	assert_int_equal(E->srv.kept[0]->cseq.num, 1);
	assert_int_equal(E->srv.kept[1]->cseq.num, 2);
	assert_int_equal(E->srv.kept[1]->body.l, 5);

	/* One message in four pieces, cut inside the headers and inside the body. */
	nb = mkreq(b, sizeof(b), "TCP", "127.0.0.1", false, 3, "v=0\r\n");
	raw_write(fd, b, 10);
	pump(30);
	raw_write(fd, b + 10, 100);
	pump(30);
	raw_write(fd, b + 110, nb - 112);
	pump(30);
	assert_int_equal(E->srv.nrx, 2);
	raw_write(fd, b + nb - 2, 2);
	assert_true(pump_until(&E->srv.nrx, 3, 2000));
	assert_int_equal(E->srv.kept[2]->cseq.num, 3);
	assert_int_equal(E->srv.kept[2]->body.l, 5);
	assert_int_equal(stats(&E->srv).rx_bad, 0);
	assert_int_equal(stats(&E->srv).conns_closed, 0);
	close(fd);
}

/* Twenty messages, bodies and keep-alives in between, cut at random points. */
static void test_tcp_random_chunks(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	static char stream[32768];
	char one[1024];
	size_t len = 0, off = 0;
	unsigned seed = 12345;
	int fd;
	(void)state;

	for (int i = 1; i <= 20; i++) {
		size_t n = mkreq(one, sizeof(one), "TCP", "127.0.0.1", false, i,
		                 i % 3 ? "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n" : NULL);
		memcpy(stream + len, one, n);
		len += n;
		if (i % 4 == 0) {
			memcpy(stream + len, "\r\n\r\n", 4);
			len += 4;
		}
	}
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	while (off < len) {
		size_t n = 1 + (size_t)(rand_r(&seed) % 300);
		if (n > len - off)
			n = len - off;
		raw_write(fd, stream + off, n);
		off += n;
		loop_run_once(E->loop, 1);
	}
	assert_true(pump_until(&E->srv.nrx, 20, 3000));
	assert_int_equal(E->srv.nrx, 20);
	assert_int_equal(E->srv.kept[7]->cseq.num, 8);
	assert_int_equal(stats(&E->srv).rx_bad, 0);
	assert_int_equal(stats(&E->srv).rx_msgs, 20);
	close(fd);
}

static void test_tcp_keepalive(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	char buf[16];
	int fd;
	(void)state;

	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	raw_write(fd, "\r\n\r\n", 4);
	assert_int_equal(raw_read(fd, buf, sizeof(buf), 2000), 2);
	assert_memory_equal(buf, "\r\n", 2);
	/* A ping split across two writes is still one ping. */
	raw_write(fd, "\r\n", 2);
	assert_int_equal(raw_read(fd, buf, sizeof(buf), 100), -1);
	raw_write(fd, "\r\n", 2);
	assert_int_equal(raw_read(fd, buf, sizeof(buf), 2000), 2);
	assert_int_equal(stats(&E->srv).rx_bad, 0);
	assert_int_equal(stats(&E->srv).conns, 1);
	close(fd);
}

static void test_tcp_oversized_header(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	char line[64], buf[64];
	int fd;
	(void)state;

	E->srv.cfg.limits.max_hdr_len = 1024;
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	raw_write(fd, "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n", 34);
	for (int i = 0; i < 40; i++) {
		int n =
		    snprintf(line, sizeof(line), "X-Filler-%02d: 0123456789012345678901\r\n", i);
		raw_write(fd, line, (size_t)n);
	}
	assert_int_equal(raw_read(fd, buf, sizeof(buf), 2000), 0); /* closed on us */
	assert_int_equal(stats(&E->srv).rx_bad, 1);
	assert_int_equal(stats(&E->srv).conns_closed, 1);
	assert_int_equal(stats(&E->srv).conns, 0);
	assert_int_equal(E->srv.nrx, 0);
	close(fd);
}

static void test_tcp_garbage(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	char buf[64];
	int fd;
	(void)state;

	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	raw_write(fd, "\x16\x03\x01 not sip at all\r\n", 21);
	assert_int_equal(raw_read(fd, buf, sizeof(buf), 2000), 0);
	assert_int_equal(stats(&E->srv).rx_bad, 1);
	close(fd);
}

/* A malformed but answerable request on a stream: 400, connection kept. */
static void test_tcp_bad_request_400(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	char buf[1024];
	ssize_t n;
	int fd;
	(void)state;

	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	n = (ssize_t)mkreq(buf, sizeof(buf), "TCP", "127.0.0.1", false, 1, NULL);
	memcpy(strstr(buf, "Max-Forwards: 70"), "Max-Forwards: xx", 16);
	raw_write(fd, buf, (size_t)n);
	n = raw_read(fd, buf, sizeof(buf) - 1, 2000);
	assert_true(n > 12);
	assert_memory_equal(buf, "SIP/2.0 400 ", 12);
	assert_int_equal(stats(&E->srv).rx_bad, 1);
	assert_int_equal(stats(&E->srv).conns, 1);
	close(fd);
}

static void test_tcp_idle_timeout(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	char buf[16];
	uint64_t t0;
	ssize_t n;
	int fd;
	(void)state;

	E->srv.cfg.idle_timeout_ms = 150;
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	t0 = loop_clock_ms();
	raw_write(fd, "\r\n\r\n", 4); /* activity: keeps it alive a while */
	assert_int_equal(raw_read(fd, buf, sizeof(buf), 1000), 2);
	n = raw_read(fd, buf, sizeof(buf), 3000);
	assert_int_equal(n, 0);
	assert_true(loop_clock_ms() - t0 >= 150);
	assert_int_equal(stats(&E->srv).conns_closed, 1);
	assert_int_equal(stats(&E->srv).conns, 0);
	close(fd);
}

/* Slowloris: a header dripped a byte at a time keeps the connection active, but
 * the message must be complete msg_timeout_ms after its first byte. */
static void test_tcp_slow_message(void **state)
{
	static const char req[] = "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h;bra";
	struct sa s = addr("127.0.0.1", 0);
	char buf[16];
	ssize_t n = -1;
	uint64_t t0;
	int fd;
	(void)state;

	E->srv.cfg.idle_timeout_ms = 400;
	E->srv.cfg.msg_timeout_ms = 300;
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	fd = raw_socket(SOCK_STREAM, &s);
	t0 = loop_clock_ms();
	for (size_t i = 0; i < sizeof(req) - 1 && n < 0; i++) {
		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
			break; /* closed on us */
		n = raw_read(fd, buf, sizeof(buf), 40);
	}
	if (n < 0)
		n = raw_read(fd, buf, sizeof(buf), 500);
	assert_int_equal(n, 0);
	assert_true(loop_clock_ms() - t0 >= 300);
	assert_true(loop_clock_ms() - t0 < 1500);
	assert_int_equal(stats(&E->srv).rx_bad, 1);
	assert_int_equal(stats(&E->srv).conns, 0);
	assert_int_equal(E->srv.nrx, 0);
	close(fd);
}

static void test_tcp_max_conns(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	int fd[3];
	char buf[8];
	(void)state;

	E->srv.cfg.max_conns = 2;
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	for (int i = 0; i < 3; i++) {
		fd[i] = raw_socket(SOCK_STREAM, &s);
		pump(20);
	}
	assert_int_equal(raw_read(fd[2], buf, sizeof(buf), 2000), 0);
	assert_int_equal(stats(&E->srv).conns_rejected, 1);
	assert_int_equal(stats(&E->srv).conns, 2);
	/* The limit holds for outgoing connections as well. */
	assert_int_equal(sip_tp_send(E->srv.tp, SIP_TP_TCP, &s, NULL, "x", 1), EMFILE);
	/* The first two still work. */
	raw_write(fd[0], "\r\n\r\n", 4);
	assert_int_equal(raw_read(fd[0], buf, sizeof(buf), 2000), 2);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

static void test_tcp_refused(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	socklen_t sl = sizeof(s.u.ss);
	int fd;
	(void)state;

	/* A port that was just free: nothing listens there. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, &s.u.sa, s.len), 0);
	assert_int_equal(getsockname(fd, &s.u.sa, &sl), 0);
	close(fd);
	assert_int_equal(side_open(&E->cli), 0);
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_TCP, &s, NULL, "OPTIONS", 7), 0);
	assert_true(pump_until(&E->cli.nerr, 1, 2000));
	assert_int_equal(E->cli.last_err, ECONNREFUSED);
	assert_int_equal(stats(&E->cli).conns, 0);
}

/* ---- TLS ---- */

static void make_cert(char *cert, char *key, size_t n)
{
	char cmd[768];

	if (!E->tmpdir[0]) {
		strcpy(E->tmpdir, "/tmp/test_tp.XXXXXX");
		assert_non_null(mkdtemp(E->tmpdir));
	}
	snprintf(cert, n, "%s/cert.pem", E->tmpdir);
	snprintf(key, n, "%s/key.pem", E->tmpdir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	         "-days 1 -subj /CN=gw.test -addext "
	         "subjectAltName=DNS:gw.test,IP:127.0.0.1,IP:::1 -keyout %s -out %s "
	         ">/dev/null 2>&1",
	         key, cert);
	assert_int_equal(system(cmd), 0);
}

static void tls_pair(struct sa *s, char *cert, char *key)
{
	make_cert(cert, key, 128);
	E->srv.cfg.tls_cert = cert;
	E->srv.cfg.tls_key = key;
	E->cli.cfg.tls_ca = cert; /* self-signed: it is its own CA */
	E->cli.cfg.tls_verify_server = true;
	*s = addr("127.0.0.1", 0);
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(side_open(&E->cli), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TLS, s), 0);
}

static void test_tls_round_trip(void **state)
{
	char cert[128], key[128], buf[1024];
	struct sa s;
	size_t n;
	(void)state;

	E->srv.respond = true;
	tls_pair(&s, cert, key);
	/* Verified against the address (SAN IP:127.0.0.1). */
	n = mkreq(buf, sizeof(buf), "TLS", "127.0.0.1", false, 1, "hello");
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_TLS, &s, NULL, buf, n), 0);
	assert_true(pump_until(&E->srv.nrx, 1, 3000));
	assert_int_equal(E->srv.kept[0]->tp, SIP_TP_TLS);
	assert_non_null(E->srv.kept[0]->conn);
	assert_int_equal(E->srv.kept[0]->body.l, 5);
	assert_true(pump_until(&E->cli.nrx, 1, 3000));
	assert_int_equal(E->cli.kept[0]->scode, 200);
	assert_int_equal(E->cli.kept[0]->tp, SIP_TP_TLS);
	/* Verified against a name: a second connection (another identity). */
	n = mkreq(buf, sizeof(buf), "TLS", "127.0.0.1", false, 2, NULL);
	assert_int_equal(sip_tp_send_named(E->cli.tp, SIP_TP_TLS, &s, "gw.test", NULL, buf, n), 0);
	assert_true(pump_until(&E->cli.nrx, 2, 3000));
	assert_int_equal(stats(&E->cli).conns_open, 2);
	assert_int_equal(stats(&E->cli).tls_failed, 0);
	assert_int_equal(E->cli.nerr, 0);
}

static void test_tls_wrong_name(void **state)
{
	char cert[128], key[128], buf[1024];
	struct sa s;
	size_t n;
	(void)state;

	tls_pair(&s, cert, key);
	n = mkreq(buf, sizeof(buf), "TLS", "127.0.0.1", false, 1, NULL);
	assert_int_equal(sip_tp_send_named(E->cli.tp, SIP_TP_TLS, &s, "other.test", NULL, buf, n),
	                 0);
	assert_true(pump_until(&E->cli.nerr, 1, 3000));
	assert_int_equal(E->cli.last_err, EPROTO);
	assert_int_equal(stats(&E->cli).tls_failed, 1);
	assert_int_equal(stats(&E->cli).conns, 0);
	pump(50);
	assert_int_equal(E->srv.nrx, 0);
}

/* The server's certificate must be signed by tls_ca: a client trusting
 * another CA refuses it. */
static void test_tls_untrusted(void **state)
{
	char cert[128], key[128], cmd[512], other[160], buf[1024];
	struct sa s;
	size_t n;
	(void)state;

	tls_pair(&s, cert, key);
	snprintf(other, sizeof(other), "%s/other.pem", E->tmpdir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	         "-days 1 -subj /CN=other -addext subjectAltName=IP:127.0.0.1 -keyout %s/k2.pem "
	         "-out %s >/dev/null 2>&1",
	         E->tmpdir, other);
	assert_int_equal(system(cmd), 0);
	side_close(&E->cli);
	E->cli.cfg.tls_ca = other;
	assert_int_equal(side_open(&E->cli), 0);
	n = mkreq(buf, sizeof(buf), "TLS", "127.0.0.1", false, 1, NULL);
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_TLS, &s, NULL, buf, n), 0);
	assert_true(pump_until(&E->cli.nerr, 1, 3000));
	assert_int_equal(E->cli.last_err, EPROTO);
	assert_int_equal(E->srv.nrx, 0);
}

/* tls_verify_client: a client without a certificate the server trusts is refused. */
static void test_tls_client_cert(void **state)
{
	char cert[128], key[128], ccert[160], ckey[160], cmd[640], buf[1024];
	struct sa s;
	size_t n;
	(void)state;

	make_cert(cert, key, sizeof(cert));
	snprintf(ccert, sizeof(ccert), "%s/client.pem", E->tmpdir);
	snprintf(ckey, sizeof(ckey), "%s/client-key.pem", E->tmpdir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	         "-days 1 -subj /CN=client -keyout %s -out %s >/dev/null 2>&1",
	         ckey, ccert);
	assert_int_equal(system(cmd), 0);
	E->srv.cfg.tls_cert = cert;
	E->srv.cfg.tls_key = key;
	E->srv.cfg.tls_ca = ccert;
	E->srv.cfg.tls_verify_client = true;
	E->cli.cfg.tls_ca = cert;
	E->cli.cfg.tls_verify_server = true;
	s = addr("127.0.0.1", 0);
	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(side_open(&E->cli), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TLS, &s), 0);

	n = mkreq(buf, sizeof(buf), "TLS", "127.0.0.1", false, 1, NULL);
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_TLS, &s, NULL, buf, n), 0);
	assert_true(pump_until(&E->cli.nerr, 1, 1000) || stats(&E->srv).tls_failed == 1);
	pump(100);
	assert_int_equal(stats(&E->srv).tls_failed, 1);
	assert_int_equal(E->srv.nrx, 0);

	side_close(&E->cli);
	E->cli.cfg.tls_cert = ccert;
	E->cli.cfg.tls_key = ckey;
	assert_int_equal(side_open(&E->cli), 0);
	assert_int_equal(sip_tp_send(E->cli.tp, SIP_TP_TLS, &s, NULL, buf, n), 0);
	assert_true(pump_until(&E->srv.nrx, 1, 3000));
	assert_int_equal(E->srv.kept[0]->tp, SIP_TP_TLS);
}

static void test_tls_listen_needs_cert(void **state)
{
	struct sa s = addr("127.0.0.1", 0);
	(void)state;

	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TLS, &s), EINVAL);
	assert_int_equal(sip_tp_local(E->srv.tp, SIP_TP_TLS, AF_INET, &s), ENOENT);
}

/* The request's connection is gone: the response opens a new one to the
 * source address at the sent-by port (§18.2.2). */
static void test_tcp_response_reconnect(void **state)
{
	struct sa s = addr("127.0.0.1", 0), l = addr("127.0.0.1", 0);
	socklen_t sl = sizeof(l.u.ss);
	char buf[1024], sentby[64];
	int lfd, fd, afd;
	ssize_t r;
	size_t n;
	(void)state;

	assert_int_equal(side_open(&E->srv), 0);
	assert_int_equal(sip_tp_listen(E->srv.tp, SIP_TP_TCP, &s), 0);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(lfd, &l.u.sa, l.len), 0);
	assert_int_equal(getsockname(lfd, &l.u.sa, &sl), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(sentby, sizeof(sentby), "127.0.0.1:%u", sa_port(&l));
	fd = raw_socket(SOCK_STREAM, &s);
	n = mkreq(buf, sizeof(buf), "TCP", sentby, false, 1, NULL);
	raw_write(fd, buf, n);
	assert_true(pump_until(&E->srv.nrx, 1, 2000));
	close(fd);
	pump(100); /* the server sees the close */
	assert_int_equal(stats(&E->srv).conns, 0);
	assert_int_equal(sip_tp_send_response(E->srv.tp, E->srv.kept[0], "SIP/2.0 200 OK\r\n", 16),
	                 0);
	afd = -1;
	for (int i = 0; i < 200 && afd < 0; i++) {
		loop_run_once(E->loop, 5);
		afd = accept(lfd, NULL, NULL);
	}
	assert_true(afd >= 0);
	r = raw_read(afd, buf, sizeof(buf), 2000);
	assert_int_equal(r, 16);
	assert_memory_equal(buf, "SIP/2.0 200 OK\r\n", 16);
	assert_int_equal(stats(&E->srv).conns_open, 2);
	close(afd);
	close(lfd);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sip_tp_name(SIP_TP_TLS), "TLS");
	assert_int_equal(sip_tp_lookup(PL("udp")), SIP_TP_UDP);
	assert_int_equal(sip_tp_lookup(PL("SCTP")), SIP_TP_NONE);
	assert_true(sip_tp_reliable(SIP_TP_TCP));
	assert_false(sip_tp_reliable(SIP_TP_UDP));
	assert_int_equal(sip_tp_default_port(SIP_TP_TLS), 5061);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_udp_v4, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_v6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_wildcard_dst, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_rport, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_burst, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_v6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_pipeline_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_random_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_keepalive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_oversized_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_bad_request_400, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_slow_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_max_conns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_wrong_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_untrusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_client_cert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_listen_needs_cert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_response_reconnect, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN); /* as the daemon does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
