/*
 * Blind transfer (RFC 3515, RFC 5589 §6): the phone in a call with the PSTN
 * sends REFER; the gateway places a new SIP leg to the Refer-To target (a
 * configured user: its first registered contact; else the URI as given),
 * reports its progress to the transferor with NOTIFY (sipfrag 100, 180, the
 * final status), and when it answers joins the PSTN party to it: the
 * transferor is hung up (if it has not left already), the new leg becomes the
 * call's SIP leg, and the media channel moves to the new leg's RTP.
 * The new leg has its own RTP port and SDP negotiation until it answers.
 * If it fails, the transferor keeps the call; if the transferor has left
 * meanwhile, the PSTN party is cleared with the cause the failure maps to.
 * Not served: attended transfer (Replaces), transfer to a PSTN number (it
 * would need a second B-channel), calls between users (603 Declined).
 */
#include "call/call_int.h"

#include "cdr/cdr.h"
#include "cause/cause.h"
#include "core/log.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "sip/event/event.h"
#include "sip/ua/ua.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct call_xfer {
	struct call *call;
	struct sip_sess *old;  /* the transferor, until it leaves */
	struct sip_sess *sess; /* the new leg */
	struct sip_evsub *sub; /* the REFER's implicit subscription (NULL: Refer-Sub: false) */
	struct sdp_neg neg;
	char sdp[CALL_SDP_MAX];
	size_t sdp_len;
	int rtp_fd, rtcp_fd;
	char target[256];
};

static void xfer_destroy(void *arg)
{
	struct call_xfer *x = arg;

	if (x->rtp_fd >= 0)
		close(x->rtp_fd);
	if (x->rtcp_fd >= 0)
		close(x->rtcp_fd);
	if (x->sub)
		sip_evsub_set_handlers(x->sub, NULL, NULL);
}

static void notify(struct call_xfer *x, uint16_t code, const char *reason)
{
	if (x->sub && sip_refer_notify(x->sub, code, reason))
		LOGW(x->call->ctx, "transfer: NOTIFY %u not sent", code);
	if (code >= 200 && x->sub) { /* the final NOTIFY ends it: no more word to x */
		sip_evsub_set_handlers(x->sub, NULL, NULL);
		x->sub = NULL;
	}
}

static void sub_closed(struct sip_evsub *sub, int err, uint16_t code, const char *reason,
                       void *arg)
{
	struct call_xfer *x = arg;

	(void)sub;
	(void)err;
	(void)code;
	(void)reason;
	x->sub = NULL;
}

static const struct sip_evsub_handlers sub_handlers = {.closed = sub_closed};

/* The transferor's session while the transfer runs: it may leave, hold, send INFO. */
static void old_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct call_xfer *x = arg;
	struct call *c = x->call;

	(void)err;
	(void)code;
	(void)reason;
	LOGI(c->ctx, "transfer: the transferor left");
	x->old = NULL;
	if (c->sess == s)
		c->sess = NULL;
	call_leg_gone(c, s);
}

static uint16_t old_offer(struct sip_sess *s, const struct sip_msg *msg, const char **ctype,
                          struct pl *answer, void *arg)
{
	struct call_xfer *x = arg;
	struct call *c = x->call;
	uint16_t code = call_media_answer(c, msg->body);

	(void)s;
	if (code)
		return code;
	*ctype = "application/sdp";
	*answer = pl_make(c->sdp, c->sdp_len);
	call_media_sync(c);
	return 0;
}

static uint16_t old_info(struct sip_sess *s, struct pl package, const struct sip_msg *msg,
                         void *arg)
{
	struct call_xfer *x = arg;

	(void)s;
	(void)package;
	return call_media_info(x->call, msg);
}

static const struct sip_sess_handlers old_handlers = {
    .closed = old_closed,
    .offer = old_offer,
    .info = old_info,
};

static void xfer_progress(struct sip_sess *s, uint16_t code, const struct sip_msg *resp,
                          void *arg)
{
	(void)s;
	(void)resp;
	if (code > 100)
		notify(arg, code, code == 180 ? "Ringing" : "Session Progress");
}

static void xfer_answer(struct sip_sess *s, uint16_t code, const struct sip_msg *msg, void *arg)
{
	struct call_xfer *x = arg;
	struct sdp_session *sdp = NULL;
	int err;

	(void)s;
	if (code >= 300 || !msg || !msg->body.l)
		return;
	err = sdp_decode(&sdp, msg->body);
	if (!err)
		err = sdp_neg_process_answer(&x->neg, sdp);
	mem_deref(sdp);
	if (err)
		LOGN(x->call->ctx, "transfer: SDP answer not usable: %s", strerror(err));
}

/* The new leg answered: it becomes the call's SIP leg, with its own media. */
static void xfer_established(struct sip_sess *s, const struct sip_msg *msg, void *arg)
{
	struct call_xfer *x = arg;
	struct call *c = x->call;

	(void)msg;
	LOGI(c->ctx, "transfer: %s answered, joining the PSTN party to it", x->target);
	notify(x, 200, "OK");
	if (x->old) {
		struct sip_sess *old = x->old;

		sip_sess_set_handlers(old, NULL, NULL);
		x->old = NULL;
		if (c->sess == old)
			c->sess = NULL;
		if (sip_sess_bye(old, NULL))
			sip_sess_close(old, 0);
		call_leg_gone(c, old);
	}
	call_media_detach(c); /* the old channel stops; its stats are not the new leg's */
	c->neg = x->neg;
	c->neg.ctx = c->ctx;
	memcpy(c->sdp, x->sdp, x->sdp_len);
	c->sdp_len = x->sdp_len;
	c->sdp_is_offer = false;
	call_media_close(c);
	c->rtp_fd = x->rtp_fd;
	c->rtcp_fd = x->rtcp_fd;
	x->rtp_fd = x->rtcp_fd = -1;
	x->sess = NULL;
	c->xfer = NULL;
	c->bye_sent = false;
	call_leg_adopt(c, s);
	call_media_sync(c);
	mem_deref(x);
}

static void xfer_closed(struct sip_sess *s, int err, uint16_t code, const char *reason,
                        void *arg)
{
	struct call_xfer *x = arg;
	struct call *c = x->call;
	uint16_t status = err ? 408 : code >= 300 ? code : 500;

	(void)s;
	LOGN(c->ctx, "transfer to %s failed: %u %s", x->target, status, reason ? reason : "");
	notify(x, status, reason && *reason ? reason : "Transfer failed");
	x->sess = NULL;
	c->xfer = NULL;
	if (x->old) {
		call_leg_adopt(c, x->old); /* the transferor keeps the call */
	} else {
		int cause = (int)cause_from_sip(c->cc->cfg.causes, status, true);

		call_ended_by(c, CDR_END_SIP);
		if (c->dir == CALL_OUT)
			call_out_clear(c, cause);
		else
			call_in_clear(c, cause);
	}
	mem_deref(x);
	call_check_done(c);
}

static const struct sip_sess_handlers xfer_handlers = {
    .progress = xfer_progress,
    .answer = xfer_answer,
    .established = xfer_established,
    .closed = xfer_closed,
};

/* The Refer-To target: a configured user's first contact, else the URI itself. */
static int xfer_target(struct call *c, const struct sip_refer_to *rt, char *route, size_t rsize)
{
	const struct sip_uri *u = &rt->addr.uri;
	char user[64];

	route[0] = '\0';
	if (u->scheme == SIP_URI_TEL)
		return EPROTONOSUPPORT;
	if (pl_isset(u->user) && u->user.l < sizeof(user)) {
		pl_strcpy(u->user, user, sizeof(user));
		if (cfg_user_find(c->cc->cfg.cfg, user))
			return call_user_contact(c->cc, user, c->xfer->target,
			                         sizeof(c->xfer->target), route, rsize);
		if (call_is_number(user))
			return EPROTONOSUPPORT; /* a number: the PSTN */
	}
	if (u->whole.l >= sizeof(c->xfer->target))
		return E2BIG;
	pl_strcpy(u->whole, c->xfer->target, sizeof(c->xfer->target));
	return 0;
}

static struct call *call_of(struct call_ctl *cc, const struct sip_sess *sess)
{
	for (struct call *c = cc->calls; c; c = c->next)
		if (c->sess == sess)
			return c;
	return NULL;
}

static int xfer_start(struct call *c, struct call_xfer *x, const char *route)
{
	char from[160], hdrs[512], to[272];
	int err = call_media_open(c, &c->neg.local, &x->neg, &x->rtp_fd, &x->rtcp_fd);

	if (err)
		return err;
	if ((err = sdp_neg_offer(&x->neg, x->sdp, sizeof(x->sdp), &x->sdp_len)))
		return err;
	call_pstn_identity(c, c->dir == CALL_OUT ? &c->called : &c->calling, from, sizeof(from),
	                   hdrs, sizeof(hdrs));
	snprintf(to, sizeof(to), "<%s>", x->target);
	struct sip_sess_connect_opts o = {
	    .target = x->target,
	    .from = from,
	    .to = to,
	    .route = route[0] ? route : NULL,
	    .extra_hdrs = hdrs[0] ? hdrs : NULL,
	    .ctype = "application/sdp",
	    .body = x->sdp,
	    .body_len = x->sdp_len,
	};
	return sip_sess_connect(&x->sess, c->cc->cfg.ua, &o, &xfer_handlers, x);
}

uint16_t call_ctl_refer(struct sip_sess *sess, struct sip_evsub *sub, const struct sip_refer_to *rt,
                        const struct sip_msg *msg, void *arg)
{
	struct call_ctl *cc = arg;
	struct call *c = call_of(cc, sess);
	struct call_xfer *x;
	char route[256];
	int err;

	(void)msg;
	if (!c || c->dir == CALL_LOCAL || !c->answered || !c->pc || c->pri_cleared) {
		LOGN(sip_sess_callid(sess), "REFER outside a call with the PSTN: 603");
		return 603;
	}
	if (c->xfer)
		return 491; /* one transfer at a time */
	if (rt->has_replaces) {
		LOGN(c->ctx, "REFER with Replaces (attended transfer): not served, 603");
		return 603;
	}
	x = mem_zalloc(sizeof(*x), xfer_destroy);
	if (!x)
		return 500;
	x->call = c;
	x->rtp_fd = x->rtcp_fd = -1;
	c->xfer = x;
	err = xfer_target(c, rt, route, sizeof(route));
	if (!err)
		err = xfer_start(c, x, route);
	if (err) {
		LOGN(c->ctx, "REFER to %.*s refused: %s", PL_ARG(rt->addr.uri_pl),
		     err == EPROTONOSUPPORT ? "a PSTN number (would need a second B-channel)"
		     : err == ENOENT        ? "the user has no contact registered"
		                            : strerror(err));
		c->xfer = NULL;
		mem_deref(x);
		return err == ENOENT ? 480 : 603;
	}
	LOGI(c->ctx, "REFER: blind transfer of the PSTN party to %s", x->target);
	x->old = sess;
	x->sub = sub;
	if (sub)
		sip_evsub_set_handlers(sub, &sub_handlers, x);
	sip_sess_set_handlers(sess, &old_handlers, x);
	return 202;
}

void call_xfer_abort(struct call *c)
{
	struct call_xfer *x = c->xfer;

	if (!x)
		return;
	c->xfer = NULL;
	if (x->sess) {
		sip_sess_set_handlers(x->sess, NULL, NULL);
		sip_sess_close(x->sess, 0);
	}
	notify(x, 487, "Request Terminated");
	if (x->old)
		call_leg_adopt(c, x->old);
	mem_deref(x);
}
