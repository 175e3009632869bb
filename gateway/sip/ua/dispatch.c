/*
 * New requests (RFC 3261 §8.2): validation, in-dialog matching (§12.2.2),
 * per-method handlers, and the UA's own answers (OPTIONS §11.2, 405, 501, 481).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

const char *const ua_supported[] = {"100rel", "timer", "norefersub", NULL};
static const char *const accept_sdp[] = {"application/sdp", NULL};

int ua_build_response(struct sip_ua *ua, struct sip_mb *mb, const struct sip_msg *req,
                      uint16_t code, const char *reason, const char *to_tag, const char *extra,
                      const char *ctype, const void *body, size_t len)
{
	char hdrs[1024];
	int err;

	snprintf(hdrs, sizeof(hdrs), "Server: %s\r\n%s", ua->user_agent, extra ? extra : "");
	err = sip_mb_init(mb, 512 + len);
	if (err)
		return err;
	err = sip_msg_build_response(
	    mb, req, code, reason ? reason : sip_reason_phrase(code), code > 100 ? to_tag : NULL,
	    true, hdrs, body && len ? (ctype ? ctype : "application/sdp") : NULL, body, len);
	if (!err)
		err = sip_mb_finish(mb);
	if (err)
		mb->buf = mem_deref(mb->buf);
	return err;
}

int ua_reply(struct sip_ua *ua, struct sip_tsx *stx, uint16_t code, const char *reason,
             const char *to_tag, const char *extra, const char *ctype, const void *body, size_t len)
{
	const struct sip_msg *req = sip_tsx_request_msg(stx);
	struct sip_mb mb = {0};
	char tag[UA_TAG_LEN];
	int err;

	if (!req)
		return EINVAL;
	if (!to_tag && !req->to.tag.l && code > 100) {
		sip_ua_token(tag, sizeof(tag));
		to_tag = tag;
	}
	err = ua_build_response(ua, &mb, req, code, reason, to_tag, extra, ctype, body, len);
	if (err)
		return err;
	err = sip_tsx_reply(stx, code, mb.buf, mb.len);
	mem_deref(mb.buf);
	return err;
}

int sip_ua_reply(struct sip_ua *ua, struct sip_tsx *stx, uint16_t code, const char *reason,
                 const char *extra_hdrs, const char *ctype, const void *body, size_t len)
{
	if (!ua || !stx)
		return EINVAL;
	return ua_reply(ua, stx, code, reason, NULL, extra_hdrs, ctype, body, len);
}

static uint32_t allowed_bits(const struct sip_ua *ua)
{
	uint32_t bits = 0;

	for (int m = 1; m < SIP_M_COUNT; m++)
		if (ua_method_allowed(ua, (enum sip_method)m))
			bits |= 1u << m;
	/* in-dialog methods are ours whenever sessions exist: a request for a
	 * dialog we do not have gets 481 below, not 405 */
	bits |= 1u << SIP_M_ACK | 1u << SIP_M_BYE | 1u << SIP_M_CANCEL | 1u << SIP_M_PRACK |
	        1u << SIP_M_UPDATE;
	return bits;
}

/* "Unsupported: a, b\r\n" for the Require tokens we do not know. */
static void unsupported_hdr(const struct sip_msg *msg, char *buf, size_t n)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct pl v;
	size_t o = 0;

	buf[0] = '\0';
	while (sip_msg_hdr_next(msg, SIP_HDR_REQUIRE, &it, &v)) {
		bool known = false;
		v = pl_trim(v);
		for (const char *const *s = ua_supported; *s; s++)
			known |= pl_caseeq_str(v, *s);
		if (known || o + v.l + 20 >= n)
			continue;
		o += snprintf(buf + o, n - o, "%s%.*s", o ? ", " : "Unsupported: ", PL_ARG(v));
	}
	if (o)
		snprintf(buf + o, n - o, "\r\n");
}

static void reply_check(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg,
                        uint16_t code, const char *reason)
{
	char extra[512];

	extra[0] = '\0';
	switch (code) {
	case 405:
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", ua->allow);
		break;
	case 420:
		unsupported_hdr(msg, extra, sizeof(extra));
		break;
	case 415:
		snprintf(extra, sizeof(extra), "Accept: application/sdp\r\n");
		break;
	default:
		break;
	}
	ua->st.reply_check++;
	ua_reply(ua, stx, code, reason, NULL, extra, NULL, NULL, 0);
}

static void reply_options(struct sip_ua *ua, struct sip_tsx *stx)
{
	char extra[512];

	snprintf(extra, sizeof(extra),
	         "Allow: %s\r\nAccept: application/sdp\r\nAccept-Encoding: identity\r\n"
	         "Accept-Language: en\r\nSupported: 100rel, timer\r\n",
	         ua->allow);
	ua_reply(ua, stx, 200, NULL, NULL, extra, NULL, NULL, 0);
}

static void reply_405(struct sip_ua *ua, struct sip_tsx *stx)
{
	char extra[256];

	snprintf(extra, sizeof(extra), "Allow: %s\r\n", ua->allow);
	ua->st.reply_405++;
	ua_reply(ua, stx, 405, NULL, NULL, extra, NULL, NULL, 0);
}

static void in_dialog(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg)
{
	struct sip_dialog *dlg = ua_dialog_find(ua, msg);

	if (!dlg && ua->usageh && ua->usageh(ua, NULL, NULL, stx, msg, ua->usagearg))
		return;
	if (!dlg || !dlg->reqh) {
		ua->st.reply_481++;
		ua_reply(ua, stx, 481, NULL, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (!sip_dialog_check_cseq(dlg, msg)) {
		ua_reply(ua, stx, 500, "CSeq Out of Order", NULL, NULL, NULL, NULL, 0);
		return;
	}
	dlg->reqh(dlg, stx, msg, dlg->reqarg);
}

static void out_of_dialog(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg)
{
	switch (msg->mid) {
	case SIP_M_INVITE:
		if (ua->sessh)
			ua_sess_incoming(ua, stx, msg);
		else
			reply_405(ua, stx);
		return;
	case SIP_M_OPTIONS:
		if (ua->mh[SIP_M_OPTIONS].h)
			ua->mh[SIP_M_OPTIONS].h(ua, stx, msg, ua->mh[SIP_M_OPTIONS].arg);
		else
			reply_options(ua, stx);
		return;
	case SIP_M_INFO: /* RFC 6086 §4.2.2: INFO belongs to an invite dialog usage */
		if (ua->mh[SIP_M_INFO].h)
			break;
		/* fall through */
	case SIP_M_BYE:
	case SIP_M_PRACK:
	case SIP_M_UPDATE:
	case SIP_M_CANCEL:
	case SIP_M_ACK:
		ua->st.reply_481++;
		ua_reply(ua, stx, 481, NULL, NULL, NULL, NULL, NULL, 0);
		return;
	case SIP_M_UNKNOWN:
		ua->st.reply_501++;
		ua_reply(ua, stx, 501, NULL, NULL, NULL, NULL, NULL, 0);
		return;
	default:
		break;
	}
	if (msg->mid < SIP_M_COUNT && ua->mh[msg->mid].h)
		ua->mh[msg->mid].h(ua, stx, msg, ua->mh[msg->mid].arg);
	else
		reply_405(ua, stx);
}

void ua_tsx_req(struct sip_tsx *stx, const struct sip_msg *msg, void *arg)
{
	struct sip_ua *ua = arg;
	struct sip_check_opts opts = {0};
	const char *reason = NULL;
	uint16_t code = 0;
	bool session = msg->mid == SIP_M_INVITE || msg->mid == SIP_M_UPDATE ||
	               msg->mid == SIP_M_PRACK || msg->mid == SIP_M_ACK;

	if (!stx) { /* ACK for a 2xx */
		struct sip_dialog *dlg = ua_dialog_find(ua, msg);
		if (dlg && dlg->reqh)
			dlg->reqh(dlg, NULL, msg, dlg->reqarg);
		return;
	}
	if (msg->mid == SIP_M_UNKNOWN) {
		ua->st.reply_501++;
		ua_reply(ua, stx, 501, NULL, NULL, NULL, NULL, NULL, 0);
		return;
	}
	opts.supported = ua_supported;
	opts.accept = session ? accept_sdp : NULL;
	opts.allowed_methods = allowed_bits(ua);
	if (!sip_msg_check(msg, &opts, &code, &reason)) {
		if (code)
			reply_check(ua, stx, msg, code, reason);
		return;
	}
	if (msg->has_maxfwd && msg->maxfwd == 0 && msg->mid != SIP_M_OPTIONS) {
		ua_reply(ua, stx, 483, NULL, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (msg->to.tag.l)
		in_dialog(ua, stx, msg);
	else
		out_of_dialog(ua, stx, msg);
}
