/*
 * Outbound calls: SIP -> PSTN.
 *
 * INVITE -> trunk by address, or digest (auth.c) -> a configured user's name
 * goes to local.c -> Request-URI to E.164 -> outbound route ->
 * SETUP on a free B-channel of the route's first span group with one (the
 * next group is tried when the network answers with congestion: causes 34,
 * 42, 44). PSTN progress becomes SIP: CALL PROCEEDING nothing (the
 * transaction sent 100), ALERTING 180, PROGRESS with in-band information 183
 * with our SDP answer and the B-channel's audio as early media (also for an
 * ALERTING that says in-band information is there: ringback), CONNECT 200
 * with the SDP answer negotiated at INVITE time (or our offer, when the
 * INVITE had none: 183s then go without SDP). Clearing before the answer becomes a
 * final status from the cause map with Reason: Q.850; after it, a BYE with
 * Reason. CANCEL and BYE from the phone clear the PRI call with cause 16.
 */
#include "call/call_int.h"

#include "cause/cause.h"
#include "cdr/cdr.h"
#include "core/log.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "sip/ua/ua.h"

#include <libpri.h>
#include <stdio.h>
#include <string.h>

#define CAUSE_TIMER_EXPIRY 102 /* Q.850 recovery on timer expiry */

static void reject_cause(struct call_ctl *cc, struct sip_sess *sess, uint16_t code, int cause,
                         const char *extra)
{
	char hdr[256];
	size_t n = 0;

	hdr[0] = '\0';
	if (cause > 0 && !call_reason_hdr(hdr, sizeof(hdr), cause))
		n = strlen(hdr);
	if (extra)
		snprintf(hdr + n, sizeof(hdr) - n, "%s", extra);
	if (!code)
		code = cause_to_sip(cc->cfg.causes, (unsigned)cause, NULL);
	sip_sess_reject(sess, code, NULL, hdr[0] ? hdr : NULL);
}

static void out_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct call *c = arg;

	(void)s;
	c->sess = NULL;
	if (!c->answered && code >= 300 && !c->sip_status)
		c->sip_status = code;
	if (c->pc && !c->pri_cleared) {
		/* a session timer or a 2xx never ACKed: "recovery on timer expiry" */
		int cause = err == ETIMEDOUT ? CAUSE_TIMER_EXPIRY : Q850_NORMAL_CLEARING;

		call_ended_by(c, CDR_END_SIP);
		c->cause_pstn = cause;
		if (err)
			LOGI(c->ctx, "SIP leg ended (%s): clearing the PRI call with cause %d",
			     strerror(err), cause);
		else
			LOGI(c->ctx, "SIP leg ended (%u%s): clearing the PRI call with cause %d", code,
			     code == 487 ? " CANCEL" : code ? "" : " BYE", cause);
		c->pri_cleared = true;
		tpri_call_hangup(c->pc, cause);
	} else {
		LOGD(c->ctx, "SIP leg closed (%u %s)", code, reason ? reason : "");
	}
	if (!c->answered)
		c->cc->st.out_failed++;
	call_check_done(c);
}

static void out_answer(struct sip_sess *s, uint16_t code, const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;

	(void)s;
	if (code < 300 && msg && msg->body.l && !call_media_peer_answer(c, msg->body))
		call_media_sync(c);
}

static uint16_t out_offer(struct sip_sess *s, const struct sip_msg *msg, const char **ctype,
                          struct pl *answer, void *arg)
{
	struct call *c = arg;
	uint16_t code;

	(void)s;
	code = call_media_answer(c, msg->body);
	if (code)
		return code;
	*ctype = "application/sdp";
	*answer = pl_make(c->sdp, c->sdp_len);
	call_media_sync(c); /* hold, resume, a new address */
	return 0;
}

static uint16_t out_info(struct sip_sess *s, struct pl package, const struct sip_msg *msg,
                         void *arg)
{
	(void)s;
	(void)package;
	return call_media_info(arg, msg);
}

static const struct sip_sess_handlers out_handlers = {
    .closed = out_closed,
    .answer = out_answer,
    .offer = out_offer,
    .info = out_info,
};

static const enum tpri_hunt hunt_map[] = {
    [ROUTE_HUNT_ASCENDING] = TPRI_HUNT_ASC,
    [ROUTE_HUNT_DESCENDING] = TPRI_HUNT_DESC,
    [ROUTE_HUNT_ROUNDROBIN] = TPRI_HUNT_RR,
};

/* SETUP on the first span of the current (or a later) group with a free channel. */
static int out_place(struct call *c)
{
	const struct route_out *r = c->rm.route;
	struct call_ctl *cc = c->cc;
	unsigned ts;

	for (; c->gidx < r->ngroups; c->gidx++) {
		/* round robin spreads calls over the group's spans too, not only its channels */
		unsigned first = r->hunt == ROUTE_HUNT_ROUNDROBIN ? cc->rr_span : 0;

		for (unsigned k = 0; k < cc->nspans; k++) {
			unsigned i = (first + k) % cc->nspans;
			struct call_span *s = &cc->spans[i];

			if (s->group != r->groups[c->gidx] || !tpri_dchan_up(s->tp) ||
			    tpri_hunt(s->tp, hunt_map[r->hunt], &ts) ||
			    tpri_call_place(&c->pc, s->tp, ts, true, &c->called, &c->calling))
				continue;
			c->tp = s->tp;
			cc->rr_span = i + 1;
			c->pri_cleared = false;
			tpri_call_set_arg(c->pc, c);
			call_set_ctx(c);
			LOGI(c->ctx, "SETUP called %s (%s/%s) calling %s, route %s, group %u",
			     c->called.digits, route_ton_name(c->rm.ton), route_npi_name(c->rm.npi),
			     c->calling.digits[0] ? c->calling.digits : "-", r->name,
			     r->groups[c->gidx]);
			return 0;
		}
	}
	return ENOSPC;
}

/* Who is calling: a user (its configured number) or a trunk (its PAI, else From). */
struct caller {
	const struct cfg_user *user;
	const struct cfg_trunk *trunk;
	struct route_number num;
	enum route_id_source src;
};

static bool number_of(const struct call_ctl *cc, struct pl addr, struct route_number *num)
{
	struct sip_addr a;

	return !sip_addr_decode(&a, addr) &&
	       !route_normalise_uri(&cc->cfg.cfg->numbering, &a.uri, num) &&
	       num->kind == ROUTE_NUM_E164;
}

static void caller_identify(const struct call_ctl *cc, const struct sip_msg *inv,
                            struct caller *who)
{
	const struct sip_hdr *pai = sip_msg_hdr(inv, SIP_HDR_P_ASSERTED_IDENTITY);

	who->src = ROUTE_ID_NONE;
	if (who->user) {
		if (who->user->number) {
			snprintf(who->num.digits, sizeof(who->num.digits), "%s", who->user->number);
			who->src = ROUTE_ID_GATEWAY;
		}
	} else if (pai && number_of(cc, pai->val, &who->num)) {
		who->src = ROUTE_ID_PAI; /* a trusted peer vouches for it */
	} else if (number_of(cc, inv->from.val, &who->num)) {
		who->src = ROUTE_ID_FROM;
	}
}

/* Calling number, national when at home; presentation from Privacy. */
static void out_calling(struct call *c, const struct caller *who, const struct sip_msg *inv)
{
	const struct route_numplan *np = &c->cc->cfg.cfg->numbering;
	const struct sip_hdr *h = sip_msg_hdr(inv, SIP_HDR_PRIVACY);
	struct tpri_number *n = &c->calling;
	const char *e164 = who->num.digits;
	enum route_pres pres;
	enum route_screen scr;

	route_pres_from_sip(h ? h->val : (struct pl)PL_INIT, who->src, &pres, &scr);
	n->pres = tpri_pres_octet((enum tpri_pres)pres, (enum tpri_screen)scr);
	n->npi = TPRI_NPI_E164;
	if (who->src == ROUTE_ID_NONE)
		return;
	if (!route_to_q931(np, e164, ROUTE_TON_NATIONAL, n->digits, sizeof(n->digits)))
		n->ton = TPRI_TON_NATIONAL;
	else if (!route_to_q931(np, e164, ROUTE_TON_INTERNATIONAL, n->digits, sizeof(n->digits)))
		n->ton = TPRI_TON_INTERNATIONAL;
}

static bool ctl_can_take(const struct call_ctl *cc)
{
	for (unsigned i = 0; i < cc->nspans; i++)
		if (tpri_dchan_up(cc->spans[i].tp))
			return true;
	return false;
}

/* A route that sends callers elsewhere: 302 with its Contact ({number}: the E.164). */
static void redirect(struct sip_sess *sess, const struct route_out *r, const char *e164,
                     const char *ctx)
{
	const char *tok = strstr(r->redirect, "{number}");
	char hdr[300];

	if (tok)
		snprintf(hdr, sizeof(hdr), "Contact: <%.*s%s%s>\r\n", (int)(tok - r->redirect),
		         r->redirect, e164, tok + strlen("{number}"));
	else
		snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n", r->redirect);
	LOGI(ctx, "route %s redirects %s: 302 %.*s", r->name, e164, (int)strcspn(hdr + 9, "\r"),
	     hdr + 9);
	sip_sess_reject(sess, 302, NULL, hdr);
}

/* Number and route; answers the INVITE itself and returns false when there is none. */
static bool out_route(struct call_ctl *cc, struct sip_sess *sess, const struct sip_msg *inv,
                      struct route_out_match *m, const char *ctx)
{
	struct route_number num;
	int err = route_normalise_uri(&cc->cfg.cfg->numbering, &inv->ruri, &num);

	if (err) {
		LOGN(ctx, "Request-URI %.*s is not a number we can dial", PL_ARG(inv->ruri_pl));
		sip_sess_reject(sess, err == EPROTONOSUPPORT ? 416 : 484, NULL, NULL);
		return false;
	}
	if (route_out_lookup(cc->cfg.routes, num.digits, m)) {
		cc->st.no_route++;
		LOGN(ctx, "no outbound route for %s", num.digits);
		reject_cause(cc, sess, 404, Q850_NO_ROUTE_DESTINATION, NULL);
		return false;
	}
	if (m->route->redirect[0]) {
		redirect(sess, m->route, num.digits, ctx);
		return false;
	}
	return true;
}

static int out_start(struct call *c, const struct sip_msg *inv, const struct caller *who)
{
	struct sa local = inv->dst;
	uint16_t code;

	if (!sa_isset(&local) && sip_ua_local(c->cc->cfg.ua, inv->tp, AF_INET, &local))
		return 500;
	if (call_media_init(c, &local))
		return 500;
	if (inv->body.l && (code = call_media_answer(c, inv->body)))
		return code;
	if (strlen(c->rm.called) >= sizeof(c->called.digits))
		return 484;
	memcpy(c->called.digits, c->rm.called, strlen(c->rm.called) + 1);
	c->called.ton = (uint8_t)c->rm.ton;
	c->called.npi = (uint8_t)c->rm.npi;
	out_calling(c, who, inv);
	return 0;
}

void call_ctl_invite(struct sip_sess *sess, const struct sip_msg *inv, void *arg)
{
	struct call_ctl *cc = arg;
	struct caller who = {0};
	struct route_out_match m;
	char ctx[128], ra[64];
	struct call *c;
	uint16_t code;

	snprintf(ctx, sizeof(ctx), "call=%.*s", PL_ARG(inv->callid));
	/* Trunks are trusted by address; everyone else authenticates as a user. */
	who.trunk = cfg_trunk_by_addr(cc->cfg.cfg, inv->tp, &inv->src);
	if (!who.trunk && !(who.user = call_auth_invite(cc, sess, inv, ctx)))
		return;
	if (who.user && call_local_invite(cc, sess, inv, who.user, ctx))
		return;
	if (!ctl_can_take(cc)) {
		LOGN(ctx, "INVITE %.*s: no span is up, answering 503", PL_ARG(inv->ruri_pl));
		snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", cc->cfg.retry_after);
		reject_cause(cc, sess, 503, Q850_NETWORK_OUT_OF_ORDER, ra);
		return;
	}
	if (!out_route(cc, sess, inv, &m, ctx))
		return;
	caller_identify(cc, inv, &who);
	if (call_alloc(&c, cc, CALL_OUT)) {
		sip_sess_reject(sess, 500, NULL, NULL);
		return;
	}
	cc->st.out_calls++;
	c->rm = m;
	c->route = *m.route;
	c->rm.route = &c->route;
	pl_strcpy(inv->callid, c->callid, sizeof(c->callid));
	call_set_ctx(c);
	LOGI(c->ctx, "INVITE %.*s from %s %s", PL_ARG(inv->ruri_pl), who.user ? "user" : "trunk",
	     who.user ? who.user->name : who.trunk->name);
	if ((code = out_start(c, inv, &who))) {
		c->sip_status = code;
		sip_sess_reject(sess, code, NULL, NULL);
		cc->st.out_failed++;
		call_check_done(c);
		return;
	}
	c->sess = sess;
	sip_sess_set_handlers(sess, &out_handlers, c);
	if (out_place(c)) {
		LOGN(c->ctx, "no free B-channel in the route's groups");
		c->sip_status = 503;
		c->cause_sip = Q850_NO_CIRCUIT;
		reject_cause(cc, sess, 503, Q850_NO_CIRCUIT, NULL);
		c->sess = NULL;
		cc->st.out_failed++;
		call_check_done(c);
	}
}

static void out_fail(struct call *c, int cause)
{
	const char *phrase = NULL;
	uint16_t code = cause_to_sip(c->cc->cfg.causes, (unsigned)cause, &phrase);
	char hdr[160];

	LOGI(c->ctx, "PSTN cleared with cause %d (%s): %u", cause,
	     cause_name((unsigned)cause) ? cause_name((unsigned)cause) : "?", code);
	if (call_reason_hdr(hdr, sizeof(hdr), cause))
		hdr[0] = '\0';
	c->sip_status = code;
	c->cause_sip = cause;
	sip_sess_reject(c->sess, code, phrase, hdr);
	c->sess = NULL;
	c->cc->st.out_failed++;
}

static bool congestion(int cause)
{
	return cause == Q850_NO_CIRCUIT || cause == Q850_SWITCH_CONGESTION ||
	       cause == 44; /* requested circuit not available */
}

static void out_hangup(struct call *c, int cause)
{
	char hdr[160];

	c->pc = NULL;
	c->cause = cause;
	if (!c->sess)
		return;
	if (!c->answered) {
		if (!c->pri_cleared && congestion(cause) && c->gidx + 1 < c->rm.route->ngroups) {
			c->gidx++;
			c->cc->st.congestion_failover++;
			LOGN(c->ctx, "cause %d: trying the next span group", cause);
			if (!out_place(c))
				return;
		}
		out_fail(c, cause);
		return;
	}
	if (c->bye_sent)
		return;
	c->bye_sent = true;
	LOGI(c->ctx, "PSTN hung up (cause %d): BYE", cause);
	c->cause_sip = cause;
	if (call_reason_hdr(hdr, sizeof(hdr), cause))
		hdr[0] = '\0';
	if (sip_sess_bye(c->sess, hdr)) {
		sip_sess_close(c->sess, 0);
		c->sess = NULL;
	}
}

static void out_connect(struct call *c)
{
	int err;

	c->answered = true;
	if (!c->sess) {
		if (!c->pri_cleared) {
			c->pri_cleared = true;
			tpri_call_hangup(c->pc, Q850_NORMAL_CLEARING);
		}
		return;
	}
	c->cc->st.out_answered++;
	c->answer_ms = call_wall_ms();
	LOGI(c->ctx, "PSTN answered: 200");
	if (!c->sdp_len && (err = call_media_offer(c)))
		LOGW(c->ctx, "no SDP offer for the 200: %s", strerror(err));
	sip_sess_answer(c->sess, c->sdp_len ? "application/sdp" : NULL, c->sdp_len ? c->sdp : NULL,
	                c->sdp_len);
	call_media_sync(c); /* a delayed offer's answer comes in the ACK (out_answer) */
}

/* 183 with our answer and the B-channel as early media; without SDP when we have no
 * answer to give (delayed offer: our offer may not go in an unreliable 183). */
static void out_early_media(struct call *c)
{
	bool sdp = c->sdp_len && !c->sdp_is_offer;

	if (!c->sess)
		return;
	sip_sess_progress(c->sess, 183, sdp ? "application/sdp" : NULL, sdp ? c->sdp : NULL,
	                  sdp ? c->sdp_len : 0, false);
	if (sdp && !c->early) {
		c->early = true;
		LOGI(c->ctx, "in-band information: 183 with early media");
		call_media_sync(c);
	}
}

void call_out_pri_event(struct call *c, const struct tpri_event *ev)
{
	switch (ev->type) {
	case TPRI_EV_PROCEEDING:
		LOGD(c->ctx, "CALL PROCEEDING");
		break;
	case TPRI_EV_ALERTING:
		if (ev->progress & PRI_PROG_INBAND_AVAILABLE)
			out_early_media(c); /* the ringback comes from the network */
		else if (c->sess && !c->alerted)
			sip_sess_progress(c->sess, 180, NULL, NULL, 0, false);
		c->alerted = true;
		break;
	case TPRI_EV_PROGRESS:
		if (ev->progress & PRI_PROG_INBAND_AVAILABLE)
			out_early_media(c);
		break;
	case TPRI_EV_ANSWER:
		out_connect(c);
		break;
	case TPRI_EV_HANGUP:
		out_hangup(c, ev->cause);
		call_check_done(c);
		break;
	default:
		break;
	}
}

void call_out_abort(struct call *c)
{
	if (c->sess) {
		if (c->answered)
			sip_sess_close(c->sess, 0);
		else
			reject_cause(c->cc, c->sess, 503, Q850_TEMPORARY_FAILURE, NULL);
		c->sess = NULL;
	}
	if (c->pc && !c->pri_cleared) {
		c->cause_pstn = Q850_TEMPORARY_FAILURE;
		tpri_call_hangup(c->pc, Q850_TEMPORARY_FAILURE);
	}
}

void call_out_clear(struct call *c, int cause)
{
	char hdr[160];

	call_ended_by(c, CDR_END_GATEWAY);
	if (c->pc && !c->pri_cleared) { /* first: a SIP leg closing now must not clear it again */
		c->pri_cleared = true;
		c->cause_pstn = cause;
		tpri_call_hangup(c->pc, cause);
	}
	if (c->sess && c->answered && !c->bye_sent) {
		c->bye_sent = true;
		c->cause_sip = cause;
		if (call_reason_hdr(hdr, sizeof(hdr), cause))
			hdr[0] = '\0';
		if (sip_sess_bye(c->sess, hdr)) {
			sip_sess_close(c->sess, 0);
			c->sess = NULL;
		}
	} else if (c->sess && !c->answered) {
		c->sip_status = cause_to_sip(c->cc->cfg.causes, (unsigned)cause, NULL);
		c->cause_sip = cause;
		reject_cause(c->cc, c->sess, c->sip_status, cause, NULL);
		c->sess = NULL;
		c->cc->st.out_failed++;
	}
	call_check_done(c);
}

void call_out_leg_adopt(struct call *c, struct sip_sess *s)
{
	c->sess = s;
	sip_sess_set_handlers(s, &out_handlers, c);
}
