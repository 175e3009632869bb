/*
 * Client requests in a dialog (or a dialog-to-be): one transaction at a time
 * per request, digest retry (RFC 3261 §22.2), waiting for DNS, and RFC 3263
 * §4.3 failover to the next target on a transport error or timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/auth/auth.h"
#include "sip/dns/dns.h"
#include "sip/ua/ua_int.h"

/* ---- client requests ---- */

static void creq_destroy(void *data)
{
	struct sip_creq *cr = data;

	tmr_cancel(&cr->linger);
	sip_dns_cancel(cr->dnsq);
	mem_deref(cr->dlg);
	mem_deref(cr->method);
	mem_deref(cr->extra);
	mem_deref(cr->ctype);
	mem_deref(cr->body);
}

static void creq_unlink_free(struct sip_creq *cr)
{
	if (cr->slot && *cr->slot == cr)
		*cr->slot = NULL;
	if (cr->prev)
		cr->prev->next = cr->next;
	else if (cr->ua->creqs == cr)
		cr->ua->creqs = cr->next;
	if (cr->next)
		cr->next->prev = cr->prev;
	cr->next = cr->prev = NULL;
	mem_deref(cr);
}

static void creq_linger_done(void *arg)
{
	creq_unlink_free(arg);
}

static struct ua_cred *cred_find(struct sip_ua *ua, struct pl realm)
{
	struct ua_cred *any = NULL;

	for (struct ua_cred *c = ua->creds; c; c = c->next) {
		if (!c->realm)
			any = c;
		else if (pl_eq(realm, pl_make(c->realm, strlen(c->realm))))
			return c;
	}
	return any;
}

static int creq_send_now(struct sip_creq *cr);

/* Answers the challenges of a 401/407 and resends; 0 if resent. */
static int creq_auth_retry(struct sip_creq *cr, const struct sip_msg *resp)
{
	enum sip_hdr_id id =
	    resp->scode == 401 ? SIP_HDR_WWW_AUTHENTICATE : SIP_HDR_PROXY_AUTHENTICATE;
	const char *name = resp->scode == 401 ? "Authorization" : "Proxy-Authorization";
	struct pl chals[8];
	size_t n = 0, idx;
	struct sip_digest_chal ch;
	struct ua_cred *c;
	char *val = NULL, *line;
	int err;

	if (!cr->ua->creds || cr->auth_tries >= 2)
		return EACCES;
	for (int i = resp->first[id]; i >= 0 && n < ARRAY_SIZE(chals); i = resp->hdr[i].next)
		chals[n++] = resp->hdr[i].val;
	if (!n || sip_auth_pick(chals, n, &idx) || sip_digest_chal_decode(&ch, chals[idx]))
		return EACCES;
	c = cred_find(cr->ua, ch.realm);
	if (!c)
		return EACCES;
	err = sip_auth_client_respond(c->ac, chals[idx], pl_make(cr->method, strlen(cr->method)),
	                              ua_dialog_ruri(cr->dlg),
	                              pl_make(cr->body ? cr->body : "", cr->body_len), &val);
	if (err)
		return err;
	line = mem_zalloc(strlen(name) + strlen(val) + 5, NULL);
	if (!line) {
		mem_deref(val);
		return ENOMEM;
	}
	sprintf(line, "%s: %s\r\n", name, val);
	mem_deref(val);
	mem_deref(cr->dlg->auth_hdr);
	cr->dlg->auth_hdr = line;
	cr->auth_tries++;
	cr->cseq = 0;
	return creq_send_now(cr);
}

static bool creq_failover(struct sip_creq *cr, int err);

static void creq_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_creq *cr = arg;
	bool final = err || resp->scode >= 200;
	ua_creq_h *h = cr->h;

	if (resp)
		cr->got_resp = true;
	else if (err && !cr->final && creq_failover(cr, err))
		return;

	if (final && !err && (resp->scode == 401 || resp->scode == 407) && !cr->final &&
	    creq_auth_retry(cr, resp) == 0)
		return;
	if (final && cr->final && (err || resp->scode < 200 || resp->scode >= 300))
		return;
	if (final) {
		cr->final = true;
		if (cr->invite && !err && resp->scode < 300) {
			/* Accepted (RFC 6026): 2xx retransmissions still come; linger */
			if (!tmr_running(&cr->linger))
				tmr_start(cr->ua->loop, &cr->linger,
				          64ull * cr->ua->cfg.t1_ms + 1000, creq_linger_done, cr);
		} else {
			void *harg = cr->arg;
			/* the owner's slot is cleared before it hears the outcome */
			mem_ref(cr);
			creq_unlink_free(cr);
			if (h)
				h(err, resp, harg);
			mem_deref(cr);
			return;
		}
	}
	if (h)
		h(err, resp, cr->arg);
}

static int creq_send_hop(struct sip_creq *cr, const struct sip_hop *hop)
{
	struct sip_mb mb = {0};
	int err;

	err = ua_dialog_build_hop(cr->dlg, &mb, cr->method, cr->cseq, cr->extra, cr->ctype,
	                          cr->body, cr->body_len, hop);
	if (!err)
		err = sip_tsx_request(&cr->ctx, cr->ua->tsx, mb.buf, mb.len, hop->tp, &hop->addr,
		                      creq_resp, cr);
	mem_deref(mb.buf);
	return err;
}

/* RFC 3263 §4.3: a transport error or a timeout before any response moves
 * the request to the next target, as a new transaction (same CSeq, new
 * branch). Returns true if it went out again. */
static bool creq_failover(struct sip_creq *cr, int err)
{
	char a[SA_STRLEN];

	if (cr->got_resp || cr->dnsq)
		return false;
	while (cr->ialt < cr->nalt) {
		cr->hop.addr = cr->alt[cr->ialt].addr;
		cr->hop.tp = cr->alt[cr->ialt].tp;
		cr->ialt++;
		LOGN(cr->dlg->callid, "ua: %s failed (%d): next target %s %s", cr->method, err,
		     sip_tp_name(cr->hop.tp), sa_str(&cr->hop.addr, a, sizeof(a)));
		cr->ua->st.failover++;
		err = creq_send_hop(cr, &cr->hop);
		if (!err)
			return true;
	}
	return false;
}

/* Remembers the targets after the first, for creq_failover(). */
static void creq_set_alts(struct sip_creq *cr, const struct ua_target *v, unsigned n)
{
	cr->nalt = 0;
	cr->ialt = 0;
	for (unsigned i = 1; i < n && cr->nalt < UA_MAX_TARGETS; i++)
		cr->alt[cr->nalt++] = v[i];
}

static void creq_dns_done(int err, const struct sip_dns_target *v, size_t n, void *arg)
{
	struct sip_creq *cr = arg;
	struct ua_target t[UA_MAX_TARGETS];
	unsigned k;

	cr->dnsq = NULL;
	if (!err) {
		ua_dns_cache_put(cr->ua, &cr->hop, v, n);
		for (k = 0; k < n && k < UA_MAX_TARGETS; k++) {
			t[k].addr = v[k].addr;
			t[k].tp = v[k].tp;
		}
		creq_set_alts(cr, t, k);
		cr->hop.addr = v[0].addr;
		cr->hop.tp = v[0].tp;
		err = creq_send_hop(cr, &cr->hop);
		if (err && creq_failover(cr, err))
			err = 0;
	}
	if (err) {
		LOGN(cr->dlg->callid, "ua: %s to %s failed: %d", cr->method, cr->host, err);
		creq_resp(err, NULL, cr);
	}
}

/* Sends now, or once DNS has answered (then 0 and the outcome goes to h). */
static int creq_send_now(struct sip_creq *cr)
{
	struct ua_target t[UA_MAX_TARGETS];
	int err;

	if (!cr->cseq)
		cr->cseq = sip_dialog_next_cseq(cr->dlg);
	cr->nalt = cr->ialt = 0;
	cr->got_resp = false;
	err = ua_dialog_hop(cr->dlg, &cr->hop);
	if (err == EHOSTUNREACH && cr->ua->cfg.dns)
		return ua_dns_start(cr->ua, &cr->hop, cr->host, sizeof(cr->host), creq_dns_done, cr,
		                    &cr->dnsq);
	if (err)
		return err;
	if (!sa_is_ip_literal(cr->hop.host))
		creq_set_alts(cr, t, ua_dns_cache_targets(cr->ua, &cr->hop, t, UA_MAX_TARGETS));
	err = creq_send_hop(cr, &cr->hop);
	if (err && creq_failover(cr, err))
		err = 0;
	return err;
}

static char *dupstr(const char *s)
{
	return s ? mem_strndup(s, strlen(s)) : NULL;
}

int ua_creq_send(struct sip_creq **slot, struct sip_dialog *dlg, const char *method, uint32_t cseq,
                 const char *extra, const char *ctype, const void *body, size_t len, ua_creq_h *h,
                 void *arg)
{
	struct sip_creq *cr;
	int err;

	if (!dlg->ua)
		return EINVAL;
	cr = mem_zalloc(sizeof(*cr), creq_destroy);
	if (!cr)
		return ENOMEM;
	tmr_init(&cr->linger);
	cr->ua = dlg->ua;
	cr->dlg = mem_ref(dlg);
	cr->h = h;
	cr->arg = arg;
	cr->cseq = cseq;
	cr->invite = !strcmp(method, "INVITE");
	cr->method = dupstr(method);
	cr->extra = dupstr(extra);
	cr->ctype = dupstr(ctype);
	if (body && len) {
		cr->body = mem_zalloc(len + 1, NULL);
		if (cr->body)
			memcpy(cr->body, body, len);
		cr->body_len = len;
	}
	if (!cr->method || (extra && !cr->extra) || (ctype && !cr->ctype) ||
	    (body && len && !cr->body)) {
		err = ENOMEM;
		goto out;
	}
	err = creq_send_now(cr);
	if (err)
		goto out;
	cr->next = dlg->ua->creqs;
	if (cr->next)
		cr->next->prev = cr;
	dlg->ua->creqs = cr;
	cr->slot = slot;
	if (slot)
		*slot = cr;
	return 0;
out:
	mem_deref(cr);
	return err;
}

void ua_creq_detach(struct sip_creq *cr)
{
	if (!cr)
		return;
	if (cr->slot && *cr->slot == cr)
		*cr->slot = NULL;
	cr->slot = NULL;
	cr->h = NULL;
	if (!cr->final) {
		/* the transaction is alive until its final response: safe to detach */
		if (cr->ctx)
			sip_tsx_abandon(cr->ctx);
		sip_dns_cancel(cr->dnsq);
		cr->dnsq = NULL;
		creq_unlink_free(cr);
	}
}

int ua_creq_cancel(struct sip_creq *cr, uint16_t sip_cause, uint8_t q850_cause)
{
	if (!cr || cr->final || !cr->ctx)
		return EALREADY;
	return sip_tsx_cancel_reason(cr->ctx, sip_cause, q850_cause);
}

static void dreq_resp(int err, const struct sip_msg *resp, void *arg);

void ua_creqs_free(struct sip_ua *ua)
{
	while (ua->creqs) {
		struct sip_creq *cr = ua->creqs;
		if (!cr->final && cr->ctx)
			sip_tsx_abandon(cr->ctx);
		sip_dns_cancel(cr->dnsq);
		cr->dnsq = NULL;
		if (cr->h == dreq_resp)
			mem_deref(cr->arg); /* sip_dialog_request()'s context */
		cr->h = NULL;
		creq_unlink_free(cr);
	}
	ua_ackjobs_free(ua);
}

/* Public wrapper: a request in a dialog without session bookkeeping. */
struct dreq_ctx {
	sip_tsx_resp_h *h;
	void *arg;
	struct sip_creq *cr;
};

static void dreq_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct dreq_ctx *dc = arg;
	bool final = err || resp->scode >= 200;

	if (dc->h)
		dc->h(err, resp, dc->arg);
	if (final)
		mem_deref(dc);
}

static void dreq_destroy(void *data)
{
	(void)data;
}

int sip_dialog_request(struct sip_dialog *dlg, const char *method, const char *extra_hdrs,
                       const char *ctype, const void *body, size_t len, sip_tsx_resp_h *resph,
                       void *arg, struct sip_tsx **ctxp)
{
	struct dreq_ctx *dc;
	int err;

	if (!dlg || !method || !strcmp(method, "ACK") || !strcmp(method, "INVITE"))
		return EINVAL;
	dc = mem_zalloc(sizeof(*dc), dreq_destroy);
	if (!dc)
		return ENOMEM;
	dc->h = resph;
	dc->arg = arg;
	err = ua_creq_send(&dc->cr, dlg, method, 0, extra_hdrs, ctype, body, len, dreq_resp, dc);
	if (err) {
		mem_deref(dc);
		return err;
	}
	if (ctxp)
		*ctxp = dc->cr->ctx;
	return 0;
}

int sip_dialog_send(struct sip_creq **crp, struct sip_dialog *dlg, const char *method,
                    const char *extra_hdrs, const char *ctype, const void *body, size_t len,
                    sip_tsx_resp_h *resph, void *arg)
{
	if (!dlg || !method || !strcmp(method, "ACK") || !strcmp(method, "INVITE"))
		return EINVAL;
	return ua_creq_send(crp, dlg, method, 0, extra_hdrs, ctype, body, len, resph, arg);
}

void sip_creq_detach(struct sip_creq *cr)
{
	ua_creq_detach(cr);
}

uint32_t sip_creq_cseq(const struct sip_creq *cr)
{
	return cr ? cr->cseq : 0;
}
