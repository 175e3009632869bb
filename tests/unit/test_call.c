/*
 * Unit tests for gateway/call, in one process on one loop: the gateway (a UA
 * on 127.0.0.1, a registrar, call control on a CPE span) against a phone that
 * is a raw UDP socket speaking SIP text, and a network that is a libpri NET
 * end on the other side of a virtual span pair, played by this file: it
 * answers, rings, is busy, unallocated or congested by called number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "call/call.h"
#include "cause/cause.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/sdp/sdp.h"
#include "provisioning/config.h"
#include "registrar/registrar.h"
#include "route/route.h"
#include "sip/auth/auth.h"
#include "sip/msg/msg.h"
#include "sip/ua/ua.h"
#include "tdm/pri/pri.h"
#include "tdm/span/span.h"
#include "tdm/virtual/virtual.h"

#define MAXQ 64

/* %u: the port of the trunk (the test's second socket) */
static const char *const cfg_fmt =
    "sip: { domain: gw.test }\n"
    "numbering: { country_code: '1', national_prefix: '1', international_prefix: '011',"
    " area_code: '212' }\n"
    "users:\n"
    "  - { name: '1001', password: demo1001, dids: ['+12125551001'] }\n"
    "  - { name: '1002', password: demo1002, dids: ['+12125551002'] }\n"
    "trunks:\n"
    "  - { name: carrier, address: 'udp:127.0.0.1:%u' }\n"
    "routes:\n"
    "  outbound:\n"
    "    - { name: nanp, pattern: '+1NXXNXXXXXX', strip: 1, ton: national, groups: [1, 2] }\n"
    "  inbound:\n"
    "    - { did: '+12125559000', to: 'trunk:carrier' }\n";

static const char *const phone_sdp = "v=0\r\n"
                                     "o=- 1 1 IN IP4 127.0.0.1\r\n"
                                     "s=-\r\n"
                                     "c=IN IP4 127.0.0.1\r\n"
                                     "t=0 0\r\n"
                                     "m=audio 40000 RTP/AVP 8 0 101\r\n"
                                     "a=rtpmap:101 telephone-event/8000\r\n";

struct net {
	bool congest;     /* every SETUP: cause 34 */
	const char *more; /* overlap sending: digits sent after SETUP ACKNOWLEDGE */
	unsigned setup_ack;
	struct tpri_call *call;
	unsigned ring, alerting, answer, hangup;
	int cause;
	struct tpri_number called, calling;
	struct tmr tmr; /* delayed clearing (no answer) */
};

struct rig {
	struct loop *l;
	struct tandem_config *cfg;
	struct route_table *routes;
	struct sip_ua *ua;
	struct reg *reg;
	struct call_ctl *cc;
	struct span *netsp, *cpesp, *net2sp, *cpe2sp; /* a span in group 1, one in group 2 */
	struct tpri *nettp, *cpetp, *net2tp, *cpe2tp;
	struct net net, net2;
	struct sa gw;
	int fd, fd2; /* the phone, and a second device of the same user */
	uint16_t port, port2;
	struct sip_msg *q[MAXQ];
	unsigned nq;
	struct sip_auth_client *ac;
};

static struct rig R;

/* ---- the network ---- */

static void net_clear_19(void *arg)
{
	struct net *n = arg;

	if (n->call)
		tpri_call_hangup(n->call, Q850_NO_ANSWER);
}

/* What the exchange does with a call to each number (digits of a national number). */
static void net_ring(struct net *n, const struct tpri_event *ev)
{
	const char *d = ev->called->digits;
	struct tpri_call *c = ev->call;

	n->call = c;
	n->called = *ev->called;
	n->calling = *ev->calling;
	if (!ev->channel)
		assert_int_equal(tpri_call_set_channel(c, 1), 0);
	if (n->congest) {
		tpri_call_hangup(c, Q850_NO_CIRCUIT);
		return;
	}
	if (!strcmp(d, "2125550404")) {
		tpri_call_hangup(c, Q850_UNALLOCATED);
		return;
	}
	if (!strcmp(d, "2125550503")) {
		tpri_call_hangup(c, Q850_NO_CIRCUIT);
		return;
	}
	tpri_call_proceeding(c, false);
	if (!strcmp(d, "2125550486")) {
		tpri_call_hangup(c, Q850_USER_BUSY);
		return;
	}
	tpri_call_alerting(c, true);
	if (!strcmp(d, "2125550100"))
		tpri_call_answer(c);
	else if (!strcmp(d, "2125550480"))
		tmr_start(R.l, &n->tmr, 300, net_clear_19, n);
}

static void net_event(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct net *n = arg;

	(void)tp;
	switch (ev->type) {
	case TPRI_EV_RING:
		n->ring++;
		net_ring(n, ev);
		break;
	case TPRI_EV_SETUP_ACK:
		n->setup_ack++;
		if (n->more && n->call)
			assert_int_equal(tpri_call_info(n->call, n->more), 0);
		n->more = NULL;
		break;
	case TPRI_EV_ALERTING:
		n->alerting++;
		break;
	case TPRI_EV_ANSWER:
		n->answer++;
		break;
	case TPRI_EV_HANGUP:
		n->hangup++;
		n->cause = ev->cause;
		n->call = NULL;
		tmr_cancel(&n->tmr);
		break;
	default:
		break;
	}
}

/* ---- the phone: a raw socket ---- */

static void phone_drain_fd(struct rig *r, int fd)
{
	char tmp[8192];
	ssize_t n;

	while ((n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0) {
		char *buf = mem_zalloc((size_t)n + 1, NULL);
		struct sip_msg *m = NULL;

		assert_non_null(buf);
		memcpy(buf, tmp, (size_t)n);
		if (!sip_msg_decode(&m, buf, (size_t)n, false, buf, NULL) && r->nq < MAXQ)
			r->q[r->nq++] = m;
		else
			mem_deref(m);
		mem_deref(buf);
	}
}

/* Both devices' messages go to one queue; tests tell them apart by Request-URI. */
static void phone_drain(struct rig *r)
{
	phone_drain_fd(r, r->fd);
	phone_drain_fd(r, r->fd2);
}

typedef bool(match_h)(const struct sip_msg *m, const void *arg);

static void spin(struct rig *r, unsigned ms)
{
	uint64_t end = loop_clock_ms() + ms;

	while (loop_clock_ms() < end) {
		assert_int_equal(loop_run_once(r->l, 5), 0);
		phone_drain(r);
	}
}

/* The next queued message that matches, waiting up to ms; NULL if none came. */
static struct sip_msg *phone_wait(struct rig *r, match_h *h, const void *arg, unsigned ms)
{
	uint64_t end = loop_clock_ms() + ms;

	for (;;) {
		for (unsigned i = 0; i < r->nq; i++)
			if (h(r->q[i], arg)) {
				struct sip_msg *m = r->q[i];

				memmove(&r->q[i], &r->q[i + 1], (r->nq - i - 1) * sizeof(r->q[0]));
				r->nq--;
				return m;
			}
		if (loop_clock_ms() >= end)
			return NULL;
		assert_int_equal(loop_run_once(r->l, 5), 0);
		phone_drain(r);
	}
}

static void phone_send_fd(struct rig *r, int fd, const char *text)
{
	assert_int_equal(sendto(fd, text, strlen(text), 0, &r->gw.u.sa, r->gw.len),
	                 (ssize_t)strlen(text));
}

static void phone_reply(struct rig *r, const struct sip_msg *req, uint16_t code, const char *tag,
                        const char *extra, const char *body)
{
	struct sip_mb mb;

	assert_int_equal(sip_mb_init(&mb, 1024), 0);
	assert_int_equal(sip_msg_build_response(&mb, req, code, NULL, tag, false, extra,
	                                        body ? "application/sdp" : NULL, body,
	                                        body ? strlen(body) : 0),
	                 0);
	assert_int_equal(sip_mb_finish(&mb), 0);
	assert_int_equal(sendto(r->fd, mb.buf, mb.len, 0, &r->gw.u.sa, r->gw.len), (ssize_t)mb.len);
	mem_deref(mb.buf);
}

/* An outgoing call of the phone. */
struct ocall {
	char ruri[96], callid[40], ftag[16], branch[40], totag[64], contact[160];
	unsigned cseq;
	char auth[1024];
	bool trunk; /* sent from the trunk's socket, without digest */
};

struct resp_match {
	const struct ocall *oc;
	const char *method;
};

static bool is_resp(const struct sip_msg *m, const void *arg)
{
	const struct resp_match *rm = arg;

	return !m->req && m->scode > 100 && pl_caseeq_str(m->callid, rm->oc->callid) &&
	       pl_eq(m->cseq.method, pl_make(rm->method, strlen(rm->method)));
}

static struct sip_msg *wait_resp(struct rig *r, const struct ocall *oc, const char *method,
                                 unsigned ms)
{
	struct resp_match rm = {oc, method};

	return phone_wait(r, is_resp, &rm, ms);
}

static void send_req(struct rig *r, struct ocall *oc, const char *method, const char *ruri,
                     unsigned cseq, bool totag, const char *extra, const char *body)
{
	uint16_t port = oc->trunk ? r->port2 : r->port;
	char msg[4096];

	snprintf(msg, sizeof(msg),
	         "%s %s SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:%s@gw.test>;tag=%s\r\n"
	         "To: <%s>%s%s\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: %u %s\r\n"
	         "Contact: <sip:1001@127.0.0.1:%u>\r\n"
	         "%s"
	         "%s"
	         "Content-Length: %zu\r\n\r\n%s",
	         method, ruri, port, oc->branch, oc->trunk ? "+12125550123" : "1001", oc->ftag,
	         oc->ruri, totag ? ";tag=" : "", totag ? oc->totag : "", oc->callid, cseq, method,
	         port, extra ? extra : "", body ? "Content-Type: application/sdp\r\n" : "",
	         body ? strlen(body) : 0, body ? body : "");
	phone_send_fd(r, oc->trunk ? r->fd2 : r->fd, msg);
}

static void new_branch(struct ocall *oc)
{
	char t[20];

	sip_ua_token(t, sizeof(t));
	snprintf(oc->branch, sizeof(oc->branch), "z9hG4bK%s", t);
}

static void copy_totag(struct ocall *oc, const struct sip_msg *m)
{
	pl_strcpy(m->to.tag, oc->totag, sizeof(oc->totag));
}

/* ACK for a non-2xx final response: same branch, CSeq of the INVITE. */
static void ack_final(struct rig *r, struct ocall *oc, const struct sip_msg *m)
{
	copy_totag(oc, m);
	send_req(r, oc, "ACK", oc->ruri, oc->cseq, true, NULL, NULL);
}

static void answer_challenge(struct ocall *oc, const struct sip_msg *m)
{
	struct pl chals[8];
	size_t n = 0, idx;
	char *val = NULL;
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_PROXY_AUTHENTICATE);

	for (; h && n < 8; h = h->next >= 0 ? &m->hdr[h->next] : NULL)
		chals[n++] = h->val;
	assert_true(n > 0);
	assert_int_equal(sip_auth_pick(chals, n, &idx), 0);
	assert_int_equal(sip_auth_client_respond(R.ac, chals[idx], PL("INVITE"),
	                                         pl_make(oc->ruri, strlen(oc->ruri)),
	                                         pl_make(NULL, 0), &val),
	                 0);
	snprintf(oc->auth, sizeof(oc->auth), "Proxy-Authorization: %s\r\n", val);
	mem_deref(val);
}

/*
 * INVITE to number with digest: the 407 is answered, the INVITE sent again.
 * call_out() returns the first response above 100 to the authenticated INVITE.
 */
static void call_out_send(struct rig *r, struct ocall *oc, const char *number)
{
	struct sip_msg *m;
	char t[16];

	memset(oc, 0, sizeof(*oc));
	snprintf(oc->ruri, sizeof(oc->ruri), "sip:%s@gw.test;user=phone", number);
	sip_ua_token(oc->callid, 20);
	sip_ua_token(t, 10);
	snprintf(oc->ftag, sizeof(oc->ftag), "%s", t);
	oc->cseq = 1;
	new_branch(oc);
	send_req(r, oc, "INVITE", oc->ruri, oc->cseq, false, NULL, phone_sdp);
	m = wait_resp(r, oc, "INVITE", 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 407);
	ack_final(r, oc, m);
	answer_challenge(oc, m);
	mem_deref(m);
	oc->cseq = 2;
	new_branch(oc);
	send_req(r, oc, "INVITE", oc->ruri, oc->cseq, false, oc->auth, phone_sdp);
}

static struct sip_msg *call_out(struct rig *r, struct ocall *oc, const char *number)
{
	struct sip_msg *m;

	call_out_send(r, oc, number);
	m = wait_resp(r, oc, "INVITE", 3000);
	assert_non_null(m);
	return m;
}

/* Waits for the final response, ACKs it if not 2xx, and returns it. */
static struct sip_msg *final_resp(struct rig *r, struct ocall *oc, struct sip_msg *m, unsigned ms)
{
	while (m && m->scode < 200) {
		mem_deref(m);
		m = wait_resp(r, oc, "INVITE", ms);
	}
	assert_non_null(m);
	if (m->scode >= 300)
		ack_final(r, oc, m);
	return m;
}

static void assert_reason(const struct sip_msg *m, unsigned cause)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_REASON);
	unsigned got = 0;

	assert_non_null(h);
	assert_int_equal(cause_reason_q850(h->val, &got), 0);
	assert_int_equal(got, cause);
}

/* ACK for the 200 (new branch, to the Contact) and remember the dialog. */
static void ack_2xx(struct rig *r, struct ocall *oc, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT);
	struct sip_addr a;

	assert_non_null(h);
	assert_int_equal(sip_addr_decode(&a, h->val), 0);
	pl_strcpy(a.uri_pl, oc->contact, sizeof(oc->contact));
	copy_totag(oc, m);
	new_branch(oc);
	send_req(r, oc, "ACK", oc->contact, oc->cseq, true, NULL, NULL);
}

static bool is_req(const struct sip_msg *m, const void *arg)
{
	return m->req && pl_eq(m->method, pl_make(arg, strlen(arg)));
}

/* ---- setup ---- */

static bool dchans_up(void)
{
	return tpri_dchan_up(R.nettp) && tpri_dchan_up(R.cpetp) && tpri_dchan_up(R.net2tp) &&
	       tpri_dchan_up(R.cpe2tp);
}

static void span_pair(struct span **net, struct span **cpe, unsigned num)
{
	struct span_conf sc;

	span_conf_default(&sc, num, SPAN_E1);
	sc.clock_master = true;
	assert_int_equal(span_virtual_alloc(net, &sc, R.l), 0);
	span_conf_default(&sc, num + 1, SPAN_E1);
	assert_int_equal(span_virtual_alloc(cpe, &sc, R.l), 0);
	assert_int_equal(span_virtual_pair(*net, *cpe), 0);
	assert_int_equal(span_open(*net), 0);
	assert_int_equal(span_open(*cpe), 0);
}

static int udp_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sa me;

	assert_true(fd >= 0);
	sa_set_str(&me, "127.0.0.1", 0);
	assert_int_equal(bind(fd, &me.u.sa, me.len), 0);
	me.len = sizeof(me.u.ss);
	assert_int_equal(getsockname(fd, &me.u.sa, &me.len), 0);
	*port = sa_port(&me);
	return fd;
}

static int setup(void **state)
{
	struct sip_ua_config uc = {.domain = "gw.test", .nlisten = 1};
	struct reg_config rc = {.realm = "gw.test", .db = ":memory:"};
	struct tpri_conf pc = {.sw = TPRI_SW_EUROISDN_E1, .t200 = 100, .t203 = 2000};
	struct call_ctl_config ccc = {0};
	char err[256], text[1024];
	uint64_t end;

	(void)state;
	memset(&R, 0, sizeof(R));
	log_init("test_call", false, getenv("CALLDEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	tmr_init(&R.net.tmr);
	assert_int_equal(loop_alloc(&R.l), 0);
	R.fd = udp_socket(&R.port);
	R.fd2 = udp_socket(&R.port2);
	snprintf(text, sizeof(text), cfg_fmt, R.port2);
	if (cfg_load_string(&R.cfg, "t.yaml", text, err, sizeof(err)))
		fail_msg("config: %s", err);
	assert_int_equal(cfg_route_table(R.cfg, &R.routes), 0);
	uc.listen[0].tp = SIP_TP_UDP;
	sa_set_str(&uc.listen[0].addr, "127.0.0.1", 0);
	assert_int_equal(sip_ua_alloc(&R.ua, R.l, &uc), 0);
	assert_int_equal(sip_ua_local(R.ua, SIP_TP_UDP, AF_INET, &R.gw), 0);
	assert_int_equal(reg_alloc(&R.reg, R.l, R.ua, &rc), 0);
	assert_int_equal(sip_auth_client_alloc(&R.ac, "1001", "demo1001"), 0);

	tmr_init(&R.net2.tmr);
	span_pair(&R.netsp, &R.cpesp, 1);
	span_pair(&R.net2sp, &R.cpe2sp, 3);
	pc.node = TPRI_NET;
	assert_int_equal(tpri_alloc(&R.nettp, R.netsp, &pc, net_event, &R.net), 0);
	assert_int_equal(tpri_alloc(&R.net2tp, R.net2sp, &pc, net_event, &R.net2), 0);

	ccc.ua = R.ua;
	ccc.reg = R.reg;
	ccc.cfg = R.cfg;
	ccc.routes = R.routes;
	assert_int_equal(call_ctl_alloc(&R.cc, R.l, &ccc), 0);
	pc.node = TPRI_CPE;
	assert_int_equal(call_ctl_span_add(R.cc, R.cpesp, &pc, 1, &R.cpetp), 0);
	assert_int_equal(call_ctl_span_add(R.cc, R.cpe2sp, &pc, 2, &R.cpe2tp), 0);
	sip_ua_set_sess_handler(R.ua, call_ctl_invite, R.cc);

	end = loop_clock_ms() + 3000;
	while (!dchans_up() && loop_clock_ms() < end)
		assert_int_equal(loop_run_once(R.l, 10), 0);
	assert_true(dchans_up());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	spin(&R, 50);
	tmr_cancel(&R.net.tmr);
	tmr_cancel(&R.net2.tmr);
	call_ctl_free(R.cc);
	mem_deref(R.nettp);
	mem_deref(R.net2tp);
	sip_ua_free(R.ua);
	reg_free(R.reg);
	span_close(R.netsp);
	span_close(R.cpesp);
	span_close(R.net2sp);
	span_close(R.cpe2sp);
	mem_deref(R.netsp);
	mem_deref(R.cpesp);
	mem_deref(R.net2sp);
	mem_deref(R.cpe2sp);
	for (unsigned i = 0; i < R.nq; i++)
		mem_deref(R.q[i]);
	mem_deref(R.ac);
	mem_deref(R.routes);
	cfg_free(R.cfg);
	close(R.fd);
	close(R.fd2);
	loop_free(R.l);
	return 0;
}

static void wait_net_hangup(unsigned n)
{
	uint64_t end = loop_clock_ms() + 3000;

	while (R.net.hangup < n && loop_clock_ms() < end) {
		assert_int_equal(loop_run_once(R.l, 5), 0);
		phone_drain(&R);
	}
	assert_int_equal(R.net.hangup, n);
}

static void wait_no_calls(void)
{
	struct call_ctl_stats st;
	uint64_t end = loop_clock_ms() + 3000;

	do {
		spin(&R, 10);
		call_ctl_stats(R.cc, &st);
	} while (st.active && loop_clock_ms() < end);
	assert_int_equal(st.active, 0);
	assert_int_equal(tpri_ncalls(R.cpetp), 0);
	assert_int_equal(tpri_ncalls(R.cpe2tp), 0);
}

/* ---- outbound ---- */

/* Ringing as the phone sees it: the network's ALERTING says in-band information
 * (its ringback) is there, so it comes as 183 with SDP: early media. */
static bool rings(const struct sip_msg *m)
{
	return m->scode == 180 || (m->scode == 183 && m->body.l > 0);
}

static void send_bye(struct ocall *oc)
{
	oc->cseq++;
	new_branch(oc);
	send_req(&R, oc, "BYE", oc->contact, oc->cseq, true, NULL, NULL);
}

static struct sip_msg *answered_call(struct ocall *oc, bool *saw180)
{
	struct sip_msg *m = call_out(&R, oc, "+12125550100");

	*saw180 = false;
	while (m && m->scode < 200) {
		*saw180 |= rings(m);
		mem_deref(m);
		m = wait_resp(&R, oc, "INVITE", 3000);
	}
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	ack_2xx(&R, oc, m);
	return m;
}

static void test_out_answered_bye(void **state)
{
	struct sdp_session *s = NULL;
	struct ocall oc;
	struct sip_msg *m;
	bool saw180;

	(void)state;
	m = answered_call(&oc, &saw180);
	assert_true(saw180);
	/* the SDP answer: PCMA (our first preference that the phone offered), a real port */
	assert_true(m->body.l > 0);
	assert_int_equal(sdp_decode(&s, m->body), 0);
	assert_int_equal(s->nmedia, 1);
	assert_true(s->media[0].port > 0);
	assert_true(pl_eq(s->media[0].fmt[0], PL("8")));
	mem_deref(s);
	mem_deref(m);
	/* the SETUP: national number by the route, calling number of user 1001 */
	assert_string_equal(R.net.called.digits, "2125550100");
	assert_int_equal(R.net.called.ton, TPRI_TON_NATIONAL);
	assert_string_equal(R.net.calling.digits, "2125551001");
	assert_int_equal(R.net.answer, 0); /* the network answered; it saw no CONNECT */
	send_bye(&oc);
	m = wait_resp(&R, &oc, "BYE", 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, Q850_NORMAL_CLEARING);
	wait_no_calls();
}

static void test_out_pri_hangup_bye(void **state)
{
	struct ocall oc;
	struct sip_msg *m;
	bool saw180;

	(void)state;
	mem_deref(answered_call(&oc, &saw180));
	spin(&R, 50);
	assert_non_null(R.net.call);
	assert_int_equal(tpri_call_hangup(R.net.call, Q850_NORMAL_CLEARING), 0);
	m = phone_wait(&R, is_req, "BYE", 2000);
	assert_non_null(m);
	assert_reason(m, Q850_NORMAL_CLEARING);
	phone_reply(&R, m, 200, NULL, NULL, NULL);
	mem_deref(m);
	wait_net_hangup(1);
	wait_no_calls();
}

static void out_fails(const char *number, uint16_t code, unsigned cause, bool alerted)
{
	struct ocall oc;
	struct sip_msg *m = call_out(&R, &oc, number);
	bool saw180 = rings(m);

	while (m->scode < 200) {
		saw180 |= rings(m);
		mem_deref(m);
		m = wait_resp(&R, &oc, "INVITE", 3000);
		assert_non_null(m);
	}
	assert_int_equal(m->scode, code);
	assert_reason(m, cause);
	assert_int_equal(saw180, alerted);
	ack_final(&R, &oc, m);
	mem_deref(m);
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, (int)cause);
	wait_no_calls();
}

static void test_out_busy(void **state)
{
	(void)state;
	out_fails("+12125550486", 486, Q850_USER_BUSY, false);
}

static void test_out_unallocated(void **state)
{
	(void)state;
	out_fails("+12125550404", 404, Q850_UNALLOCATED, false);
}

/* The cause table is data: an override from the configuration changes the status. */
static void test_out_cause_override(void **state)
{
	struct cause_map *m = NULL;

	(void)state;
	assert_int_equal(cause_map_alloc(&m, CAUSE_PROFILE_DEFAULT), 0);
	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, Q850_USER_BUSY, 600), 0);
	call_ctl_set_config(R.cc, R.cfg, R.routes, m);
	out_fails("+12125550486", 600, Q850_USER_BUSY, false);
	call_ctl_set_config(R.cc, R.cfg, R.routes, NULL);
	mem_deref(m);
}

static void test_out_congested(void **state)
{
	(void)state;
	out_fails("+12125550503", 503, Q850_NO_CIRCUIT, false);
}

static void test_out_no_answer(void **state)
{
	(void)state;
	out_fails("+12125550480", 480, Q850_NO_ANSWER, true);
}

static void test_out_cancel(void **state)
{
	struct ocall oc;
	struct sip_msg *m = call_out(&R, &oc, "+12125550180");
	char branch[40];

	(void)state;
	while (!rings(m)) {
		assert_true(m->scode < 200);
		mem_deref(m);
		m = wait_resp(&R, &oc, "INVITE", 3000);
		assert_non_null(m);
	}
	mem_deref(m);
	snprintf(branch, sizeof(branch), "%s", oc.branch);
	send_req(&R, &oc, "CANCEL", oc.ruri, oc.cseq, false, NULL, NULL);
	m = wait_resp(&R, &oc, "CANCEL", 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	m = final_resp(&R, &oc, wait_resp(&R, &oc, "INVITE", 2000), 2000);
	assert_int_equal(m->scode, 487);
	mem_deref(m);
	wait_net_hangup(1);
	assert_true(R.net.cause == Q850_NORMAL_CLEARING || R.net.cause == 31);
	wait_no_calls();
}

static void test_out_unauthenticated(void **state)
{
	struct ocall oc;
	struct sip_msg *m;

	(void)state;
	memset(&oc, 0, sizeof(oc));
	snprintf(oc.ruri, sizeof(oc.ruri), "sip:+12125550100@gw.test;user=phone");
	snprintf(oc.callid, sizeof(oc.callid), "unauth1");
	snprintf(oc.ftag, sizeof(oc.ftag), "f1");
	oc.cseq = 1;
	new_branch(&oc);
	send_req(&R, &oc, "INVITE", oc.ruri, 1, false,
	         "Proxy-Authorization: Digest username=\"1001\", realm=\"gw.test\", "
	         "nonce=\"bogus\", uri=\"sip:+12125550100@gw.test;user=phone\", "
	         "response=\"00000000000000000000000000000000\"\r\n",
	         phone_sdp);
	m = wait_resp(&R, &oc, "INVITE", 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 403);
	ack_final(&R, &oc, m);
	mem_deref(m);
	spin(&R, 50);
	assert_int_equal(R.net.ring, 0);
}

static void test_out_failover(void **state)
{
	struct call_ctl_stats st;
	struct ocall oc;
	struct sip_msg *m;
	bool saw180;

	(void)state;
	R.net.congest = true; /* group 1 answers every SETUP with cause 34 */
	m = answered_call(&oc, &saw180);
	mem_deref(m);
	assert_int_equal(R.net.ring, 1);
	assert_int_equal(R.net.cause, Q850_NO_CIRCUIT);
	assert_int_equal(R.net2.ring, 1); /* the call went on in group 2 */
	call_ctl_stats(R.cc, &st);
	assert_int_equal(st.congestion_failover, 1);
	send_bye(&oc);
	m = wait_resp(&R, &oc, "BYE", 2000);
	assert_non_null(m);
	mem_deref(m);
	spin(&R, 100);
	assert_int_equal(R.net2.hangup, 1);
	assert_int_equal(R.net2.cause, Q850_NORMAL_CLEARING);
	wait_no_calls();
}

static void test_out_congested_everywhere(void **state)
{
	(void)state;
	R.net.congest = R.net2.congest = true;
	out_fails("+12125550100", 503, Q850_NO_CIRCUIT, false);
	assert_int_equal(R.net2.ring, 1);
}

/* ---- inbound ---- */

static void net_call(const char *called)
{
	struct tpri_number cd = {.ton = TPRI_TON_NATIONAL, .npi = TPRI_NPI_E164};
	struct tpri_number cg = {.ton = TPRI_TON_NATIONAL, .npi = TPRI_NPI_E164};

	snprintf(cd.digits, sizeof(cd.digits), "%s", called);
	snprintf(cg.digits, sizeof(cg.digits), "2125550199");
	cg.pres = tpri_pres_octet(TPRI_PRES_ALLOWED, TPRI_SCREEN_NETWORK);
	assert_int_equal(tpri_call_place(&R.net.call, R.nettp, 1, true, &cd, &cg), 0);
}

static void register_phone(const char *user)
{
	char uri[96];

	snprintf(uri, sizeof(uri), "sip:%s@127.0.0.1:%u", user, R.port);
	assert_int_equal(reg_static_add(R.reg, user, uri, 1000, NULL), 0);
}

static void test_in_did_answered(void **state)
{
	const struct sip_hdr *h;
	struct sip_msg *inv, *m;
	char contact[128];

	(void)state;
	register_phone("1001");
	net_call("2125551001");
	inv = phone_wait(&R, is_req, "INVITE", 3000);
	assert_non_null(inv);
	assert_non_null(strstr(inv->from.uri_pl.p, "+12125550199"));
	h = sip_msg_hdr(inv, SIP_HDR_P_ASSERTED_IDENTITY);
	assert_non_null(h);
	assert_true(memmem(h->val.p, h->val.l, "+12125550199", 12) != NULL);
	assert_true(inv->body.l > 0); /* an SDP offer */
	phone_reply(&R, inv, 180, "ph1", NULL, NULL);
	spin(&R, 100);
	assert_int_equal(R.net.alerting, 1);
	snprintf(contact, sizeof(contact), "Contact: <sip:1001@127.0.0.1:%u>\r\n", R.port);
	phone_reply(&R, inv, 200, "ph1", contact, phone_sdp);
	m = phone_wait(&R, is_req, "ACK", 2000);
	assert_non_null(m);
	mem_deref(m);
	spin(&R, 100);
	assert_int_equal(R.net.answer, 1);
	/* the network hangs up: BYE with its cause */
	assert_int_equal(tpri_call_hangup(R.net.call, Q850_NORMAL_CLEARING), 0);
	m = phone_wait(&R, is_req, "BYE", 2000);
	assert_non_null(m);
	assert_reason(m, Q850_NORMAL_CLEARING);
	phone_reply(&R, m, 200, NULL, NULL, NULL);
	mem_deref(m);
	mem_deref(inv);
	wait_net_hangup(1);
	wait_no_calls();
}

static void test_in_did_busy(void **state)
{
	struct sip_msg *inv;

	(void)state;
	register_phone("1001");
	net_call("2125551001");
	inv = phone_wait(&R, is_req, "INVITE", 3000);
	assert_non_null(inv);
	phone_reply(&R, inv, 486, "ph2", NULL, NULL);
	mem_deref(inv);
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, Q850_USER_BUSY);
	wait_no_calls();
}

static void test_in_did_bye_from_phone(void **state)
{
	struct sip_msg *inv, *m;
	char contact[128], bye[1024], totag[64], fromtag[64];

	(void)state;
	register_phone("1001");
	net_call("2125551001");
	inv = phone_wait(&R, is_req, "INVITE", 3000);
	assert_non_null(inv);
	snprintf(contact, sizeof(contact), "Contact: <sip:1001@127.0.0.1:%u>\r\n", R.port);
	phone_reply(&R, inv, 200, "ph3", contact, phone_sdp);
	m = phone_wait(&R, is_req, "ACK", 2000);
	assert_non_null(m);
	mem_deref(m);
	/* BYE from the phone: the dialog's tags swapped */
	pl_strcpy(inv->from.tag, fromtag, sizeof(fromtag));
	snprintf(totag, sizeof(totag), "ph3");
	snprintf(bye, sizeof(bye),
	         "BYE %.*s SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKbye3;rport\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:1001@gw.test>;tag=%s\r\n"
	         "To: %.*s\r\n"
	         "Call-ID: %.*s\r\n"
	         "CSeq: 1 BYE\r\n"
	         "Content-Length: 0\r\n\r\n",
	         PL_ARG(sip_msg_hdr(inv, SIP_HDR_CONTACT) ? inv->from.uri_pl : inv->from.uri_pl),
	         R.port, totag, PL_ARG(inv->from.val), PL_ARG(inv->callid));
	phone_send_fd(&R, R.fd, bye);
	mem_deref(inv);
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, Q850_NORMAL_CLEARING);
	wait_no_calls();
}

struct to_port {
	const char *method;
	uint16_t port;
};

static bool is_req_to(const struct sip_msg *m, const void *arg)
{
	const struct to_port *tp = arg;

	return is_req(m, tp->method) && m->ruri.port == tp->port;
}

/* Two devices of user 1001 ring at once; the second answers, the first is CANCELled. */
static void test_in_forked(void **state)
{
	struct to_port a_inv = {"INVITE", 0}, b_inv = {"INVITE", 0}, a_cancel = {"CANCEL", 0};
	struct sip_msg *ia, *ib, *m;
	char uri[96], contact[128];

	(void)state;
	a_inv.port = a_cancel.port = R.port;
	b_inv.port = R.port2;
	register_phone("1001");
	snprintf(uri, sizeof(uri), "sip:1001@127.0.0.1:%u", R.port2);
	assert_int_equal(reg_static_add(R.reg, "1001", uri, 500, NULL), 0);
	net_call("2125551001");
	ia = phone_wait(&R, is_req_to, &a_inv, 3000);
	ib = phone_wait(&R, is_req_to, &b_inv, 3000);
	assert_non_null(ia);
	assert_non_null(ib);
	assert_false(pl_eq(ia->callid, ib->callid));
	phone_reply(&R, ia, 180, "fa", NULL, NULL);
	spin(&R, 50);
	assert_int_equal(R.net.alerting, 1);
	snprintf(contact, sizeof(contact), "Contact: <%s>\r\n", uri);
	phone_reply(&R, ib, 200, "fb", contact, phone_sdp);
	m = phone_wait(&R, is_req_to, &a_cancel, 2000); /* the loser */
	assert_non_null(m);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_REASON));
	assert_true(pl_eq(sip_msg_hdr(m, SIP_HDR_REASON)->val,
	                  PL("SIP;cause=200;text=\"Call completed elsewhere\"")));
	phone_reply(&R, m, 200, NULL, NULL, NULL);
	phone_reply(&R, ia, 487, "fa", NULL, NULL);
	mem_deref(m);
	spin(&R, 100);
	assert_int_equal(R.net.answer, 1);
	assert_int_equal(tpri_call_hangup(R.net.call, Q850_NORMAL_CLEARING), 0);
	m = phone_wait(&R, is_req, "BYE", 2000);
	assert_non_null(m);
	assert_true(pl_eq(m->callid, ib->callid)); /* only the winner is hung up */
	phone_reply(&R, m, 200, NULL, NULL, NULL);
	mem_deref(m);
	mem_deref(ia);
	mem_deref(ib);
	wait_net_hangup(1);
	wait_no_calls();
}

/* Overlap receiving (digits after SETUP ACKNOWLEDGE) and a redirecting number -> Diversion. */
static void test_in_overlap_diversion(void **state)
{
	struct tpri_number cd = {.ton = TPRI_TON_NATIONAL, .npi = TPRI_NPI_E164};
	struct tpri_number cg = {.ton = TPRI_TON_NATIONAL, .npi = TPRI_NPI_E164};
	struct tpri_number rd = {.ton = TPRI_TON_NATIONAL, .npi = TPRI_NPI_E164};
	struct tpri_setup su = {.channel = 1,
	                        .exclusive = true,
	                        .overlap = true,
	                        .called = &cd,
	                        .calling = &cg,
	                        .redirecting = &rd,
	                        .redirect_reason = 0x1};
	const struct sip_hdr *h;
	struct sip_msg *inv;

	(void)state;
	register_phone("1001");
	snprintf(cd.digits, sizeof(cd.digits), "212555");
	snprintf(cg.digits, sizeof(cg.digits), "2125550199");
	snprintf(rd.digits, sizeof(rd.digits), "2125550777");
	R.net.more = "1001";
	assert_int_equal(tpri_call_setup(&R.net.call, R.nettp, &su), 0);
	inv = phone_wait(&R, is_req, "INVITE", 3000);
	assert_non_null(inv);
	assert_int_equal(R.net.setup_ack, 1);
	assert_true(pl_eq(inv->ruri.user, pl_make("1001", 4)));
	h = sip_msg_hdr(inv, SIP_HDR_DIVERSION);
	assert_non_null(h);
	assert_true(memmem(h->val.p, h->val.l, "+12125550777", 12) != NULL);
	assert_true(memmem(h->val.p, h->val.l, "reason=user-busy", 16) != NULL);
	phone_reply(&R, inv, 480, "ov", NULL, NULL);
	mem_deref(inv);
	wait_net_hangup(1);
	assert_true(R.net.cause == Q850_NO_USER_RESPONSE || R.net.cause == Q850_NO_ANSWER);
	wait_no_calls();
}

static void test_in_overlap_nomatch(void **state)
{
	struct tpri_number cd = {.ton = TPRI_TON_NATIONAL, .npi = TPRI_NPI_E164};
	struct tpri_setup su = {.channel = 1, .exclusive = true, .overlap = true, .called = &cd};

	(void)state;
	snprintf(cd.digits, sizeof(cd.digits), "212555");
	R.net.more = "8"; /* 2125558: no DID starts so */
	assert_int_equal(tpri_call_setup(&R.net.call, R.nettp, &su), 0);
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, Q850_UNALLOCATED);
	wait_no_calls();
}

/* A trunk is trusted by its address: no challenge; the calling number comes from its PAI. */
static void test_trunk_out(void **state)
{
	struct ocall oc;
	struct sip_msg *m;

	(void)state;
	memset(&oc, 0, sizeof(oc));
	oc.trunk = true;
	snprintf(oc.ruri, sizeof(oc.ruri), "sip:+12125550486@gw.test;user=phone");
	snprintf(oc.callid, sizeof(oc.callid), "trunk-out-1");
	snprintf(oc.ftag, sizeof(oc.ftag), "t1");
	oc.cseq = 1;
	new_branch(&oc);
	send_req(&R, &oc, "INVITE", oc.ruri, 1, false,
	         "P-Asserted-Identity: <sip:+12125550999@carrier.test;user=phone>\r\n", phone_sdp);
	m = final_resp(&R, &oc, wait_resp(&R, &oc, "INVITE", 3000), 3000);
	assert_int_equal(m->scode, 486);
	assert_reason(m, Q850_USER_BUSY);
	mem_deref(m);
	assert_string_equal(R.net.calling.digits, "2125550999");
	wait_net_hangup(1);
	wait_no_calls();
}

/* A DID routed to the trunk: INVITE sip:+E164@trunk; its 486 becomes cause 17. */
static void test_trunk_in(void **state)
{
	struct to_port inv_to = {"INVITE", 0};
	struct sip_msg *inv;

	(void)state;
	inv_to.port = R.port2;
	net_call("2125559000");
	inv = phone_wait(&R, is_req_to, &inv_to, 3000);
	assert_non_null(inv);
	assert_true(pl_eq(inv->ruri.user, PL("+12125559000")));
	phone_reply(&R, inv, 486, "tk", NULL, NULL);
	mem_deref(inv);
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, Q850_USER_BUSY);
	wait_no_calls();
}

/* 1001 calls 1002: the gateway rings 1002's contact with 1001's SDP and relays the answer. */
static void test_local_call(void **state)
{
	struct to_port b_inv = {"INVITE", 0}, b_bye = {"BYE", 0}, b_ack = {"ACK", 0};
	struct sip_msg *m, *inv;
	char uri[96], contact[128];
	struct ocall oc;

	(void)state;
	b_inv.port = b_bye.port = b_ack.port = R.port2;
	snprintf(uri, sizeof(uri), "sip:1002@127.0.0.1:%u", R.port2);
	assert_int_equal(reg_static_add(R.reg, "1002", uri, 1000, NULL), 0);
	call_out_send(&R, &oc, "1002");
	inv = phone_wait(&R, is_req_to, &b_inv, 3000);
	assert_non_null(inv);
	assert_true(pl_eq(inv->body, pl_make(phone_sdp, strlen(phone_sdp)))); /* passed through */
	assert_non_null(memmem(inv->from.val.p, inv->from.val.l, "sip:1001@", 9));
	phone_reply(&R, inv, 180, "lb", NULL, NULL);
	m = wait_resp(&R, &oc, "INVITE", 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 180);
	mem_deref(m);
	snprintf(contact, sizeof(contact), "Contact: <%s>\r\n", uri);
	phone_reply(&R, inv, 200, "lb", contact,
	            "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\n"
	            "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	            "m=audio 40002 RTP/AVP 0\r\n");
	m = wait_resp(&R, &oc, "INVITE", 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	assert_non_null(memmem(m->body.p, m->body.l, "m=audio 40002", 13));
	ack_2xx(&R, &oc, m);
	mem_deref(m);
	m = phone_wait(&R, is_req_to, &b_ack, 2000);
	assert_non_null(m);
	mem_deref(m);
	send_bye(&oc);
	m = phone_wait(&R, is_req_to, &b_bye, 2000);
	assert_non_null(m);
	phone_reply(&R, m, 200, NULL, NULL, NULL);
	mem_deref(m);
	m = wait_resp(&R, &oc, "BYE", 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	mem_deref(inv);
	assert_int_equal(R.net.ring, 0);
	wait_no_calls();
}

static void test_local_call_not_registered(void **state)
{
	struct ocall oc;
	struct sip_msg *m;

	(void)state;
	m = final_resp(&R, &oc, call_out(&R, &oc, "1002"), 2000);
	assert_int_equal(m->scode, 480);
	mem_deref(m);
	wait_no_calls();
}

static void test_in_no_route(void **state)
{
	(void)state;
	net_call("2125559999");
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, Q850_UNALLOCATED);
	assert_null(phone_wait(&R, is_req, "INVITE", 100));
	wait_no_calls();
}

static void test_in_not_registered(void **state)
{
	(void)state;
	net_call("2125551002");
	wait_net_hangup(1);
	assert_int_equal(R.net.cause, 20);
	wait_no_calls();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_out_answered_bye, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_pri_hangup_bye, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_unallocated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_cause_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_congested, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_no_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_unauthenticated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_failover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_congested_everywhere, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_did_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_did_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_did_bye_from_phone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_forked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_overlap_diversion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_overlap_nomatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trunk_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trunk_in, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_call_not_registered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_no_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_not_registered, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
