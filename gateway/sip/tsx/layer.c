/*
 * The transaction layer: allocation, the transaction table, matching of
 * incoming messages (§17.1.3, §17.2.3 and its RFC 2543 fallback), the send
 * path and counters.
 *
 * One hash table holds client and server transactions. A transaction created
 * by a request with a magic-cookie branch is hashed by its branch (sent-by
 * and method are compared in the chain: they are nearly always equal, and
 * hashing the branch alone lets a CANCEL find its INVITE, which differs only
 * in method). One created by an RFC 2543 request is hashed by Call-ID and
 * CSeq number, the fields every fallback rule compares, so that it is O(1) too.
 */
#include "sip/tsx/tsx_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

enum {
	DEF_T1 = 500,
	DEF_T2 = 4000,
	DEF_T4 = 5000,
	DEF_MAX_TSX = 10000,
	DEF_RETRY_AFTER = 5,
	MAX_BUCKETS = 1 << 20,
};

/* ---- hashing ---- */

static uint32_t fnv(uint32_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

/* Servers and clients hash apart: a request looping back to us must not
 * match the client transaction that sent it. */
static uint32_t hash_branch(struct pl branch, bool server)
{
	return fnv(server ? 2166136261u : 84696351u, branch.p, branch.l);
}

static uint32_t hash_legacy(const struct sip_msg *msg)
{
	uint32_t h = fnv(3141592653u, msg->callid.p, msg->callid.l);

	return h ^ (msg->cseq.num * 2654435761u);
}

bool tsx_has_cookie(struct pl branch)
{
	return branch.l > 7 && memcmp(branch.p, TSX_COOKIE, 7) == 0;
}

/* ---- transactions ---- */

static void tsx_destructor(void *data)
{
	struct sip_tsx *tsx = data;

	tmr_cancel(&tsx->tmr_retx);
	tmr_cancel(&tsx->tmr_to);
	mem_deref(tsx->req);
	mem_deref(tsx->ack);
	mem_deref(tsx->resp);
}

int tsx_alloc(struct sip_tsx **tp, struct sip_tsx_layer *tl, struct sip_msg *req, bool server)
{
	struct sip_tsx *tsx = mem_zalloc(sizeof(*tsx), tsx_destructor);

	if (!tsx)
		return ENOMEM;
	tmr_init(&tsx->tmr_retx);
	tmr_init(&tsx->tmr_to);
	tsx->tl = tl;
	tsx->server = server;
	tsx->req = mem_ref(req);
	tsx->invite = req->mid == SIP_M_INVITE;
	tsx->legacy = server && !tsx_has_cookie(req->via.branch);
	tsx->hash = tsx->legacy ? hash_legacy(req) : hash_branch(req->via.branch, server);
	*tp = tsx;
	return 0;
}

void tsx_link(struct sip_tsx *tsx)
{
	struct sip_tsx_layer *tl = tsx->tl;
	struct sip_tsx **b = &tl->tab[tsx->hash & tl->mask];

	tsx->hnext = *b;
	*b = tsx;
	tsx->lprev = NULL;
	tsx->lnext = tl->list;
	if (tl->list)
		tl->list->lprev = tsx;
	tl->list = tsx;
	tsx->seq = ++tl->seq;
	tl->st.active++;
	if (tsx->server)
		tl->st.server++;
	else
		tl->st.client++;
}

static void tsx_unlink(struct sip_tsx *tsx)
{
	struct sip_tsx_layer *tl = tsx->tl;
	struct sip_tsx **pp = &tl->tab[tsx->hash & tl->mask];

	while (*pp && *pp != tsx)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = tsx->hnext;
	if (tsx->lprev)
		tsx->lprev->lnext = tsx->lnext;
	else
		tl->list = tsx->lnext;
	if (tsx->lnext)
		tsx->lnext->lprev = tsx->lprev;
	tsx->hnext = tsx->lprev = tsx->lnext = NULL;
	tl->st.active--;
}

/* Drops the layer's reference; a handler running on it holds its own. */
void tsx_terminate(struct sip_tsx *tsx)
{
	if (!tsx->tl)
		return;
	tmr_cancel(&tsx->tmr_retx);
	tmr_cancel(&tsx->tmr_to);
	tsx->state = TS_TERMINATED;
	tsx_unlink(tsx);
	tsx->tl = NULL;
	mem_deref(tsx);
}

/* ---- matching ---- */

static bool method_eq(const struct sip_msg *a, enum sip_method mid, struct pl name)
{
	if (a->mid != mid)
		return false;
	return mid != SIP_M_UNKNOWN || pl_eq(a->method, name);
}

struct sip_tsx *tsx_find_client(struct sip_tsx_layer *tl, const struct sip_msg *resp)
{
	struct pl br = resp->via.branch;
	uint32_t h = hash_branch(br, false);

	for (struct sip_tsx *t = tl->tab[h & tl->mask]; t; t = t->hnext) {
		if (t->hash != h || t->server || !pl_eq(t->req->via.branch, br))
			continue;
		/* §17.1.3: CSeq method too, so the CANCEL's 200 does not hit the INVITE */
		if (method_eq(t->req, resp->cseq.mid, resp->cseq.method))
			return t;
	}
	return NULL;
}

static bool method_fits(const struct sip_tsx *t, const struct sip_msg *msg, enum tsx_match how)
{
	switch (how) {
	case TM_SAME:
		return method_eq(t->req, msg->mid, msg->method);
	case TM_ACK:
		return t->invite;
	case TM_CANCEL:
		return t->req->mid != SIP_M_CANCEL;
	}
	return false;
}

static bool via_eq(const struct sip_via *a, const struct sip_via *b)
{
	return pl_caseeq(a->transport, b->transport) && pl_caseeq(a->host, b->host) &&
	       a->port == b->port && pl_eq(a->branch, b->branch);
}

void tsx_resp_totag(const struct sip_tsx *tsx, char *buf, size_t n)
{
	struct sip_msg *m = NULL;

	buf[0] = '\0';
	if (!tsx->resp || sip_msg_decode(&m, tsx->resp, tsx->resp_len, false, NULL, NULL))
		return;
	if (m->to.tag.l < n)
		pl_strcpy(m->to.tag, buf, n);
	mem_deref(m);
}

/* §17.2.3, the rules for requests from RFC 2543 implementations. */
static bool legacy_match(const struct sip_tsx *t, const struct sip_msg *msg, enum tsx_match how)
{
	const struct sip_msg *r = t->req;
	char tag[64];

	if (!pl_eq(r->callid, msg->callid) || r->cseq.num != msg->cseq.num ||
	    !pl_eq(r->from.tag, msg->from.tag) || !via_eq(&r->via, &msg->via) ||
	    !method_fits(t, msg, how) || !sip_uri_equal(&r->ruri, &msg->ruri))
		return false;
	if (how != TM_ACK)
		return pl_eq(r->to.tag, msg->to.tag);
	/* the ACK carries the To tag of our response, not of the INVITE */
	tsx_resp_totag(t, tag, sizeof(tag));
	return pl_eq(pl_make(tag, strlen(tag)), msg->to.tag);
}

struct sip_tsx *tsx_find_server(struct sip_tsx_layer *tl, const struct sip_msg *msg,
                                enum tsx_match how)
{
	const struct sip_via *v = &msg->via;
	bool legacy = !tsx_has_cookie(v->branch);
	uint32_t h = legacy ? hash_legacy(msg) : hash_branch(v->branch, true);

	for (struct sip_tsx *t = tl->tab[h & tl->mask]; t; t = t->hnext) {
		if (t->hash != h || !t->server || t->legacy != legacy)
			continue;
		if (legacy) {
			if (legacy_match(t, msg, how))
				return t;
			continue;
		}
		if (pl_eq(t->req->via.branch, v->branch) && pl_caseeq(t->req->via.host, v->host) &&
		    t->req->via.port == v->port && method_fits(t, msg, how))
			return t;
	}
	return NULL;
}

/* ---- receiving ---- */

/* What every rule needs; the transport only hands over parsed messages, but
 * a test or a partial decode may not have them. */
static bool routable(const struct sip_msg *msg)
{
	return pl_isset(msg->via.val) && msg->callid.l && pl_isset(msg->cseq.method);
}

void sip_tsx_layer_recv(struct sip_tsx_layer *tl, struct sip_msg *msg)
{
	char ctx[80];

	if (!tl || !msg)
		return;
	if (!routable(msg)) {
		LOGD(tsx_ctx(msg, ctx, sizeof(ctx)),
		     "tsx: message without Via/Call-ID/CSeq dropped");
		return;
	}
	if (msg->req) {
		tsx_server_recv(tl, msg);
		return;
	}
	struct sip_tsx *tsx = tsx_find_client(tl, msg);
	if (!tsx) {
		/* §17.1.3 with RFC 6026: a stray response is dropped */
		LOGD(tsx_ctx(msg, ctx, sizeof(ctx)), "tsx: stray %u response dropped", msg->scode);
		return;
	}
	tsx_client_recv(tsx, msg);
}

void sip_tsx_tp_recv(struct sip_msg *msg, void *arg)
{
	sip_tsx_layer_recv(arg, msg);
}

void sip_tsx_layer_tp_err(struct sip_tsx_layer *tl, enum sip_transport t, const struct sa *dst,
                          int err)
{
	uint64_t last = tl->seq;

	/* A handler may start new transactions to the same peer: those are not
	 * failed by this error, hence the creation bound. Each call removes one. */
	for (;;) {
		struct sip_tsx *tsx = tl->list;

		while (tsx &&
		       (tsx->server || tsx->seq > last || tsx->tp != t || !sa_eq(&tsx->dst, dst) ||
		        (tsx->state != TS_CALLING && tsx->state != TS_TRYING &&
		         tsx->state != TS_PROCEEDING)))
			tsx = tsx->lnext;
		if (!tsx)
			break;
		tsx_client_err(tsx, err ? err : EIO);
	}
}

void sip_tsx_tp_err(enum sip_transport t, const struct sa *dst, int err, void *arg)
{
	sip_tsx_layer_tp_err(arg, t, dst, err);
}

/* ---- sending ---- */

static int default_send(const struct sip_msg *req, enum sip_transport t, const struct sa *dst,
                        const char *buf, size_t len, void *arg)
{
	struct sip_tsx_layer *tl = arg;

	if (!tl->tp)
		return ENOTCONN;
	if (req)
		return sip_tp_send_response(tl->tp, req, buf, len);
	return sip_tp_send(tl->tp, t, dst, NULL, buf, len);
}

void sip_tsx_layer_set_sender(struct sip_tsx_layer *tl, sip_tsx_send_h *h, void *arg)
{
	tl->sendh = h ? h : default_send;
	tl->send_arg = h ? arg : tl;
}

int tsx_send_req(struct sip_tsx *tsx, const char *buf, size_t len)
{
	struct sip_tsx_layer *tl = tsx->tl;

	return tl->sendh(NULL, tsx->tp, &tsx->dst, buf, len, tl->send_arg);
}

int tsx_send_resp(struct sip_tsx_layer *tl, const struct sip_msg *req, const char *buf, size_t len)
{
	return tl->sendh(req, req->tp, &req->src, buf, len, tl->send_arg);
}

int sip_tsx_send_ack(struct sip_tsx_layer *tl, const char *buf, size_t len, enum sip_transport t,
                     const struct sa *dst)
{
	if (!tl || !buf || !len || !dst)
		return EINVAL;
	return tl->sendh(NULL, t, dst, buf, len, tl->send_arg);
}

/* ---- identifiers ---- */

static void random_bytes(uint8_t *b, size_t n)
{
	static uint64_t x;

	if (getrandom(b, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	/* no entropy yet (early boot): unique is what matters here */
	if (!x)
		x = loop_clock_ms() ^ ((uint64_t)time(NULL) << 20) ^ (uint64_t)(uintptr_t)b;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (uint8_t)x;
	}
}

static void hex_random(char *buf, size_t n, const char *prefix, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	size_t pl = strlen(prefix), o = 0;

	if (!n)
		return;
	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	random_bytes(b, nbytes);
	for (size_t i = 0; i < pl && o + 1 < n; i++)
		buf[o++] = prefix[i];
	for (size_t i = 0; i < nbytes && o + 2 < n; i++) {
		buf[o++] = hex[b[i] >> 4];
		buf[o++] = hex[b[i] & 15];
	}
	buf[o] = '\0';
}

void sip_tsx_branch(char *buf, size_t n)
{
	hex_random(buf, n, TSX_COOKIE, 12);
}

void tsx_tag(char *buf, size_t n)
{
	hex_random(buf, n, "", 6);
}

const char *tsx_ctx(const struct sip_msg *msg, char *buf, size_t n)
{
	snprintf(buf, n, "call=%.*s", (int)(msg->callid.l > 64 ? 64 : msg->callid.l),
	         msg->callid.p ? msg->callid.p : "");
	return buf;
}

/* ---- the layer ---- */

int sip_tsx_layer_alloc(struct sip_tsx_layer **tlp, struct loop *loop, struct sip_tp *tp,
                        const struct sip_tsx_config *cfg, sip_tsx_req_h *reqh, void *arg)
{
	struct sip_tsx_layer *tl;
	uint32_t n = 64;

	if (!tlp || !loop)
		return EINVAL;
	tl = calloc(1, sizeof(*tl));
	if (!tl)
		return ENOMEM;
	if (cfg)
		tl->cfg = *cfg;
	tl->cfg.t1_ms = tl->cfg.t1_ms ? tl->cfg.t1_ms : DEF_T1;
	tl->cfg.t2_ms = tl->cfg.t2_ms ? tl->cfg.t2_ms : DEF_T2;
	tl->cfg.t4_ms = tl->cfg.t4_ms ? tl->cfg.t4_ms : DEF_T4;
	tl->cfg.max_tsx = tl->cfg.max_tsx ? tl->cfg.max_tsx : DEF_MAX_TSX;
	tl->cfg.retry_after_s = tl->cfg.retry_after_s ? tl->cfg.retry_after_s : DEF_RETRY_AFTER;
	if (tl->cfg.t2_ms < tl->cfg.t1_ms)
		tl->cfg.t2_ms = tl->cfg.t1_ms;
	/* a load factor of one at max_tsx; client transactions are not capped */
	while (n < tl->cfg.max_tsx && n < MAX_BUCKETS)
		n <<= 1;
	tl->tab = calloc(n, sizeof(*tl->tab));
	if (!tl->tab) {
		free(tl);
		return ENOMEM;
	}
	tl->mask = n - 1;
	tl->loop = loop;
	tl->tp = tp;
	tl->reqh = reqh;
	tl->arg = arg;
	sip_tsx_layer_set_sender(tl, NULL, NULL);
	*tlp = tl;
	return 0;
}

void sip_tsx_layer_free(struct sip_tsx_layer *tl)
{
	if (!tl)
		return;
	while (tl->list)
		tsx_terminate(tl->list);
	free(tl->tab);
	free(tl);
}

void sip_tsx_layer_set_tp(struct sip_tsx_layer *tl, struct sip_tp *tp)
{
	tl->tp = tp;
}

void sip_tsx_stats(const struct sip_tsx_layer *tl, struct sip_tsx_stats *st)
{
	*st = tl->st;
}
