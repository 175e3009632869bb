/*
 * The messages of bench_sip_parse.c and the values each parser must read
 * from them (the correctness gate). Included by that file only.
 */
#ifndef TANDEM_BENCH_SIP_PARSE_MSGS_H
#define TANDEM_BENCH_SIP_PARSE_MSGS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Most Via / Record-Route values checked per message. */
#define MAXV 4

/* ---- the messages ---- */

#define SDP_OFFER                                                                                  \
	"v=0\r\n"                                                                                  \
	"o=- 1700000000 1700000000 IN IP4 192.0.2.10\r\n"                                          \
	"s=-\r\n"                                                                                  \
	"c=IN IP4 192.0.2.10\r\n"                                                                  \
	"t=0 0\r\n"                                                                                \
	"m=audio 20000 RTP/AVP 8 0 101\r\n"                                                        \
	"a=rtpmap:8 PCMA/8000\r\n"                                                                 \
	"a=rtpmap:0 PCMU/8000\r\n"                                                                 \
	"a=rtpmap:101 telephone-event/8000\r\n"                                                    \
	"a=fmtp:101 0-16\r\n"                                                                      \
	"a=ptime:20\r\n"                                                                           \
	"a=sendrecv\r\n"

#define SDP_ANSWER                                                                                 \
	"v=0\r\n"                                                                                  \
	"o=tandem 4711 4711 IN IP4 203.0.113.5\r\n"                                                \
	"s=-\r\n"                                                                                  \
	"c=IN IP4 203.0.113.5\r\n"                                                                 \
	"t=0 0\r\n"                                                                                \
	"m=audio 30000 RTP/AVP 8 101\r\n"                                                          \
	"a=rtpmap:8 PCMA/8000\r\n"                                                                 \
	"a=rtpmap:101 telephone-event/8000\r\n"                                                    \
	"a=fmtp:101 0-16\r\n"                                                                      \
	"a=ptime:20\r\n"                                                                           \
	"a=sendrecv\r\n"

static const char INVITE_HDRS[] =
    "INVITE sip:+4930123456@gw1.example.net;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1-a3f9c2e1d4b5;rport\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;received=198.51.100.7;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 69\r\n"
    "From: \"Alice Example\" <sip:+4940111222@sbc.example.com;user=phone>;tag=9fxced76sl\r\n"
    "To: \"Berlin Office\" <sip:+4930123456@gw1.example.net;user=phone>\r\n"
    "Call-ID: 3848276298220188511@sbc.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:+4940111222@192.0.2.10:5060;transport=udp>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, REFER, NOTIFY\r\n"
    "Supported: timer, 100rel, replaces\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "Min-SE: 90\r\n"
    "P-Asserted-Identity: \"Alice Example\" <sip:+4940111222@sbc.example.com;user=phone>\r\n"
    "Privacy: id\r\n"
    "User-Agent: ExampleSBC/4.2.1\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: %zu\r\n"
    "\r\n%s";

static const char OK_HDRS[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1-a3f9c2e1d4b5;rport=5060;"
    "received=192.0.2.10\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;received=198.51.100.7;branch=z9hG4bK776asdhds\r\n"
    "Record-Route: <sip:192.0.2.20;lr;ftag=9fxced76sl>\r\n"
    "Record-Route: <sip:198.51.100.30:5060;lr>\r\n"
    "From: \"Alice Example\" <sip:+4940111222@sbc.example.com;user=phone>;tag=9fxced76sl\r\n"
    "To: \"Berlin Office\" <sip:+4930123456@gw1.example.net;user=phone>;tag=8321234356\r\n"
    "Call-ID: 3848276298220188511@sbc.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:+4930123456@203.0.113.5:5060;transport=udp>\r\n"
    "Require: timer\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "Server: Tandem/0.1\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: %zu\r\n"
    "\r\n%s";

#define REG_NONCE "6a1c8d3e9b2f4a70c5d1e8f3a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9"
#define REG_RESP  "3f0c7a9d2b1e4f6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b"

static const char REG_HDRS[] =
    "REGISTER sip:registrar.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.0.2.55:5061;branch=z9hG4bK-reg-77a1c9;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:gw1@registrar.example.net>;tag=reg-5e1c9a7\r\n"
    "To: <sip:gw1@registrar.example.net>\r\n"
    "Call-ID: 7f3b9d0e2c41a8f6@192.0.2.55\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:gw1@192.0.2.55:5061;transport=tls>;expires=3600;"
    "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-00a0c91e6bf6>\";reg-id=1\r\n"
    "Authorization: Digest username=\"gw1\", realm=\"registrar.example.net\", "
    "nonce=\"" REG_NONCE "\", uri=\"sip:registrar.example.net\", "
    "response=\"" REG_RESP "\", algorithm=SHA-256, cnonce=\"0a4f113b\", qop=auth, "
    "nc=00000001, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n"
    "Expires: 3600\r\n"
    "Supported: path, outbound, gruu\r\n"
    "User-Agent: Tandem/0.1\r\n"
    "Content-Length: %zu\r\n"
    "\r\n%s";

struct bmsg {
	const char *name;
	const char *fmt, *body;
	char buf[2048];
	size_t len;
};

static struct bmsg g_msgs[] = {
    {"INVITE", INVITE_HDRS, SDP_OFFER, "", 0},
    {"200 OK", OK_HDRS, SDP_ANSWER, "", 0},
    {"REGISTER", REG_HDRS, "", "", 0},
};
#define NMSG ARRAY_SIZE(g_msgs)

/* ---- expected values ---- */

struct want {
	uint32_t cseq;
	const char *cseq_m, *callid;
	unsigned nvia;
	const char *via_host[MAXV], *via_branch[MAXV];
	const char *from_user, *from_tag, *to_user, *to_tag;
	const char *ct_user, *ct_host, *ct_expires;
	long maxfwd, expires, se, minse;
	unsigned nrr;
	const char *rr_host[MAXV];
	const char *ctype, *csubtype;
	unsigned n_allow, n_supported, n_require, n_privacy;
	const char *privacy;
	const char *au_user, *au_realm, *au_nonce, *au_uri, *au_resp;
	const char *pai_user, *se_refresher, *ua;
};

#define ALICE  "+4940111222"
#define BERLIN "+4930123456"
#define BR1    "z9hG4bK-524287-1-a3f9c2e1d4b5"
#define BR2    "z9hG4bK776asdhds"

static const struct want g_want[NMSG] = {
    {
        .cseq = 314159,
        .cseq_m = "INVITE",
        .callid = "3848276298220188511@sbc.example.com",
        .nvia = 2,
        .via_host = {"192.0.2.10", "198.51.100.7"},
        .via_branch = {BR1, BR2},
        .from_user = ALICE,
        .from_tag = "9fxced76sl",
        .to_user = BERLIN,
        .ct_user = ALICE,
        .ct_host = "192.0.2.10",
        .maxfwd = 69,
        .expires = -1,
        .se = 1800,
        .minse = 90,
        .ctype = "application",
        .csubtype = "sdp",
        .n_allow = 10,
        .n_supported = 3,
        .n_privacy = 1,
        .privacy = "id",
        .pai_user = ALICE,
        .se_refresher = "uac",
        .ua = "ExampleSBC/4.2.1",
    },
    {
        .cseq = 314159,
        .cseq_m = "INVITE",
        .callid = "3848276298220188511@sbc.example.com",
        .nvia = 2,
        .via_host = {"192.0.2.10", "198.51.100.7"},
        .via_branch = {BR1, BR2},
        .from_user = ALICE,
        .from_tag = "9fxced76sl",
        .to_user = BERLIN,
        .to_tag = "8321234356",
        .ct_user = BERLIN,
        .ct_host = "203.0.113.5",
        .maxfwd = -1,
        .expires = -1,
        .se = 1800,
        .minse = -1,
        .nrr = 2,
        .rr_host = {"192.0.2.20", "198.51.100.30"},
        .ctype = "application",
        .csubtype = "sdp",
        .n_require = 1,
        .se_refresher = "uac",
        .ua = "Tandem/0.1",
    },
    {
        .cseq = 2,
        .cseq_m = "REGISTER",
        .callid = "7f3b9d0e2c41a8f6@192.0.2.55",
        .nvia = 1,
        .via_host = {"192.0.2.55"},
        .via_branch = {"z9hG4bK-reg-77a1c9"},
        .from_user = "gw1",
        .from_tag = "reg-5e1c9a7",
        .to_user = "gw1",
        .ct_user = "gw1",
        .ct_host = "192.0.2.55",
        .ct_expires = "3600",
        .maxfwd = 70,
        .expires = 3600,
        .se = -1,
        .minse = -1,
        .n_supported = 3,
        .au_user = "gw1",
        .au_realm = "registrar.example.net",
        .au_nonce = REG_NONCE,
        .au_uri = "sip:registrar.example.net",
        .au_resp = REG_RESP,
        .ua = "Tandem/0.1",
    },
};

#endif
