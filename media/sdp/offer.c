/*
 * Our offers (RFC 3264 §5, §8): the initial offer, the offer in a 200 when
 * the INVITE had none, re-offers that keep the session's m-lines, hold and
 * resume (§8.4).
 */
#include <string.h>

#include "core/err.h"
#include "media/sdp/sdp_int.h"

void sdp_neg_init(struct sdp_neg *n, const struct sdp_prefs *p, const struct sa *local,
                  const struct sa *local_alt, uint64_t sess_id)
{
	memset(n, 0, sizeof(*n));
	n->prefs = p;
	n->local = *local;
	if (local_alt && sa_af(local_alt) != sa_af(local)) {
		n->local_alt = *local_alt;
		sa_set_port(&n->local_alt, sa_port(local));
	}
	n->sess_id = sess_id;
	n->version = sess_id;
}

void sdp_neg_hold(struct sdp_neg *n, bool hold)
{
	n->hold = hold;
}

void sdp_neg_rollback(struct sdp_neg *n)
{
	if (n->state == SDP_NEG_OFFER_SENT)
		n->state = n->prev_state;
}

static uint32_t our_ptime(const struct sdp_prefs *p)
{
	return p->ptime ? p->ptime : 20;
}

static bool has_audio_codec(const struct sdp_prefs *p)
{
	for (unsigned i = 0; i < p->ncodec; i++) {
		if (p->codec[i] < SDP_CODEC_TEL_EVENT)
			return true;
	}
	return false;
}

/* The direction we offer: ours, less sending when the peer will not receive. */
static enum sdp_dir offer_dir(const struct sdp_neg *n)
{
	enum sdp_dir d = n->hold ? SDP_SENDONLY : SDP_SENDRECV;

	if (n->peer_hold)
		d &= ~SDP_SENDONLY;
	return d;
}

static bool offer_crypto(const struct sdp_neg *n)
{
	return n->prefs->srtp != SDP_SRTP_OFF && n->prefs->nsuite;
}

static void wr_audio(struct sdp_wr *w, const struct sdp_neg *n, const struct sa *laddr)
{
	const struct sdp_prefs *p = n->prefs;

	sdp_wr_printf(w, "m=audio %u %s", sa_port(laddr), n->audio_savp ? "RTP/SAVP" : "RTP/AVP");
	for (unsigned i = 0; i < p->ncodec; i++)
		sdp_wr_printf(w, " %u", sdp_codec_tab[p->codec[i]].offer_pt);
	sdp_wr_printf(w, "\r\n");
	for (unsigned i = 0; i < p->ncodec; i++) {
		const struct sdp_codec_info *ci = &sdp_codec_tab[p->codec[i]];
		sdp_wr_printf(w, "a=rtpmap:%u %s/%u\r\n", ci->offer_pt, ci->name, ci->clock);
		if (p->codec[i] == SDP_CODEC_TEL_EVENT)
			sdp_wr_printf(w, "a=fmtp:%u 0-15\r\n", ci->offer_pt);
	}
	sdp_wr_printf(w, "a=ptime:%u\r\n", our_ptime(p));
	if (n->rtcp_port)
		sdp_wr_printf(w, "a=rtcp:%u\r\n", n->rtcp_port);
	if (offer_crypto(n)) {
		for (unsigned i = 0; i < p->nsuite; i++)
			sdp_wr_crypto(w, n, i + 1, p->suite[i]);
	}
	sdp_wr_printf(w, "a=%s\r\n", sdp_dir_name(offer_dir(n)));
}

static void build_offer(struct sdp_wr *w, const struct sdp_neg *n, const void *arg, size_t *ver_off,
                        size_t *ver_len)
{
	(void)arg;
	sdp_wr_head(w, n, &n->local, ver_off, ver_len);
	for (unsigned i = 0; i < n->nmline; i++) {
		const struct sdp_mline *ml = &n->mline[i];
		if (i == n->audio)
			wr_audio(w, n, &n->local);
		else
			sdp_wr_printf(w, "m=%s 0 %s %s\r\n", ml->media, ml->proto, ml->fmt);
	}
}

int sdp_neg_offer(struct sdp_neg *n, char *buf, size_t size, size_t *lenp)
{
	bool first = !n->nmline;
	int err;

	if (!has_audio_codec(n->prefs) || !sa_isset(&n->local))
		return EINVAL;
	if (offer_crypto(n)) {
		err = sdp_keys_make(n);
		if (err)
			return err;
	}
	if (first) {
		n->nmline = 1;
		n->audio = 0;
		n->audio_savp = n->prefs->srtp == SDP_SRTP_MANDATORY;
	}
	err = sdp_neg_emit(n, buf, size, lenp, build_offer, NULL);
	if (err) {
		if (first)
			n->nmline = 0;
		return err;
	}
	if (first)
		sdp_mline_set(&n->mline[0], PL("audio"),
		              n->audio_savp ? PL("RTP/SAVP") : PL("RTP/AVP"), PL("0"));
	if (n->state != SDP_NEG_OFFER_SENT)
		n->prev_state = n->state;
	n->state = SDP_NEG_OFFER_SENT;
	n->offer_srtp = offer_crypto(n);
	n->offer_savp = n->audio_savp;
	n->offer_ptime = our_ptime(n->prefs);
	n->offer_dir = offer_dir(n);
	return 0;
}
