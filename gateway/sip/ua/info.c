/*
 * INFO in sessions (RFC 6086): incoming INFO goes to the session's info
 * handler, after the Info-Package check (469 with Recv-Info for a package we
 * did not declare); outgoing INFO with or without Info-Package. Legacy INFO
 * (no Info-Package, RFC 2976 usage such as application/dtmf-relay) is
 * delivered as is: the application decides with 200 or 415.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

/* "Recv-Info: a, b\r\n" (an empty Recv-Info says: no packages). */
static void recv_info_hdr(const struct sip_ua *ua, char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n, "Recv-Info:");

	for (const char *const *p = ua->cfg.info_packages; p && *p && o < n; p++)
		o += (size_t)snprintf(buf + o, n - o, "%s %s",
		                      p == ua->cfg.info_packages ? "" : ",", *p);
	if (o < n)
		snprintf(buf + o, n - o, "\r\n");
}

size_t ua_recv_info_hdr(const struct sip_ua *ua, char *buf, size_t n)
{
	if (!ua->cfg.info_packages || !ua->cfg.info_packages[0] || !n) {
		if (n)
			buf[0] = '\0';
		return 0;
	}
	recv_info_hdr(ua, buf, n);
	return strlen(buf);
}

static bool package_known(const struct sip_ua *ua, struct pl pkg)
{
	for (const char *const *p = ua->cfg.info_packages; p && *p; p++)
		if (pl_caseeq_str(pkg, *p))
			return true;
	return false;
}

void ua_info_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg)
{
	const struct sip_hdr *ip = sip_msg_hdr_name(msg, "Info-Package");
	struct pl pkg = PL_INIT;
	char extra[256];
	uint16_t code;

	extra[0] = '\0';
	if (ip) {
		/* Info-Package = token *(;param): the package is the token */
		const char *semi = pl_chr(ip->val, ';');
		pkg = pl_trim(semi ? pl_make(ip->val.p, (size_t)(semi - ip->val.p)) : ip->val);
		if (!pkg.l || !package_known(s->ua, pkg)) {
			recv_info_hdr(s->ua, extra, sizeof(extra));
			ua_reply(s->ua, stx, 469, "Bad Info Package", s->dlg->ltag, extra, NULL,
			         NULL, 0);
			return;
		}
	}
	if (s->h.info && !s->app_closed)
		code = s->h.info(s, pl_isset(pkg) ? pkg : PL(""), msg, s->arg);
	else
		code = ua_has_body(msg) ? 415 : 200;
	if (s->state == SIP_SESS_CLOSED && code < 300) /* closed from the handler */
		code = 481;
	if (code < 200 || code > 699)
		code = 500;
	if (code == 415)
		snprintf(extra, sizeof(extra),
		         "Accept: application/dtmf-relay, application/dtmf\r\n");
	ua_reply(s->ua, stx, code, NULL, s->dlg->ltag, extra, NULL, NULL, 0);
}

static void info_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sess *s = arg;

	if (resp && resp->scode < 200)
		return;
	if (s->h.info_resp && !s->app_closed && s->state != SIP_SESS_CLOSED)
		s->h.info_resp(s, err, resp ? resp->scode : 0, s->arg);
}

int sip_sess_info(struct sip_sess *s, const char *package, const char *ctype, const void *body,
                  size_t len)
{
	char extra[160];
	size_t i;

	if (!s || !s->dlg || !s->dlg->rtag || s->state == SIP_SESS_CLOSED ||
	    s->state == SIP_SESS_CLOSING)
		return EINVAL;
	if (body && len && !ctype)
		return EINVAL;
	for (i = 0; i < ARRAY_SIZE(s->info) && s->info[i]; i++)
		;
	if (i == ARRAY_SIZE(s->info))
		return EBUSY;
	extra[0] = '\0';
	if (package)
		snprintf(extra, sizeof(extra), "Info-Package: %s\r\n", package);
	return ua_creq_send(&s->info[i], s->dlg, "INFO", 0, extra, ctype, body, len, info_resp, s);
}

void ua_info_stop(struct sip_sess *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->info); i++)
		ua_creq_detach(s->info[i]);
}
