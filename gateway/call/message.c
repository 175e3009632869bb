/*
 * MESSAGE (RFC 3428) between users: a phone sends MESSAGE to another
 * configured user (sip:1002@gateway); the gateway authenticates the sender
 * (digest, as for INVITE), relays the request to the callee's first
 * registered contact with From set to the sender's AOR, and answers the
 * sender with the callee's final status (2xx, or its failure; 408 when it
 * does not answer, 480 when the user has no contact, 404 for a name that is
 * not a user). Messages to numbers (SMS to the PSTN) are not carried: 488.
 */
#include "call/call_int.h"

#include "core/log.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "sip/tsx/tsx.h"
#include "sip/ua/ua.h"

#include <stdio.h>
#include <string.h>

struct relay {
	struct call_ctl *cc;
	struct sip_tsx *stx; /* the sender's transaction, referenced */
	struct sip_dialog *dlg;
	char ctx[96];
};

static void relay_destroy(void *arg)
{
	struct relay *r = arg;

	mem_deref(r->stx);
	mem_deref(r->dlg);
}

static void relay_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct relay *r = arg;
	uint16_t code = err || !resp ? 408 : resp->scode;

	if (code < 200)
		return;
	LOGI(r->ctx, "MESSAGE relayed: %u", code);
	/* 401/407 from the callee are its own business, not the sender's credentials */
	if (code == 401 || code == 407)
		code = 403;
	sip_ua_reply(r->cc->cfg.ua, r->stx, code, NULL, NULL, NULL, NULL, 0);
	mem_deref(r);
}

static int relay(struct call_ctl *cc, struct sip_tsx *stx, const struct sip_msg *msg,
                 const char *sender, const char *user, const char *ctx)
{
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	const char *dom = sip_ua_domain(cc->cfg.ua);
	char uri[256], route[256], from[160], to[160], ctype[128];
	struct relay *r;
	int err = call_user_contact(cc, user, uri, sizeof(uri), route, sizeof(route));

	if (err)
		return err;
	if (!ct || ct->val.l >= sizeof(ctype))
		return EBADMSG;
	pl_strcpy(ct->val, ctype, sizeof(ctype));
	r = mem_zalloc(sizeof(*r), relay_destroy);
	if (!r)
		return ENOMEM;
	r->cc = cc;
	r->stx = mem_ref(stx);
	snprintf(r->ctx, sizeof(r->ctx), "%s", ctx);
	snprintf(from, sizeof(from), "<sip:%s@%s>", sender, dom);
	snprintf(to, sizeof(to), "<sip:%s@%s>", user, dom);
	err = sip_dialog_alloc_uac(&r->dlg, cc->cfg.ua, uri, from, to, route[0] ? route : NULL,
	                           NULL);
	if (!err)
		err = sip_dialog_request(r->dlg, "MESSAGE", NULL, ctype, msg->body.p, msg->body.l,
		                         relay_resp, r, NULL);
	if (err) {
		mem_deref(r);
		return err;
	}
	LOGI(ctx, "MESSAGE from %s to %s -> %s", sender, user, uri);
	return 0;
}

static void on_message(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg,
                       void *arg)
{
	struct call_ctl *cc = arg;
	const struct cfg_user *from;
	char ctx[96], user[64];
	int err;

	snprintf(ctx, sizeof(ctx), "msg=%.*s", PL_ARG(msg->callid));
	if (!(from = call_auth_request(cc, stx, msg, ctx)))
		return;
	if (!pl_isset(msg->ruri.user) || msg->ruri.user.l >= sizeof(user)) {
		sip_ua_reply(ua, stx, 404, NULL, NULL, NULL, NULL, 0);
		return;
	}
	pl_strcpy(msg->ruri.user, user, sizeof(user));
	if (!cfg_user_find(cc->cfg.cfg, user)) {
		bool number = call_is_number(user);

		LOGN(ctx, "MESSAGE to %s: %s", user, number ? "no SMS to the PSTN" : "no such user");
		sip_ua_reply(ua, stx, number ? 488 : 404, NULL, NULL, NULL, NULL, 0);
		return;
	}
	err = relay(cc, stx, msg, from->name, user, ctx);
	if (err) {
		LOGN(ctx, "MESSAGE to %s not relayed: %s", user,
		     err == ENOENT ? "not registered" : strerror(err));
		sip_ua_reply(ua, stx, err == ENOENT ? 480 : err == EBADMSG ? 400 : 500, NULL, NULL,
		             NULL, NULL, 0);
	}
}

int call_ctl_message_register(struct call_ctl *cc)
{
	return sip_ua_set_handler(cc->cfg.ua, SIP_M_MESSAGE, on_message, cc);
}
