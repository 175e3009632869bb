/*
 * REGISTER processing (RFC 3261 §10.3), in the order of that section except
 * that the AOR is checked (404) before the authorization (403): both come
 * after authentication, so only a user with valid credentials learns whether
 * an AOR exists. One REGISTER is one SQLite transaction: a request that fails
 * half way (CSeq out of order, too many contacts) changes nothing.
 *
 * Per request: one context allocation; strings copied out of the message and
 * the database go to an arena inside it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "registrar/reg_int.h"
#include "sip/auth/auth.h"
#include "sip/tsx/tsx.h"
#include "sip/ua/ua.h"

#define REQ_CONTACTS 32 /* Contact values accepted in one REGISTER */
#define BINDS_MAX    REG_MAX_CONTACTS
#define ARENA        24576
/* sip_ua_reply() copies extra headers into a 1 KiB buffer with its Server line;
 * bigger responses are built here (without Server). */
#define UA_REPLY_MAX 900

struct req_contact {
	struct sip_addr addr;
	const char *uri, *params, *instance; /* arena */
	int32_t reg_id;
	uint32_t expires;
	unsigned q;
	int match; /* index into binds, -1 */
	bool skip; /* repeated later in the same request */
};

struct bind {
	int64_t id;
	struct reg_contact c; /* strings in the arena */
};

struct touched {
	int64_t id;
	enum reg_event ev;
};

struct rctx {
	struct reg *reg;
	const struct sip_msg *msg;
	int64_t now;
	char aor[256], auth_user[256];
	const char *callid, *path, *user_agent;
	struct sip_mb hdrs; /* extra response headers */
	const char *reason;
	bool star;
	struct req_contact rc[REQ_CONTACTS];
	unsigned nrc;
	struct bind b[BINDS_MAX];
	unsigned nb;
	struct touched t[REQ_CONTACTS];
	unsigned nt;
	struct reg_contact removed[BINDS_MAX];
	unsigned nremoved;
	size_t used;
	char arena[ARENA];
};

static const char *ax_mem(struct rctx *x, const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	if (x->used + n + 1 > ARENA)
		return NULL;
	d = x->arena + x->used;
	memcpy(d, s, n);
	d[n] = '\0';
	x->used += n + 1;
	return d;
}

static const char *ax_pl(struct rctx *x, struct pl pl)
{
	return ax_mem(x, pl.p ? pl.p : "", pl.l);
}

static const char *ax_str(struct rctx *x, const char *s)
{
	return s ? ax_mem(x, s, strlen(s)) : NULL;
}

/* ---- authentication (§10.3 steps 2-5) ---- */

static int lookup_secret(struct pl username, struct pl realm, enum sip_digest_alg alg,
                         struct sip_auth_secret *sec, void *arg)
{
	struct rctx *x = arg;
	char user[256];

	if (username.l >= sizeof(user))
		return ENOENT;
	pl_strcpy(username, user, sizeof(user));
	sec->kind = SIP_AUTH_PASSWORD;
	return reg_user_password(x->reg, user, sec->secret, sizeof(sec->secret));
}

static uint16_t challenge(struct rctx *x, bool stale)
{
	char *chal = NULL;

	if (sip_auth_challenge(x->reg->auth, false, stale, &chal))
		return 500;
	sip_mb_str(&x->hdrs, chal);
	mem_deref(chal);
	x->reg->st.challenged++;
	if (stale)
		x->reg->st.stale++;
	return 401;
}

/* The Authorization line for our realm (a phone may carry others). */
static struct pl our_credentials(struct rctx *x)
{
	const struct sip_msg *m = x->msg;
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);
	const char *realm = x->reg->realm;
	struct sip_digest_cred c;

	for (; h; h = h->next >= 0 ? &m->hdr[h->next] : NULL)
		if (!sip_digest_cred_decode(&c, h->val) &&
		    sip_digest_val_eq(c.realm, pl_make(realm, strlen(realm))))
			return h->val;
	return (struct pl)PL_INIT;
}

static uint16_t authenticate(struct rctx *x)
{
	struct pl cred = our_credentials(x), user = PL_INIT;
	enum sip_auth_verdict v;

	if (!pl_isset(cred))
		return challenge(x, false);
	v = sip_auth_verify(x->reg->auth, cred, x->msg->method, x->msg->ruri_pl, lookup_secret, x,
	                    &user);
	switch (v) {
	case SIP_AUTH_OK:
		if (sip_unescape(user, x->auth_user, sizeof(x->auth_user)) < 0)
			return 403;
		return 0;
	case SIP_AUTH_STALE:
		return challenge(x, true);
	case SIP_AUTH_BAD:
	case SIP_AUTH_UNKNOWN_USER:
		/* a fresh challenge, not 403: a phone answering with a nonce of our
		 * previous run (new secret) must be able to retry */
		LOGI(x->callid, "registrar: REGISTER from %.*s: credentials rejected (%s)",
		     PL_ARG(user), sip_auth_verdict_name(v));
		return challenge(x, false);
	case SIP_AUTH_MALFORMED:
		x->reason = "Malformed Credentials";
		return 400;
	default:
		return 500;
	}
}

/* To must be a sip/sips AOR of a user we know (404), the authenticated one (403). */
static uint16_t check_aor(struct rctx *x)
{
	const struct sip_uri *u = &x->msg->to.uri;
	char pw[SIP_AUTH_SECRET_MAX];
	int len, err;

	if ((u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS) || !u->user.l)
		return 404;
	len = sip_unescape(u->user, x->aor, sizeof(x->aor));
	if (len <= 0 || (size_t)len != strlen(x->aor)) /* %00 */
		return 404;
	err = reg_user_password(x->reg, x->aor, pw, sizeof(pw));
	memset(pw, 0, sizeof(pw));
	if (err == ENOENT)
		return 404;
	if (err)
		return 500;
	if (strcmp(x->aor, x->auth_user)) {
		LOGI(x->callid, "registrar: %s may not register %s", x->auth_user, x->aor);
		return 403;
	}
	return 0;
}

/* ---- contacts (§10.3 step 6) ---- */

/* The Contact params other than expires and q, quotes restored. */
static const char *other_params(struct rctx *x, struct pl params)
{
	char buf[1024];
	struct pl rest = params, n, v;
	size_t o = 0;

	buf[0] = '\0';
	while (sip_param_next(&rest, &n, &v)) {
		bool quoted = v.l && v.p > params.p && v.p[-1] == '"';
		if (pl_caseeq_str(n, "expires") || pl_caseeq_str(n, "q"))
			continue;
		if (o + n.l + v.l + 5 >= sizeof(buf))
			return NULL;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, ";%.*s", PL_ARG(n));
		if (v.l || quoted)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			                      quoted ? "=\"%.*s\"" : "=%.*s", PL_ARG(v));
	}
	return ax_mem(x, buf, o);
}

static uint16_t contact_params(struct rctx *x, struct req_contact *c, uint32_t dflt)
{
	struct pl v;
	uint32_t u;

	c->expires = dflt;
	c->q = 1000;
	c->reg_id = -1;
	/* §20.19: a malformed expires counts as the default */
	if (sip_param_get(c->addr.params, "expires", &v) && !sip_u32_decode(&u, v))
		c->expires = u;
	if (sip_param_get(c->addr.params, "q", &v) && reg_q_parse(pl_trim(v), &c->q)) {
		x->reason = "Bad q-value";
		return 400;
	}
	if (sip_param_get(c->addr.params, "+sip.instance", &v) && v.l)
		c->instance = ax_pl(x, v);
	if (sip_param_get(c->addr.params, "reg-id", &v) && !sip_u32_decode(&u, v) && u <= INT32_MAX)
		c->reg_id = (int32_t)u;
	c->uri = ax_pl(x, c->addr.uri_pl);
	c->params = other_params(x, c->addr.params);
	if (!c->uri || !c->params)
		return 500;
	return 0;
}

static uint16_t parse_contact(struct rctx *x, struct pl val, uint32_t dflt)
{
	struct req_contact *c;

	if (x->nrc == REQ_CONTACTS) {
		x->reason = "Too Many Contacts";
		return 403;
	}
	c = &x->rc[x->nrc];
	if (sip_addr_decode(&c->addr, val)) {
		x->reason = "Bad Contact";
		return 400;
	}
	if (c->addr.star) {
		x->star = true;
		return 0;
	}
	if (c->addr.uri.scheme != SIP_URI_SIP && c->addr.uri.scheme != SIP_URI_SIPS) {
		x->reason = "Unsupported Contact URI Scheme";
		return 400;
	}
	x->nrc++;
	return contact_params(x, c, dflt);
}

static uint16_t parse_contacts(struct rctx *x)
{
	const struct sip_hdr *eh = sip_msg_hdr(x->msg, SIP_HDR_EXPIRES);
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	uint32_t hdr_exp = x->reg->default_expires, e;
	bool has_hdr = eh && !sip_u32_decode(&hdr_exp, eh->val);
	struct pl v;
	uint16_t code;

	if (eh && !has_hdr) /* §20.19 */
		hdr_exp = x->reg->default_expires;
	while (sip_msg_hdr_next(x->msg, SIP_HDR_CONTACT, &it, &v)) {
		code = parse_contact(x, v, hdr_exp);
		if (code)
			return code;
	}
	if (x->star) {
		if (x->nrc || !has_hdr || hdr_exp != 0) {
			x->reason = "Invalid Use of Contact *";
			return 400;
		}
		return 0;
	}
	for (unsigned i = 0; i < x->nrc; i++) {
		e = x->rc[i].expires;
		if (e && e < x->reg->min_expires) {
			sip_mb_printf(&x->hdrs, "Min-Expires: %u\r\n", x->reg->min_expires);
			return 423;
		}
		if (e > x->reg->max_expires)
			x->rc[i].expires = x->reg->max_expires;
	}
	return 0;
}

/* ---- bindings (§10.3 step 7) ---- */

static void load_row(int64_t id, int64_t exp, const struct reg_contact *c, void *arg)
{
	struct rctx *x = arg;
	struct bind *b;

	if (c->is_static || x->nb == BINDS_MAX)
		return;
	b = &x->b[x->nb++];
	b->id = id;
	b->c = *c;
	b->c.aor = x->aor;
	b->c.uri = ax_str(x, c->uri);
	b->c.params = ax_str(x, c->params);
	b->c.path = ax_str(x, c->path);
	b->c.instance = ax_str(x, c->instance);
	b->c.call_id = ax_str(x, c->call_id);
	b->c.user_agent = ax_str(x, c->user_agent);
	if (!b->c.uri || !b->c.call_id || !b->c.params)
		x->nb = BINDS_MAX + 1; /* arena full: refuse the request */
}

static bool same_binding(const struct req_contact *c, const struct bind *b)
{
	struct sip_uri u;

	/* RFC 5626/5627: the instance (and reg-id) names the device, whatever its address */
	if (c->instance && b->c.instance && !strcmp(c->instance, b->c.instance) &&
	    c->reg_id == b->c.reg_id)
		return true;
	return !sip_uri_decode(&u, pl_make(b->c.uri, strlen(b->c.uri))) &&
	       sip_uri_equal(&c->addr.uri, &u);
}

/* §10.3 step 7: the same Call-ID with a CSeq not above the stored one fails. */
static bool out_of_order(struct rctx *x, const struct bind *b)
{
	if (strcmp(b->c.call_id, x->callid) || x->msg->cseq.num > b->c.cseq)
		return false;
	LOGI(x->callid, "registrar: CSeq %u not above %u for %s", x->msg->cseq.num, b->c.cseq,
	     b->c.uri);
	x->reason = "Out of Order";
	x->reg->st.out_of_order++;
	return true;
}

static void fill_row(struct rctx *x, const struct req_contact *c, struct reg_row *r)
{
	memset(r, 0, sizeof(*r));
	r->aor = x->aor;
	r->uri = c->uri;
	r->params = c->params;
	r->path = x->path;
	r->instance = c->instance;
	r->reg_id = c->reg_id;
	r->q = c->q;
	r->expires_ms = x->now + (int64_t)c->expires * 1000;
	r->call_id = x->callid;
	r->cseq = x->msg->cseq.num;
	r->tp = x->msg->tp;
	r->source = &x->msg->src;
	r->local = &x->msg->dst;
	r->user_agent = x->user_agent;
}

static int remove_bind(struct rctx *x, unsigned i)
{
	int err = store_delete(x->reg, x->b[i].id);

	if (!err && x->nremoved < BINDS_MAX)
		x->removed[x->nremoved++] = x->b[i].c;
	return err;
}

static uint16_t apply_star(struct rctx *x)
{
	for (unsigned i = 0; i < x->nb; i++)
		if (out_of_order(x, &x->b[i]))
			return 500;
	for (unsigned i = 0; i < x->nb; i++)
		if (remove_bind(x, i))
			return 500;
	return 0;
}

static uint16_t apply_one(struct rctx *x, struct req_contact *c, unsigned *count)
{
	struct reg_row r;
	int m = -1, err = 0;

	for (unsigned i = 0; i < x->nb && m < 0; i++)
		if (same_binding(c, &x->b[i]))
			m = (int)i;
	if (m >= 0 && out_of_order(x, &x->b[m]))
		return 500;
	fill_row(x, c, &r);
	if (m >= 0 && !c->expires) {
		err = remove_bind(x, (unsigned)m);
		(*count)--;
		x->b[m] = x->b[--x->nb]; /* gone: later contacts must not match it */
	} else if (m >= 0) {
		err = store_update(x->reg, x->b[m].id, &r, x->now);
		x->t[x->nt++] = (struct touched){x->b[m].id, REG_EV_REFRESHED};
	} else if (c->expires) {
		if (++(*count) > x->reg->max_contacts) {
			x->reason = "Too Many Contacts";
			return 403;
		}
		err = store_insert(x->reg, &r, x->now);
		x->t[x->nt++] =
		    (struct touched){sqlite3_last_insert_rowid(x->reg->db), REG_EV_ADDED};
	}
	return err ? 500 : 0;
}

static uint16_t apply(struct rctx *x)
{
	unsigned count = x->nb;
	uint16_t code = 0;

	if (x->nb > BINDS_MAX)
		return 500;
	if (store_exec(x->reg, ST_BEGIN))
		return 500;
	if (x->star)
		code = apply_star(x);
	for (unsigned i = 0; !code && i < x->nrc; i++) {
		/* a URI repeated in one request: the last occurrence counts */
		for (unsigned j = i + 1; j < x->nrc && !x->rc[i].skip; j++)
			x->rc[i].skip = sip_uri_equal(&x->rc[i].addr.uri, &x->rc[j].addr.uri);
		if (!x->rc[i].skip)
			code = apply_one(x, &x->rc[i], &count);
	}
	if (code || store_exec(x->reg, ST_COMMIT)) {
		store_exec(x->reg, ST_ROLLBACK);
		x->nremoved = x->nt = 0;
		return code ? code : 500;
	}
	return 0;
}

/* ---- the 200 (§10.3 step 8) ---- */

static void list_row(int64_t id, int64_t exp, const struct reg_contact *c, void *arg)
{
	struct rctx *x = arg;
	char q[8];

	if (c->is_static)
		return;
	sip_mb_printf(&x->hdrs, "Contact: <%s>%s;expires=%lld", c->uri, c->params,
	              (long long)c->expires_in);
	if (c->q < 1000)
		sip_mb_printf(&x->hdrs, ";q=%s", reg_q_print(c->q, q, sizeof(q)));
	sip_mb_str(&x->hdrs, "\r\n");
	for (unsigned i = 0; i < x->nt; i++)
		if (x->t[i].id == id)
			reg_fire(x->reg, x->t[i].ev, c);
}

static uint16_t answer_ok(struct rctx *x)
{
	char date[64];
	struct tm tm;
	time_t t = (time_t)(x->now / 1000);

	for (unsigned i = 0; i < x->nremoved; i++)
		reg_fire(x->reg, REG_EV_REMOVED, &x->removed[i]);
	if (store_select(x->reg, x->aor, x->now, list_row, x, NULL))
		return 500;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	sip_mb_printf(&x->hdrs, "Date: %s\r\n", date);
	/* RFC 3327 §5.3: the Path we stored, to a UA that supports it */
	if (x->path && sip_msg_has_token(x->msg, SIP_HDR_SUPPORTED, "path"))
		sip_mb_printf(&x->hdrs, "Path: %s\r\n", x->path);
	return 200;
}

/* ---- the handler ---- */

static const char *join_path(struct rctx *x)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	char buf[2048];
	size_t o = 0;
	struct pl v;

	/* every Path value, in order, whatever lines they came on */
	while (sip_msg_hdr_next(x->msg, SIP_HDR_PATH, &it, &v)) {
		if (o + v.l + 2 >= sizeof(buf))
			return NULL;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s", o ? "," : "", PL_ARG(v));
	}
	return o ? ax_mem(x, buf, o) : NULL;
}

static uint16_t process(struct rctx *x)
{
	const struct sip_hdr *ua = sip_msg_hdr(x->msg, SIP_HDR_USER_AGENT);
	uint16_t code;

	x->callid = ax_pl(x, x->msg->callid);
	x->user_agent = ua ? ax_pl(x, ua->val) : NULL;
	x->path = join_path(x);
	code = authenticate(x);
	if (!code)
		code = check_aor(x);
	if (!code)
		code = parse_contacts(x);
	if (code)
		return code;
	if (reg_purge(x->reg) < 0 || store_select(x->reg, x->aor, x->now, load_row, x, NULL))
		return 500;
	if (x->star || x->nrc) {
		code = apply(x);
		if (code)
			return code;
	}
	code = answer_ok(x);
	reg_timer_update(x->reg);
	return code;
}

static void count(struct reg *reg, uint16_t code)
{
	switch (code) {
	case 200:
		reg->st.ok++;
		break;
	case 401:
		break; /* counted in challenge() */
	case 403:
		reg->st.forbidden++;
		break;
	case 404:
		reg->st.not_found++;
		break;
	case 423:
		reg->st.too_brief++;
		break;
	case 400:
		reg->st.bad_request++;
		break;
	default:
		reg->st.errors++;
		break;
	}
}

static int send_built(struct sip_tsx *stx, const struct sip_msg *req, uint16_t code,
                      const char *reason, const char *extra)
{
	struct sip_mb mb = {0};
	char tag[24];
	int err;

	sip_ua_token(tag, sizeof(tag));
	err = sip_mb_init(&mb, 512 + strlen(extra));
	if (!err)
		err = sip_msg_build_response(&mb, req, code, reason, req->to.tag.l ? NULL : tag,
		                             false, extra, NULL, NULL, 0);
	if (!err)
		err = sip_mb_finish(&mb);
	if (!err)
		err = sip_tsx_reply(stx, code, mb.buf, mb.len);
	mem_deref(mb.buf);
	return err;
}

void reg_register_handler(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg,
                          void *arg)
{
	struct reg *reg = arg;
	struct rctx *x = mem_zalloc(sizeof(*x), NULL);
	uint16_t code = 500;
	const char *reason, *extra = "";
	int err;

	reg->st.requests++;
	if (x) {
		x->reg = reg;
		x->msg = msg;
		x->now = reg_wall_ms();
		code = sip_mb_init(&x->hdrs, 1024) ? 500 : process(x);
		if (sip_mb_finish(&x->hdrs))
			code = 500;
		else if (x->hdrs.buf)
			extra = x->hdrs.buf;
	}
	count(reg, code);
	reason = x && x->reason ? x->reason : sip_reason_phrase(code);
	if (code == 500 || !x)
		extra = "";
	LOGD(x ? x->callid : NULL, "registrar: REGISTER %s -> %u %s", x ? x->aor : "", code,
	     reason);
	if (strlen(extra) < UA_REPLY_MAX)
		err = sip_ua_reply(ua, stx, code, reason, *extra ? extra : NULL, NULL, NULL, 0);
	else
		err = send_built(stx, msg, code, reason, extra);
	if (err)
		LOGW(x ? x->callid : NULL, "registrar: cannot answer REGISTER: %d", err);
	if (x)
		mem_deref(x->hdrs.buf);
	mem_deref(x);
}
