/*
 * REFER in sessions (RFC 3515) with its implicit "refer" subscription and
 * Refer-Sub: false (RFC 4488). The recipient's NOTIFYs carry
 * message/sipfrag;version=2.0 status lines; the sender hears their codes.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/event/event_int.h"

static const char sipfrag_ct[] = "message/sipfrag;version=2.0";

/* The value of header name in a URI's "?a=b&c=d" part. */
static bool uri_header(struct pl headers, const char *name, struct pl *val)
{
	size_t nl = strlen(name);
	const char *p = headers.p, *end = headers.p + headers.l;

	if (!headers.l)
		return false;
	p++; /* '?' */
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *e = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (eq && (size_t)(eq - p) == nl && pl_caseeq(pl_make(p, nl), pl_make(name, nl))) {
			*val = pl_make(eq + 1, (size_t)(e - eq - 1));
			return true;
		}
		p = e + 1;
	}
	return false;
}

int sip_refer_to_decode(struct sip_refer_to *rt, struct pl val)
{
	struct pl rv;
	int n;

	memset(rt, 0, sizeof(*rt));
	if (sip_addr_decode(&rt->addr, val) || rt->addr.star)
		return EBADMSG;
	if (!uri_header(rt->addr.uri.headers, "Replaces", &rv))
		return 0;
	n = sip_unescape(rv, rt->replaces_buf, sizeof(rt->replaces_buf));
	if (n < 0 || sip_replaces_decode(&rt->repl, pl_make(rt->replaces_buf, (size_t)n)))
		return EBADMSG;
	rt->has_replaces = true;
	return 0;
}

/* ---- recipient ---- */

static void reply(struct sip_sess *sess, struct sip_tsx *stx, uint16_t code, const char *reason,
                  const char *extra)
{
	sip_dialog_reply(sip_sess_dialog(sess), stx, code, reason, extra, NULL, NULL, 0);
}

static bool refer_sub_false(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_REFER_SUB);

	return h && pl_caseeq_str(pl_trim(h->val), "false");
}

/* After the 202: NOTIFY "100 Trying" (active), ahead of any report the
 * application made from its handler (that one waits for this one's answer). */
static void refer_started(struct sip_evsub *sub)
{
	struct ev_pending pd = sub->pend;
	enum sip_evsub_state st = sub->state;

	sub->in_handler = false;
	if (sub->ended)
		return;
	ev_notifier_start(sub, EV_REFER_EXPIRES);
	memset(&sub->pend, 0, sizeof(sub->pend));
	sub->state = SIP_EVSUB_ACTIVE;
	if (sip_evsub_notify(sub, sipfrag_ct, "SIP/2.0 100 Trying\r\n", 20)) {
		sub->pend = pd;
		ev_sub_end(sub, EIO, 0, NULL);
		return;
	}
	sub->state = st;
	sub->pend = pd;
}

/* Returns false when nobody serves REFER (the UA then answers 405). */
bool ev_refer_in(struct sip_events *ev, struct sip_sess *sess, struct sip_tsx *stx,
                 const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_REFER_TO);
	struct sip_refer_to *rt;
	struct sip_evsub *sub = NULL;
	bool no_sub = refer_sub_false(msg);
	char id[16];
	uint16_t code;

	if (!ev->referh)
		return false;
	if (!h || sip_msg_hdr_count(msg, SIP_HDR_REFER_TO) != 1) {
		reply(sess, stx, 400, "Exactly One Refer-To", NULL);
		return true;
	}
	rt = mem_zalloc(sizeof(*rt), NULL);
	if (!rt) {
		reply(sess, stx, 500, NULL, NULL);
		return true;
	}
	if (sip_refer_to_decode(rt, h->val)) {
		reply(sess, stx, 400, "Bad Refer-To", NULL);
		mem_deref(rt);
		return true;
	}
	snprintf(id, sizeof(id), "%u", msg->cseq.num);
	if (!no_sub && ev_sub_alloc(&sub, ev, sip_sess_dialog(sess), false, true, PL("refer"),
	                            pl_make(id, strlen(id)))) {
		reply(sess, stx, 500, NULL, NULL);
		mem_deref(rt);
		return true;
	}
	if (sub) {
		sub->refer = true;
		sub->state = SIP_EVSUB_ACTIVE;
		sub->expires_at = loop_now(sip_ua_loop(ev->ua)) + 1000ull * EV_REFER_EXPIRES;
		sub->in_handler = true;
		mem_ref(sub);
	}
	code = ev->referh(sess, sub, rt, msg, ev->referarg);
	mem_deref(rt);
	if (code < 200 || code > 699)
		code = 500;
	if (code >= 300) {
		reply(sess, stx, code, NULL, NULL);
		if (sub) {
			ev_sub_drop(sub);
			mem_deref(sub);
		}
		return true;
	}
	reply(sess, stx, 202, NULL, no_sub ? "Refer-Sub: false\r\n" : NULL);
	if (sub) {
		refer_started(sub);
		mem_deref(sub);
	}
	return true;
}

int sip_refer_notify(struct sip_evsub *sub, uint16_t code, const char *reason)
{
	char frag[128];
	int n;

	if (!sub || !sub->refer || !sub->notifier || code < 100 || code > 699)
		return EINVAL;
	n = snprintf(frag, sizeof(frag), "SIP/2.0 %u %s\r\n", code,
	             reason ? reason : sip_reason_phrase(code));
	if (n < 0 || (size_t)n >= sizeof(frag))
		return EINVAL;
	if (code >= 200)
		return sip_evsub_terminate(sub, "noresource", sipfrag_ct, frag, (size_t)n);
	return sip_evsub_notify(sub, sipfrag_ct, frag, (size_t)n);
}

/* ---- sender ---- */

static void refer_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_evsub *sub = arg;
	uint16_t code = resp ? resp->scode : 0;

	if (resp && code < 200)
		return;
	mem_ref(sub);
	if (sub->h.response && !sub->app_closed)
		sub->h.response(sub, code, resp, sub->arg);
	if (sub->ended) {
		mem_deref(sub);
		return;
	}
	if (err || code >= 300) {
		ev_sub_end(sub, err, code, NULL);
	} else if (sub->no_sub && refer_sub_false(resp)) {
		ev_sub_end(sub, 0, code, "norefersub");
	} else {
		sub->got_2xx = true;
		if (sub->state == SIP_EVSUB_INIT)
			sub->state = SIP_EVSUB_ACTIVE;
		/* bounded by our own idea of the duration until a NOTIFY says otherwise */
		if (!sub->notified) {
			sub->expires_at =
			    loop_now(sip_ua_loop(sub->ev->ua)) + 1000ull * EV_REFER_EXPIRES;
			ev_subscriber_bound(sub, EV_REFER_EXPIRES);
		}
	}
	mem_deref(sub);
}

int sip_refer_send(struct sip_evsub **subp, struct sip_events *ev, struct sip_sess *sess,
                   const char *refer_to, const char *extra_hdrs, bool no_sub,
                   const struct sip_evsub_handlers *h, void *arg)
{
	struct sip_dialog *dlg;
	struct sip_evsub *sub = NULL;
	struct sip_mb mb;
	char id[16];
	int err;

	if (!subp || !ev || !sess || !refer_to)
		return EINVAL;
	dlg = sip_sess_dialog(sess);
	if (!dlg || !sip_dialog_remote_tag(dlg) || sip_sess_state(sess) >= SIP_SESS_CLOSING)
		return EINVAL;
	err = sip_mb_init(&mb, 256 + strlen(refer_to));
	if (err)
		return err;
	sip_mb_printf(&mb, "Refer-To: %s%s%s\r\n%s%s", refer_to[0] == '<' ? "" : "<", refer_to,
	              refer_to[0] == '<' ? "" : ">",
	              no_sub ? "Refer-Sub: false\r\nSupported: norefersub\r\n" : "",
	              extra_hdrs ? extra_hdrs : "");
	sip_mb_append(&mb, "", 1);
	err = sip_mb_finish(&mb);
	if (!err)
		err = ev_sub_alloc(&sub, ev, dlg, false, false, PL("refer"), PL(""));
	if (!err) {
		sub->refer = true;
		sub->no_sub = no_sub;
		sip_evsub_set_handlers(sub, h, arg);
		err = sip_dialog_send(&sub->req, dlg, "REFER", mb.buf, NULL, NULL, 0, refer_resp,
		                      sub);
	}
	mem_deref(mb.buf);
	if (err) {
		if (sub) {
			sub->app_closed = true;
			ev_sub_drop(sub);
		}
		return err;
	}
	/* the implicit subscription's id is the REFER's CSeq (RFC 3515 §2.4.6) */
	snprintf(id, sizeof(id), "%u", sip_creq_cseq(sub->req));
	mem_deref(sub->id);
	sub->id = ev_strdup(id);
	if (!sub->id) {
		sip_evsub_close(sub);
		return ENOMEM;
	}
	*subp = sub;
	return 0;
}
