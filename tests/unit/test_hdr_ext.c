/*
 * Unit tests for gateway/sip/msg/hdr_ext.c (typed decoders of on-demand
 * headers) and status.c (reason phrases).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sip/msg/msg.h"

static struct pl S(const char *s) {
	return pl_make(s, strlen(s));
}

static void
assert_pl(struct pl pl, const char *want)
{
	char buf[256];

	assert_true(pl.l < sizeof(buf));
	pl_strcpy(pl, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_ctype(void **state)
{
	struct sip_ctype ct;
	struct pl v;

	(void)state;
	assert_int_equal(sip_ctype_decode(&ct, S("application/sdp")), 0);
	assert_pl(ct.type, "application");
	assert_pl(ct.subtype, "sdp");
	assert_int_equal(ct.params.l, 0);
	assert_int_equal(sip_ctype_decode(&ct, S(" multipart/mixed;boundary=unique-boundary-1 ")),
	                 0);
	assert_pl(ct.subtype, "mixed");
	assert_pl(ct.params, ";boundary=unique-boundary-1");
	assert_true(sip_param_get(ct.params, "BOUNDARY", &v));
	assert_pl(v, "unique-boundary-1");
	/* SLASH and SEMI allow LWS, folding included; quoted values */
	assert_int_equal(sip_ctype_decode(&ct, S("text / plain ;\r\n charset = \"utf-8\"")), 0);
	assert_pl(ct.type, "text");
	assert_pl(ct.subtype, "plain");
	assert_true(sip_param_get(ct.params, "charset", &v));
	assert_pl(v, "utf-8");
	assert_int_equal(sip_ctype_decode(&ct, S("message/sipfrag;version=2.0")), 0);

	static const char *const bad[] = {
	    "",
	    "   ",
	    "application",
	    "application/",
	    "/sdp",
	    "application/sdp;",
	    "application/sdp;charset", /* m-parameter needs a value */
	    "application/sdp;charset=",
	    "application/sdp x",
	    "appli cation/sdp",
	    "application/sdp;a=\"unterminated",
	    "application/sdp,text/plain",
	    "app@x/sdp",
	};
	memset(&ct, 0x77, sizeof(ct));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_ctype_decode(&ct, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(ct.type.l, 0x7777777777777777ull); /* untouched on error */
}

static void test_rack(void **state)
{
	struct sip_rack r;

	(void)state;
	assert_int_equal(sip_rack_decode(&r, S("776656 1 INVITE")), 0);
	assert_int_equal(r.rseq, 776656);
	assert_int_equal(r.cseq, 1);
	assert_pl(r.method, "INVITE");
	assert_int_equal(r.mid, SIP_M_INVITE);
	assert_int_equal(sip_rack_decode(&r, S("  1\t\r\n 4294967295   UPDATE ")), 0);
	assert_int_equal(r.cseq, 4294967295u);
	assert_int_equal(r.mid, SIP_M_UPDATE);
	assert_int_equal(sip_rack_decode(&r, S("2 3 FOO-BAR")), 0);
	assert_int_equal(r.mid, SIP_M_UNKNOWN);
	assert_int_equal(sip_rack_decode(&r, S("2 3 invite")), 0); /* methods are case-sensitive */
	assert_int_equal(r.mid, SIP_M_UNKNOWN);

	static const char *const bad[] = {
	    "",
	    "776656",
	    "776656 1",
	    "776656 1 ",
	    "7766561INVITE",
	    "776656 1INVITE",
	    "776656 x INVITE",
	    "-1 1 INVITE",
	    "4294967296 1 INVITE",
	    "1 1 INVITE extra",
	    "1 1 IN\"VITE",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_rack_decode(&r, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_session_expires(void **state)
{
	struct sip_session_expires se;

	(void)state;
	assert_int_equal(sip_session_expires_decode(&se, S("4000;refresher=uac")), 0);
	assert_int_equal(se.delta, 4000);
	assert_pl(se.refresher, "uac");
	assert_pl(se.params, ";refresher=uac");
	assert_int_equal(sip_session_expires_decode(&se, S("1800")), 0);
	assert_int_equal(se.delta, 1800);
	assert_int_equal(se.refresher.l, 0);
	assert_int_equal(sip_session_expires_decode(&se, S(" 90 ; x=1 ;  Refresher = UAS ")), 0);
	assert_pl(se.refresher, "UAS");

	static const char *const bad[] = {
	    "",   "abc", "1800;refresher=proxy", "1800;refresher", "99999999999", "1800 x", "1800;",
	    "-5", "1.5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_session_expires_decode(&se, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_event(void **state)
{
	struct sip_event ev;

	(void)state;
	assert_int_equal(sip_event_decode(&ev, S("refer;id=93809824")), 0);
	assert_pl(ev.package, "refer");
	assert_pl(ev.id, "93809824");
	assert_int_equal(sip_event_decode(&ev, S("presence.winfo")), 0);
	assert_pl(ev.package, "presence.winfo");
	assert_int_equal(ev.id.l, 0);
	assert_int_equal(sip_event_decode(&ev, S("dialog ; Id = a1 ; call-id=\"x;y\"")), 0);
	assert_pl(ev.package, "dialog");
	assert_pl(ev.id, "a1");
	struct pl v;
	assert_true(sip_param_get(ev.params, "call-id", &v));
	assert_pl(v, "x;y");

	static const char *const bad[] = {
	    "",          ".refer",  "refer.", "presence..winfo",  "refer;id",
	    "refer;id=", "refer x", "ref/er", "refer;id=\"a b\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_event_decode(&ev, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_substate(void **state)
{
	struct sip_substate ss;

	(void)state;
	assert_int_equal(sip_substate_decode(&ss, S("active;expires=60")), 0);
	assert_pl(ss.state, "active");
	assert_true(ss.has_expires);
	assert_int_equal(ss.expires, 60);
	assert_false(ss.has_retry_after);
	assert_int_equal(ss.reason.l, 0);
	assert_int_equal(sip_substate_decode(&ss, S("terminated;reason=noresource;retry-after=30")),
	                 0);
	assert_pl(ss.state, "terminated");
	assert_pl(ss.reason, "noresource");
	assert_true(ss.has_retry_after);
	assert_int_equal(ss.retry_after, 30);
	assert_false(ss.has_expires);
	assert_int_equal(sip_substate_decode(&ss, S("pending")), 0);
	assert_int_equal(sip_substate_decode(&ss, S("x-custom ; foo")), 0);
	assert_pl(ss.state, "x-custom");

	static const char *const bad[] = {
	    "",
	    ";expires=1",
	    "active;expires=abc",
	    "active;expires=",
	    "active;expires",
	    "active;retry-after=-1",
	    "active;expires=4294967296",
	    "active;reason=\"a b\"",
	    "active expires=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_substate_decode(&ss, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_reason(void **state)
{
	struct sip_reason r;

	(void)state;
	assert_int_equal(sip_reason_decode(&r, S("Q.850;cause=16;text=\"Terminated\"")), 0);
	assert_pl(r.protocol, "Q.850");
	assert_true(r.has_cause);
	assert_int_equal(r.cause, 16);
	assert_pl(r.text, "Terminated");
	assert_int_equal(
	    sip_reason_decode(&r, S("SIP ;cause=200 ;text=\"Call completed; elsewhere\"")), 0);
	assert_pl(r.protocol, "SIP");
	assert_int_equal(r.cause, 200);
	assert_pl(r.text, "Call completed; elsewhere");
	assert_int_equal(sip_reason_decode(&r, S("SIP")), 0);
	assert_false(r.has_cause);
	assert_int_equal(r.text.l, 0);
	assert_int_equal(sip_reason_decode(&r, S("Q.850;cause=31;text=Normal")), 0);
	assert_pl(r.text, "Normal");
	assert_int_equal(sip_reason_decode(&r, S("Q.850;text=\"a \\\"q\\\" b\";cause=1")), 0);
	assert_pl(r.text, "a \\\"q\\\" b");
	assert_int_equal(r.cause, 1);

	static const char *const bad[] = {
	    "",
	    ";cause=1",
	    "Q.850;cause=x",
	    "Q.850;cause=",
	    "Q.850;cause=99999999999",
	    "Q.850;text=\"open",
	    "Q.850 cause=1",
	    "Q.850;text=\"a\\",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_reason_decode(&r, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_retry_after(void **state)
{
	struct sip_retry_after ra;

	(void)state;
	assert_int_equal(sip_retry_after_decode(&ra, S("18000;duration=3600")), 0);
	assert_int_equal(ra.delta, 18000);
	assert_true(ra.has_duration);
	assert_int_equal(ra.duration, 3600);
	assert_int_equal(ra.comment.l, 0);
	assert_int_equal(sip_retry_after_decode(&ra, S("120 (I'm in a meeting)")), 0);
	assert_int_equal(ra.delta, 120);
	assert_pl(ra.comment, "I'm in a meeting");
	assert_false(ra.has_duration);
	assert_int_equal(sip_retry_after_decode(&ra, S("5 (a (nested \\) one)) ;duration=1;x")), 0);
	assert_pl(ra.comment, "a (nested \\) one)");
	assert_int_equal(ra.duration, 1);
	assert_pl(ra.params, ";duration=1;x");

	static const char *const bad[] = {
	    "", "x", "5 (open", "5 (a (b)", "5;duration=x", "5;duration", "5 x", "5 ()x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_retry_after_decode(&ra, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_replaces(void **state)
{
	struct sip_replaces rp;

	(void)state;
	/* RFC 3891 §6.1 example */
	assert_int_equal(sip_replaces_decode(&rp, S("98732@sip.example.com\r\n"
	                                            "          ;from-tag=r33th4x0r\r\n"
	                                            "          ;to-tag=ff87ff")),
	                 0);
	assert_pl(rp.callid, "98732@sip.example.com");
	assert_pl(rp.from_tag, "r33th4x0r");
	assert_pl(rp.to_tag, "ff87ff");
	assert_false(rp.early_only);
	assert_int_equal(sip_replaces_decode(&rp, S("12adf2f34456gs5;to-tag=12345;from-tag=54321;"
	                                            "early-only")),
	                 0);
	assert_pl(rp.callid, "12adf2f34456gs5");
	assert_true(rp.early_only);
	/* word characters in a Call-ID */
	assert_int_equal(sip_replaces_decode(&rp, S("a<b>:c\\\"/[]?{}()@x;to-tag=1;from-tag=2")),
	                 0);
	assert_pl(rp.callid, "a<b>:c\\\"/[]?{}()@x");

	static const char *const bad[] = {
	    "",
	    "abc",
	    "abc;to-tag=1",
	    "abc;from-tag=1",
	    "abc;to-tag=;from-tag=1",
	    "abc;to-tag;from-tag=1",
	    ";to-tag=1;from-tag=2",
	    "a@b@c;to-tag=1;from-tag=2",
	    "a@;to-tag=1;from-tag=2",
	    "a b;to-tag=1;from-tag=2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_replaces_decode(&rp, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_timestamp(void **state)
{
	struct sip_timestamp ts;

	(void)state;
	assert_int_equal(sip_timestamp_decode(&ts, S("54")), 0);
	assert_pl(ts.value, "54");
	assert_int_equal(ts.delay.l, 0);
	assert_int_equal(sip_timestamp_decode(&ts, S(" 54.23   0.5 ")), 0);
	assert_pl(ts.value, "54.23");
	assert_pl(ts.delay, "0.5");
	assert_int_equal(sip_timestamp_decode(&ts, S("54. .5")), 0);
	assert_pl(ts.value, "54.");
	assert_pl(ts.delay, ".5");

	static const char *const bad[] = {"", ".5", "54x", "54 0.5 1", "54 x", "54 .", "a"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_timestamp_decode(&ts, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void test_token(void **state)
{
	struct pl t;

	(void)state;
	assert_int_equal(sip_token_decode(&t, S(" 100rel ")), 0);
	assert_pl(t, "100rel");
	assert_int_equal(sip_token_decode(&t, S("\r\n timer")), 0);
	assert_pl(t, "timer");
	assert_int_equal(sip_token_decode(&t, S("-.!%*_+`'~aZ9")), 0);
	assert_int_equal(sip_token_decode(&t, S("")), EBADMSG);
	assert_int_equal(sip_token_decode(&t, S("a b")), EBADMSG);
	assert_int_equal(sip_token_decode(&t, S("a,b")), EBADMSG);
	assert_int_equal(sip_token_decode(&t, S("\"a\"")), EBADMSG);
	assert_int_equal(sip_token_decode(&t, S("a;b")), EBADMSG);
	assert_int_equal(sip_token_decode(&t, pl_make(NULL, 0)), EBADMSG);
}

static void test_reason_phrase(void **state)
{
	static const struct {
		uint16_t code;
		const char *phrase;
	} known[] = {
	    {100, "Trying"},
	    {180, "Ringing"},
	    {183, "Session Progress"},
	    {200, "OK"},
	    {204, "No Notification"},
	    {302, "Moved Temporarily"},
	    {400, "Bad Request"},
	    {404, "Not Found"},
	    {412, "Conditional Request Failed"},
	    {417, "Unknown Resource-Priority"},
	    {421, "Extension Required"},
	    {422, "Session Interval Too Small"},
	    {423, "Interval Too Brief"},
	    {428, "Use Identity Header"},
	    {429, "Provide Referrer Identity"},
	    {430, "Flow Failed"},
	    {433, "Anonymity Disallowed"},
	    {437, "Unsupported Credential"},
	    {439, "First Hop Lacks Outbound Support"},
	    {440, "Max-Breadth Exceeded"},
	    {469, "Bad Info Package"},
	    {470, "Consent Needed"},
	    {481, "Call/Transaction Does Not Exist"},
	    {487, "Request Terminated"},
	    {489, "Bad Event"},
	    {491, "Request Pending"},
	    {493, "Undecipherable"},
	    {494, "Security Agreement Required"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Server Time-out"},
	    {513, "Message Too Large"},
	    {580, "Precondition Failure"},
	    {603, "Decline"},
	    {607, "Unwanted"},
	    {608, "Rejected"},
	};
	/* every code of RFC 3261 §21 has a phrase */
	static const uint16_t rfc3261[] = {
	    100, 180, 181, 182, 183, 200, 300, 301, 302, 305, 380, 400, 401, 402, 403, 404, 405,
	    406, 407, 408, 410, 413, 414, 415, 416, 420, 421, 423, 480, 481, 482, 483, 484, 485,
	    486, 487, 488, 491, 493, 500, 501, 502, 503, 504, 505, 513, 600, 603, 604, 606,
	};
	static const uint16_t unknown[] = {0,   1,   99,  101, 201, 299, 409,
	                                   499, 599, 609, 699, 700, 999, 65535};

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_string_equal(sip_reason_phrase(known[i].code), known[i].phrase);
	for (size_t i = 0; i < sizeof(rfc3261) / sizeof(rfc3261[0]); i++) {
		if (!strcmp(sip_reason_phrase(rfc3261[i]), "Unknown"))
			fail_msg("no phrase for %u", rfc3261[i]);
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		assert_string_equal(sip_reason_phrase(unknown[i]), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctype),           cmocka_unit_test(test_rack),
	    cmocka_unit_test(test_session_expires), cmocka_unit_test(test_event),
	    cmocka_unit_test(test_substate),        cmocka_unit_test(test_reason),
	    cmocka_unit_test(test_retry_after),     cmocka_unit_test(test_replaces),
	    cmocka_unit_test(test_timestamp),       cmocka_unit_test(test_token),
	    cmocka_unit_test(test_reason_phrase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
