/*
 * Internals shared by the files of media/sdp: the output writer, token
 * splitting, the codec and suite tables, base64 and key generation.
 */
#ifndef TANDEM_MEDIA_SDP_INT_H
#define TANDEM_MEDIA_SDP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/sdp/sdp.h"

/* Appends to a fixed buffer; remembers overflow instead of failing each call. */
struct sdp_wr {
	char *buf;
	size_t size, len;
	bool overflow;
};

void sdp_wr_init(struct sdp_wr *w, char *buf, size_t size);
void sdp_wr_printf(struct sdp_wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sdp_wr_pl(struct sdp_wr *w, struct pl pl);
/* NUL-terminates; 0 with *lenp, or ENOSPC. */
int sdp_wr_end(struct sdp_wr *w, size_t *lenp);

/* Next token separated by runs of spaces; false at the end. */
bool sdp_tok_next(struct pl *rest, struct pl *tok);
/* Splits pl at the first c: head before, *tail after (unset if no c). */
struct pl sdp_split(struct pl pl, char c, struct pl *tail);
bool sdp_is_token(struct pl pl);

struct sdp_codec_info {
	const char *name; /* rtpmap encoding name */
	uint32_t clock;   /* RTP clock rate (G.722: 8000, RFC 3551 §4.5.2) */
	int static_pt;    /* -1 when dynamic */
	uint8_t offer_pt; /* the number we offer */
};
extern const struct sdp_codec_info sdp_codec_tab[SDP_CODEC_COUNT];

/* Which codec an rtpmap names (case-insensitive, clock and one channel). */
bool sdp_codec_match(const struct sdp_rtpmap *r, enum sdp_codec *c);
bool sdp_suite_lookup(struct pl name, enum sdp_suite *s);

/* Standard base64 with padding. Returns the length written, or 0 if no room. */
size_t sdp_b64_encode(const uint8_t *in, size_t n, char *out, size_t size);
/* Strict alphabet; padding optional. Returns 0, EBADMSG or ENOSPC. */
int sdp_b64_decode(struct pl in, uint8_t *out, size_t size, size_t *lenp);

/* Makes our master keys (once per negotiation). Returns 0 or EIO. */
int sdp_keys_make(struct sdp_neg *n);

/* Writes a=crypto lines for our suites, tags 1.. in preference order. */
void sdp_wr_crypto(struct sdp_wr *w, const struct sdp_neg *n, uint32_t tag, enum sdp_suite s);

/*
 * Writes v= o= s= c= t= with version n->version; returns where the version
 * digits went (so a change detector can skip them).
 */
void sdp_wr_head(struct sdp_wr *w, const struct sdp_neg *n, const struct sa *addr, size_t *ver_off,
                 size_t *ver_len);
/*
 * Finishes an SDP of ours: hashes everything but the version, bumps the
 * version when the body changed since the last one we sent, rewrites the
 * head then. build() writes the whole SDP with the current version.
 */
int sdp_neg_emit(struct sdp_neg *n, char *buf, size_t size, size_t *lenp,
                 void (*build)(struct sdp_wr *w, const struct sdp_neg *n, const void *arg,
                               size_t *ver_off, size_t *ver_len),
                 const void *arg);

/* Copies what a re-offer must repeat of an m-line. */
void sdp_mline_set(struct sdp_mline *ml, struct pl media, struct pl proto, struct pl fmt);

bool sdp_prefs_have(const struct sdp_prefs *p, enum sdp_codec c);

/* The address of ours that matches family af (AF_INET/AF_INET6), or NULL. */
const struct sa *sdp_neg_local(const struct sdp_neg *n, int af);

/* Fills res->remote*, for one m-line of a peer's SDP. */
void sdp_remote_addr(struct sdp_result *res, const struct sdp_session *s,
                     const struct sdp_media *m);

/* Picks the usable crypto line of m with our suite preference; false if none. */
bool sdp_pick_crypto(const struct sdp_prefs *p, const struct sdp_media *m, struct sdp_crypto *c,
                     enum sdp_suite *suite, uint8_t *key);

/* Sets res->peer_unchanged from the peer's o= and remembers that o=. */
void sdp_peer_origin(struct sdp_neg *n, struct sdp_result *res, const struct sdp_session *s);

/* RFC 3264 §6.1: what the answerer may do, from what the offerer does. */
static inline enum sdp_dir sdp_dir_reverse(enum sdp_dir d)
{
	return (enum sdp_dir)(((d & 1) << 1) | ((d & 2) >> 1));
}

#endif
