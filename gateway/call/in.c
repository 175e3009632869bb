/*
 * Inbound calls: PSTN -> SIP (DID).
 *
 * SETUP -> called number to a DID route -> the contacts registered for the
 * user (all ring at once, one INVITE each; the first 2xx wins and the others
 * are CANCELled) or a fixed SIP URI. The calling number and its
 * presentation become From, P-Asserted-Identity and Privacy. 180 becomes
 * ALERTING, 183 PROGRESS, 200 CONNECT; when every INVITE failed, the best
 * final status becomes the cause (486 -> 17, 480 -> 18/19, ...). No route:
 * cause 1; a user with no contact registered: cause 20.
 */
#include "call/call_int.h"

#include "cause/cause.h"
#include "cdr/cdr.h"
#include "core/log.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "registrar/registrar.h"
#include "sip/ua/ua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct targets {
	char uri[CALL_MAX_FORKS][256];
	char path[CALL_MAX_FORKS][256];
	unsigned n;
};

static void collect(const struct reg_contact *rc, void *arg)
{
	struct targets *t = arg;

	if (t->n >= CALL_MAX_FORKS || strlen(rc->uri) >= sizeof(t->uri[0]))
		return;
	snprintf(t->uri[t->n], sizeof(t->uri[0]), "%s", rc->uri);
	t->path[t->n][0] = '\0';
	if (rc->path) /* the first Path entry is our next hop towards the phone */
		snprintf(t->path[t->n], sizeof(t->path[0]), "%.*s", (int)strcspn(rc->path, ","),
		         rc->path);
	t->n++;
}

/* Which failure to report when every fork failed (RFC 3261 §16.7, simplified). */
static unsigned rank(uint16_t code)
{
	if (code >= 600)
		return 4;
	if (code == 486)
		return 3;
	if (code >= 400 && code < 500 && code != 408)
		return 2;
	return code ? 1 : 0;
}

static int in_fork(struct call *c, const char *target, const char *route, const char *from,
                   const char *to, const char *hdrs);

static void in_clear_pri(struct call *c, int cause)
{
	if (c->pc && !c->pri_cleared) {
		c->pri_cleared = true;
		c->cause = cause;
		c->cause_pstn = cause;
		tpri_call_hangup(c->pc, cause);
	}
}

static void fork_end(struct call_fork *f)
{
	if (f->live) {
		f->live = false;
		f->sess = NULL;
		f->call->nlive--;
	}
}

/*
 * The calling side of a call that rings SIP contacts: the PRI call of a DID,
 * or for a call between users the calling phone's session (CALL_LOCAL).
 */
static bool a_alive(const struct call *c)
{
	return c->dir == CALL_LOCAL ? c->a != NULL : c->pc && !c->pri_cleared;
}

static void a_alerting(struct call *c)
{
	if (c->dir == CALL_LOCAL)
		sip_sess_progress(c->a, 180, NULL, NULL, 0, false);
	else
		tpri_call_alerting(c->pc, false);
}

static void a_progress(struct call *c)
{
	if (c->dir == CALL_LOCAL)
		sip_sess_progress(c->a, 183, NULL, NULL, 0, false);
	else
		tpri_call_progress(c->pc, true);
}

static void a_connect(struct call *c, const struct sip_msg *msg)
{
	bool sdp = msg && msg->body.l;

	if (c->dir == CALL_LOCAL) {
		sip_sess_answer(c->a, sdp ? "application/sdp" : NULL, sdp ? msg->body.p : NULL,
		                sdp ? msg->body.l : 0);
		return;
	}
	if (sdp)
		call_media_peer_answer(c, msg->body);
	tpri_call_answer(c->pc);
	call_media_sync(c);
}

/* Every fork failed (code) before an answer. */
static void a_fail(struct call *c, uint16_t code)
{
	unsigned cause = cause_from_sip(c->cc->cfg.causes, code, c->alerted);

	call_ended_by(c, CDR_END_SIP);
	c->sip_status = code;
	if (c->dir == CALL_LOCAL) {
		LOGI(c->ctx, "no phone answered: %u", code);
		sip_sess_reject(c->a, code >= 300 ? code : 480, NULL, NULL);
		c->a = NULL;
		return;
	}
	LOGI(c->ctx, "no phone answered (%u): clearing with cause %u", code, cause);
	in_clear_pri(c, (int)cause);
}

/* The answered side hung up (err ETIMEDOUT: its session timer expired, or no ACK). */
static void a_hangup(struct call *c, int err, uint16_t code)
{
	if (c->dir != CALL_LOCAL) {
		int cause = err == ETIMEDOUT ? 102 : Q850_NORMAL_CLEARING;

		if (a_alive(c) && err)
			LOGI(c->ctx, "SIP leg ended (%s): clearing the PRI call with cause %d",
			     strerror(err), cause);
		else if (a_alive(c))
			LOGI(c->ctx, "SIP leg ended (%u): clearing the PRI call with cause %d", code,
			     cause);
		in_clear_pri(c, cause);
	} else if (c->a && sip_sess_bye(c->a, NULL)) {
		sip_sess_close(c->a, 0);
		c->a = NULL;
	}
}

/* 3xx: remember the first sip/sips Contact; in_closed follows it. */
static void in_redirect(struct sip_sess *s, uint16_t code, const struct sip_msg *resp, void *arg)
{
	struct call_fork *f = arg;
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	struct sip_addr a;

	(void)s;
	for (; h; h = h->next >= 0 ? &resp->hdr[h->next] : NULL) {
		if (sip_addr_decode(&a, h->val) || a.star ||
		    (a.uri.scheme != SIP_URI_SIP && a.uri.scheme != SIP_URI_SIPS) ||
		    a.uri_pl.l >= sizeof(f->redirect))
			continue;
		pl_strcpy(a.uri_pl, f->redirect, sizeof(f->redirect));
		LOGI(f->call->ctx, "%u: redirected to %s", code, f->redirect);
		return;
	}
	LOGN(f->call->ctx, "%u without a SIP Contact to follow", code);
}

/* A fork redirected: a new INVITE to its Contact, at most CALL_MAX_REDIRECTS in a call. */
static bool follow_redirect(struct call *c, struct call_fork *f)
{
	char target[sizeof(f->redirect)];

	if (!f->redirect[0] || f->code < 300 || f->code >= 400 || c->answered || !a_alive(c))
		return false;
	if (c->redirects >= CALL_MAX_REDIRECTS) {
		LOGN(c->ctx, "redirect to %s not followed: %u redirects already", f->redirect,
		     c->redirects);
		return false;
	}
	if (c->nforks >= CALL_MAX_FORKS)
		return false;
	c->redirects++;
	snprintf(target, sizeof(target), "%s", f->redirect);
	f->redirect[0] = '\0';
	return in_fork(c, target, "", c->from, c->to, c->hdrs) == 0;
}

static void in_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct call_fork *f = arg;
	struct call *c = f->call;
	mem_ref(c);
	if (c->sess == s) { /* the answered leg: BYE from the phone, or ours done */
		call_ended_by(c, CDR_END_SIP);
		c->sess = NULL;
		fork_end(f);
		a_hangup(c, err, code);
	} else {
		fork_end(f);
		f->code = err ? 408 : code;
		if (rank(f->code) > rank(c->best))
			c->best = f->code;
		LOGD(c->ctx, "fork %s: %u %s", sip_sess_callid(s), f->code, reason ? reason : "");
		if (follow_redirect(c, f)) {
			mem_deref(c);
			return;
		}
		if (!c->nlive && !c->answered && a_alive(c)) {
			c->cc->st.in_failed++;
			a_fail(c, c->best ? c->best : 408);
		}
	}
	call_check_done(c);
	mem_deref(c);
}

static void in_progress(struct sip_sess *s, uint16_t code, const struct sip_msg *resp, void *arg)
{
	struct call_fork *f = arg;
	struct call *c = f->call;

	(void)s;
	(void)resp;
	if (c->answered || !a_alive(c))
		return;
	if (code == 180 && !c->alerted) {
		c->alerted = true;
		a_alerting(c);
	} else if (code == 183) {
		a_progress(c);
	}
}

static void in_established(struct sip_sess *s, const struct sip_msg *msg, void *arg)
{
	struct call_fork *f = arg;
	struct call *c = f->call;

	if (c->answered || !a_alive(c)) { /* a second 2xx, or the caller left */
		/* the fork stays live (and the call with it) until the BYE's outcome */
		if (sip_sess_bye(s, NULL)) {
			sip_sess_close(s, 0);
			fork_end(f);
			call_check_done(c);
		}
		return;
	}
	c->answered = true;
	c->answer_ms = call_wall_ms();
	c->sess = s;
	c->cc->st.in_answered++;
	if (c->dir != CALL_LOCAL) {
		snprintf(c->callid, sizeof(c->callid), "%s", sip_sess_callid(s));
		call_set_ctx(c);
	}
	LOGI(c->ctx, "answered by %s: %s", sip_dialog_remote_target(sip_sess_dialog(s)),
	     c->dir == CALL_LOCAL ? "200" : "CONNECT");
	a_connect(c, msg);
	/* The others lose: CANCEL with Reason: SIP;cause=200 (RFC 3326), so phones do not
	 * list the call as missed. */
	for (unsigned i = 0; i < c->nforks; i++)
		if (c->forks[i].live && c->forks[i].sess != s) {
			sip_sess_close_reason(c->forks[i].sess, 0, 200, 0);
			fork_end(&c->forks[i]);
		}
}

/* A re-INVITE or UPDATE from the answered phone (hold, resume, a new address). */
static uint16_t in_offer(struct sip_sess *s, const struct sip_msg *msg, const char **ctype,
                         struct pl *answer, void *arg)
{
	struct call_fork *f = arg;
	struct call *c = f->call;
	uint16_t code;

	if (c->dir == CALL_LOCAL || s != c->sess)
		return 488; /* user to user: SDP is not ours to answer (no re-offer relay yet) */
	if ((code = call_media_answer(c, msg->body)))
		return code;
	*ctype = "application/sdp";
	*answer = pl_make(c->sdp, c->sdp_len);
	call_media_sync(c);
	return 0;
}

static void in_answer(struct sip_sess *s, uint16_t code, const struct sip_msg *msg, void *arg)
{
	struct call_fork *f = arg;
	struct call *c = f->call;

	if (c->dir != CALL_LOCAL && s == c->sess && code < 300 && msg && msg->body.l &&
	    !call_media_peer_answer(c, msg->body))
		call_media_sync(c);
}

static uint16_t in_info(struct sip_sess *s, struct pl package, const struct sip_msg *msg,
                        void *arg)
{
	struct call_fork *f = arg;

	(void)package;
	if (f->call->dir == CALL_LOCAL || s != f->call->sess)
		return 469; /* Bad Info Package: nothing to relay it to */
	return call_media_info(f->call, msg);
}

static const struct sip_sess_handlers in_handlers = {
    .progress = in_progress,
    .established = in_established,
    .closed = in_closed,
    .offer = in_offer,
    .answer = in_answer,
    .info = in_info,
    .redirect = in_redirect,
};

/* From, P-Asserted-Identity, Privacy from the calling number and its presentation. */
void call_pstn_identity(struct call *c, const struct tpri_number *calling, char *from,
                        size_t fsize, char *hdrs, size_t hsize)
{
	const char *dom = sip_ua_domain(c->cc->cfg.ua);
	struct route_number num;
	struct route_sip_id id;
	bool has =
	    calling && calling->digits[0] &&
	    !route_from_q931(&c->cc->cfg.cfg->numbering, calling->digits,
	                     (enum route_ton)calling->ton, (enum route_npi)calling->npi, &num);
	size_t n = 0;

	route_pres_to_sip(
	    has ? (enum route_pres)tpri_number_pres(calling) : ROUTE_PRES_UNAVAILABLE,
	    has ? (enum route_screen)tpri_number_screen(calling) : ROUTE_SCREEN_NETWORK, has, &id);
	if (id.number_in_from)
		snprintf(from, fsize, "<sip:%s@%s;user=phone>", num.digits, dom);
	else
		snprintf(from, fsize, "\"Anonymous\" <sip:anonymous@anonymous.invalid>");
	hdrs[0] = '\0';
	if (id.send_pai)
		n = (size_t)snprintf(hdrs, hsize, "P-Asserted-Identity: <sip:%s@%s;user=phone>\r\n",
		                     num.digits, dom);
	if (id.privacy && n < hsize)
		snprintf(hdrs + n, hsize - n, "Privacy: %s\r\n", id.privacy);
}

/* RFC 5806 Diversion from the redirecting number (Q.931 reason -> diversion-reason). */
static void in_diversion(struct call *c, const struct tpri_event *ev, char *hdrs, size_t hsize)
{
	static const struct {
		int q931;
		const char *sip;
	} reasons[] = {
	    {0x1, "user-busy"},      {0x2, "no-answer"}, {0x3, "deflection"},
	    {0x9, "out-of-service"}, {0xA, "follow-me"}, {0xF, "unconditional"},
	};
	const struct tpri_number *r = ev->redirecting;
	const char *why = "unknown";
	struct route_number num;
	size_t n = strlen(hdrs);

	if (!r || !r->digits[0] ||
	    route_from_q931(&c->cc->cfg.cfg->numbering, r->digits, (enum route_ton)r->ton,
	                    (enum route_npi)r->npi, &num))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (reasons[i].q931 == ev->redirect_reason)
			why = reasons[i].sip;
	if (n < hsize)
		snprintf(hdrs + n, hsize - n, "Diversion: <sip:%s@%s;user=phone>;reason=%s\r\n",
		         num.digits, sip_ua_domain(c->cc->cfg.ua), why);
}

static int in_fork(struct call *c, const char *target, const char *route, const char *from,
                   const char *to, const char *hdrs)
{
	struct call_fork *f = &c->forks[c->nforks];
	struct sip_sess_connect_opts o = {
	    .target = target,
	    .from = from,
	    .to = to,
	    .route = route && route[0] ? route : NULL,
	    .extra_hdrs = hdrs[0] ? hdrs : NULL,
	    .ctype = "application/sdp",
	    .body = c->sdp,
	    .body_len = c->sdp_len,
	};
	int err;

	f->call = c;
	err = sip_sess_connect(&f->sess, c->cc->cfg.ua, &o, &in_handlers, f);
	if (err) {
		LOGW(c->ctx, "INVITE to %s: %s", target, strerror(err));
		return err;
	}
	f->live = true;
	c->nforks++;
	c->nlive++;
	if (!c->callid[0] && c->dir == CALL_IN) {
		snprintf(c->callid, sizeof(c->callid), "%s", sip_sess_callid(f->sess));
		call_set_ctx(c);
	}
	LOGI(c->ctx, "INVITE %s (Call-ID %s)", target, sip_sess_callid(f->sess));
	return 0;
}

/* sip:+E164@trunk (transport as configured): the called number in E.164; through the
 * trunk's outbound proxy, if any, as the first Route (the dialog's route set is then the
 * 2xx's Record-Route, so in-dialog requests follow the proxy's choice). */
static int trunk_target(struct call *c, const char *name, const struct tpri_number *called,
                        struct targets *t)
{
	const struct cfg_trunk *tr = cfg_trunk_find(c->cc->cfg.cfg, name);
	struct route_number num;
	char hp[SA_STRLEN];

	if (!tr || route_from_q931(&c->cc->cfg.cfg->numbering, called->digits,
	                           (enum route_ton)called->ton, (enum route_npi)called->npi, &num))
		return Q850_NO_ROUTE_DESTINATION;
	snprintf(t->uri[0], sizeof(t->uri[0]), "sip:%s@%s;user=phone%s", num.digits,
	         sa_str(&tr->addr, hp, sizeof(hp)),
	         tr->tp == SIP_TP_TCP   ? ";transport=tcp"
	         : tr->tp == SIP_TP_TLS ? ";transport=tls"
	                                : "");
	if (tr->proxy)
		snprintf(t->path[0], sizeof(t->path[0]), "%s", tr->proxy);
	t->n = 1;
	return 0;
}

/* The targets of a DID rule; a cause when there are none. */
static int in_targets(struct call *c, const struct route_did *did, const struct tpri_number *called,
                      struct targets *t)
{
	struct reg *reg = c->cc->cfg.reg;

	memset(t, 0, sizeof(*t));
	switch (did->kind) {
	case ROUTE_TARGET_USER:
		if (!reg || reg_lookup(reg, did->target, collect, t, NULL))
			return Q850_TEMPORARY_FAILURE;
		return t->n ? 0 : 20; /* subscriber absent */
	case ROUTE_TARGET_URI:
		snprintf(t->uri[0], sizeof(t->uri[0]), "%s", did->target);
		t->n = 1;
		return 0;
	default:
		return trunk_target(c, did->target, called, t);
	}
}

static int in_start(struct call *c, const struct tpri_event *ev)
{
	const struct route_did *did;
	char from[160], to[272], hdrs[512];
	struct targets t;
	struct sa local;
	int cause;

	if (route_did_lookup(c->cc->cfg.routes, ev->called->digits, (enum route_ton)ev->called->ton,
	                     (enum route_npi)ev->called->npi, &did)) {
		c->cc->st.no_route++;
		LOGN(c->ctx, "no DID route for %s: cause 1", ev->called->digits);
		return Q850_UNALLOCATED;
	}
	if ((cause = in_targets(c, did, ev->called, &t))) {
		LOGN(c->ctx, "DID %s -> %s: no contact (cause %d)", ev->called->digits, did->target,
		     cause);
		return cause;
	}
	if (sip_ua_local(c->cc->cfg.ua, SIP_TP_UDP, AF_INET, &local))
		return Q850_TEMPORARY_FAILURE;
	call_media_local_for(c, t.path[0][0] ? t.path[0] : t.uri[0], &local); /* the next hop */
	if (call_media_init(c, &local) || call_media_offer(c))
		return Q850_TEMPORARY_FAILURE;
	call_pstn_identity(c, ev->calling, from, sizeof(from), hdrs, sizeof(hdrs));
	in_diversion(c, ev, hdrs, sizeof(hdrs));
	if (did->kind == ROUTE_TARGET_USER)
		snprintf(to, sizeof(to), "<sip:%s@%s>", did->target, sip_ua_domain(c->cc->cfg.ua));
	else
		snprintf(to, sizeof(to), "<%s>", t.uri[0]);
	snprintf(c->from, sizeof(c->from), "%s", from);
	snprintf(c->to, sizeof(c->to), "%s", to);
	snprintf(c->hdrs, sizeof(c->hdrs), "%s", hdrs);
	for (unsigned i = 0; i < t.n; i++)
		in_fork(c, t.uri[i], t.path[i], from, to, hdrs);
	return c->nforks ? 0 : Q850_DEST_OUT_OF_ORDER;
}

void call_in_ring(struct call_ctl *cc, struct tpri *tp, const struct tpri_event *ev)
{
	struct call *c;
	int cause;

	if (call_alloc(&c, cc, CALL_IN)) {
		tpri_call_hangup(ev->call, Q850_SWITCH_CONGESTION);
		return;
	}
	cc->st.in_calls++;
	c->tp = tp;
	c->pc = ev->call;
	tpri_call_set_arg(c->pc, c);
	if (ev->called)
		c->called = *ev->called;
	if (ev->calling)
		c->calling = *ev->calling;
	snprintf(c->callid, sizeof(c->callid), "pri-%u", ++cc->seq);
	call_set_ctx(c);
	c->callid[0] = '\0';
	LOGI(c->ctx, "SETUP called %s calling %s", ev->called->digits,
	     ev->calling && ev->calling->digits[0] ? ev->calling->digits : "-");
	if ((cause = in_start(c, ev))) {
		cc->st.in_failed++;
		in_clear_pri(c, cause);
	}
}

void call_in_pri_event(struct call *c, const struct tpri_event *ev)
{
	char hdr[160];

	if (ev->type != TPRI_EV_HANGUP)
		return;
	c->pc = NULL;
	if (c->answered && c->sess && !c->bye_sent) {
		LOGI(c->ctx, "PSTN hung up (cause %d): BYE", ev->cause);
		c->bye_sent = true;
		c->cause_sip = ev->cause;
		if (call_reason_hdr(hdr, sizeof(hdr), ev->cause))
			hdr[0] = '\0';
		if (sip_sess_bye(c->sess, hdr)) {
			sip_sess_close(c->sess, 0);
			for (unsigned i = 0; i < c->nforks; i++)
				if (c->forks[i].sess == c->sess)
					fork_end(&c->forks[i]);
			c->sess = NULL;
		}
	} else if (!c->answered) {
		if (c->nlive)
			LOGI(c->ctx, "PSTN gave up (cause %d): CANCEL", ev->cause);
		for (unsigned i = 0; i < c->nforks; i++)
			if (c->forks[i].live) {
				sip_sess_close_reason(c->forks[i].sess, 0, 0,
				                      ev->cause > 0 && ev->cause < 128
				                          ? (uint8_t)ev->cause
				                          : Q850_NORMAL_CLEARING);
				fork_end(&c->forks[i]);
			}
	}
	call_check_done(c);
}

int call_in_ring_user(struct call *c, const char *user, const char *from, const char *to)
{
	struct route_did did = {.kind = ROUTE_TARGET_USER, .target = (char *)user};
	struct targets t;
	int cause = in_targets(c, &did, NULL, &t);

	snprintf(c->from, sizeof(c->from), "%s", from);
	snprintf(c->to, sizeof(c->to), "%s", to);
	c->hdrs[0] = '\0';
	for (unsigned i = 0; !cause && i < t.n; i++)
		in_fork(c, t.uri[i], t.path[i], from, to, "");
	return cause ? cause : c->nforks ? 0 : Q850_DEST_OUT_OF_ORDER;
}

void call_in_a_gone(struct call *c)
{
	if (c->sess) {
		if (!c->bye_sent && sip_sess_bye(c->sess, NULL)) {
			sip_sess_close(c->sess, 0);
			for (unsigned i = 0; i < c->nforks; i++)
				if (c->forks[i].sess == c->sess)
					fork_end(&c->forks[i]);
			c->sess = NULL;
		}
		c->bye_sent = true;
		return;
	}
	for (unsigned i = 0; i < c->nforks; i++)
		if (c->forks[i].live) {
			sip_sess_close(c->forks[i].sess, 0);
			fork_end(&c->forks[i]);
		}
}

void call_in_abort(struct call *c)
{
	if (c->a) {
		if (c->answered)
			sip_sess_close(c->a, 0);
		else
			sip_sess_reject(c->a, 503, NULL, NULL);
		c->a = NULL;
	}
	for (unsigned i = 0; i < c->nforks; i++)
		if (c->forks[i].live) {
			sip_sess_close(c->forks[i].sess, 0);
			fork_end(&c->forks[i]);
		}
	c->sess = NULL;
	in_clear_pri(c, Q850_TEMPORARY_FAILURE);
}

/*
 * Overlap receiving: a SETUP is held (SETUP ACKNOWLEDGE, digits under T302)
 * while a longer called number could still match a DID rule; tdm/pri clears
 * with cause 1 when nothing can match and 28 when the number stays incomplete.
 */
enum tpri_digits call_in_digits(struct tpri *tp, struct tpri_call *pc,
                                const struct tpri_number *called, bool timeout, void *arg)
{
	struct call_ctl *cc = arg;
	const struct route_did *did;

	(void)tp;
	(void)pc;
	switch (route_did_overlap(cc->cfg.routes, called->digits, (enum route_ton)called->ton,
	                          (enum route_npi)called->npi)) {
	case ROUTE_OVERLAP_COMPLETE:
		return TPRI_DIGITS_COMPLETE;
	case ROUTE_OVERLAP_INCOMPLETE:
		/* at T302, a variable-length number that already matches is taken */
		if (timeout &&
		    !route_did_lookup(cc->cfg.routes, called->digits, (enum route_ton)called->ton,
		                      (enum route_npi)called->npi, &did))
			return TPRI_DIGITS_COMPLETE;
		return TPRI_DIGITS_INCOMPLETE;
	default:
		return TPRI_DIGITS_NOMATCH;
	}
}

void call_in_clear(struct call *c, int cause)
{
	char hdr[160];

	call_ended_by(c, CDR_END_GATEWAY);
	in_clear_pri(c, cause);
	if (call_reason_hdr(hdr, sizeof(hdr), cause))
		hdr[0] = '\0';
	if (c->a) { /* CALL_LOCAL: the calling phone */
		c->cause_sip = cause;
		if (!c->answered) {
			c->sip_status = cause_to_sip(c->cc->cfg.causes, (unsigned)cause, NULL);
			sip_sess_reject(c->a, c->sip_status, NULL, hdr);
			c->a = NULL;
		} else if (sip_sess_bye(c->a, hdr)) {
			sip_sess_close(c->a, 0);
			c->a = NULL;
		}
	}
	if (c->sess && !c->bye_sent) {
		c->bye_sent = true;
		c->cause_sip = cause;
		if (sip_sess_bye(c->sess, hdr)) {
			sip_sess_close(c->sess, 0);
			for (unsigned i = 0; i < c->nforks; i++)
				if (c->forks[i].sess == c->sess)
					fork_end(&c->forks[i]);
			c->sess = NULL;
		}
	} else if (!c->sess) {
		for (unsigned i = 0; i < c->nforks; i++)
			if (c->forks[i].live) {
				sip_sess_close(c->forks[i].sess, 0);
				fork_end(&c->forks[i]);
			}
	}
	call_check_done(c);
}

int call_user_contact(struct call_ctl *cc, const char *user, char *uri, size_t usize, char *route,
                      size_t rsize)
{
	struct targets t = {0};

	if (!cc->cfg.reg || reg_lookup(cc->cfg.reg, user, collect, &t, NULL))
		return EIO;
	if (!t.n)
		return ENOENT;
	snprintf(uri, usize, "%s", t.uri[0]);
	snprintf(route, rsize, "%s", t.path[0]);
	return 0;
}

void call_in_leg_gone(struct call *c, struct sip_sess *s)
{
	for (unsigned i = 0; i < c->nforks; i++)
		if (c->forks[i].live && c->forks[i].sess == s)
			fork_end(&c->forks[i]);
}

void call_in_leg_adopt(struct call *c, struct sip_sess *s)
{
	struct call_fork *f = NULL;

	for (unsigned i = 0; i < c->nforks && !f; i++)
		if (c->forks[i].live && c->forks[i].sess == s)
			f = &c->forks[i];
	for (unsigned i = 0; i < c->nforks && !f; i++) /* a slot of a fork that is over */
		if (!c->forks[i].live)
			f = &c->forks[i];
	if (!f && c->nforks < CALL_MAX_FORKS)
		f = &c->forks[c->nforks++];
	if (!f) { /* cannot happen: the answered leg's own slot is free once it left */
		sip_sess_close(s, 0);
		return;
	}
	if (!f->live) {
		f->call = c;
		f->sess = s;
		f->code = 0;
		f->live = true;
		c->nlive++;
	}
	c->sess = s;
	sip_sess_set_handlers(s, &in_handlers, f);
}
