/*
 * Applying the answer to our offer (RFC 3264 §7): in the 200 for an offer in
 * the INVITE, in the ACK for an offer we put in the 200.
 */
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "media/sdp/sdp_int.h"

static bool offered(const struct sdp_prefs *p, enum sdp_codec c)
{
	return sdp_prefs_have(p, c);
}

/*
 * The answer's formats that we offered, our preference first. Formats we did
 * not offer are ignored (answerers add CN or the like), not fatal.
 */
static bool pick_codec(const struct sdp_prefs *p, const struct sdp_media *m, struct sdp_result *r)
{
	struct sdp_rtpmap map;
	enum sdp_codec c;
	bool found = false;
	unsigned best = p->ncodec;

	for (unsigned i = 0; i < m->nfmt; i++) {
		if (sdp_media_rtpmap(m, m->fmt[i], &map) || !sdp_codec_match(&map, &c) ||
		    !offered(p, c))
			continue;
		if (c == SDP_CODEC_TEL_EVENT) {
			r->dtmf = true;
			r->dtmf_pt = map.pt;
			r->dtmf_rx_pt = sdp_codec_tab[c].offer_pt;
			continue;
		}
		for (unsigned k = 0; k < best; k++) {
			if (p->codec[k] == c) {
				best = k;
				r->codec = c;
				r->pt = map.pt;
				r->rx_pt = sdp_codec_tab[c].offer_pt;
				r->clock = map.clock;
				found = true;
				break;
			}
		}
	}
	return found;
}

/* RFC 4568 §7.1.3: the answer picks one of our crypto lines by tag, same suite. */
static bool pick_crypto(const struct sdp_neg *n, const struct sdp_media *m, struct sdp_result *r)
{
	const struct sdp_prefs *p = n->prefs;
	struct sdp_crypto c;
	enum sdp_suite s;
	struct pl v;
	size_t len;

	for (unsigned i = 0; sdp_attr_next(m->attr, m->nattr, "crypto", &i, &v);) {
		if (!pl_isset(v) || sdp_crypto_decode(v, &c) || !c.tag || c.tag > p->nsuite)
			continue;
		if (!sdp_suite_lookup(c.suite, &s) || s != p->suite[c.tag - 1] || c.nkeys != 1 ||
		    pl_isset(c.params) || (c.has_mki && !p->accept_mki))
			continue;
		if (sdp_b64_decode(c.key, r->rx_key, SDP_KEY_MAX, &len) ||
		    len != sdp_suite_keylen(s))
			continue;
		r->srtp = true;
		r->suite = s;
		r->key_len = (uint8_t)len;
		memcpy(r->tx_key, n->key[s], len);
		r->rx_mki = c.has_mki;
		r->rx_mki_val = c.mki;
		r->rx_mki_len = c.mki_len;
		r->rx_lifetime = c.lifetime_pkts;
		return true;
	}
	return false;
}

static int check_layout(const struct sdp_neg *n, const struct sdp_session *a)
{
	if (a->nmedia != n->nmline)
		return EBADMSG;
	for (unsigned i = 0; i < a->nmedia; i++) {
		if (!pl_caseeq_str(a->media[i].media, n->mline[i].media))
			return EBADMSG;
	}
	return 0;
}

static int apply(const struct sdp_neg *n, const struct sdp_session *a, struct sdp_result *r)
{
	const struct sdp_media *m;
	const struct sdp_conn *c;
	enum sdp_dir ad;
	uint32_t pt;
	int err = check_layout(n, a);

	if (err)
		return err;
	m = &a->media[n->audio];
	if (!m->port)
		return EMEDIUMTYPE; /* refused */
	if (!pl_caseeq_str(m->proto, n->offer_savp ? "RTP/SAVP" : "RTP/AVP"))
		return EBADMSG;
	memset(r, 0, sizeof(*r));
	if (!pick_codec(n->prefs, m, r))
		return EMEDIUMTYPE;
	if (r->dtmf && sdp_codec_tab[SDP_CODEC_TEL_EVENT].clock != r->clock)
		r->dtmf = false;
	if (n->offer_srtp && !pick_crypto(n, m, r) &&
	    (n->offer_savp || n->prefs->srtp == SDP_SRTP_MANDATORY))
		return EMEDIUMTYPE;
	c = sdp_media_conn(a, m);
	if (!c)
		return EBADMSG; /* sdp_parse() lets no used m-line go without */
	ad = sdp_media_dir(a, m);
	if (c->zero)
		ad &= ~SDP_RECVONLY;
	r->dir = n->offer_dir & sdp_dir_reverse(ad);
	pt = sdp_media_ptime(a, m, "ptime");
	r->ptime = (pt >= 10 && pt <= 60 && pt % 10 == 0) ? pt : n->offer_ptime;
	pt = sdp_media_ptime(a, m, "maxptime");
	if (pt && r->ptime > pt)
		r->ptime = pt >= 10 ? pt / 10 * 10 : 10;
	sdp_remote_addr(r, a, m);
	r->active = true;
	r->mline = n->audio;
	return 0;
}

int sdp_neg_process_answer(struct sdp_neg *n, const struct sdp_session *answer)
{
	struct sdp_result r;
	int err;

	if (n->state != SDP_NEG_OFFER_SENT)
		return EPROTO;
	n->state = n->prev_state;
	err = apply(n, answer, &r);
	if (err) {
		LOGD(n->ctx, "sdp: answer not applied: %s", strerror(err));
		return err;
	}
	n->res = r;
	sdp_peer_origin(n, &n->res, answer);
	n->state = SDP_NEG_DONE;
	return 0;
}
