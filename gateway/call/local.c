/*
 * Calls between users (1001 dials 1002): the gateway rings the callee's
 * registered contacts as a proxy would route them, as a B2BUA: the caller's
 * session is one leg, the callee's forks (in.c) the other, and the SDP is
 * passed through unchanged both ways (no media of ours in the path).
 */
#include "call/call_int.h"

#include "cdr/cdr.h"
#include "core/log.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "sip/ua/ua.h"

#include <stdio.h>
#include <string.h>

static void local_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct call *c = arg;

	(void)s;
	(void)err;
	(void)reason;
	c->a = NULL;
	call_ended_by(c, CDR_END_SIP);
	LOGD(c->ctx, "caller's leg closed (%u)", code);
	call_in_a_gone(c);
	call_check_done(c);
}

static const struct sip_sess_handlers local_handlers = {
    .closed = local_closed,
};

bool call_local_invite(struct call_ctl *cc, struct sip_sess *sess, const struct sip_msg *inv,
                       const struct cfg_user *caller, const char *ctx)
{
	const char *dom = sip_ua_domain(cc->cfg.ua);
	const struct cfg_user *callee;
	char name[64], from[160], to[160];
	struct call *c;
	int cause;

	if (!inv->ruri.user.l || inv->ruri.user.l >= sizeof(name))
		return false;
	pl_strcpy(inv->ruri.user, name, sizeof(name));
	if (!(callee = cfg_user_find(cc->cfg.cfg, name)))
		return false;
	if (inv->body.l >= sizeof(c->sdp)) {
		sip_sess_reject(sess, 488, NULL, NULL);
		return true;
	}
	if (call_alloc(&c, cc, CALL_LOCAL)) {
		sip_sess_reject(sess, 500, NULL, NULL);
		return true;
	}
	c->a = sess;
	sip_sess_set_handlers(sess, &local_handlers, c);
	memcpy(c->sdp, inv->body.p, inv->body.l);
	c->sdp_len = inv->body.l;
	pl_strcpy(inv->callid, c->callid, sizeof(c->callid));
	snprintf(c->calling.digits, sizeof(c->calling.digits), "%s", caller->name);
	snprintf(c->called.digits, sizeof(c->called.digits), "%s", callee->name);
	call_set_ctx(c);
	LOGI(c->ctx, "user %s calls user %s", caller->name, callee->name);
	snprintf(from, sizeof(from), "<sip:%s@%s>", caller->name, dom);
	snprintf(to, sizeof(to), "<sip:%s@%s>", callee->name, dom);
	if ((cause = call_in_ring_user(c, callee->name, from, to))) {
		LOGN(ctx, "user %s: no contact to ring (cause %d)", callee->name, cause);
		sip_sess_reject(sess, 480, NULL, NULL);
		c->a = NULL;
		call_check_done(c);
	}
	return true;
}
