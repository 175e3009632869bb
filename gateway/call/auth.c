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

static void challenge(struct call_ctl *cc, struct sip_sess *sess, bool stale, const char *ctx)
{
	char *hdrs = NULL;

	cc->st.challenged++;
	if (sip_auth_challenge(cc->auth, true, stale, &hdrs)) {
		sip_sess_reject(sess, 500, NULL, NULL);
		return;
	}
	LOGD(ctx, "INVITE challenged (407%s)", stale ? ", stale nonce" : "");
	sip_sess_reject(sess, 407, NULL, hdrs);
	mem_deref(hdrs);
}

const struct cfg_user *call_auth_invite(struct call_ctl *cc, struct sip_sess *sess,
                                        const struct sip_msg *inv, const char *ctx)
{
	const struct sip_hdr *h = sip_msg_hdr(inv, SIP_HDR_PROXY_AUTHORIZATION);
	enum sip_auth_verdict v = SIP_AUTH_BAD;
	struct pl user = PL_INIT;
	char name[128];

	if (!h) {
		challenge(cc, sess, false, ctx);
		return NULL;
	}
	/*
	 * The uri parameter is not compared with the Request-URI: SIPp and some
	 * phones put another URI there (SIPp: "sip:host:port"). The response still
	 * covers the uri they give, and nc must grow, so a captured answer cannot
	 * be replayed; it only does not pin the number dialled.
	 */
	for (; h; h = h->next >= 0 ? &inv->hdr[h->next] : NULL) {
		v = sip_auth_verify(cc->auth, h->val, inv->method, pl_make(NULL, 0), lookup_secret,
		                    cc, &user);
		if (v == SIP_AUTH_OK)
			break;
	}
	switch (v) {
	case SIP_AUTH_OK:
		pl_strcpy(user, name, sizeof(name));
		return cfg_user_find(cc->cfg.cfg, name);
	case SIP_AUTH_STALE:
		challenge(cc, sess, true, ctx);
		return NULL;
	case SIP_AUTH_ERROR:
		sip_sess_reject(sess, 500, NULL, NULL);
		return NULL;
	default:
		break;
	}
	cc->st.auth_failed++;
	LOGN(ctx, "INVITE from %.*s refused: %s", PL_ARG(user), sip_auth_verdict_name(v));
	sip_sess_reject(sess, 403, NULL, NULL);
	return NULL;
}
