/*
 * Dialogs (RFC 3261 §12): creation on both sides, route sets, target
 * refresh, CSeq rules and in-dialog request building with loose and strict
 * routing (§12.2.1.1).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/dns/dns.h"
#include "sip/ua/ua_int.h"

static void routes_free(struct sip_dialog *dlg)
{
	for (unsigned i = 0; i < dlg->nroutes; i++)
		mem_deref(dlg->routes[i]);
	dlg->routes = mem_deref(dlg->routes);
	dlg->nroutes = 0;
}

static void dialog_destroy(void *data)
{
	struct sip_dialog *dlg = data;

	ua_dialog_unregister(dlg);
	routes_free(dlg);
	mem_deref(dlg->callid);
	mem_deref(dlg->rtag);
	mem_deref(dlg->lhdr);
	mem_deref(dlg->rhdr);
	mem_deref(dlg->rtarget);
	mem_deref(dlg->contact);
	mem_deref(dlg->auth_hdr);
}

static char *pldup(struct pl pl)
{
	return mem_strndup(pl.p ? pl.p : "", pl.l);
}

/* "a" + "b" as one mem string. */
static char *cat2(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = mem_zalloc(la + lb + lc + 1, NULL);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc);
	return s;
}

static uint32_t callid_hash(struct pl id)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < id.l; i++)
		h = (h ^ (uint8_t)id.p[i]) * 16777619u;
	return h % UA_DLG_BUCKETS;
}

void ua_dialog_register(struct sip_dialog *dlg)
{
	uint32_t b;

	if (!dlg->ua || dlg->registered || !dlg->rtag)
		return;
	b = callid_hash(pl_make(dlg->callid, strlen(dlg->callid)));
	dlg->hnext = dlg->ua->dlg_hash[b];
	dlg->ua->dlg_hash[b] = dlg;
	dlg->registered = true;
	dlg->ua->st.dialogs++;
}

void ua_dialog_unregister(struct sip_dialog *dlg)
{
	struct sip_dialog **pp;

	if (!dlg->registered)
		return;
	pp = &dlg->ua->dlg_hash[callid_hash(pl_make(dlg->callid, strlen(dlg->callid)))];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == dlg) {
			*pp = dlg->hnext;
			break;
		}
	}
	dlg->registered = false;
	dlg->hnext = NULL;
	dlg->ua->st.dialogs--;
}

bool sip_dialog_match_req(const struct sip_dialog *dlg, const struct sip_msg *msg)
{
	if (!dlg->rtag)
		return false;
	return pl_eq(msg->callid, pl_make(dlg->callid, strlen(dlg->callid))) &&
	       pl_eq(msg->to.tag, pl_make(dlg->ltag, strlen(dlg->ltag))) &&
	       pl_eq(msg->from.tag, pl_make(dlg->rtag, strlen(dlg->rtag)));
}

struct sip_dialog *ua_dialog_find(struct sip_ua *ua, const struct sip_msg *req)
{
	struct sip_dialog *d = ua->dlg_hash[callid_hash(req->callid)];

	for (; d; d = d->hnext)
		if (sip_dialog_match_req(d, req))
			return d;
	return NULL;
}

/* Route set from every Record-Route value of msg, reversed for a UAC. */
static int routes_set(struct sip_dialog *dlg, const struct sip_msg *msg, bool reverse)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	unsigned n = sip_msg_hdr_count(msg, SIP_HDR_RECORD_ROUTE), k = 0;
	struct pl val;
	char **v;

	routes_free(dlg);
	if (!n)
		return 0;
	/* count values, not lines: one line may carry several */
	n = 0;
	while (sip_msg_hdr_next(msg, SIP_HDR_RECORD_ROUTE, &it, &val))
		n++;
	v = mem_zalloc(n * sizeof(*v), NULL);
	if (!v)
		return ENOMEM;
	dlg->routes = v;
	it = (struct sip_hdr_iter)SIP_HDR_ITER_INIT;
	while (k < n && sip_msg_hdr_next(msg, SIP_HDR_RECORD_ROUTE, &it, &val)) {
		struct sip_addr a;
		if (sip_addr_decode(&a, val))
			return EBADMSG;
		v[reverse ? n - 1 - k : k] = pldup(pl_trim(val));
		if (!v[reverse ? n - 1 - k : k])
			return ENOMEM;
		dlg->nroutes = ++k;
	}
	if (reverse && k < n) /* defensive: compact when fewer were read */
		memmove(v, v + (n - k), k * sizeof(*v));
	return 0;
}

int sip_dialog_refresh_target(struct sip_dialog *dlg, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr a;
	char *t;

	if (!h)
		return ENOENT;
	if (sip_addr_decode(&a, h->val) || a.star)
		return EBADMSG;
	t = pldup(a.uri_pl);
	if (!t)
		return ENOMEM;
	mem_deref(dlg->rtarget);
	dlg->rtarget = t;
	return 0;
}

static struct sip_dialog *dialog_new(struct sip_ua *ua)
{
	struct sip_dialog *dlg = mem_zalloc(sizeof(*dlg), dialog_destroy);

	if (dlg)
		dlg->ua = ua;
	return dlg;
}

int sip_dialog_alloc_uac(struct sip_dialog **dlgp, struct sip_ua *ua, const char *target,
                         const char *from, const char *to, const char *route, const char *contact)
{
	struct sip_dialog *dlg;
	struct sip_uri u;
	char cid[40], host[80];
	int err = ENOMEM;

	if (!dlgp || !target || !from)
		return EINVAL;
	if (sip_uri_decode(&u, pl_make(target, strlen(target))))
		return EINVAL;
	dlg = dialog_new(ua);
	if (!dlg)
		return ENOMEM;
	dlg->uac = true;
	dlg->secure = u.scheme == SIP_URI_SIPS;
	sip_ua_token(dlg->ltag, sizeof(dlg->ltag));
	sip_ua_token(cid, 25);
	snprintf(host, sizeof(host), "%s", ua && ua->domain ? ua->domain : "localhost");
	dlg->callid = cat2(cid, "@", host);
	dlg->lhdr = cat2(from, ";tag=", dlg->ltag);
	dlg->rhdr = to ? cat2(to, "", "") : cat2("<", target, ">");
	dlg->rtarget = cat2(target, "", "");
	dlg->contact = contact ? cat2(contact, "", "") : NULL;
	dlg->lcseq = 1 + arc4random_uniform(10000);
	if (!dlg->callid || !dlg->lhdr || !dlg->rhdr || !dlg->rtarget || (contact && !dlg->contact))
		goto out;
	if (route) {
		dlg->routes = mem_zalloc(sizeof(char *), NULL);
		if (!dlg->routes || !(dlg->routes[0] = cat2("<", route, ">")))
			goto out;
		dlg->nroutes = 1;
	}
	*dlgp = dlg;
	return 0;
out:
	mem_deref(dlg);
	return err;
}

int sip_dialog_alloc_uas(struct sip_dialog **dlgp, struct sip_ua *ua, const struct sip_msg *req,
                         const char *contact)
{
	struct sip_dialog *dlg;
	int err = ENOMEM;

	if (!dlgp || !req || !req->req)
		return EINVAL;
	dlg = dialog_new(ua);
	if (!dlg)
		return ENOMEM;
	dlg->secure = req->ruri.scheme == SIP_URI_SIPS && req->tp == SIP_TP_TLS;
	dlg->tp_default = req->tp;
	sip_ua_token(dlg->ltag, sizeof(dlg->ltag));
	dlg->callid = pldup(req->callid);
	dlg->rtag = pldup(req->from.tag);
	dlg->rhdr = pldup(req->from.val);
	if (pl_isset(req->to.tag) && req->to.tag.l) {
		memcpy(dlg->ltag, req->to.tag.p,
		       req->to.tag.l < UA_TAG_LEN - 1 ? req->to.tag.l : UA_TAG_LEN - 1);
		dlg->ltag[req->to.tag.l < UA_TAG_LEN - 1 ? req->to.tag.l : UA_TAG_LEN - 1] = 0;
		dlg->lhdr = pldup(req->to.val);
	} else {
		char *to = pldup(req->to.val);
		dlg->lhdr = to ? cat2(to, ";tag=", dlg->ltag) : NULL;
		mem_deref(to);
	}
	dlg->rcseq = req->cseq.num;
	dlg->rcseq_set = true;
	dlg->lcseq = 1 + arc4random_uniform(10000);
	if (!contact && ua && ua->tp) {
		/* our Contact for the transport and family the request came over */
		char c[96];
		if (!ua_contact(ua, req->tp ? req->tp : SIP_TP_UDP, sa_af(&req->dst), c, sizeof(c)) ||
		    !ua_contact(ua, req->tp ? req->tp : SIP_TP_UDP, sa_af(&req->src), c, sizeof(c)))
			dlg->contact = cat2(c, "", "");
	} else if (contact) {
		dlg->contact = cat2(contact, "", "");
	}
	if (!dlg->callid || !dlg->rtag || !dlg->rhdr || !dlg->lhdr || (contact && !dlg->contact))
		goto out;
	err = sip_dialog_refresh_target(dlg, req);
	if (err == ENOENT) {
		/* No Contact: an RFC 2543 client (RFC 4475 inv2543). As RFC 2543 did,
		 * requests go back to the From URI. */
		dlg->rtarget = pldup(req->from.uri_pl);
		err = dlg->rtarget ? 0 : ENOMEM;
	}
	if (err)
		goto out;
	err = routes_set(dlg, req, false);
	if (err)
		goto out;
	dlg->state = SIP_DLG_EARLY;
	*dlgp = dlg;
	return 0;
out:
	mem_deref(dlg);
	return err;
}

int sip_dialog_update_uac(struct sip_dialog *dlg, const struct sip_msg *resp)
{
	bool ok2xx = resp->scode >= 200 && resp->scode < 300;
	char *rtag, *rhdr;
	int err;

	if (!dlg->uac || resp->scode < 101 || resp->scode >= 300 || !resp->to.tag.l)
		return EINVAL;
	if (dlg->rtag && pl_eq(resp->to.tag, pl_make(dlg->rtag, strlen(dlg->rtag)))) {
		if (!ok2xx || dlg->state == SIP_DLG_CONFIRMED)
			return 0;
	} else if (dlg->state == SIP_DLG_CONFIRMED) {
		return EPROTO;
	}
	rtag = pldup(resp->to.tag);
	rhdr = pldup(resp->to.val);
	if (!rtag || !rhdr) {
		mem_deref(rtag);
		mem_deref(rhdr);
		return ENOMEM;
	}
	ua_dialog_unregister(dlg);
	mem_deref(dlg->rtag);
	mem_deref(dlg->rhdr);
	dlg->rtag = rtag;
	dlg->rhdr = rhdr;
	err = routes_set(dlg, resp, true);
	if (err)
		return err;
	err = sip_dialog_refresh_target(dlg, resp);
	if (err && err != ENOENT)
		return err;
	dlg->state = ok2xx ? SIP_DLG_CONFIRMED : SIP_DLG_EARLY;
	ua_dialog_register(dlg);
	return 0;
}

bool sip_dialog_check_cseq(struct sip_dialog *dlg, const struct sip_msg *req)
{
	if (req->mid == SIP_M_ACK || req->mid == SIP_M_CANCEL)
		return true;
	if (dlg->rcseq_set && req->cseq.num <= dlg->rcseq)
		return false;
	dlg->rcseq = req->cseq.num;
	dlg->rcseq_set = true;
	return true;
}

uint32_t sip_dialog_next_cseq(struct sip_dialog *dlg)
{
	return ++dlg->lcseq;
}

/* The URI of a route entry (inside <>). */
static struct pl route_uri(const char *route)
{
	struct sip_addr a;

	if (sip_addr_decode(&a, pl_make(route, strlen(route))))
		return pl_make(route, strlen(route));
	return a.uri_pl;
}

static bool route_is_loose(const char *route)
{
	struct sip_uri u;

	if (sip_uri_decode(&u, route_uri(route)))
		return true;
	return sip_uri_param(&u, "lr", NULL);
}

static bool dialog_strict(const struct sip_dialog *dlg)
{
	return dlg->nroutes && !route_is_loose(dlg->routes[0]);
}

struct pl ua_dialog_ruri(const struct sip_dialog *dlg)
{
	if (dialog_strict(dlg)) {
		/* §12.2.1.1: the first route, without parameters a Request-URI may not carry */
		struct pl u = route_uri(dlg->routes[0]);
		return u;
	}
	return pl_make(dlg->rtarget, strlen(dlg->rtarget));
}

struct pl sip_dialog_next_hop_uri(const struct sip_dialog *dlg)
{
	if (dlg->nroutes)
		return route_uri(dlg->routes[0]);
	return pl_make(dlg->rtarget, strlen(dlg->rtarget));
}

static bool method_has_contact(const char *m)
{
	return !strcmp(m, "INVITE") || !strcmp(m, "UPDATE") || !strcmp(m, "SUBSCRIBE") ||
	       !strcmp(m, "NOTIFY") || !strcmp(m, "REFER");
}

int sip_dialog_encode(const struct sip_dialog *dlg, struct sip_mb *mb, const char *method,
                      uint32_t cseq, const char *sent_by, enum sip_transport via_tp,
                      const char *branch, const char *extra_hdrs, const char *ctype,
                      const void *body, size_t len)
{
	bool strict = dialog_strict(dlg);
	unsigned first = strict ? 1 : 0;
	int err;

	err = sip_mb_init(mb, 512 + len);
	if (err)
		return err;
	sip_mb_printf(mb, "%s ", method);
	sip_mb_pl(mb, ua_dialog_ruri(dlg));
	sip_mb_printf(mb, " SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n", sip_tp_name(via_tp),
	              sent_by, branch);
	sip_mb_printf(mb, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n", dlg->lhdr,
	              dlg->rhdr, dlg->callid);
	sip_mb_printf(mb, "CSeq: %u %s\r\n", cseq, method);
	for (unsigned i = first; i < dlg->nroutes; i++)
		sip_mb_printf(mb, "Route: %s\r\n", dlg->routes[i]);
	if (strict)
		sip_mb_printf(mb, "Route: <%s>\r\n", dlg->rtarget);
	if (dlg->contact && method_has_contact(method))
		sip_mb_printf(mb, "Contact: <%s>\r\n", dlg->contact);
	if (dlg->auth_hdr && strcmp(method, "CANCEL"))
		sip_mb_str(mb, dlg->auth_hdr);
	if (dlg->ua) {
		sip_mb_printf(mb, "User-Agent: %s\r\n", dlg->ua->user_agent);
		if (method_has_contact(method))
			sip_mb_printf(mb, "Allow: %s\r\n", dlg->ua->allow);
	}
	if (extra_hdrs)
		sip_mb_str(mb, extra_hdrs);
	sip_mb_body(mb, body && len ? (ctype ? ctype : "application/sdp") : NULL, body, len);
	err = sip_mb_finish(mb);
	if (err)
		mb->buf = mem_deref(mb->buf);
	return err;
}

int ua_dialog_hop(struct sip_dialog *dlg, struct sip_hop *hop)
{
	struct pl next = sip_dialog_next_hop_uri(dlg);
	struct sip_uri u;
	int err;

	err = sip_hop_from_uri(hop, dlg->ua, next);
	/* a URI without transport parameter: stay on the transport that made the dialog */
	if ((err == 0 || err == EHOSTUNREACH) && !hop->tp_explicit &&
	    dlg->tp_default != SIP_TP_NONE && !sip_uri_decode(&u, next)) {
		hop->tp = dlg->tp_default;
		hop->tp_explicit = true;
		if (err == EHOSTUNREACH) /* the cache is keyed by the transport asked */
			err = dlg->ua && ua_dns_cache_get(dlg->ua, hop) ? 0 : EHOSTUNREACH;
		else if (!hop->port && hop->tp == SIP_TP_TLS)
			sa_set_port(&hop->addr, 5061);
	}
	return err;
}

int ua_dialog_build_hop(struct sip_dialog *dlg, struct sip_mb *mb, const char *method,
                        uint32_t cseq, const char *extra, const char *ctype, const void *body,
                        size_t len, const struct sip_hop *hop)
{
	struct sa local;
	char sent_by[SA_STRLEN], branch[40];
	int err;

	err = sip_tp_local(dlg->ua->tp, hop->tp, sa_af(&hop->addr), &local);
	if (err)
		return err;
	if (!dlg->contact) {
		char c[96];
		err = ua_contact(dlg->ua, hop->tp, sa_af(&hop->addr), c, sizeof(c));
		if (err)
			return err;
		dlg->contact = mem_strndup(c, strlen(c));
		if (!dlg->contact)
			return ENOMEM;
	}
	sa_str(&local, sent_by, sizeof(sent_by));
	sip_tsx_branch(branch, sizeof(branch));
	return sip_dialog_encode(dlg, mb, method, cseq, sent_by, hop->tp, branch, extra, ctype,
	                         body, len);
}

int ua_dialog_build(struct sip_dialog *dlg, struct sip_mb *mb, const char *method, uint32_t cseq,
                    const char *extra, const char *ctype, const void *body, size_t len,
                    struct sip_hop *hop)
{
	int err = ua_dialog_hop(dlg, hop);

	if (err)
		return err;
	return ua_dialog_build_hop(dlg, mb, method, cseq, extra, ctype, body, len, hop);
}

/* ---- ACKs whose next hop needs DNS ---- */

static void ackjob_free(struct ua_ack_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else if (j->ua->ackjobs == j)
		j->ua->ackjobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	sip_dns_cancel(j->q);
	mem_deref(j->dlg);
	mem_deref(j->ctype);
	mem_deref(j->body);
	mem_deref(j);
}

void ua_ackjobs_free(struct sip_ua *ua)
{
	while (ua->ackjobs)
		ackjob_free(ua->ackjobs);
}

static void ackjob_done(int err, const struct sip_dns_target *v, size_t n, void *arg)
{
	struct ua_ack_job *j = arg;
	struct sip_mb mb = {0};

	j->q = NULL;
	if (!err) {
		ua_dns_cache_put(j->ua, &j->hop, v, n);
		j->hop.addr = v[0].addr;
		j->hop.tp = v[0].tp;
		err = ua_dialog_build_hop(j->dlg, &mb, "ACK", j->cseq, NULL, j->ctype, j->body,
		                          j->len, &j->hop);
	}
	if (!err)
		err = sip_tsx_send_ack(j->ua->tsx, mb.buf, mb.len, j->hop.tp, &j->hop.addr);
	if (err)
		LOGN(j->dlg->callid, "ua: ACK to %s failed: %d", j->host, err);
	mem_deref(mb.buf);
	ackjob_free(j);
}

static int ackjob_start(struct sip_dialog *dlg, uint32_t cseq, const char *ctype, const void *body,
                        size_t len, struct sip_hop *hop)
{
	struct ua_ack_job *j = mem_zalloc(sizeof(*j), NULL);
	int err;

	if (!j)
		return ENOMEM;
	j->ua = dlg->ua;
	j->dlg = mem_ref(dlg);
	j->cseq = cseq;
	j->hop = *hop;
	j->ctype = ctype ? mem_strndup(ctype, strlen(ctype)) : NULL;
	j->body = body && len ? mem_strndup(body, len) : NULL;
	j->len = j->body ? len : 0;
	err = ua_dns_start(dlg->ua, &j->hop, j->host, sizeof(j->host), ackjob_done, j, &j->q);
	if (err) {
		mem_deref(j->dlg);
		mem_deref(j->ctype);
		mem_deref(j->body);
		mem_deref(j);
		return err;
	}
	j->next = dlg->ua->ackjobs;
	if (j->next)
		j->next->prev = j;
	dlg->ua->ackjobs = j;
	return 0;
}

/* Sends the ACK for a 2xx; *bufp gets it for retransmissions, or NULL when it
 * waits for DNS (the next 2xx retransmission then finds the cached answer). */
int ua_dialog_send_ack(struct sip_dialog *dlg, uint32_t cseq, const char *ctype, const void *body,
                       size_t len, char **bufp, size_t *lenp, struct sip_hop *hop)
{
	struct sip_mb mb = {0};
	int err;

	err = ua_dialog_hop(dlg, hop);
	if (err == EHOSTUNREACH && dlg->ua->cfg.dns) {
		*bufp = NULL;
		*lenp = 0;
		return ackjob_start(dlg, cseq, ctype, body, len, hop);
	}
	if (!err)
		err = ua_dialog_build_hop(dlg, &mb, "ACK", cseq, NULL, ctype, body, len, hop);
	if (err)
		return err;
	err = sip_tsx_send_ack(dlg->ua->tsx, mb.buf, mb.len, hop->tp, &hop->addr);
	if (err) {
		mem_deref(mb.buf);
		return err;
	}
	*bufp = mb.buf;
	*lenp = mb.len;
	return 0;
}

void sip_dialog_set_handler(struct sip_dialog *dlg, sip_dialog_req_h *h, void *arg)
{
	dlg->reqh = h;
	dlg->reqarg = arg;
}

void sip_dialog_register(struct sip_dialog *dlg)
{
	ua_dialog_register(dlg);
}

void sip_dialog_unregister(struct sip_dialog *dlg)
{
	if (dlg)
		ua_dialog_unregister(dlg);
}

void sip_dialog_confirm(struct sip_dialog *dlg)
{
	if (dlg->state == SIP_DLG_EARLY || (dlg->state == SIP_DLG_INIT && dlg->rtag))
		dlg->state = SIP_DLG_CONFIRMED;
}

int sip_dialog_update_uac_req(struct sip_dialog *dlg, const struct sip_msg *req)
{
	char *rtag, *rhdr;
	int err;

	if (!dlg->uac || !req->req)
		return EINVAL;
	if (dlg->rtag)
		return EALREADY;
	if (!req->from.tag.l)
		return EBADMSG;
	rtag = pldup(req->from.tag);
	rhdr = pldup(req->from.val);
	if (!rtag || !rhdr) {
		mem_deref(rtag);
		mem_deref(rhdr);
		return ENOMEM;
	}
	dlg->rtag = rtag;
	mem_deref(dlg->rhdr);
	dlg->rhdr = rhdr;
	err = routes_set(dlg, req, false);
	if (!err)
		err = sip_dialog_refresh_target(dlg, req);
	if (err && err != ENOENT)
		return err;
	dlg->tp_default = dlg->tp_default != SIP_TP_NONE ? dlg->tp_default : req->tp;
	dlg->rcseq = req->cseq.num;
	dlg->rcseq_set = true;
	dlg->state = SIP_DLG_CONFIRMED;
	return 0;
}

int sip_dialog_reply(struct sip_dialog *dlg, struct sip_tsx *stx, uint16_t code,
                     const char *reason, const char *extra_hdrs, const char *ctype,
                     const void *body, size_t len)
{
	const struct sip_msg *req = sip_tsx_request_msg(stx);
	char hdrs[1024];

	if (!dlg->ua || !req)
		return EINVAL;
	hdrs[0] = '\0';
	if (code >= 200 && code < 300 && dlg->contact &&
	    method_has_contact(sip_method_name(req->mid)))
		snprintf(hdrs, sizeof(hdrs), "Contact: <%s>\r\n", dlg->contact);
	if (extra_hdrs)
		snprintf(hdrs + strlen(hdrs), sizeof(hdrs) - strlen(hdrs), "%s", extra_hdrs);
	return ua_reply(dlg->ua, stx, code, reason, dlg->ltag, hdrs, ctype, body, len);
}

struct sip_ua *sip_dialog_ua(const struct sip_dialog *dlg)
{
	return dlg->ua;
}

enum sip_dialog_state sip_dialog_state(const struct sip_dialog *dlg)
{
	return dlg->state;
}

const char *sip_dialog_callid(const struct sip_dialog *dlg)
{
	return dlg->callid;
}

const char *sip_dialog_local_tag(const struct sip_dialog *dlg)
{
	return dlg->ltag;
}

const char *sip_dialog_remote_tag(const struct sip_dialog *dlg)
{
	return dlg->rtag;
}

const char *sip_dialog_remote_target(const struct sip_dialog *dlg)
{
	return dlg->rtarget;
}

uint32_t sip_dialog_local_cseq(const struct sip_dialog *dlg)
{
	return dlg->lcseq;
}

uint32_t sip_dialog_remote_cseq(const struct sip_dialog *dlg)
{
	return dlg->rcseq;
}

const char *sip_dialog_route(const struct sip_dialog *dlg, unsigned i)
{
	return i < dlg->nroutes ? dlg->routes[i] : NULL;
}

unsigned sip_dialog_route_count(const struct sip_dialog *dlg)
{
	return dlg->nroutes;
}
