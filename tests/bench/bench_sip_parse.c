/*
 * bench_sip_parse: Tandem's SIP message parser against sofia-sip and libosip2.
 *
 * Three messages as a gateway sees them (an INVITE with SDP, the 200 OK to it,
 * a REGISTER with SHA-256 digest credentials). One iteration parses a message
 * from its bytes up to typed access to every header it carries, reads the
 * values into a checksum, and frees everything. Each library is used the way
 * its own stack uses it:
 * - Tandem: sip_msg_decode() (eager: top Via, From, To, Call-ID, CSeq,
 *   Content-Length, Max-Forwards), then the typed decoders for the rest.
 * - sofia-sip: msg_make() (what tport does on receive: msg_create(),
 *   msg_recv_iovec() + copy, msg_recv_commit(), msg_extract()); its parser
 *   is eager, so the sip_t fields are the typed access. The mclass is the
 *   default one extended with sofia's extra headers (P-Asserted-Identity).
 * - libosip2: osip_message_init() + osip_message_parse(), the accessors, and
 *   for the headers osip leaves as text (Max-Forwards, Expires, Session-Expires,
 *   Min-SE, Require, Supported, Privacy, P-Asserted-Identity...) the lookup by
 *   name plus the cheapest conversion (strtoul, a comma split, osip_from_parse
 *   for the name-addr).
 * A correctness gate first checks, for every parser and message, the values
 * read against the expected ones, so nothing times a failing parse.
 *
 * Timing: BENCH_ITERS (default 200000) iterations per message per parser,
 * divided by BENCH_SCALE; CLOCK_MONOTONIC; best of 3 rounds; msg/s is the mean
 * over the three messages. Heap allocations are counted by interposing
 * malloc/calloc/realloc below (counting only in a separate, untimed pass).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* sofia-sip exports its own sip_method_name() (another signature than
 * Tandem's): rename its declaration away, the bench never calls it. */
#define sip_method_name sofia_sip_method_name
#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#undef sip_method_name

#include "core/err.h"
#include "core/mem.h"
#include "core/pl.h"
#include "sip/auth/auth.h"
#include "sip/msg/msg.h"

#include "sip_parse_msgs.h"

/* ---- allocation counting ---- */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static bool g_counting;
static unsigned long g_allocs;

void *malloc(size_t n)
{
	if (g_counting)
		g_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	if (g_counting)
		g_allocs++;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	if (g_counting)
		g_allocs++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

/* ---- what one parse reads: slices valid until the parser frees ---- */

struct ext {
	uint32_t cseq;
	struct pl cseq_m, callid, callid_host; /* osip splits the Call-ID at '@' */
	unsigned nvia;
	struct pl via_host[MAXV], via_branch[MAXV];
	struct pl from_user, from_tag, to_user, to_tag;
	struct pl ct_user, ct_host, ct_expires;
	long maxfwd, clen, expires, se, minse; /* -1: absent */
	unsigned nrr, nroute;
	struct pl rr_host[MAXV];
	struct pl ctype, csubtype;
	unsigned n_allow, n_supported, n_require, n_privacy;
	size_t tok_len;
	struct pl privacy;
	struct pl au_user, au_realm, au_nonce, au_uri, au_resp;
	struct pl pai_user;
	struct pl se_refresher;
	struct pl ua; /* User-Agent or Server */
	size_t body_len;
};

static struct pl cstr(const char *s)
{
	return (struct pl){s, s ? strlen(s) : 0};
}

static struct pl unquote(struct pl f)
{
	if (f.l >= 2 && f.p[0] == '"' && f.p[f.l - 1] == '"')
		return (struct pl){f.p + 1, f.l - 2};
	return f;
}

static long num(const char *s)
{
	return s ? (long)strtoul(s, NULL, 10) : -1;
}

/* Comma-separated tokens of a raw header value (for osip's text headers). */
static void count_tokens(const char *s, unsigned *n, size_t *len, struct pl *first)
{
	while (s && *s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		const char *b = s;
		while (*s && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		if (s > b) {
			if (first && *n == 0)
				*first = (struct pl){b, (size_t)(s - b)};
			(*n)++;
			*len += (size_t)(s - b);
		}
	}
}

static uint64_t fsum(struct pl f)
{
	return f.l + (f.l ? (unsigned char)f.p[f.l - 1] : 0);
}

/* Reads every value so the compiler cannot drop any of the parsing work. */
static uint64_t ext_sum(const struct ext *e)
{
	uint64_t s = e->cseq + fsum(e->cseq_m) + fsum(e->callid) + fsum(e->callid_host);
	for (unsigned i = 0; i < e->nvia && i < MAXV; i++)
		s += fsum(e->via_host[i]) + fsum(e->via_branch[i]);
	for (unsigned i = 0; i < e->nrr && i < MAXV; i++)
		s += fsum(e->rr_host[i]);
	s += fsum(e->from_user) + fsum(e->from_tag) + fsum(e->to_user) + fsum(e->to_tag);
	s += fsum(e->ct_user) + fsum(e->ct_host) + fsum(e->ct_expires);
	s += (uint64_t)(e->maxfwd + e->clen + e->expires + e->se + e->minse);
	s += e->nvia + e->nrr + e->nroute + e->n_allow + e->n_supported + e->n_require;
	s += e->n_privacy + e->tok_len + fsum(e->privacy) + fsum(e->ctype) + fsum(e->csubtype);
	s += fsum(e->au_user) + fsum(e->au_realm) + fsum(e->au_nonce) + fsum(e->au_uri);
	s += fsum(e->au_resp) + fsum(e->pai_user) + fsum(e->se_refresher) + fsum(e->ua);
	return s + e->body_len;
}

static void ext_clear(struct ext *e)
{
	memset(e, 0, sizeof(*e));
	e->maxfwd = e->clen = e->expires = e->se = e->minse = -1;
}

static int g_bad;

static void chk_str(const char *who, const char *m, const char *what, struct pl got,
                    const char *want)
{
	size_t wl = want ? strlen(want) : 0;
	if (got.l == wl && (wl == 0 || memcmp(got.p, want, wl) == 0))
		return;
	fprintf(stderr, "GATE FAIL %s %s %s: got '%.*s' want '%s'\n", who, m, what, (int)got.l,
	        got.p ? got.p : "", want ? want : "");
	g_bad++;
}

static void chk_num(const char *who, const char *m, const char *what, long got, long want)
{
	if (got == want)
		return;
	fprintf(stderr, "GATE FAIL %s %s %s: got %ld want %ld\n", who, m, what, got, want);
	g_bad++;
}

static void gate(const char *who, const struct bmsg *bm, const struct ext *e, const struct want *w)
{
	const char *m = bm->name;
	char cid[128];
	snprintf(cid, sizeof(cid), "%.*s%s%.*s", (int)e->callid.l, e->callid.p ? e->callid.p : "",
	         e->callid_host.l ? "@" : "", (int)e->callid_host.l,
	         e->callid_host.p ? e->callid_host.p : "");
	chk_str(who, m, "Call-ID", cstr(cid), w->callid);
	chk_num(who, m, "CSeq", e->cseq, w->cseq);
	chk_str(who, m, "CSeq method", e->cseq_m, w->cseq_m);
	chk_num(who, m, "Via count", e->nvia, w->nvia);
	for (unsigned i = 0; i < w->nvia && i < MAXV; i++) {
		chk_str(who, m, "Via host", e->via_host[i], w->via_host[i]);
		chk_str(who, m, "Via branch", e->via_branch[i], w->via_branch[i]);
	}
	chk_str(who, m, "From user", e->from_user, w->from_user);
	chk_str(who, m, "From tag", e->from_tag, w->from_tag);
	chk_str(who, m, "To user", e->to_user, w->to_user);
	chk_str(who, m, "To tag", e->to_tag, w->to_tag);
	chk_str(who, m, "Contact user", e->ct_user, w->ct_user);
	chk_str(who, m, "Contact host", e->ct_host, w->ct_host);
	chk_str(who, m, "Contact expires", e->ct_expires, w->ct_expires);
	chk_num(who, m, "Max-Forwards", e->maxfwd, w->maxfwd);
	chk_num(who, m, "Content-Length", e->clen, (long)strlen(bm->body));
	chk_num(who, m, "body", (long)e->body_len, (long)strlen(bm->body));
	chk_num(who, m, "Expires", e->expires, w->expires);
	chk_num(who, m, "Session-Expires", e->se, w->se);
	chk_str(who, m, "refresher", e->se_refresher, w->se_refresher);
	chk_num(who, m, "Min-SE", e->minse, w->minse);
	chk_num(who, m, "Record-Route count", e->nrr, w->nrr);
	for (unsigned i = 0; i < w->nrr && i < MAXV; i++)
		chk_str(who, m, "Record-Route host", e->rr_host[i], w->rr_host[i]);
	chk_num(who, m, "Route count", e->nroute, 0);
	chk_str(who, m, "Content-Type type", e->ctype, w->ctype);
	chk_str(who, m, "Content-Type subtype", e->csubtype, w->csubtype);
	chk_num(who, m, "Allow count", e->n_allow, w->n_allow);
	chk_num(who, m, "Supported count", e->n_supported, w->n_supported);
	chk_num(who, m, "Require count", e->n_require, w->n_require);
	chk_num(who, m, "Privacy count", e->n_privacy, w->n_privacy);
	chk_str(who, m, "Privacy", e->privacy, w->privacy);
	chk_str(who, m, "auth username", e->au_user, w->au_user);
	chk_str(who, m, "auth realm", e->au_realm, w->au_realm);
	chk_str(who, m, "auth nonce", e->au_nonce, w->au_nonce);
	chk_str(who, m, "auth uri", e->au_uri, w->au_uri);
	chk_str(who, m, "auth response", e->au_resp, w->au_resp);
	chk_str(who, m, "P-Asserted-Identity user", e->pai_user, w->pai_user);
	chk_str(who, m, "User-Agent/Server", e->ua, w->ua);
}

/* One parse of one message: the gate (want set) or the timed checksum. */
struct run {
	const struct bmsg *bm;
	const struct want *w;
	const char *who;
	uint64_t sum;
};

/* Called by each parser before it frees, while its slices are valid. */
static void consume(struct run *rc, const struct ext *e)
{
	if (rc->w)
		gate(rc->who, rc->bm, e, rc->w);
	rc->sum += ext_sum(e);
}

/* ---- sofia-sip ---- */

static msg_mclass_t const *g_sofia_mc;

static void sofia_tokens(const msg_list_t *k, unsigned *n, size_t *len, struct pl *first)
{
	for (; k; k = k->k_next)
		for (msg_param_t *it = k->k_items; it && *it; it++) {
			if (first && *n == 0)
				*first = cstr(*it);
			(*n)++;
			*len += strlen(*it);
		}
}

static void sofia_auth(const msg_auth_t *au, struct ext *e)
{
	if (!au)
		return;
	e->au_user = unquote(cstr(msg_params_find(au->au_params, "username=")));
	e->au_realm = unquote(cstr(msg_params_find(au->au_params, "realm=")));
	e->au_nonce = unquote(cstr(msg_params_find(au->au_params, "nonce=")));
	e->au_uri = unquote(cstr(msg_params_find(au->au_params, "uri=")));
	e->au_resp = unquote(cstr(msg_params_find(au->au_params, "response=")));
}

/* The headers of dialogs and routing. */
static void sofia_core(const sip_t *sip, struct ext *e)
{
	e->cseq = sip->sip_cseq->cs_seq;
	e->cseq_m = cstr(sip->sip_cseq->cs_method_name);
	e->callid = cstr(sip->sip_call_id->i_id);
	for (sip_via_t *v = sip->sip_via; v; v = v->v_next, e->nvia++)
		if (e->nvia < MAXV) {
			e->via_host[e->nvia] = cstr(v->v_host);
			e->via_branch[e->nvia] = cstr(v->v_branch);
		}
	e->from_user = cstr(sip->sip_from->a_url->url_user);
	e->from_tag = cstr(sip->sip_from->a_tag);
	e->to_user = cstr(sip->sip_to->a_url->url_user);
	e->to_tag = cstr(sip->sip_to->a_tag);
	if (sip->sip_contact) {
		e->ct_user = cstr(sip->sip_contact->m_url->url_user);
		e->ct_host = cstr(sip->sip_contact->m_url->url_host);
		e->ct_expires = cstr(sip->sip_contact->m_expires);
	}
	if (sip->sip_max_forwards)
		e->maxfwd = (long)sip->sip_max_forwards->mf_count;
	for (sip_route_t *r = sip->sip_record_route; r; r = r->r_next, e->nrr++)
		if (e->nrr < MAXV)
			e->rr_host[e->nrr] = cstr(r->r_url->url_host);
	for (sip_route_t *r = sip->sip_route; r; r = r->r_next)
		e->nroute++;
}

static void sofia_rest(sip_t *sip, struct ext *e)
{
	if (sip->sip_content_type && sip->sip_content_type->c_subtype) {
		const char *t = sip->sip_content_type->c_type,
		           *st = sip->sip_content_type->c_subtype;
		e->ctype = (struct pl){t, (size_t)(st - t - 1)};
		e->csubtype = cstr(st);
	}
	if (sip->sip_content_length)
		e->clen = sip->sip_content_length->l_length;
	if (sip->sip_expires)
		e->expires = (long)sip->sip_expires->ex_delta;
	sofia_tokens((const msg_list_t *)sip->sip_allow, &e->n_allow, &e->tok_len, NULL);
	sofia_tokens(sip->sip_supported, &e->n_supported, &e->tok_len, NULL);
	sofia_tokens(sip->sip_require, &e->n_require, &e->tok_len, NULL);
	if (sip->sip_privacy)
		for (msg_param_t const *it = sip->sip_privacy->priv_values; it && *it; it++) {
			if (e->n_privacy++ == 0)
				e->privacy = cstr(*it);
			e->tok_len += strlen(*it);
		}
	sofia_auth(sip->sip_authorization, e);
	sip_p_asserted_identity_t *pai = sip_p_asserted_identity(sip);
	if (pai)
		e->pai_user = cstr(pai->paid_url->url_user);
	if (sip->sip_session_expires) {
		e->se = (long)sip->sip_session_expires->x_delta;
		e->se_refresher = cstr(sip->sip_session_expires->x_refresher);
	}
	if (sip->sip_min_se)
		e->minse = (long)sip->sip_min_se->min_delta;
	if (sip->sip_user_agent)
		e->ua = cstr(sip->sip_user_agent->g_string);
	else if (sip->sip_server)
		e->ua = cstr(sip->sip_server->g_string);
	if (sip->sip_payload)
		e->body_len = sip->sip_payload->pl_len;
}

static int sofia_one(struct run *rc)
{
	struct ext e;
	msg_t *msg = msg_make(g_sofia_mc, 0, rc->bm->buf, (ssize_t)rc->bm->len);
	if (!msg)
		return ENOMEM;
	sip_t *sip = sip_object(msg);
	int err = EBADMSG;
	if (!sip || (sip->sip_flags & MSG_FLG_ERROR) || sip->sip_error || !sip->sip_cseq ||
	    !sip->sip_call_id || !sip->sip_from || !sip->sip_to || !sip->sip_via)
		goto out;
	ext_clear(&e);
	sofia_core(sip, &e);
	sofia_rest(sip, &e);
	consume(rc, &e);
	err = 0;
out:
	msg_destroy(msg);
	return err;
}

/* ---- libosip2 ---- */

static const char *osip_hval(const osip_message_t *sip, const char *name, int *pos)
{
	osip_header_t *h = NULL;
	int i = osip_message_header_get_byname(sip, name, *pos, &h);
	if (i < 0 || !h)
		return NULL;
	*pos = i + 1;
	return h->hvalue;
}

static void osip_tokens(const osip_message_t *sip, const char *name, unsigned *n, size_t *len,
                        struct pl *first)
{
	const char *v;
	for (int pos = 0; (v = osip_hval(sip, name, &pos));)
		count_tokens(v, n, len, first);
}

static long osip_num(const osip_message_t *sip, const char *name)
{
	int pos = 0;
	return num(osip_hval(sip, name, &pos));
}

static struct pl osip_gparam(osip_list_t *params, const char *name)
{
	osip_generic_param_t *gp = NULL;
	if (osip_generic_param_get_byname(params, (char *)name, &gp) != 0 || !gp)
		return cstr(NULL);
	return cstr(gp->gvalue);
}

static void osip_auth(const osip_message_t *sip, struct ext *e)
{
	osip_authorization_t *au = NULL;
	if (osip_message_get_authorization(sip, 0, &au) < 0 || !au)
		return;
	e->au_user = unquote(cstr(au->username));
	e->au_realm = unquote(cstr(au->realm));
	e->au_nonce = unquote(cstr(au->nonce));
	e->au_uri = unquote(cstr(au->uri));
	e->au_resp = unquote(cstr(au->response));
}

/* Session-Expires and P-Asserted-Identity are text in osip: convert them. */
static int osip_extra(const osip_message_t *sip, struct ext *e, osip_from_t **paip)
{
	int pos = 0;
	const char *v = osip_hval(sip, "session-expires", &pos);
	if (v) {
		e->se = num(v);
		const char *r = strstr(v, "refresher=");
		if (r) {
			r += 10;
			e->se_refresher = (struct pl){r, strcspn(r, "; \t")};
		}
	}
	pos = 0;
	v = osip_hval(sip, "p-asserted-identity", &pos);
	if (v) {
		if (osip_from_init(paip) != 0)
			return ENOMEM;
		if (osip_from_parse(*paip, v) != 0 || !(*paip)->url)
			return EBADMSG;
		e->pai_user = cstr((*paip)->url->username);
	}
	pos = 0;
	if (!(v = osip_hval(sip, "user-agent", &pos)))
		v = osip_hval(sip, "server", &pos);
	e->ua = cstr(v);
	return 0;
}

/* The headers of dialogs and routing. */
static void osip_core(const osip_message_t *sip, struct ext *e)
{
	e->cseq = (uint32_t)num(sip->cseq->number);
	e->cseq_m = cstr(sip->cseq->method);
	e->callid = cstr(sip->call_id->number);
	e->callid_host = cstr(sip->call_id->host);
	osip_via_t *via;
	for (int i = 0; osip_message_get_via(sip, i, &via) >= 0; i++, e->nvia++)
		if (e->nvia < MAXV) {
			e->via_host[e->nvia] = cstr(via->host);
			e->via_branch[e->nvia] = osip_gparam(&via->via_params, "branch");
		}
	e->from_user = cstr(sip->from->url->username);
	e->from_tag = osip_gparam(&sip->from->gen_params, "tag");
	e->to_user = cstr(sip->to->url->username);
	e->to_tag = osip_gparam(&sip->to->gen_params, "tag");
	osip_contact_t *ct;
	if (osip_message_get_contact(sip, 0, &ct) >= 0 && ct->url) {
		e->ct_user = cstr(ct->url->username);
		e->ct_host = cstr(ct->url->host);
		e->ct_expires = osip_gparam(&ct->gen_params, "expires");
	}
	e->maxfwd = osip_num(sip, "max-forwards");
	osip_record_route_t *rr;
	for (int i = 0; osip_message_get_record_route(sip, i, &rr) >= 0; i++, e->nrr++)
		if (e->nrr < MAXV && rr->url)
			e->rr_host[e->nrr] = cstr(rr->url->host);
	osip_route_t *rt;
	for (int i = 0; osip_message_get_route(sip, i, &rt) >= 0; i++)
		e->nroute++;
}

static int osip_one(struct run *rc)
{
	struct ext ext, *e = &ext;
	osip_from_t *pai = NULL;
	osip_message_t *sip;
	if (osip_message_init(&sip) != 0)
		return ENOMEM;
	int err = EBADMSG;
	if (osip_message_parse(sip, rc->bm->buf, rc->bm->len) != 0 || !sip->cseq || !sip->call_id ||
	    !sip->from || !sip->to || !sip->from->url || !sip->to->url)
		goto out;
	ext_clear(e);
	osip_core(sip, e);
	if (sip->content_type) {
		e->ctype = cstr(sip->content_type->type);
		e->csubtype = cstr(sip->content_type->subtype);
	}
	if (sip->content_length)
		e->clen = num(sip->content_length->value);
	e->expires = osip_num(sip, "expires");
	e->minse = osip_num(sip, "min-se");
	osip_allow_t *al;
	for (int i = 0; osip_message_get_knownheaderlist(&sip->allows, i, (void **)&al) >= 0; i++)
		count_tokens(al->value, &e->n_allow, &e->tok_len, NULL);
	osip_tokens(sip, "allow", &e->n_allow, &e->tok_len, NULL);
	osip_tokens(sip, "supported", &e->n_supported, &e->tok_len, NULL);
	osip_tokens(sip, "require", &e->n_require, &e->tok_len, NULL);
	osip_tokens(sip, "privacy", &e->n_privacy, &e->tok_len, &e->privacy);
	osip_auth(sip, e);
	if ((err = osip_extra(sip, e, &pai)) != 0)
		goto out;
	osip_body_t *b;
	if (osip_message_get_body(sip, 0, &b) >= 0)
		e->body_len = b->length;
	consume(rc, e);
	err = 0;
out:
	if (pai)
		osip_from_free(pai);
	osip_message_free(sip);
	return err;
}

/* ---- Tandem ---- */

static int tdm_tokens(const struct sip_msg *msg, enum sip_hdr_id id, unsigned *n, size_t *len,
                      struct pl *first)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct pl v, tok;
	while (sip_msg_hdr_next(msg, id, &it, &v)) {
		if (sip_token_decode(&tok, v) != 0)
			return EBADMSG;
		if (first && *n == 0)
			*first = tok;
		(*n)++;
		*len += tok.l;
	}
	return 0;
}

/* All Vias: the topmost was decoded by sip_msg_decode(), the others here. */
static int tdm_vias(const struct sip_msg *msg, struct ext *e)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct pl v;
	for (; sip_msg_hdr_next(msg, SIP_HDR_VIA, &it, &v); e->nvia++) {
		struct sip_via via;
		if (e->nvia == 0)
			via = msg->via;
		else if (sip_via_decode(&via, v) != 0)
			return EBADMSG;
		if (e->nvia < MAXV) {
			e->via_host[e->nvia] = via.host;
			e->via_branch[e->nvia] = via.branch;
		}
	}
	return 0;
}

/* Contact, Record-Route, Route, P-Asserted-Identity: name-addrs. */
static int tdm_addrs(const struct sip_msg *msg, struct ext *e)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct sip_addr a;
	struct pl v, ex;
	for (unsigned n = 0; sip_msg_hdr_next(msg, SIP_HDR_CONTACT, &it, &v); n++) {
		if (sip_addr_decode(&a, v) != 0)
			return EBADMSG;
		if (n == 0) {
			e->ct_user = a.uri.user;
			e->ct_host = a.uri.host;
			if (sip_param_get(a.params, "expires", &ex))
				e->ct_expires = ex;
		}
	}
	it = (struct sip_hdr_iter)SIP_HDR_ITER_INIT;
	for (; sip_msg_hdr_next(msg, SIP_HDR_RECORD_ROUTE, &it, &v); e->nrr++) {
		if (sip_addr_decode(&a, v) != 0)
			return EBADMSG;
		if (e->nrr < MAXV)
			e->rr_host[e->nrr] = a.uri.host;
	}
	it = (struct sip_hdr_iter)SIP_HDR_ITER_INIT;
	for (; sip_msg_hdr_next(msg, SIP_HDR_ROUTE, &it, &v); e->nroute++)
		if (sip_addr_decode(&a, v) != 0)
			return EBADMSG;
	it = (struct sip_hdr_iter)SIP_HDR_ITER_INIT;
	if (sip_msg_hdr_next(msg, SIP_HDR_P_ASSERTED_IDENTITY, &it, &v)) {
		if (sip_addr_decode(&a, v) != 0)
			return EBADMSG;
		e->pai_user = a.uri.user;
	}
	return 0;
}

static int tdm_u32(const struct sip_msg *msg, enum sip_hdr_id id, long *out)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, id);
	uint32_t v;
	if (!h)
		return 0;
	if (sip_u32_decode(&v, h->val) != 0)
		return EBADMSG;
	*out = v;
	return 0;
}

/* Content-Type, Session-Expires, Authorization, User-Agent/Server. */
static int tdm_others(const struct sip_msg *msg, struct ext *e)
{
	const struct sip_hdr *h;
	if ((h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE))) {
		struct sip_ctype ct;
		if (sip_ctype_decode(&ct, h->val) != 0)
			return EBADMSG;
		e->ctype = ct.type;
		e->csubtype = ct.subtype;
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES))) {
		struct sip_session_expires se;
		if (sip_session_expires_decode(&se, h->val) != 0)
			return EBADMSG;
		e->se = se.delta;
		e->se_refresher = se.refresher;
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION))) {
		struct sip_digest_cred cr;
		if (sip_digest_cred_decode(&cr, h->val) != 0)
			return EBADMSG;
		e->au_user = cr.username;
		e->au_realm = cr.realm;
		e->au_nonce = cr.nonce;
		e->au_uri = cr.uri;
		e->au_resp = cr.response;
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_USER_AGENT)) || (h = sip_msg_hdr(msg, SIP_HDR_SERVER)))
		e->ua = h->val;
	return 0;
}

static int tandem_one(struct run *rc)
{
	struct ext ext, *e = &ext;
	struct sip_msg *msg;
	int err = sip_msg_decode(&msg, rc->bm->buf, rc->bm->len, false, NULL, NULL);
	if (err)
		return err;
	ext_clear(e);
	e->cseq = msg->cseq.num;
	e->cseq_m = msg->cseq.method;
	e->callid = msg->callid;
	e->from_user = msg->from.uri.user;
	e->from_tag = msg->from.tag;
	e->to_user = msg->to.uri.user;
	e->to_tag = msg->to.tag;
	if (msg->has_maxfwd)
		e->maxfwd = msg->maxfwd;
	if (msg->has_clen)
		e->clen = msg->clen;
	e->body_len = msg->body.l;
	if ((err = tdm_vias(msg, e)) || (err = tdm_addrs(msg, e)) || (err = tdm_others(msg, e)) ||
	    (err = tdm_u32(msg, SIP_HDR_EXPIRES, &e->expires)) ||
	    (err = tdm_u32(msg, SIP_HDR_MIN_SE, &e->minse)) ||
	    (err = tdm_tokens(msg, SIP_HDR_ALLOW, &e->n_allow, &e->tok_len, NULL)) ||
	    (err = tdm_tokens(msg, SIP_HDR_SUPPORTED, &e->n_supported, &e->tok_len, NULL)) ||
	    (err = tdm_tokens(msg, SIP_HDR_REQUIRE, &e->n_require, &e->tok_len, NULL)) ||
	    (err = tdm_tokens(msg, SIP_HDR_PRIVACY, &e->n_privacy, &e->tok_len, &e->privacy)))
		goto out;
	consume(rc, e);
out:
	mem_deref(msg);
	return err;
}

/* ---- driver ---- */

typedef int(parse_h)(struct run *rc);

struct parser {
	const char *name;
	parse_h *fn;
	double best[NMSG]; /* seconds for iters parses */
	double allocs[NMSG];
	double mps;
	uint64_t sum;
};

static struct parser g_par[] = {
    {.name = "tandem", .fn = tandem_one},
    {.name = "sofia", .fn = sofia_one},
    {.name = "osip", .fn = osip_one},
};
#define NPAR ARRAY_SIZE(g_par)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs n parses of message m; returns the number that failed. */
static unsigned loop(struct parser *p, unsigned m, unsigned long n)
{
	struct run rc = {.bm = &g_msgs[m], .who = p->name};
	unsigned failed = 0;
	for (unsigned long i = 0; i < n; i++)
		failed += p->fn(&rc) != 0;
	p->sum += rc.sum;
	return failed;
}

static unsigned long iterations(void)
{
	const char *s = getenv("BENCH_ITERS"), *sc = getenv("BENCH_SCALE");
	double n = s ? strtod(s, NULL) : 200000;
	double scale = sc ? strtod(sc, NULL) : 1;
	if (scale > 0)
		n /= scale;
	return n < 1 ? 1 : (unsigned long)n;
}

static int setup(void)
{
	for (unsigned m = 0; m < NMSG; m++) {
		struct bmsg *bm = &g_msgs[m];
		int n = snprintf(bm->buf, sizeof(bm->buf), bm->fmt, strlen(bm->body), bm->body);
		if (n < 0 || (size_t)n >= sizeof(bm->buf))
			return E2BIG;
		bm->len = (size_t)n;
	}
	if (parser_init() != 0)
		return EINVAL;
	/* The default parser plus sofia's extra headers (P-Asserted-Identity). */
	g_sofia_mc = sip_extend_mclass(NULL);
	return g_sofia_mc ? 0 : ENOMEM;
}

/* Every parser must read the expected values from every message. */
static int run_gate(void)
{
	for (unsigned p = 0; p < NPAR; p++)
		for (unsigned m = 0; m < NMSG; m++) {
			struct run rc = {.bm = &g_msgs[m], .w = &g_want[m], .who = g_par[p].name};
			int err = g_par[p].fn(&rc);
			if (err) {
				fprintf(stderr, "GATE FAIL %s %s: parse error %d\n", g_par[p].name,
				        g_msgs[m].name, err);
				g_bad++;
			}
		}
	return g_bad ? EBADMSG : 0;
}

static void count_allocs(void)
{
	enum { N = 100 };
	for (unsigned p = 0; p < NPAR; p++)
		for (unsigned m = 0; m < NMSG; m++) {
			g_allocs = 0;
			g_counting = true;
			loop(&g_par[p], m, N);
			g_counting = false;
			g_par[p].allocs[m] = (double)g_allocs / N;
		}
}

static double mean_allocs(const struct parser *p)
{
	double s = 0;
	for (unsigned m = 0; m < NMSG; m++)
		s += p->allocs[m];
	return s / NMSG;
}

static void report(unsigned long iters)
{
	printf("%-8s", "parser");
	for (unsigned m = 0; m < NMSG; m++)
		printf(" %10s msg/s", g_msgs[m].name);
	printf(" %10s msg/s  allocs/msg (INVITE/200/REG)\n", "mean");
	for (unsigned p = 0; p < NPAR; p++) {
		struct parser *pp = &g_par[p];
		double total = 0;
		printf("%-8s", pp->name);
		for (unsigned m = 0; m < NMSG; m++) {
			double mps = (double)iters / pp->best[m];
			total += mps;
			printf(" %16.0f", mps);
		}
		pp->mps = total / NMSG;
		printf(" %16.0f  %.1f (%.0f/%.0f/%.0f)\n", pp->mps, mean_allocs(pp), pp->allocs[0],
		       pp->allocs[1], pp->allocs[2]);
	}
	printf("messages: INVITE %zu bytes, 200 OK %zu bytes, REGISTER %zu bytes; %lu parses per "
	       "message per round, best of 3 rounds\n",
	       g_msgs[0].len, g_msgs[1].len, g_msgs[2].len, iters);
	printf("checksums: tandem=%llu sofia=%llu osip=%llu\n", (unsigned long long)g_par[0].sum,
	       (unsigned long long)g_par[1].sum, (unsigned long long)g_par[2].sum);
	printf("RESULT sip_parse tandem_mps=%.0f sofia_mps=%.0f osip_mps=%.0f vs_sofia=%.2f "
	       "vs_osip=%.2f allocs_per_msg=%.1f\n",
	       g_par[0].mps, g_par[1].mps, g_par[2].mps, g_par[0].mps / g_par[1].mps,
	       g_par[0].mps / g_par[2].mps, mean_allocs(&g_par[0]));
}

int main(void)
{
	int err = setup();
	if (err) {
		fprintf(stderr, "bench_sip_parse: setup failed: %s\n", strerror(err));
		return 1;
	}
	if (run_gate() != 0) {
		fprintf(stderr, "bench_sip_parse: correctness gate failed (%d checks)\n", g_bad);
		return 1;
	}
	count_allocs();
	unsigned long iters = iterations();
	unsigned failed = 0;
	for (unsigned p = 0; p < NPAR; p++)
		for (unsigned m = 0; m < NMSG; m++)
			failed += loop(&g_par[p], m, iters / 10 + 1); /* warm-up */
	for (int round = 0; round < 3; round++)
		for (unsigned p = 0; p < NPAR; p++)
			for (unsigned m = 0; m < NMSG; m++) {
				double t0 = now();
				failed += loop(&g_par[p], m, iters);
				double t = now() - t0;
				if (round == 0 || t < g_par[p].best[m])
					g_par[p].best[m] = t;
			}
	if (failed) {
		fprintf(stderr, "bench_sip_parse: %u parses failed while timing\n", failed);
		return 1;
	}
	report(iters);
	return 0;
}
