/*
 * What offering, answering and applying an answer share: the head of our
 * SDPs and the o= version rule, the peer's addresses, crypto selection.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "media/sdp/sdp_int.h"

const struct sa *sdp_neg_local(const struct sdp_neg *n, int af)
{
	if (sa_af(&n->local) == af)
		return &n->local;
	if (sa_isset(&n->local_alt) && sa_af(&n->local_alt) == af)
		return &n->local_alt;
	return NULL;
}

bool sdp_prefs_have(const struct sdp_prefs *p, enum sdp_codec c)
{
	for (unsigned i = 0; i < p->ncodec; i++) {
		if (p->codec[i] == c)
			return true;
	}
	return false;
}

void sdp_wr_head(struct sdp_wr *w, const struct sdp_neg *n, const struct sa *addr, size_t *ver_off,
                 size_t *ver_len)
{
	const char *user = n->prefs->user ? n->prefs->user : "tandem";
	const char *at = sa_af(addr) == AF_INET6 ? "IP6" : "IP4";
	char a[SA_STRLEN];

	sa_ntop(addr, a, sizeof(a));
	sdp_wr_printf(w, "v=0\r\no=%s %llu ", user, (unsigned long long)n->sess_id);
	*ver_off = w->len;
	sdp_wr_printf(w, "%llu", (unsigned long long)n->version);
	*ver_len = w->len - *ver_off;
	sdp_wr_printf(w, " IN %s %s\r\ns=%s\r\nc=IN %s %s\r\nt=0 0\r\n", at, a, user, at, a);
}

/* FNV-1a */
static uint32_t hash(uint32_t h, const char *p, size_t l)
{
	for (size_t i = 0; i < l; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * RFC 3264 §8: each SDP we send in a session carries the o= version of the
 * previous one, plus one exactly when anything else in it changed.
 */
int sdp_neg_emit(struct sdp_neg *n, char *buf, size_t size, size_t *lenp,
                 void (*build)(struct sdp_wr *w, const struct sdp_neg *n, const void *arg,
                               size_t *ver_off, size_t *ver_len),
                 const void *arg)
{
	uint64_t old = n->version;
	size_t off = 0, vlen = 0;
	struct sdp_wr w;
	uint32_t h;
	int err;

	sdp_wr_init(&w, buf, size);
	build(&w, n, arg, &off, &vlen);
	if (w.overflow)
		return ENOSPC;
	h = hash(hash(2166136261u, buf, off), buf + off + vlen, w.len - off - vlen);
	if (n->sent && h != n->body_hash) {
		n->version = old + 1;
		sdp_wr_init(&w, buf, size);
		build(&w, n, arg, &off, &vlen);
	}
	err = sdp_wr_end(&w, lenp);
	if (err) {
		n->version = old;
		return err;
	}
	n->body_hash = h;
	n->sent = true;
	return 0;
}

void sdp_mline_set(struct sdp_mline *ml, struct pl media, struct pl proto, struct pl fmt)
{
	pl_strcpy(media, ml->media, sizeof(ml->media));
	pl_strcpy(proto, ml->proto, sizeof(ml->proto));
	pl_strcpy(fmt, ml->fmt, sizeof(ml->fmt));
}

void sdp_remote_addr(struct sdp_result *res, const struct sdp_session *s, const struct sdp_media *m)
{
	const struct sdp_conn *c = sdp_media_conn(s, m);
	struct sdp_rtcp rtcp;
	struct pl v;
	bool has_rtcp = sdp_media_attr(m, "rtcp", &v) && !sdp_rtcp_decode(v, &rtcp);

	memset(&res->remote, 0, sizeof(res->remote));
	memset(&res->remote_rtcp, 0, sizeof(res->remote_rtcp));
	res->remote_host[0] = '\0';
	res->rtp_port = m->port;
	res->rtcp_port = has_rtcp ? rtcp.port : (uint16_t)(m->port < 65535 ? m->port + 1 : 0);
	if (!c)
		return;
	if (!sa_isset(&c->sa)) {
		pl_strcpy(c->addr, res->remote_host, sizeof(res->remote_host));
		return;
	}
	if (c->zero)
		return; /* RFC 2543 hold: nowhere to send */
	res->remote = c->sa;
	sa_set_port(&res->remote, m->port);
	if (has_rtcp && rtcp.has_addr) {
		res->remote_rtcp = rtcp.sa;
	} else if (res->rtcp_port) {
		res->remote_rtcp = c->sa;
		sa_set_port(&res->remote_rtcp, res->rtcp_port);
	}
}

/* A crypto line we can use: our suite, one key of its size, no session params, an MKI only if
 * allowed. */
static bool crypto_usable(const struct sdp_prefs *p, const struct sdp_crypto *c,
                          enum sdp_suite want, uint8_t *key)
{
	enum sdp_suite s;
	size_t len;

	if (!sdp_suite_lookup(c->suite, &s) || s != want || c->nkeys != 1 || pl_isset(c->params))
		return false;
	if (c->has_mki && !p->accept_mki)
		return false;
	return !sdp_b64_decode(c->key, key, SDP_KEY_MAX, &len) && len == sdp_suite_keylen(s);
}

bool sdp_pick_crypto(const struct sdp_prefs *p, const struct sdp_media *m, struct sdp_crypto *c,
                     enum sdp_suite *suite, uint8_t *key)
{
	struct pl v;

	for (unsigned k = 0; k < p->nsuite; k++) {
		for (unsigned i = 0; sdp_attr_next(m->attr, m->nattr, "crypto", &i, &v);) {
			if (!pl_isset(v) || sdp_crypto_decode(v, c))
				continue;
			if (crypto_usable(p, c, p->suite[k], key)) {
				*suite = p->suite[k];
				return true;
			}
		}
	}
	return false;
}

void sdp_peer_origin(struct sdp_neg *n, struct sdp_result *res, const struct sdp_session *s)
{
	uint64_t id = 0;

	/* a sess-id too long for 64 bits (none seen) just never compares equal */
	bool ok = !pl_u64(s->origin.id, &id);

	res->peer_unchanged =
	    ok && n->peer_seen && id == n->peer_id && s->origin.version == n->peer_version;
	n->peer_seen = ok;
	n->peer_id = id;
	n->peer_version = s->origin.version;
}
