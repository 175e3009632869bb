/*
 * Who may place a call: phones authenticate with digest against the
 * configuration's users. An INVITE without credentials gets 407 with
 * Proxy-Authenticate (the gateway acts for the PSTN as a proxy would, and
 * phones answer 407 on INVITE as they answer 401 on REGISTER).
 */
#include "call/call_int.h"

#include "core/log.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "sip/auth/auth.h"
#include "sip/ua/ua.h"

#include <stdio.h>
#include <string.h>

int call_auth_alloc(struct call_ctl *cc)
{
	struct sip_auth_server_cfg ac = {.realm = cc->cfg.realm, .algs = cc->cfg.auth_algs};

	return sip_auth_server_alloc(&cc->auth, &ac);
}

static int lookup_secret(struct pl username, struct pl realm, enum sip_digest_alg alg,
                         struct sip_auth_secret *sec, void *arg)
{
	struct call_ctl *cc = arg;
	const struct cfg_user *u;
	char name[128];

	(void)realm;
	(void)alg;
	if (username.l >= sizeof(name))
		return ENOENT;
	pl_strcpy(username, name, sizeof(name));
	u = cfg_user_find(cc->cfg.cfg, name);
	if (!u || !u->password)
		return ENOENT;
	sec->kind = SIP_AUTH_PASSWORD;
	snprintf(sec->secret, sizeof(sec->secret), "%s", u->password);
	return 0;
}

/* 407 with our challenges into *hdrs (mem, the caller derefs); 0 or ENOMEM. */
static int challenge_hdrs(struct call_ctl *cc, bool stale, char **hdrs)
{
	cc->st.challenged++;
	return sip_auth_challenge(cc->auth, true, stale, hdrs);
}

/*
 * The configured user whose digest credentials req carries, or NULL with
 * *code (407 with *hdrs set, 403, 500) to answer. The uri parameter is not
 * compared with the Request-URI: SIPp and some phones put another URI there
 * (SIPp: "sip:host:port"). The response still covers the uri they give, and
 * nc must grow, so a captured answer cannot be replayed; it only does not
 * pin the number dialled.
 */
static const struct cfg_user *auth_check(struct call_ctl *cc, const struct sip_msg *req,
                                         const char *ctx, uint16_t *code, char **hdrs)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_PROXY_AUTHORIZATION);
	enum sip_auth_verdict v = SIP_AUTH_BAD;
	struct pl user = PL_INIT;
	char name[128];

	*hdrs = NULL;
	*code = 407;
	if (!h) {
		if (challenge_hdrs(cc, false, hdrs))
			*code = 500;
		return NULL;
	}
	for (; h; h = h->next >= 0 ? &req->hdr[h->next] : NULL) {
		v = sip_auth_verify(cc->auth, h->val, req->method, pl_make(NULL, 0), lookup_secret,
		                    cc, &user);
		if (v == SIP_AUTH_OK)
			break;
	}
	switch (v) {
	case SIP_AUTH_OK:
		pl_strcpy(user, name, sizeof(name));
		return cfg_user_find(cc->cfg.cfg, name);
	case SIP_AUTH_STALE:
		if (challenge_hdrs(cc, true, hdrs))
			*code = 500;
		return NULL;
	case SIP_AUTH_ERROR:
		*code = 500;
		return NULL;
	default:
		break;
	}
	cc->st.auth_failed++;
	LOGN(ctx, "%.*s from %.*s refused: %s", PL_ARG(req->method), PL_ARG(user),
	     sip_auth_verdict_name(v));
	*code = 403;
	return NULL;
}

const struct cfg_user *call_auth_invite(struct call_ctl *cc, struct sip_sess *sess,
                                        const struct sip_msg *inv, const char *ctx)
{
	uint16_t code;
	char *hdrs;
	const struct cfg_user *u = auth_check(cc, inv, ctx, &code, &hdrs);

	if (!u) {
		LOGD(ctx, "INVITE: %u", code);
		sip_sess_reject(sess, code, NULL, hdrs);
	}
	mem_deref(hdrs);
	return u;
}

const struct cfg_user *call_auth_request(struct call_ctl *cc, struct sip_tsx *stx,
                                         const struct sip_msg *req, const char *ctx)
{
	uint16_t code;
	char *hdrs;
	const struct cfg_user *u = auth_check(cc, req, ctx, &code, &hdrs);

	if (!u)
		sip_ua_reply(cc->cfg.ua, stx, code, NULL, hdrs, NULL, NULL, 0);
	mem_deref(hdrs);
	return u;
}
