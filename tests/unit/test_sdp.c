/*
 * Unit tests for media/sdp: parsing (RFC 8866 fields, strictness and
 * leniency, bounds), attribute decoders (rtpmap, fmtp, ptime, rtcp, RFC 4733
 * events, RFC 4568 crypto), building, and offer/answer (RFC 3264: the §10.1
 * example, hold per §8.4, a codec/SRTP/direction/IPv6 matrix, delayed offer,
 * re-offers and the o= version rule).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "media/sdp/sdp.h"

/* sessions are large (bounded arrays): keep them off the stack */
static struct sdp_session s_off, s_ans, s_tmp;
static char abuf[4096], obuf[4096];

static struct pl P(const char *s) {
	return pl_make(s, strlen(s));
}

static void
assert_pl(struct pl pl, const char *want)
{
	char b[512];

	pl_strcpy(pl, b, sizeof(b));
	assert_true(pl_isset(pl));
	assert_string_equal(b, want);
}

/* the formats of m as "8 101" */
static const char *fmts(const struct sdp_media *m)
{
	static char b[256];
	size_t o = 0;

	b[0] = '\0';
	for (unsigned i = 0; i < m->nfmt; i++)
		o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%.*s", i ? " " : "",
		                      PL_ARG(m->fmt[i]));
	return b;
}

/* the value of the first a=name on m, as a C string ("" for a property, NULL if absent) */
static const char *mattr(const struct sdp_media *m, const char *name)
{
	static char b[256];
	struct pl v;

	if (!sdp_media_attr(m, name, &v))
		return NULL;
	pl_strcpy(pl_isset(v) ? v : P(""), b, sizeof(b));
	return b;
}

#define HEAD4                                                                                      \
	"v=0\r\no=peer 2890844526 2890844526 IN IP4 198.51.100.7\r\ns=-\r\n"                       \
	"c=IN IP4 198.51.100.7\r\nt=0 0\r\n"

static const struct sdp_prefs prefs_std = {
    .codec = {SDP_CODEC_PCMA, SDP_CODEC_PCMU, SDP_CODEC_G722, SDP_CODEC_TEL_EVENT},
    .ncodec = 4,
    .srtp = SDP_SRTP_OFF,
    .suite = {SDP_SUITE_AES_CM_128_HMAC_SHA1_80, SDP_SUITE_AES_CM_128_HMAC_SHA1_32,
              SDP_SUITE_AEAD_AES_128_GCM},
    .nsuite = 3,
    .ptime = 20,
};

static void neg_at(struct sdp_neg *n, const struct sdp_prefs *p, const char *addr, uint16_t port,
                   const char *alt)
{
	struct sa a, b;

	assert_int_equal(sa_set_str(&a, addr, port), 0);
	if (alt)
		assert_int_equal(sa_set_str(&b, alt, 0), 0);
	sdp_neg_init(n, p, &a, alt ? &b : NULL, 1000);
}

static void neg_std(struct sdp_neg *n, const struct sdp_prefs *p)
{
	neg_at(n, p, "192.0.2.10", 40000, "2001:db8::10");
}

/* Answers offer; on success our answer is re-parsed into *ans (it must be valid SDP). */
static int answer(struct sdp_neg *n, const char *offer, struct sdp_session *ans)
{
	size_t len = 0;
	int err;

	assert_int_equal(sdp_parse(&s_off, P(offer)), 0);
	err = sdp_neg_answer(n, &s_off, abuf, sizeof(abuf), &len);
	if (!err) {
		assert_int_equal(len, strlen(abuf));
		assert_int_equal(sdp_parse(ans, pl_make(abuf, len)), 0);
	}
	return err;
}

/* ---- parsing ---- */

static const char full_sdp[] = "v=0\r\n"
                               "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n"
                               "s=Call to John Smith\r\n"
                               "i=SDP Offer #1\r\n"
                               "u=http://www.jdoe.example.com/home.html\r\n"
                               "e=Jane Doe <jane@jdoe.example.com>\r\n"
                               "p=+1 617 555-6011\r\n"
                               "c=IN IP4 198.51.100.1\r\n"
                               "b=CT:128\r\n"
                               "t=0 0\r\n"
                               "t=3034423619 3042462419\r\n"
                               "r=604800 3600 0 90000\r\n"
                               "z=2882844526 -1h 2898848070 0\r\n"
                               "k=prompt\r\n"
                               "a=recvonly\r\n"
                               "a=tool:x y\r\n"
                               "m=audio 49170 RTP/AVP 0 101\r\n"
                               "i=voice\r\n"
                               "b=AS:64\r\n"
                               "a=rtpmap:101 telephone-event/8000\r\n"
                               "a=fmtp:101 0-15\r\n"
                               "a=ptime:20\r\n"
                               "a=sendonly\r\n"
                               "m=video 51372/2 RTP/AVP 99\r\n"
                               "c=IN IP6 2001:db8::2\r\n"
                               "c=IN IP6 ff15::101/3\r\n"
                               "k=clear:abc\r\n"
                               "a=rtpmap:99 h263-1998/90000\r\n";

static void test_parse_full(void **state)
{
	struct sdp_session *s = &s_tmp;
	const struct sdp_media *m;

	(void)state;
	assert_int_equal(sdp_parse(s, P(full_sdp)), 0);
	assert_pl(s->origin.user, "jdoe");
	assert_pl(s->origin.id, "3724394400");
	assert_true(s->origin.version == 3724394405ull);
	assert_pl(s->origin.addr, "198.51.100.1");
	assert_pl(s->name, "Call to John Smith");
	assert_pl(s->info, "SDP Offer #1");
	assert_pl(s->uri, "http://www.jdoe.example.com/home.html");
	assert_int_equal(s->nemail, 1);
	assert_int_equal(s->nphone, 1);
	assert_pl(s->phone[0], "+1 617 555-6011");
	assert_true(s->has_conn);
	assert_int_equal(sa_af(&s->conn.sa), AF_INET);
	assert_false(s->conn.zero);
	assert_int_equal(s->nbw, 1);
	assert_pl(s->bw[0].type, "CT");
	assert_int_equal(s->bw[0].value, 128);
	assert_int_equal(s->ntime, 2);
	assert_true(s->time[1].start == 3034423619ull);
	assert_int_equal(s->time[1].nrepeat, 1);
	assert_pl(s->time[1].repeat[0], "604800 3600 0 90000");
	assert_pl(s->zone, "2882844526 -1h 2898848070 0");
	assert_pl(s->key, "prompt");
	assert_int_equal(s->nattr, 2);
	assert_pl(s->attr[1].value, "x y");
	assert_false(pl_isset(s->attr[0].value));
	assert_int_equal(s->nmedia, 2);

	m = &s->media[0];
	assert_pl(m->media, "audio");
	assert_int_equal(m->port, 49170);
	assert_pl(m->proto, "RTP/AVP");
	assert_string_equal(fmts(m), "0 101");
	assert_pl(m->info, "voice");
	assert_int_equal(m->bw[0].value, 64);
	/* media level overrides session level */
	assert_int_equal(sdp_media_dir(s, m), SDP_SENDONLY);
	assert_ptr_equal(sdp_media_conn(s, m), &s->conn);

	m = &s->media[1];
	assert_int_equal(m->port, 51372);
	assert_int_equal(m->nports, 2);
	assert_int_equal(m->nconn, 2);
	assert_int_equal(sa_af(&m->conn[0].sa), AF_INET6);
	assert_pl(m->conn[1].addr, "ff15::101");
	assert_pl(m->conn[1].num, "3");
	assert_false(pl_isset(m->conn[1].ttl));
	assert_ptr_equal(sdp_media_conn(s, m), &m->conn[0]);
	assert_pl(m->key, "clear:abc");
	assert_int_equal(sdp_media_dir(s, m), SDP_RECVONLY);
}

/* the allocating form: one allocation, released by mem_deref, nothing on error */
static void test_decode_alloc(void **state)
{
	struct sdp_session *s = NULL;

	(void)state;
	assert_int_equal(sdp_decode(&s, P(full_sdp)), 0);
	assert_non_null(s);
	assert_int_equal(mem_nrefs(s), 1);
	assert_int_equal(s->nmedia, 2);
	assert_pl(s->media[1].conn[0].addr, "2001:db8::2");
	s = mem_deref(s);
	assert_int_equal(sdp_decode(&s, P("v=0\r\n")), EBADMSG);
	assert_null(s);
}

static void test_parse_lenient(void **state)
{
	struct sdp_session *s = &s_tmp;
	/* LF only, trailing blanks, empty s=, blank lines, no t=, several spaces, no final EOL */
	static const char sloppy[] = "v=0\n"
	                             "o=- 1  2 IN IP4 10.0.0.1   \n"
	                             "s=\n"
	                             "\n"
	                             "c=IN IP4 10.0.0.1\t\r\n"
	                             "m=audio  8000 RTP/AVP  8   0 \n"
	                             "a=ptime:20.0\n"
	                             "\r\n"
	                             "a=sendrecv";

	(void)state;
	assert_int_equal(sdp_parse(s, P(sloppy)), 0);
	assert_int_equal(s->name.l, 0);
	assert_int_equal(s->ntime, 0);
	assert_pl(s->origin.addr, "10.0.0.1");
	assert_true(s->origin.version == 2);
	assert_pl(s->conn.addr, "10.0.0.1");
	assert_int_equal(s->media[0].port, 8000);
	assert_string_equal(fmts(&s->media[0]), "8 0");
	assert_int_equal(s->media[0].nattr, 2);
	assert_pl(s->media[0].attr[1].name, "sendrecv");
	assert_int_equal(sdp_media_ptime(s, &s->media[0], "ptime"), 20);
	/* lines after s= in any order (b= after t=, a= before c=) */
	assert_int_equal(
	    sdp_parse(s, P("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\na=x\r\nt=0 0\r\nb=AS:1\r\n"
	                   "c=IN IP4 10.0.0.1\r\n")),
	    0);
	/* a port-0 m-line needs no c= */
	assert_int_equal(sdp_parse(s, P("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\n"
	                                "m=video 0 RTP/AVP 31\r\n")),
	                 0);
}

static void test_parse_strict(void **state)
{
	static const char *const bad[] = {
	    "",
	    "o=- 1 1 IN IP4 h\r\ns=x\r\n",                           /* no v= */
	    "v=1\r\no=- 1 1 IN IP4 h\r\ns=x\r\n",                    /* version 1 */
	    "v=0\r\ns=x\r\no=- 1 1 IN IP4 h\r\n",                    /* s before o */
	    "v=0\r\no=- 1 1 IN IP4 h\r\n",                           /* no s= */
	    "v=0\r\no=- 1 IN IP4 h\r\ns=x\r\n",                      /* o= with 5 fields */
	    "v=0\r\no=- 1 1 IN IP4 h x\r\ns=x\r\n",                  /* o= with 7 fields */
	    "v=0\r\no=- 1 x IN IP4 h\r\ns=x\r\n",                    /* o= version not digits */
	    "v=0\r\no=- 1 99999999999999999999 IN IP4 h\r\ns=x\r\n", /* overflow */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nx=1\r\n",             /* unknown type letter */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nA=b\r\n",             /* upper-case type */
	    "v =0\r\no=- 1 1 IN IP4 h\r\ns=x\r\n",                   /* space before '=' */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0\r\n",             /* t= with one field */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nr=1 2 3\r\n",         /* r= without t= */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nb=AS\r\n",            /* b= without value */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nb=AS:x\r\n",          /* b= value not digits */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\na=:x\r\n",            /* empty attribute name */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\na=a b:x\r\n",    /* attribute name not a token */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\ni=a\r\ni=b\r\n", /* two i= */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 999.1.2.3\r\n",   /* bad literal */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 2001:db8::1\r\n", /* family mismatch */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP6 192.0.2.1\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 a:b\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP\t4 1.2.3.4\r\n", /* not a token */
	    "v=0\r\no=- 1 1 I\tN IP4 h\r\ns=x\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 224.2.1.1/x\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP6 ff15::1/3/4\r\n", /* no TTL in IP6 */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nm=audio 1 RTP/AVP 0\r\n",  /* no c= anywhere */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 1/0 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP//AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP \t 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n"
	    "t=0 0\r\n", /* t= after m= */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n"
	    "v=0\r\n", /* a second v= */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n"
	    "i=a\r\ni=b\r\n",
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=a\rb\r\n", /* bare CR inside a line */
	};
	struct sdp_session *s = &s_tmp;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sdp_parse(s, P(bad[i])) != EBADMSG)
			fail_msg("accepted #%zu: \"%s\"", i, bad[i]);
	}
	/* an embedded NUL */
	assert_int_equal(sdp_parse(s, pl_make("v=0\r\no=- 1 1 IN IP4 h\r\ns=a\0b\r\n", 30)),
	                 EBADMSG);
	assert_int_equal(sdp_parse(s, pl_make(NULL, 0)), EBADMSG);
}

static void test_parse_bounds(void **state)
{
	static char big[8192];
	struct sdp_session *s = &s_tmp;
	size_t o;

	(void)state;
	/* SDP_MAX_MEDIA m-lines pass, one more is E2BIG */
	for (unsigned n = SDP_MAX_MEDIA; n <= SDP_MAX_MEDIA + 1; n++) {
		o = (size_t)snprintf(big, sizeof(big), HEAD4);
		for (unsigned i = 0; i < n; i++)
			o += (size_t)snprintf(big + o, sizeof(big) - o, "m=audio %u RTP/AVP 0\r\n",
			                      1000 + 2 * i);
		assert_int_equal(sdp_parse(s, pl_make(big, o)), n > SDP_MAX_MEDIA ? E2BIG : 0);
	}
	for (unsigned n = SDP_MAX_ATTR; n <= SDP_MAX_ATTR + 1; n++) {
		o = (size_t)snprintf(big, sizeof(big), HEAD4 "m=audio 1 RTP/AVP 0\r\n");
		for (unsigned i = 0; i < n; i++)
			o += (size_t)snprintf(big + o, sizeof(big) - o, "a=x%u\r\n", i);
		assert_int_equal(sdp_parse(s, pl_make(big, o)), n > SDP_MAX_ATTR ? E2BIG : 0);
	}
	for (unsigned n = SDP_MAX_FMT; n <= SDP_MAX_FMT + 1; n++) {
		o = (size_t)snprintf(big, sizeof(big), HEAD4 "m=audio 1 RTP/AVP");
		for (unsigned i = 0; i < n; i++)
			o += (size_t)snprintf(big + o, sizeof(big) - o, " %u", 96 + i);
		o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\n");
		assert_int_equal(sdp_parse(s, pl_make(big, o)), n > SDP_MAX_FMT ? E2BIG : 0);
	}
}

static void test_parse_conn(void **state)
{
	struct sdp_session *s = &s_tmp;
	char a[64];

	(void)state;
	assert_int_equal(sdp_parse(s, P("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\n"
	                                "c=IN IP6 2001:DB8::A\r\nt=0 0\r\n")),
	                 0);
	assert_int_equal(sa_af(&s->conn.sa), AF_INET6);
	assert_string_equal(sa_ntop(&s->conn.sa, a, sizeof(a)), "2001:db8::a");
	/* the RFC 2543 hold form */
	assert_int_equal(sdp_parse(s, P("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"
	                                "c=IN IP4 0.0.0.0\r\nt=0 0\r\n")),
	                 0);
	assert_true(s->conn.zero);
	/* multicast TTL and count */
	assert_int_equal(sdp_parse(s, P("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"
	                                "c=IN IP4 233.252.0.1/127/3\r\nt=0 0\r\n")),
	                 0);
	assert_pl(s->conn.addr, "233.252.0.1");
	assert_pl(s->conn.ttl, "127");
	assert_pl(s->conn.num, "3");
	/* a host name is kept as text, unresolved */
	assert_int_equal(sdp_parse(s, P("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"
	                                "c=IN IP4 host.atlanta.example.com\r\nt=0 0\r\n")),
	                 0);
	assert_false(sa_isset(&s->conn.sa));
	assert_pl(s->conn.addr, "host.atlanta.example.com");
	/* another network type is kept as text */
	assert_int_equal(sdp_parse(s, P("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"
	                                "c=TN RFC2543 +15551234567\r\nt=0 0\r\n")),
	                 0);
	assert_pl(s->conn.nettype, "TN");
}

/* ---- attributes ---- */

static void test_attr_rtpmap_fmtp(void **state)
{
	struct sdp_session *s = &s_tmp;
	const struct sdp_media *m;
	struct sdp_rtpmap r;
	struct pl v;

	(void)state;
	assert_int_equal(sdp_parse(s, P(HEAD4 "m=audio 1 RTP/AVP 10 101 8 96 97 9\r\n"
	                                      "a=rtpmap:101 telephone-event/8000\r\n"
	                                      "a=rtpmap:10 L16/8000/2\r\n"
	                                      "a=fmtp:101 0-16\r\n"
	                                      "a=fmtp:10 x=y\r\n"
	                                      "a=rtpmap:96 opus\r\n"
	                                      "a=maxptime:40\r\n")),
	                 0);
	m = &s->media[0];
	assert_int_equal(sdp_media_rtpmap(m, P("101"), &r), 0);
	assert_int_equal(r.pt, 101);
	assert_pl(r.encoding, "telephone-event");
	assert_int_equal(r.clock, 8000);
	assert_int_equal(r.channels, 1);
	/* an rtpmap overrides the static table */
	assert_int_equal(sdp_media_rtpmap(m, P("10"), &r), 0);
	assert_int_equal(r.clock, 8000);
	assert_int_equal(r.channels, 2);
	/* static types without rtpmap, RFC 3551 */
	assert_int_equal(sdp_media_rtpmap(m, P("8"), &r), 0);
	assert_pl(r.encoding, "PCMA");
	assert_int_equal(sdp_media_rtpmap(m, P("9"), &r), 0);
	assert_pl(r.encoding, "G722");
	assert_int_equal(r.clock, 8000);
	assert_int_equal(sdp_media_rtpmap(m, P("97"), &r), ENOENT);
	assert_int_equal(sdp_media_rtpmap(m, P("96"), &r), EBADMSG);
	/* "10" must not find the fmtp of "101" and the other way round */
	assert_true(sdp_media_fmtp(m, P("101"), &v));
	assert_pl(v, "0-16");
	assert_true(sdp_media_fmtp(m, P("10"), &v));
	assert_pl(v, "x=y");
	assert_false(sdp_media_fmtp(m, P("1"), &v));
	assert_int_equal(sdp_media_ptime(s, m, "maxptime"), 40);
	assert_int_equal(sdp_media_ptime(s, m, "ptime"), 0);

	assert_int_equal(sdp_rtpmap_decode(P("128 PCMU/8000"), &r), EBADMSG);
	assert_int_equal(sdp_rtpmap_decode(P("0 PCMU/0"), &r), EBADMSG);
	assert_int_equal(sdp_rtpmap_decode(P("0 /8000"), &r), EBADMSG);
	assert_int_equal(sdp_rtpmap_decode(P("0 PCMU/8000/0"), &r), EBADMSG);
	assert_int_equal(sdp_rtpmap_decode(P("0 PCMU/8000 x"), &r), EBADMSG);
}

static void test_attr_rtcp_events_dir(void **state)
{
	struct sdp_session *s = &s_tmp;
	struct sdp_events ev;
	struct sdp_rtcp r;
	char a[64];

	(void)state;
	assert_int_equal(sdp_rtcp_decode(P("53020"), &r), 0);
	assert_int_equal(r.port, 53020);
	assert_false(r.has_addr);
	assert_int_equal(sdp_rtcp_decode(P("53020 IN IP4 126.16.64.4"), &r), 0);
	assert_true(r.has_addr);
	assert_string_equal(sa_str(&r.sa, a, sizeof(a)), "126.16.64.4:53020");
	assert_int_equal(
	    sdp_rtcp_decode(P("53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD"), &r), 0);
	assert_int_equal(sa_af(&r.sa), AF_INET6);
	assert_int_equal(sdp_rtcp_decode(P("0"), &r), EBADMSG);
	assert_int_equal(sdp_rtcp_decode(P("53020 IN IP4"), &r), EBADMSG);
	assert_int_equal(sdp_rtcp_decode(P("53020 IN IP6 1.2.3.4"), &r), EBADMSG);

	assert_int_equal(sdp_events_decode(P("0-15,66,70-72"), &ev), 0);
	assert_true(sdp_events_has(&ev, 0) && sdp_events_has(&ev, 15) && sdp_events_has(&ev, 66));
	assert_true(sdp_events_has(&ev, 71) && !sdp_events_has(&ev, 16) &&
	            !sdp_events_has(&ev, 73));
	assert_int_equal(sdp_events_decode(P(""), &ev), EBADMSG);
	assert_int_equal(sdp_events_decode(P("5-3"), &ev), EBADMSG);
	assert_int_equal(sdp_events_decode(P("0-256"), &ev), EBADMSG);
	assert_int_equal(sdp_events_decode(P("0,,1"), &ev), EBADMSG);

	/* session-level direction applies to m-lines without their own */
	assert_int_equal(sdp_parse(s, P(HEAD4 "a=inactive\r\nm=audio 1 RTP/AVP 0\r\n"
	                                      "m=audio 3 RTP/AVP 0\r\na=recvonly\r\n")),
	                 0);
	assert_int_equal(sdp_media_dir(s, &s->media[0]), SDP_INACTIVE);
	assert_int_equal(sdp_media_dir(s, &s->media[1]), SDP_RECVONLY);
	assert_int_equal(sdp_parse(s, P(HEAD4 "m=audio 1 RTP/AVP 0\r\na=sendrecv:x\r\n")), 0);
	assert_int_equal(sdp_media_dir(s, &s->media[0]), SDP_SENDRECV);
	assert_string_equal(sdp_dir_name(SDP_RECVONLY), "recvonly");
}

static void test_attr_crypto(void **state)
{
	struct sdp_crypto c;

	(void)state;
	/* RFC 4568 §4 example */
	assert_int_equal(
	    sdp_crypto_decode(P("1 AES_CM_128_HMAC_SHA1_80 "
	                        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 "
	                        "FEC_ORDER=FEC_SRTP"),
	                      &c),
	    0);
	assert_int_equal(c.tag, 1);
	assert_pl(c.suite, "AES_CM_128_HMAC_SHA1_80");
	assert_pl(c.key, "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
	assert_pl(c.lifetime, "2^20");
	assert_true(c.lifetime_pkts == 1u << 20);
	assert_true(c.has_mki);
	assert_int_equal(c.mki, 1);
	assert_int_equal(c.mki_len, 4);
	assert_int_equal(c.nkeys, 1);
	assert_pl(c.params, "FEC_ORDER=FEC_SRTP");
	/* two keys */
	assert_int_equal(
	    sdp_crypto_decode(P("2 AES_CM_128_HMAC_SHA1_32 "
	                        "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32;"
	                        "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|2:32"),
	                      &c),
	    0);
	assert_int_equal(c.nkeys, 2);
	assert_false(pl_isset(c.params));
	/* decimal lifetime, no MKI */
	assert_int_equal(sdp_crypto_decode(P("3 AEAD_AES_128_GCM inline:AAAA|1048576"), &c), 0);
	assert_true(c.lifetime_pkts == 1048576);
	assert_false(c.has_mki);

	static const char *const bad[] = {
	    "",
	    "1 AES_CM_128_HMAC_SHA1_80",
	    "x AES_CM_128_HMAC_SHA1_80 inline:AAAA",
	    "1234567890 AES_CM_128_HMAC_SHA1_80 inline:AAAA", /* tag over 9 digits */
	    "1 AES_CM_128_HMAC_SHA1_80 key:AAAA",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:AA*A",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|2^99",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:0",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:129",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:4|2^20", /* MKI before lifetime */
	    "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:4|2:4",  /* two MKIs */
	    "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA;key:BBBB",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sdp_crypto_decode(P(bad[i]), &c) != EBADMSG)
			fail_msg("accepted crypto #%zu: \"%s\"", i, bad[i]);
	}
}

/* ---- building ---- */

static void test_build_roundtrip(void **state)
{
	static char b1[4096], b2[4096];
	struct sdp_session *s = &s_tmp;
	size_t l1, l2;

	(void)state;
	assert_int_equal(sdp_parse(s, P(full_sdp)), 0);
	assert_int_equal(sdp_build(b1, sizeof(b1), s, &l1), 0);
	/* our canonical form of a canonical SDP is the SDP itself */
	assert_string_equal(b1, full_sdp);
	assert_int_equal(l1, strlen(full_sdp));
	assert_int_equal(sdp_parse(s, pl_make(b1, l1)), 0);
	assert_int_equal(sdp_build(b2, sizeof(b2), s, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);

	/* a sloppy SDP comes back canonical: CRLF, single spaces, s=-, t=0 0 */
	assert_int_equal(
	    sdp_parse(s, P("v=0\no=- 1  2 IN IP4 10.0.0.1 \ns=\n"
	                   "c=IN IP4 10.0.0.1\nm=audio  8000 RTP/AVP 8  0\na=sendrecv")),
	    0);
	assert_int_equal(sdp_build(b1, sizeof(b1), s, &l1), 0);
	assert_string_equal(b1, "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
	                        "t=0 0\r\nm=audio 8000 RTP/AVP 8 0\r\na=sendrecv\r\n");
	/* too small a buffer: ENOSPC at every size short of the full length */
	for (size_t n = 0; n <= l1; n++)
		assert_int_equal(sdp_build(b2, n, s, &l2), ENOSPC);
	assert_int_equal(sdp_build(b2, l1 + 1, s, &l2), 0);
	assert_int_equal(l2, l1);
}

/* ---- offer/answer ---- */

/* RFC 3264 §10.1, with us as Bob: audio kept, both video streams refused. */
static void test_rfc3264_basic(void **state)
{
	static const char offer[] = "v=0\r\n"
	                            "o=alice 2890844526 2890844526 IN IP4 host.anywhere.com\r\n"
	                            "s=\r\n"
	                            "c=IN IP4 host.anywhere.com\r\n"
	                            "t=0 0\r\n"
	                            "m=audio 49170 RTP/AVP 0\r\n"
	                            "a=rtpmap:0 PCMU/8000\r\n"
	                            "m=video 51372 RTP/AVP 31\r\n"
	                            "a=rtpmap:31 H261/90000\r\n"
	                            "m=video 53000 RTP/AVP 32\r\n"
	                            "a=rtpmap:32 MPV/90000\r\n";
	/* Alice later changes her audio port and adds a receive-only event stream */
	static const char reoffer[] = "v=0\r\n"
	                              "o=alice 2890844526 2890844527 IN IP4 host.anywhere.com\r\n"
	                              "s=\r\n"
	                              "c=IN IP4 host.anywhere.com\r\n"
	                              "t=0 0\r\n"
	                              "m=audio 65422 RTP/AVP 0\r\n"
	                              "a=rtpmap:0 PCMU/8000\r\n"
	                              "m=video 0 RTP/AVP 31\r\n"
	                              "m=video 53000 RTP/AVP 32\r\n"
	                              "a=rtpmap:32 MPV/90000\r\n"
	                              "m=audio 51434 RTP/AVP 110\r\n"
	                              "a=rtpmap:110 telephone-events/8000\r\n"
	                              "a=recvonly\r\n";
	struct sdp_session *a = &s_ans;
	const struct sdp_result *r;
	struct sdp_neg n;
	uint64_t v0;

	(void)state;
	neg_std(&n, &prefs_std);
	assert_int_equal(answer(&n, offer, a), 0);
	assert_int_equal(a->nmedia, 3);
	assert_pl(a->media[0].media, "audio");
	assert_int_equal(a->media[0].port, 40000);
	assert_string_equal(fmts(&a->media[0]), "0");
	assert_string_equal(mattr(&a->media[0], "rtpmap"), "0 PCMU/8000");
	assert_string_equal(mattr(&a->media[0], "sendrecv"), "");
	assert_pl(a->media[1].media, "video");
	assert_int_equal(a->media[1].port, 0);
	assert_pl(a->media[1].proto, "RTP/AVP");
	assert_string_equal(fmts(&a->media[1]), "31");
	assert_int_equal(a->media[2].port, 0);
	assert_string_equal(fmts(&a->media[2]), "32");
	assert_pl(a->conn.addr, "192.0.2.10");
	v0 = a->origin.version;

	r = sdp_neg_result(&n);
	assert_true(r->active);
	assert_int_equal(r->mline, 0);
	assert_int_equal(r->codec, SDP_CODEC_PCMU);
	assert_int_equal(r->pt, 0);
	assert_int_equal(r->rx_pt, 0);
	assert_false(r->dtmf);
	assert_false(r->srtp);
	assert_int_equal(r->dir, SDP_SENDRECV);
	/* a host name in c=: the caller resolves it */
	assert_false(sa_isset(&r->remote));
	assert_string_equal(r->remote_host, "host.anywhere.com");
	assert_int_equal(r->rtp_port, 49170);
	assert_int_equal(r->rtcp_port, 49171);
	assert_int_equal(n.state, SDP_NEG_DONE);
	assert_false(r->peer_unchanged); /* nothing to compare with yet */

	/* the re-offer: one answer m-line per offered one, the new audio refused */
	assert_int_equal(answer(&n, reoffer, a), 0);
	assert_int_equal(a->nmedia, 4);
	assert_int_equal(a->media[0].port, 40000);
	assert_int_equal(a->media[1].port, 0);
	assert_int_equal(a->media[2].port, 0);
	assert_pl(a->media[3].media, "audio");
	assert_int_equal(a->media[3].port, 0);
	assert_string_equal(fmts(&a->media[3]), "110");
	assert_int_equal(sdp_neg_result(&n)->rtp_port, 65422);
	assert_false(sdp_neg_result(&n)->peer_unchanged); /* Alice's version went up */
	/* our SDP changed (a fourth m-line): version + 1, exactly */
	assert_true(a->origin.version == v0 + 1);
	/* the same re-offer again (a session refresh): same answer, same version */
	assert_int_equal(answer(&n, reoffer, a), 0);
	assert_true(a->origin.version == v0 + 1);
	assert_true(sdp_neg_result(&n)->peer_unchanged);
}

/* RFC 3264 §8.4 hold and resume as the answerer, including the old c=0.0.0.0. */
static void test_rfc3264_hold(void **state)
{
	static const struct {
		const char *c, *dir;
		enum sdp_dir want;
		const char *answer_dir;
		bool remote;
	} cases[] = {
	    {"198.51.100.7", "a=sendonly\r\n", SDP_RECVONLY, "recvonly", true},
	    {"198.51.100.7", "a=recvonly\r\n", SDP_SENDONLY, "sendonly", true},
	    {"198.51.100.7", "a=inactive\r\n", SDP_INACTIVE, "inactive", true},
	    {"198.51.100.7", "", SDP_SENDRECV, "sendrecv", true},
	    {"198.51.100.7", "a=sendrecv\r\n", SDP_SENDRECV, "sendrecv", true},
	    {"0.0.0.0", "", SDP_RECVONLY, "recvonly", false},
	    {"0.0.0.0", "a=recvonly\r\n", SDP_INACTIVE, "inactive", false},
	};
	struct sdp_session *a = &s_ans;
	struct sdp_neg n;
	char offer[512];

	(void)state;
	neg_std(&n, &prefs_std);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(offer, sizeof(offer),
		         "v=0\r\no=p 1 %zu IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		         "m=audio 30000 RTP/AVP 8\r\n%s",
		         i + 1, cases[i].c, cases[i].dir);
		assert_int_equal(answer(&n, offer, a), 0);
		assert_int_equal(sdp_neg_result(&n)->dir, cases[i].want);
		assert_non_null(mattr(&a->media[0], cases[i].answer_dir));
		assert_int_equal(sa_isset(&sdp_neg_result(&n)->remote), cases[i].remote);
	}
}

/* We hold and resume as the offerer; the version goes up only with a change. */
static void test_hold_offers(void **state)
{
	struct sdp_session *o = &s_tmp;
	struct sdp_neg n;
	uint64_t v0;
	size_t len;

	(void)state;
	neg_std(&n, &prefs_std);
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	v0 = o->origin.version;
	assert_non_null(mattr(&o->media[0], "sendrecv"));
	/* glare: an offer arrives while ours is pending */
	assert_int_equal(answer(&n, HEAD4 "m=audio 30000 RTP/AVP 8\r\n", &s_ans), EPROTO);
	assert_int_equal(sdp_neg_status(EPROTO), 491);
	/* the same offer again (e.g. after a 491 and a retry): unchanged version */
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	assert_true(o->origin.version == v0);
	assert_int_equal(sdp_parse(&s_ans, P(HEAD4 "m=audio 30000 RTP/AVP 8\r\na=ptime:20\r\n")),
	                 0);
	assert_int_equal(sdp_neg_process_answer(&n, &s_ans), 0);

	sdp_neg_hold(&n, true);
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	assert_true(o->origin.version == v0 + 1);
	assert_non_null(mattr(&o->media[0], "sendonly"));
	assert_int_equal(sdp_parse(&s_ans, P(HEAD4 "m=audio 30000 RTP/AVP 8\r\na=recvonly\r\n")),
	                 0);
	assert_int_equal(sdp_neg_process_answer(&n, &s_ans), 0);
	assert_int_equal(sdp_neg_result(&n)->dir, SDP_SENDONLY);

	sdp_neg_hold(&n, false);
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	assert_true(o->origin.version == v0 + 2);
	assert_non_null(mattr(&o->media[0], "sendrecv"));
	sdp_neg_rollback(&n); /* say the re-INVITE failed */
	assert_int_equal(n.state, SDP_NEG_DONE);
	assert_int_equal(sdp_neg_process_answer(&n, &s_ans), EPROTO);

	/* the peer holds us, then we hold too: inactive (RFC 3264 §8.4) */
	assert_int_equal(answer(&n, HEAD4 "m=audio 30000 RTP/AVP 8\r\na=sendonly\r\n", &s_ans), 0);
	assert_non_null(mattr(&s_ans.media[0], "recvonly"));
	sdp_neg_hold(&n, true);
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	assert_non_null(mattr(&o->media[0], "inactive"));
	/* while we hold, the peer's sendrecv re-offer is answered sendonly */
	sdp_neg_rollback(&n);
	assert_int_equal(answer(&n, HEAD4 "m=audio 30000 RTP/AVP 8\r\n", &s_ans), 0);
	assert_non_null(mattr(&s_ans.media[0], "sendonly"));
}

/* Codec choice: our preference among the offered, the offerer's payload types kept. */
static void test_codec_matrix(void **state)
{
	static const struct sdp_prefs pcmu_first = {
	    .codec = {SDP_CODEC_PCMU, SDP_CODEC_PCMA, SDP_CODEC_TEL_EVENT},
	    .ncodec = 3,
	};
	static const struct {
		const struct sdp_prefs *p;
		const char *m;
		int err;
		enum sdp_codec codec;
		unsigned pt;
		const char *fmts;
	} cases[] = {
	    {&prefs_std, "m=audio 30000 RTP/AVP 0 8 9\r\n", 0, SDP_CODEC_PCMA, 8, "8"},
	    {&prefs_std, "m=audio 30000 RTP/AVP 0 9\r\n", 0, SDP_CODEC_PCMU, 0, "0"},
	    {&prefs_std, "m=audio 30000 RTP/AVP 9 18\r\n", 0, SDP_CODEC_G722, 9, "9"},
	    {&pcmu_first, "m=audio 30000 RTP/AVP 8 0\r\n", 0, SDP_CODEC_PCMU, 0, "0"},
	    {&pcmu_first, "m=audio 30000 RTP/AVP 9\r\n", EMEDIUMTYPE, 0, 0, NULL},
	    /* a dynamic number for a static codec, names case-insensitive */
	    {&prefs_std, "m=audio 30000 RTP/AVP 96\r\na=rtpmap:96 pcma/8000\r\n", 0, SDP_CODEC_PCMA,
	     96, "96"},
	    /* PCMA at another clock or in stereo is not our PCMA */
	    {&prefs_std,
	     "m=audio 30000 RTP/AVP 96 97\r\na=rtpmap:96 PCMA/16000\r\n"
	     "a=rtpmap:97 PCMA/8000/2\r\n",
	     EMEDIUMTYPE, 0, 0, NULL},
	    /* no common codec: 488 */
	    {&prefs_std, "m=audio 30000 RTP/AVP 18 4 96\r\na=rtpmap:96 opus/48000/2\r\n",
	     EMEDIUMTYPE, 0, 0, NULL},
	    /* telephone-event alone is not a codec */
	    {&prefs_std, "m=audio 30000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n",
	     EMEDIUMTYPE, 0, 0, NULL},
	    /* the first audio stream we cannot use is refused, the second taken */
	    {&prefs_std, "m=audio 30000 RTP/AVP 18\r\nm=audio 30002 RTP/AVP 0\r\n", 0,
	     SDP_CODEC_PCMU, 0, NULL},
	    /* image (T.38) and unknown transports refused */
	    {&prefs_std, "m=image 30000 udptl t38\r\n", EMEDIUMTYPE, 0, 0, NULL},
	    {&prefs_std, "m=audio 30000 UDP/TLS/RTP/SAVPF 0\r\n", EMEDIUMTYPE, 0, 0, NULL},
	    {&prefs_std, "m=audio 0 RTP/AVP 0\r\n", EMEDIUMTYPE, 0, 0, NULL},
	};
	struct sdp_session *a = &s_ans;
	char offer[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sdp_neg n;
		size_t len = 12345;
		int err;

		neg_std(&n, cases[i].p);
		snprintf(offer, sizeof(offer), HEAD4 "%s", cases[i].m);
		err = answer(&n, offer, a);
		if (err != cases[i].err)
			fail_msg("case %zu: %d, want %d", i, err, cases[i].err);
		if (err) {
			assert_int_equal(sdp_neg_status(err), 488);
			/* nothing written, nothing negotiated */
			assert_int_equal(sdp_neg_answer(&n, &s_off, abuf, sizeof(abuf), &len), err);
			assert_int_equal(len, 12345);
			assert_false(sdp_neg_result(&n)->active);
			assert_int_equal(n.state, SDP_NEG_IDLE);
			continue;
		}
		assert_int_equal(sdp_neg_result(&n)->codec, cases[i].codec);
		assert_int_equal(sdp_neg_result(&n)->pt, cases[i].pt);
		if (cases[i].fmts)
			assert_string_equal(fmts(&a->media[0]), cases[i].fmts);
		assert_int_equal(a->nmedia, s_off.nmedia);
	}
	/* the second m-line case: the first refused with port 0 */
	{
		struct sdp_neg n;
		neg_std(&n, &prefs_std);
		assert_int_equal(answer(&n,
		                        HEAD4 "m=audio 30000 RTP/AVP 18\r\n"
		                              "m=audio 30002 RTP/AVP 0\r\n",
		                        a),
		                 0);
		assert_int_equal(a->media[0].port, 0);
		assert_string_equal(fmts(&a->media[0]), "18");
		assert_int_equal(a->media[1].port, 40000);
		assert_int_equal(sdp_neg_result(&n)->mline, 1);
		assert_int_equal(sdp_neg_result(&n)->rtp_port, 30002);
	}
}

static void test_telephone_event(void **state)
{
	static const struct {
		const char *m;
		bool dtmf;
		unsigned pt;
		const char *fmtp;
	} cases[] = {
	    {"m=audio 1 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	     "a=fmtp:101 0-16\r\n",
	     true, 101, "101 0-15"},
	    /* no fmtp: RFC 4733 default 0-15 */
	    {"m=audio 1 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n", true, 96, "96 0-15"},
	    {"m=audio 1 RTP/AVP 8 100\r\na=rtpmap:100 telephone-event/8000\r\n"
	     "a=fmtp:100 0-11,15\r\n",
	     true, 100, "100 0-11,15"},
	    /* at another rate than the codec's: not matched */
	    {"m=audio 1 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/16000\r\n", false, 0, NULL},
	    /* G.722's RTP clock is 8000, so telephone-event/8000 goes with it */
	    {"m=audio 1 RTP/AVP 9 101 102\r\na=rtpmap:102 telephone-event/16000\r\n"
	     "a=rtpmap:101 telephone-event/8000\r\n",
	     true, 101, "101 0-15"},
	    /* only events we do not generate */
	    {"m=audio 1 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	     "a=fmtp:101 32-41\r\n",
	     false, 0, NULL},
	};
	struct sdp_session *a = &s_ans;
	char offer[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sdp_neg n;
		const struct sdp_result *r;

		neg_std(&n, &prefs_std);
		snprintf(offer, sizeof(offer), HEAD4 "%s", cases[i].m);
		assert_int_equal(answer(&n, offer, a), 0);
		r = sdp_neg_result(&n);
		if (r->dtmf != cases[i].dtmf)
			fail_msg("case %zu: dtmf %d", i, r->dtmf);
		assert_int_equal(a->media[0].nfmt, cases[i].dtmf ? 2 : 1);
		if (!cases[i].dtmf) {
			assert_null(mattr(&a->media[0], "fmtp"));
			continue;
		}
		assert_int_equal(r->dtmf_pt, cases[i].pt);
		assert_int_equal(r->dtmf_rx_pt, cases[i].pt);
		assert_string_equal(mattr(&a->media[0], "fmtp"), cases[i].fmtp);
	}
}

static void test_ipv6(void **state)
{
	static const char offer6[] = "v=0\r\no=p 1 1 IN IP6 2001:db8::2\r\ns=-\r\n"
	                             "c=IN IP6 2001:db8::2\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n";
	struct sdp_session *a = &s_ans;
	struct sdp_neg n;
	char b[64];

	(void)state;
	neg_std(&n, &prefs_std);
	assert_int_equal(answer(&n, offer6, a), 0);
	assert_pl(a->conn.addrtype, "IP6");
	assert_pl(a->conn.addr, "2001:db8::10");
	assert_pl(a->origin.addrtype, "IP6");
	assert_int_equal(a->media[0].port, 40000);
	assert_string_equal(sa_str(&sdp_neg_result(&n)->remote, b, sizeof(b)),
	                    "[2001:db8::2]:30000");
	assert_string_equal(sa_str(&sdp_neg_result(&n)->remote_rtcp, b, sizeof(b)),
	                    "[2001:db8::2]:30001");
	/* without an IPv6 address of ours the stream cannot be served */
	neg_at(&n, &prefs_std, "192.0.2.10", 40000, NULL);
	assert_int_equal(answer(&n, offer6, a), EMEDIUMTYPE);
	/* IPv6-only gateway, IPv4 offer */
	neg_at(&n, &prefs_std, "2001:db8::10", 40000, NULL);
	assert_int_equal(answer(&n, HEAD4 "m=audio 30000 RTP/AVP 0\r\n", a), EMEDIUMTYPE);
	/* a=rtcp (RFC 3605) with its own address */
	neg_std(&n, &prefs_std);
	assert_int_equal(answer(&n,
	                        HEAD4 "m=audio 30000 RTP/AVP 0\r\n"
	                              "a=rtcp:53020 IN IP6 2001:db8::9\r\n",
	                        a),
	                 0);
	assert_string_equal(sa_str(&sdp_neg_result(&n)->remote_rtcp, b, sizeof(b)),
	                    "[2001:db8::9]:53020");
	assert_int_equal(sdp_neg_result(&n)->rtcp_port, 53020);
}

#define CRYPTO80                                                                                   \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
#define CRYPTO32                                                                                   \
	"a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj\r\n"
#define CRYPTOGCM "a=crypto:3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==\r\n"

static void test_srtp_matrix(void **state)
{
	static const struct {
		enum sdp_srtp policy;
		const char *m;
		int err;
		bool srtp;
		enum sdp_suite suite;
		uint32_t tag;
	} cases[] = {
	    {SDP_SRTP_OFF, "m=audio 1 RTP/SAVP 0\r\n" CRYPTO80, EMEDIUMTYPE, 0, 0, 0},
	    {SDP_SRTP_OFF, "m=audio 1 RTP/AVP 0\r\n" CRYPTO80, 0, false, 0, 0},
	    {SDP_SRTP_OPTIONAL, "m=audio 1 RTP/SAVP 0\r\n" CRYPTO80, 0, true,
	     SDP_SUITE_AES_CM_128_HMAC_SHA1_80, 1},
	    {SDP_SRTP_OPTIONAL, "m=audio 1 RTP/SAVP 0\r\n", EMEDIUMTYPE, 0, 0, 0},
	    {SDP_SRTP_OPTIONAL, "m=audio 1 RTP/AVP 0\r\n", 0, false, 0, 0},
	    /* best effort (baresip's "srtp"): RTP/AVP with crypto */
	    {SDP_SRTP_OPTIONAL, "m=audio 1 RTP/AVP 0\r\n" CRYPTO32, 0, true,
	     SDP_SUITE_AES_CM_128_HMAC_SHA1_32, 7},
	    {SDP_SRTP_MANDATORY, "m=audio 1 RTP/AVP 0\r\n", EMEDIUMTYPE, 0, 0, 0},
	    {SDP_SRTP_MANDATORY, "m=audio 1 RTP/AVP 0\r\n" CRYPTO80, 0, true,
	     SDP_SUITE_AES_CM_128_HMAC_SHA1_80, 1},
	    /* our preference order decides among several */
	    {SDP_SRTP_MANDATORY, "m=audio 1 RTP/SAVP 0\r\n" CRYPTO32 CRYPTO80, 0, true,
	     SDP_SUITE_AES_CM_128_HMAC_SHA1_80, 1},
	    {SDP_SRTP_MANDATORY, "m=audio 1 RTP/SAVP 0\r\n" CRYPTOGCM, 0, true,
	     SDP_SUITE_AEAD_AES_128_GCM, 3},
	    /* unusable lines: unknown suite, short key, unknown session parameter */
	    {SDP_SRTP_MANDATORY,
	     "m=audio 1 RTP/SAVP 0\r\n"
	     "a=crypto:1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
	     "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n"
	     "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR "
	     "UNENCRYPTED_SRTP\r\n",
	     EMEDIUMTYPE, 0, 0, 0},
	    /* a line with an MKI is skipped unless accept_mki (the next one is taken) */
	    {SDP_SRTP_MANDATORY,
	     "m=audio 1 RTP/SAVP 0\r\n"
	     "a=crypto:5 AES_CM_128_HMAC_SHA1_80 "
	     "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|9:4\r\n"
	     "a=crypto:6 AES_CM_128_HMAC_SHA1_80 "
	     "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
	     0, true, SDP_SUITE_AES_CM_128_HMAC_SHA1_80, 6},
	    /* with accept_mki (the last case), the MKI is carried to the result */
	    {SDP_SRTP_MANDATORY,
	     "m=audio 1 RTP/SAVP 0\r\n"
	     "a=crypto:5 AES_CM_128_HMAC_SHA1_80 "
	     "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|9:4\r\n",
	     0, true, SDP_SUITE_AES_CM_128_HMAC_SHA1_80, 5},
	};
	struct sdp_session *a = &s_ans;
	struct sdp_prefs p = prefs_std;
	char offer[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sdp_neg n;
		const struct sdp_result *r;
		struct sdp_crypto c;
		struct pl v;
		int err;

		p.srtp = cases[i].policy;
		p.accept_mki = i == sizeof(cases) / sizeof(cases[0]) - 1;
		neg_std(&n, &p);
		snprintf(offer, sizeof(offer), HEAD4 "%s", cases[i].m);
		err = answer(&n, offer, a);
		if (err != cases[i].err)
			fail_msg("case %zu: %d, want %d", i, err, cases[i].err);
		if (err)
			continue;
		r = sdp_neg_result(&n);
		assert_int_equal(r->srtp, cases[i].srtp);
		/* the answer keeps the offered proto */
		assert_pl(a->media[0].proto,
		          s_off.media[0].proto.p[4] == 'S' ? "RTP/SAVP" : "RTP/AVP");
		if (!cases[i].srtp) {
			assert_null(mattr(&a->media[0], "crypto"));
			continue;
		}
		assert_int_equal(r->suite, cases[i].suite);
		assert_int_equal(r->key_len, sdp_suite_keylen(cases[i].suite));
		/* the peer's key decoded, ours in the answer under the peer's tag */
		assert_true(sdp_media_attr(&s_off.media[0], "crypto", &v));
		assert_true(sdp_media_attr(&a->media[0], "crypto", &v));
		assert_int_equal(sdp_crypto_decode(v, &c), 0);
		assert_int_equal(c.tag, cases[i].tag);
		assert_pl(c.suite, sdp_suite_name(cases[i].suite));
		assert_int_equal(c.key.l, 40);
		assert_memory_not_equal(r->tx_key, r->rx_key, r->key_len);
		if (i == sizeof(cases) / sizeof(cases[0]) - 1) {
			assert_true(r->rx_lifetime == 1u << 20);
			assert_true(r->rx_mki);
			assert_int_equal(r->rx_mki_val, 9);
			assert_int_equal(r->rx_mki_len, 4);
		}
	}
}

/* Phones that offer SRTP and plain RTP as two m-lines: the policy picks one of them. */
static void test_srtp_dual_mline(void **state)
{
	static const char offer[] =
	    HEAD4 "m=audio 30000 RTP/SAVP 8\r\n" CRYPTO80 "m=audio 30000 RTP/AVP 8\r\n";
	struct sdp_prefs p = prefs_std;
	struct sdp_neg n;

	(void)state;
	p.srtp = SDP_SRTP_OPTIONAL;
	neg_std(&n, &p);
	assert_int_equal(answer(&n, offer, &s_ans), 0);
	assert_int_equal(sdp_neg_result(&n)->mline, 0);
	assert_true(sdp_neg_result(&n)->srtp);
	assert_int_equal(s_ans.media[0].port, 40000);
	assert_int_equal(s_ans.media[1].port, 0);
	p.srtp = SDP_SRTP_OFF;
	neg_std(&n, &p);
	assert_int_equal(answer(&n, offer, &s_ans), 0);
	assert_int_equal(sdp_neg_result(&n)->mline, 1);
	assert_false(sdp_neg_result(&n)->srtp);
	assert_int_equal(s_ans.media[0].port, 0);
	assert_pl(s_ans.media[0].proto, "RTP/SAVP");
	assert_null(mattr(&s_ans.media[0], "crypto"));
	assert_int_equal(s_ans.media[1].port, 40000);
}

/* Two of our own engines talk: A offers (SRTP mandatory), B answers, A applies. */
static void test_offer_answer_loop(void **state)
{
	static const struct sdp_prefs pb = {
	    .codec = {SDP_CODEC_PCMU, SDP_CODEC_PCMA, SDP_CODEC_TEL_EVENT},
	    .ncodec = 3,
	    .srtp = SDP_SRTP_OPTIONAL,
	    .suite = {SDP_SUITE_AES_CM_128_HMAC_SHA1_32, SDP_SUITE_AES_CM_128_HMAC_SHA1_80},
	    .nsuite = 2,
	    .ptime = 30,
	};
	struct sdp_prefs pa = prefs_std;
	struct sdp_session *o = &s_tmp, *a = &s_ans;
	const struct sdp_result *ra, *rb;
	struct sdp_neg na, nb;
	size_t len, alen;
	char b[64];

	(void)state;
	pa.srtp = SDP_SRTP_MANDATORY;
	neg_at(&na, &pa, "192.0.2.10", 40000, NULL);
	neg_at(&nb, &pb, "192.0.2.20", 50000, NULL);
	assert_int_equal(sdp_neg_offer(&na, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	assert_int_equal(o->nmedia, 1);
	assert_pl(o->media[0].proto, "RTP/SAVP");
	assert_string_equal(fmts(&o->media[0]), "8 0 9 101");
	assert_string_equal(mattr(&o->media[0], "fmtp"), "101 0-15");
	assert_string_equal(mattr(&o->media[0], "ptime"), "20");
	{
		unsigned idx = 0, ncrypto = 0;
		while (sdp_attr_next(o->media[0].attr, o->media[0].nattr, "crypto", &idx, NULL))
			ncrypto++;
		assert_int_equal(ncrypto, 3);
	}

	assert_int_equal(sdp_neg_answer(&nb, o, abuf, sizeof(abuf), &alen), 0);
	assert_int_equal(sdp_parse(a, pl_make(abuf, alen)), 0);
	assert_int_equal(sdp_neg_process_answer(&na, a), 0);
	ra = sdp_neg_result(&na);
	rb = sdp_neg_result(&nb);
	assert_true(ra->active && rb->active);
	assert_int_equal(ra->codec, SDP_CODEC_PCMU); /* B's preference, in A's offer */
	assert_int_equal(rb->codec, SDP_CODEC_PCMU);
	assert_int_equal(ra->pt, 0);
	assert_int_equal(ra->rx_pt, 0);
	assert_true(ra->dtmf && rb->dtmf);
	assert_int_equal(ra->dtmf_pt, 101);
	assert_int_equal(ra->ptime, 30); /* B wants 30 ms */
	assert_int_equal(rb->ptime, 20); /* A wants 20 ms */
	assert_true(ra->srtp && rb->srtp);
	assert_int_equal(ra->suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(rb->suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_32);
	assert_memory_equal(ra->tx_key, rb->rx_key, 30);
	assert_memory_equal(ra->rx_key, rb->tx_key, 30);
	assert_string_equal(sa_str(&ra->remote, b, sizeof(b)), "192.0.2.20:50000");
	assert_string_equal(sa_str(&rb->remote, b, sizeof(b)), "192.0.2.10:40000");
	assert_int_equal(ra->dir, SDP_SENDRECV);
	assert_int_equal(rb->dir, SDP_SENDRECV);
	assert_int_equal(na.state, SDP_NEG_DONE);

	/* a re-offer keeps our keys and, unchanged, its version */
	{
		uint64_t v = o->origin.version;
		assert_int_equal(sdp_neg_offer(&na, obuf, sizeof(obuf), &len), 0);
		assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
		assert_true(o->origin.version == v);
		assert_int_equal(sdp_neg_process_answer(&na, a), 0);
		assert_memory_equal(sdp_neg_result(&na)->tx_key, rb->rx_key, 30);
	}
}

/* Delayed offer: the INVITE had no SDP; we offer in the 200, the ACK answers. */
static void test_delayed_offer(void **state)
{
	static const struct sdp_prefs pphone = {
	    .codec = {SDP_CODEC_G722, SDP_CODEC_PCMU, SDP_CODEC_TEL_EVENT},
	    .ncodec = 3,
	    .ptime = 30,
	};
	struct sdp_session *o = &s_tmp, *a = &s_ans;
	struct sdp_neg gw, phone;
	const struct sdp_result *r;
	size_t len, alen;

	(void)state;
	neg_at(&gw, &prefs_std, "192.0.2.10", 40000, NULL);
	neg_at(&phone, &pphone, "198.51.100.7", 3456, NULL);
	/* 200 OK with our offer */
	assert_int_equal(sdp_neg_offer(&gw, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(gw.state, SDP_NEG_OFFER_SENT);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	/* ACK with the phone's answer */
	assert_int_equal(sdp_neg_answer(&phone, o, abuf, sizeof(abuf), &alen), 0);
	assert_int_equal(sdp_parse(a, pl_make(abuf, alen)), 0);
	assert_string_equal(fmts(&a->media[0]), "9 101");
	assert_int_equal(sdp_neg_process_answer(&gw, a), 0);
	r = sdp_neg_result(&gw);
	assert_int_equal(r->codec, SDP_CODEC_G722);
	assert_int_equal(r->pt, 9);
	assert_int_equal(r->clock, 8000);
	assert_int_equal(r->ptime, 30);
	assert_true(r->dtmf);
	assert_int_equal(r->rtp_port, 3456);
	assert_false(r->srtp);
}

/* Answers that do not fit our offer. */
static void test_answer_checks(void **state)
{
	static const struct {
		const char *m;
		int err;
	} cases[] = {
	    {"m=audio 30000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n", EBADMSG}, /* extra m-line */
	    {"m=video 30000 RTP/AVP 31\r\n", EBADMSG},                        /* other media */
	    {"m=audio 30000 RTP/SAVP 0\r\n", EBADMSG},                        /* other proto */
	    {"m=audio 0 RTP/AVP 0\r\n", EMEDIUMTYPE},                         /* refused */
	    {"m=audio 30000 RTP/AVP 18\r\n", EMEDIUMTYPE},                    /* not offered */
	    /* 101 was our telephone-event: not an iLBC */
	    {"m=audio 30000 RTP/AVP 101\r\na=rtpmap:101 iLBC/8000\r\n", EMEDIUMTYPE},
	    /* CN added by the answerer is ignored; PCMU taken */
	    {"m=audio 30000 RTP/AVP 13 0\r\n", 0},
	    /* several codecs in the answer: ours preferred (PCMA) */
	    {"m=audio 30000 RTP/AVP 0 8\r\n", 0},
	    {"m=audio 30000 RTP/AVP 0\r\na=inactive\r\n", 0},
	};
	struct sdp_session *a = &s_ans;
	struct sdp_neg n;
	char text[512];
	size_t len;

	(void)state;
	neg_std(&n, &prefs_std);
	assert_int_equal(sdp_parse(a, P(HEAD4 "m=audio 30000 RTP/AVP 0\r\n")), 0);
	assert_int_equal(sdp_neg_process_answer(&n, a), EPROTO); /* no offer */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err;

		assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
		snprintf(text, sizeof(text), HEAD4 "%s", cases[i].m);
		assert_int_equal(sdp_parse(a, P(text)), 0);
		err = sdp_neg_process_answer(&n, a);
		if (err != cases[i].err)
			fail_msg("case %zu: %d, want %d", i, err, cases[i].err);
		assert_int_not_equal(n.state, SDP_NEG_OFFER_SENT);
		if (err)
			assert_false(sdp_neg_result(&n)->active);
	}
	assert_int_equal(sdp_neg_result(&n)->dir, SDP_INACTIVE);
	/* the result of the PCMU answer was replaced by later ones: check the codec pick */
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(a, P(HEAD4 "m=audio 30000 RTP/AVP 0 8\r\n")), 0);
	assert_int_equal(sdp_neg_process_answer(&n, a), 0);
	assert_int_equal(sdp_neg_result(&n)->codec, SDP_CODEC_PCMA);
	assert_int_equal(sdp_neg_result(&n)->pt, 8);
	/* a failed re-offer keeps the previous result */
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(a, P(HEAD4 "m=audio 0 RTP/AVP 0\r\n")), 0);
	assert_int_equal(sdp_neg_process_answer(&n, a), EMEDIUMTYPE);
	assert_true(sdp_neg_result(&n)->active);
	assert_int_equal(sdp_neg_result(&n)->codec, SDP_CODEC_PCMA);
	assert_int_equal(n.state, SDP_NEG_DONE);
	/* telephone-event or G.722 in an answer to an offer without them */
	{
		static const struct sdp_prefs plain = {
		    .codec = {SDP_CODEC_PCMU},
		    .ncodec = 1,
		};
		neg_std(&n, &plain);
		assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
		assert_int_equal(sdp_parse(a, P(HEAD4 "m=audio 30000 RTP/AVP 9 0 101\r\n"
		                                      "a=rtpmap:101 telephone-event/8000\r\n")),
		                 0);
		assert_int_equal(sdp_neg_process_answer(&n, a), 0);
		assert_int_equal(sdp_neg_result(&n)->codec, SDP_CODEC_PCMU);
		assert_false(sdp_neg_result(&n)->dtmf);
		assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
		assert_int_equal(sdp_parse(a, P(HEAD4 "m=audio 30000 RTP/AVP 9\r\n")), 0);
		assert_int_equal(sdp_neg_process_answer(&n, a), EMEDIUMTYPE);
	}
	/* SAVP offered, answer without crypto */
	{
		struct sdp_prefs p = prefs_std;
		p.srtp = SDP_SRTP_MANDATORY;
		neg_std(&n, &p);
		assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
		assert_int_equal(sdp_parse(a, P(HEAD4 "m=audio 30000 RTP/SAVP 0\r\n")), 0);
		assert_int_equal(sdp_neg_process_answer(&n, a), EMEDIUMTYPE);
		/* optional policy: AVP+crypto offered, plain answer is fine */
		p.srtp = SDP_SRTP_OPTIONAL;
		neg_std(&n, &p);
		assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
		assert_int_equal(sdp_parse(a, P(HEAD4 "m=audio 30000 RTP/AVP 0\r\n")), 0);
		assert_int_equal(sdp_neg_process_answer(&n, a), 0);
		assert_false(sdp_neg_result(&n)->srtp);
		/* ...and a crypto answer whose tag names another suite than we put there */
		assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
		assert_int_equal(
		    sdp_parse(a, P(HEAD4 "m=audio 30000 RTP/AVP 0\r\n"
		                         "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
		                         "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n")),
		    0);
		assert_int_equal(sdp_neg_process_answer(&n, a), 0);
		assert_false(sdp_neg_result(&n)->srtp);
	}
}

/* Our re-offer after answering audio+video keeps both m-lines (RFC 3264 §8). */
static void test_reoffer_layout(void **state)
{
	struct sdp_session *o = &s_tmp;
	struct sdp_neg n;
	size_t len;

	(void)state;
	neg_std(&n, &prefs_std);
	assert_int_equal(
	    answer(&n, HEAD4 "m=video 5000 RTP/AVP 31\r\nm=audio 30000 RTP/AVP 8\r\n", &s_ans), 0);
	assert_int_equal(sdp_neg_offer(&n, obuf, sizeof(obuf), &len), 0);
	assert_int_equal(sdp_parse(o, pl_make(obuf, len)), 0);
	assert_int_equal(o->nmedia, 2);
	assert_pl(o->media[0].media, "video");
	assert_int_equal(o->media[0].port, 0);
	assert_string_equal(fmts(&o->media[0]), "31");
	assert_pl(o->media[1].media, "audio");
	assert_int_equal(o->media[1].port, 40000);
	/* the answer to it must have two m-lines too */
	assert_int_equal(sdp_parse(&s_ans, P(HEAD4 "m=video 0 RTP/AVP 31\r\n"
	                                           "m=audio 30000 RTP/AVP 8\r\n")),
	                 0);
	assert_int_equal(sdp_neg_process_answer(&n, &s_ans), 0);
	assert_int_equal(sdp_neg_result(&n)->mline, 1);
	/* ENOSPC leaves everything as it was */
	assert_int_equal(sdp_neg_offer(&n, obuf, 40, &len), ENOSPC);
	assert_int_equal(n.state, SDP_NEG_DONE);
}

static void test_ptime(void **state)
{
	static const struct {
		const char *attrs;
		uint32_t want;
	} cases[] = {
	    {"", 20},
	    {"a=ptime:30\r\n", 30},
	    {"a=ptime:25\r\n", 20}, /* not a multiple of 10: ours */
	    {"a=ptime:90\r\n", 20},
	    {"a=ptime:40\r\na=maxptime:30\r\n", 30},
	    {"a=maxptime:10\r\n", 10},
	};
	struct sdp_neg n;
	char offer[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		neg_std(&n, &prefs_std);
		snprintf(offer, sizeof(offer), HEAD4 "m=audio 30000 RTP/AVP 8\r\n%s",
		         cases[i].attrs);
		assert_int_equal(answer(&n, offer, &s_ans), 0);
		if (sdp_neg_result(&n)->ptime != cases[i].want)
			fail_msg("case %zu: ptime %u", i, sdp_neg_result(&n)->ptime);
		/* we always ask for our own */
		assert_string_equal(mattr(&s_ans.media[0], "ptime"), "20");
	}
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_decode_alloc),
		cmocka_unit_test(test_parse_lenient),
		cmocka_unit_test(test_parse_strict),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_parse_conn),
		cmocka_unit_test(test_attr_rtpmap_fmtp),
		cmocka_unit_test(test_attr_rtcp_events_dir),
		cmocka_unit_test(test_attr_crypto),
		cmocka_unit_test(test_build_roundtrip),
		cmocka_unit_test(test_rfc3264_basic),
		cmocka_unit_test(test_rfc3264_hold),
		cmocka_unit_test(test_hold_offers),
		cmocka_unit_test(test_codec_matrix),
		cmocka_unit_test(test_telephone_event),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_srtp_matrix),
		cmocka_unit_test(test_srtp_dual_mline),
		cmocka_unit_test(test_offer_answer_loop),
		cmocka_unit_test(test_delayed_offer),
		cmocka_unit_test(test_answer_checks),
		cmocka_unit_test(test_reoffer_layout),
		cmocka_unit_test(test_ptime),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
