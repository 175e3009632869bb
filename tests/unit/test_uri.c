/*
 * Unit tests for gateway/sip/uri: decoding (RFC 3261 §25.1, RFC 3966, RFC 5118
 * IPv6 references, RFC 4475 URI torture cases) and equivalence (every example
 * pair of RFC 3261 §19.1.4, RFC 3966 §4 rules).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sip/uri/uri.h"

static struct pl S(const char *s) {
	return pl_make(s, strlen(s));
}

static void
assert_pl(struct pl pl, const char *want)
{
	char buf[512];

	pl_strcpy(pl, buf, sizeof(buf));
	assert_true(pl_isset(pl) || !*want);
	assert_string_equal(buf, want);
}

static int dec(struct sip_uri *u, const char *s)
{
	return sip_uri_decode(u, S(s));
}

static bool eq(const char *a, const char *b)
{
	struct sip_uri ua, ub;

	assert_int_equal(dec(&ua, a), 0);
	assert_int_equal(dec(&ub, b), 0);
	/* equivalence is symmetric and reflexive whatever the answer */
	assert_true(sip_uri_equal(&ua, &ua));
	assert_true(sip_uri_equal(&ub, &ub));
	assert_int_equal(sip_uri_equal(&ua, &ub), sip_uri_equal(&ub, &ua));
	return sip_uri_equal(&ua, &ub);
}

static void test_sip_basic(void **state)
{
	struct sip_uri u;

	(void)state;
	assert_int_equal(dec(&u, "sip:alice:secretword@atlanta.com;transport=tcp"), 0);
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_pl(u.scheme_pl, "sip");
	assert_pl(u.user, "alice");
	assert_pl(u.password, "secretword");
	assert_pl(u.host, "atlanta.com");
	assert_false(u.has_port);
	assert_int_equal(u.port, 0);
	assert_pl(u.params, ";transport=tcp");
	assert_false(pl_isset(u.headers));
	assert_pl(u.whole, "sip:alice:secretword@atlanta.com;transport=tcp");

	assert_int_equal(dec(&u, "sips:alice@atlanta.com?subject=project%20x&priority=urgent"), 0);
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_pl(u.headers, "?subject=project%20x&priority=urgent");
	assert_false(pl_isset(u.params));

	assert_int_equal(dec(&u, "sip:+1-212-555-1212:1234@gateway.com;user=phone"), 0);
	assert_pl(u.user, "+1-212-555-1212");
	assert_pl(u.password, "1234");
	struct pl v;
	assert_true(sip_uri_param(&u, "USER", &v));
	assert_pl(v, "phone");

	assert_int_equal(dec(&u, "sip:alice@192.0.2.4:5061"), 0);
	assert_pl(u.host, "192.0.2.4");
	assert_true(u.has_port);
	assert_int_equal(u.port, 5061);

	assert_int_equal(dec(&u, "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com"), 0);
	assert_false(pl_isset(u.user));
	assert_pl(u.host, "atlanta.com");
	assert_pl(u.params, ";method=REGISTER");
	assert_pl(u.headers, "?to=alice%40atlanta.com");

	assert_int_equal(dec(&u, "SIP:ALICE@AtLanTa.CoM;Transport=udp"), 0);
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_int_equal(dec(&u, "sip:alice;day=tuesday@atlanta.com"), 0);
	assert_pl(u.user, "alice;day=tuesday");
	/* empty password, trailing dot in a FQDN, port 0 and 65535 */
	assert_int_equal(dec(&u, "sip:alice:@atlanta.com."), 0);
	assert_true(pl_isset(u.password));
	assert_int_equal(u.password.l, 0);
	assert_int_equal(dec(&u, "sip:h:65535"), 0);
	assert_int_equal(u.port, 65535);
	assert_int_equal(dec(&u, "sip:h:0"), 0);
	assert_true(u.has_port);
	assert_int_equal(dec(&u, "sip:example.com;lr;maddr=[2001:db8::1]"), 0);
	assert_int_equal(dec(&u, "sip:u@1host.example-net.com"), 0);
}

static void test_sip_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "sip:",
	    "sip:@example.com",           /* user is 1*char */
	    "sip:user@",                  /* no host */
	    "sip:user@example.com:",      /* empty port */
	    "sip:user@example.com:65536", /* port range */
	    "sip:user@example.com:99999999999999999999",
	    "sip:user@example.com:50a",
	    "sip:user@exa mple.com", /* LWS */
	    " sip:user@example.com",
	    "sip:user@example.com ",
	    "sip:user@example.com; lr", /* RFC 4475 lwsruri */
	    "<sip:user@example.com>",   /* RFC 4475 ltgtruri */
	    "sip:user@example.com>",
	    "sip:us%2er@example.com%", /* bad escapes */
	    "sip:us%zzer@example.com",
	    "sip:user%4@example.com",
	    "sip:user@example.com;a=%g0",
	    "sip:user@example.com;;lr", /* empty parameter */
	    "sip:user@example.com;lr;",
	    "sip:user@example.com;=x",
	    "sip:user@example.com;x=",
	    "sip:user@example.com;a=b=c",
	    "sip:user@example.com?", /* headers need name=value */
	    "sip:user@example.com?a",
	    "sip:user@example.com?=b",
	    "sip:user@example.com?a=b&",
	    "sip:user@example.com?a=b#frag",
	    "sip:user@-example.com", /* hostname labels */
	    "sip:user@example-.com",
	    "sip:user@example..com",
	    "sip:user@example.123", /* toplabel starts with ALPHA */
	    "sip:user@1.2.3",
	    "sip:user@256.1.1.1",
	    "sip:user@1.2.3.4.5",
	    "sip:user@ex_ample.com",
	    "sip:user@ex%61mple.com", /* no escapes in hosts */
	    "sip:us\"er@example.com",
	    "sip:us<er@example.com",
	    "sip:user:pa;ss@example.com", /* ';' not in password */
	    "sip:user@host@host",
	    "sip:user@example.com\r\n",
	    ":user@example.com",
	    "1sip:user@example.com", /* scheme starts with ALPHA */
	    "si_p:user@example.com",
	    "sip",
	};
	struct sip_uri u;

	(void)state;
	memset(&u, 0x5a, sizeof(u));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_uri_decode(&u, S(bad[i])) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	/* an embedded NUL is just a bad byte */
	assert_int_equal(sip_uri_decode(&u, pl_make("sip:user@example.com\0x", 22)), EBADMSG);
	/* outputs written only on success */
	assert_int_equal(u.scheme, 0x5a5a5a5a);
	assert_int_equal(sip_uri_decode(&u, pl_make(NULL, 0)), EBADMSG);
}

/* RFC 4475 URIs: valid torture cases parse, their pieces are right. */
static void test_rfc4475(void **state)
{
	struct sip_uri u, v;
	struct pl val;

	(void)state;
	/* 3.1.1.3 esc01 */
	assert_int_equal(dec(&u, "sip:sips%3Auser%40example.com@example.net"), 0);
	assert_pl(u.user, "sips%3Auser%40example.com");
	assert_pl(u.host, "example.net");
	assert_int_equal(dec(&u, "sip:I%20have%20spaces@example.net"), 0);
	assert_int_equal(dec(&u, "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"),
	                 0);
	assert_true(eq("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	               "sip:caller@host5.example.net;lr;name=value%25%34%31"));
	/* 3.1.1.4 escnull */
	assert_int_equal(dec(&u, "sip:null-%00-null@example.com"), 0);
	assert_int_equal(dec(&u, "sip:%00@host5.example.com"), 0);
	assert_false(eq("sip:%00@host5.example.com", "sip:%00%00@host5.example.com"));
	/* 3.1.1.5 esc02: an escaped user equals the plain one */
	assert_true(eq("sip:%75se%72@example.com", "sip:user@example.com"));
	/* 3.1.1.2 intmeth: unusual but legal characters everywhere */
	assert_int_equal(dec(&u, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
	                         "weird!*pas$wo~d_too.(doesn't-it)@example.com"),
	                 0);
	assert_pl(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_pl(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_pl(u.host, "example.com");
	/* 3.1.1.9 semiuri: parameters in the user part belong to the user */
	assert_int_equal(dec(&u, "sip:user;par=u%40example.net@example.com"), 0);
	assert_pl(u.user, "user;par=u%40example.net");
	assert_pl(u.host, "example.com");
	assert_false(pl_isset(u.params));
	/* 3.1.1.1 wsinv: unknown parameter without value */
	assert_int_equal(dec(&u, "sip:vivekg@chair-dnrc.example.com;unknownparam"), 0);
	assert_true(sip_uri_param(&u, "unknownparam", &val));
	assert_int_equal(val.l, 0);
	assert_int_equal(dec(&u, "sip:services.example.com;lr;unknownwith=value;unknown-no-value"),
	                 0);
	assert_true(sip_uri_param(&u, "unknownwith", &val));
	assert_pl(val, "value");
	assert_false(sip_uri_param(&u, "unknown", NULL));
	/* 3.1.2.11 escruri and 3.1.2.13 regbadct: escaped headers are valid */
	assert_int_equal(dec(&u, "sip:user@example.com?Route=%3Csip:example.com%3E"), 0);
	assert_pl(u.headers, "?Route=%3Csip:example.com%3E");
	assert_int_equal(dec(&u, "sip:user@example.com?Route=%3Csip:sip.example.com%3E"), 0);
	/* 3.3.1 unkscm, 3.3.2 novelsc, 3.3.3 unksm2: other schemes */
	assert_int_equal(dec(&u, "nobodyKnowsThisScheme:totallyopaquecontent"), 0);
	assert_int_equal(u.scheme, SIP_URI_OTHER);
	assert_pl(u.scheme_pl, "nobodyKnowsThisScheme");
	assert_pl(u.opaque, "totallyopaquecontent");
	assert_int_equal(dec(&u, "soap.beep://192.0.2.103:3002"), 0);
	assert_int_equal(u.scheme, SIP_URI_OTHER);
	assert_pl(u.opaque, "//192.0.2.103:3002");
	assert_int_equal(dec(&u, "isbn:2983792873"), 0);
	assert_int_equal(dec(&v, "ISBN:2983792873"), 0);
	assert_true(sip_uri_equal(&u, &v));
	assert_int_equal(dec(&v, "isbn:2983792874"), 0);
	assert_false(sip_uri_equal(&u, &v));
	assert_int_equal(dec(&u, "mailto:"), EBADMSG);
	assert_int_equal(dec(&u, "http://x y"), EBADMSG);
	/* 3.1.2.14 badaspec: spaces around the addr-spec are not part of a URI */
	assert_int_equal(dec(&u, " sip:t.watson@example.org "), EBADMSG);
	/* sips and sip never match, even otherwise identical */
	assert_false(eq("sip:user@example.com", "sips:user@example.com"));
}

/* RFC 5118 IPv6 references (and RFC 3986 IPv6address as RFC 5954 requires). */
static void test_ipv6(void **state)
{
	static const char *const good[] = {
	    "sip:[2001:db8::10]",       /* 4.1 */
	    "sip:[2001:db8::10:5070]",  /* 4.3: legal, port-less */
	    "sip:[2001:db8::10]:5070",  /* 4.4 */
	    "sip:user@[2001:db8::9:1]", /* 4.5 */
	    "sip:[2001:db8::9:255]",
	    "sip:user@[::ffff:192.0.2.10]", /* 4.9 */
	    "sip:[2001:db8::192.0.2.1]",    /* 4.10, the correct form */
	    "sip:[::1]",
	    "sip:[::]",
	    "sip:[1::]",
	    "sip:[1:2:3:4:5:6:7:8]",
	    "sip:[1:2:3:4:5:6:192.0.2.1]",
	    "sip:[1::8]",
	    "sip:[1:2:3:4:5:6:7::]",
	    "sip:[::2:3:4:5:6:7:8]",
	    "sip:[fe80::abcd:EF01]:5060;transport=tcp",
	};
	static const char *const bad[] = {
	    "sip:2001:db8::10", /* 4.2: missing brackets */
	    "sip:user@2001:db8::10",
	    "sip:[2001:db8:::192.0.2.1]", /* 4.10, the RFC 3261 ABNF bug */
	    "sip:[2001:db8::10",
	    "sip:2001:db8::10]",
	    "sip:[]",
	    "sip:[:]",
	    "sip:[:::]",
	    "sip:[1:2:3:4:5:6:7:8:9]",
	    "sip:[1:2:3:4:5:6:7]",
	    "sip:[1:2:3:4:5:6:7:8::]", /* :: must stand for a group */
	    "sip:[1::2::3]",
	    "sip:[12345::1]",
	    "sip:[1:]",
	    "sip:[:1]",
	    "sip:[1::g]",
	    "sip:[::ffff:192.0.2]",
	    "sip:[::ffff:192.0.2.256]",
	    "sip:[::192.0.2.1:1]",           /* IPv4 only at the end */
	    "sip:[1:2:3:4:5:6:7:192.0.2.1]", /* 9 groups */
	    "sip:[2001:db8::10]5070",
	    "sip:[2001:db8::10]:",
	    "sip:[ 2001:db8::10]",
	};
	struct sip_uri u;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (dec(&u, good[i]) != 0)
			fail_msg("rejected: \"%s\"", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dec(&u, bad[i]) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(dec(&u, "sip:[2001:db8::10:5070]"), 0);
	assert_pl(u.host, "[2001:db8::10:5070]");
	assert_false(u.has_port);
	assert_int_equal(dec(&u, "sip:[2001:db8::10]:5070"), 0);
	assert_pl(u.host, "[2001:db8::10]");
	assert_int_equal(u.port, 5070);
	/* RFC 5954 §4: IPv6 literals compare as addresses */
	assert_true(eq("sip:[2001:db8::10]", "sip:[2001:DB8:0:0:0:0:0:10]"));
	assert_true(eq("sip:[::ffff:192.0.2.10]", "sip:[::ffff:c000:20a]"));
	assert_false(eq("sip:[2001:db8::10]", "sip:[2001:db8::11]"));
	assert_false(eq("sip:[2001:db8::10]", "sip:[2001:db8::10]:5060"));
}

/* Every example of RFC 3261 §19.1.4. */
static void test_rfc3261_equal(void **state)
{
	(void)state;
	assert_true(
	    eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
	               "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	               "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));

	/* different usernames */
	assert_false(
	    eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
	/* can resolve to different ports */
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	/* can resolve to different transports */
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	/* can resolve to different port and transports */
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	/* different header component */
	assert_false(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
	/* even though that's what phone21.boxesbybob.com resolves to */
	assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	/* intransitivity: both equal sip:carol@chicago.com, not each other */
	assert_false(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
}

/* The rules of §19.1.4 one by one, beyond the RFC's examples. */
static void test_sip_equal_rules(void **state)
{
	(void)state;
	/* reserved characters escaped are not the characters */
	assert_false(eq("sip:a%3Bb@example.com", "sip:a;b@example.com"));
	assert_true(eq("sip:a%3Bb@example.com", "sip:a%3bb@example.com"));
	assert_true(eq("sip:%41@example.com", "sip:A@example.com"));
	assert_false(eq("sip:%41@example.com", "sip:a@example.com"));
	/* password is part of userinfo, case-sensitive */
	assert_false(eq("sip:alice:pw@example.com", "sip:alice:PW@example.com"));
	assert_false(eq("sip:alice:pw@example.com", "sip:alice@example.com"));
	assert_false(eq("sip:alice:@example.com", "sip:alice@example.com"));
	assert_false(eq("sip:alice@example.com", "sip:example.com"));
	/* user, ttl, method, maddr, transport must match when in either */
	assert_false(eq("sip:a@h;user=phone", "sip:a@h"));
	assert_false(eq("sip:a@h;ttl=1", "sip:a@h"));
	assert_false(eq("sip:a@h", "sip:a@h;method=INVITE"));
	assert_false(eq("sip:a@h;maddr=239.255.255.1", "sip:a@h"));
	assert_true(eq("sip:a@h;maddr=Example.COM", "sip:a@h;MADDR=example.com"));
	/* lr and other parameters are ignored when in one only */
	assert_true(eq("sip:a@h;lr", "sip:a@h"));
	assert_false(eq("sip:a@h;lr", "sip:a@h;lr=on"));
	/* only the first occurrence of a repeated parameter counts */
	assert_true(eq("sip:a@h;transport=tcp;transport=udp", "sip:a@h;transport=tcp"));
	/* headers are never ignored; names in any case, values exactly */
	assert_true(eq("sip:a@h?Subject=x", "sip:a@h?subject=x"));
	assert_false(eq("sip:a@h?subject=x", "sip:a@h?subject=X"));
	assert_true(eq("sip:a@h?subject=%78", "sip:a@h?subject=x"));
	assert_false(eq("sip:a@h?a=1&a=1", "sip:a@h?a=1"));
	assert_false(eq("sip:a@h?a=1&a=1&a=2", "sip:a@h?a=1&a=2&a=2"));
	assert_true(eq("sip:a@h?a=&b=2", "sip:a@h?b=2&a="));
	/* ports: equal when explicit and equal */
	assert_true(eq("sip:a@h:5060", "sip:a@h:05060"));
	assert_false(eq("sips:a@h:5061", "sips:a@h:5060"));
	/* hosts compare in any case, as text */
	assert_false(eq("sip:a@h.example.com", "sip:a@h.example.com."));
	/* tel and sip never match */
	assert_false(eq("tel:+12125550100", "sip:+12125550100@h;user=phone"));
	/* undecoded URIs match nothing */
	struct sip_uri z;
	memset(&z, 0, sizeof(z));
	assert_false(sip_uri_equal(&z, &z));
	assert_false(sip_uri_equal(NULL, &z));
}

static void test_tel(void **state)
{
	struct sip_uri u;
	struct pl v;

	(void)state;
	/* RFC 3966 §6 examples */
	assert_int_equal(dec(&u, "tel:+1-201-555-0123"), 0);
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_true(u.global);
	assert_pl(u.number, "+1-201-555-0123");
	assert_false(pl_isset(u.params));
	assert_int_equal(dec(&u, "tel:7042;phone-context=example.com"), 0);
	assert_false(u.global);
	assert_pl(u.number, "7042");
	assert_pl(u.params, ";phone-context=example.com");
	assert_int_equal(dec(&u, "tel:863-1234;phone-context=+1-914-555"), 0);
	assert_true(sip_uri_param(&u, "phone-context", &v));
	assert_pl(v, "+1-914-555");
	/* ext, isub, other parameters, hex and * # in local numbers */
	assert_int_equal(dec(&u, "tel:+1-212-555-0101;ext=22-33;isub=%41bc=d;foo=bar;flag"), 0);
	assert_true(sip_uri_param(&u, "ext", &v));
	assert_pl(v, "22-33");
	assert_true(sip_uri_param(&u, "isub", &v));
	assert_pl(v, "%41bc=d");
	assert_int_equal(dec(&u, "TEL:*67#(1A);phone-context=pbx.example.com."), 0);
	assert_int_equal(dec(&u, "tel:+(1)-.5;ext=1"), 0);

	static const char *const bad[] = {
	    "tel:",
	    "tel:+",
	    "tel:+-.",
	    "tel:7042", /* local without context */
	    "tel:7042;phone-context=a;phone-context=b",
	    "tel:7042;phone-context=",
	    "tel:7042;phone-context=1example.2",
	    "tel:7042;phone-context=+",
	    "tel:+1-201-555-0123;",
	    "tel:+1-201-555-0123;;a=b",
	    "tel:+1-201-555-0123;ext=",
	    "tel:+1-201-555-0123;ext=12a",
	    "tel:+1-201-555-0123;isub",
	    "tel:+1-201-555-0123;a_b=c", /* pname is alphanum / "-" */
	    "tel:+1-201-555-0123;a=",
	    "tel:+1-201-555-0123;a=b=c",
	    "tel:+1-201-555-0123;a=%zz",
	    "tel:+1 201",
	    "tel:+1A", /* hex only in local numbers */
	    "tel:12%33;phone-context=x.com",
	    "tel:+12?x=y",
	    "tel:+12+3",
	    "tel:g;phone-context=x.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dec(&u, bad[i]) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

/* RFC 3966 §4 equivalence. */
static void test_tel_equal(void **state)
{
	(void)state;
	/* visual separators are not significant */
	assert_true(eq("tel:+1-201-555-0123", "tel:+1.201.555.0123"));
	assert_true(eq("tel:+1-201-555-0123", "tel:+1(201)5550123"));
	assert_true(eq("tel:+12015550123", "TEL:+1-201-555-0123"));
	assert_false(eq("tel:+12015550123", "tel:+12015550124"));
	/* global vs local never match */
	assert_false(eq("tel:+7042;foo=x", "tel:7042;phone-context=example.com"));
	/* phone-context: a domain in any case, a number without separators */
	assert_true(eq("tel:7042;phone-context=example.com", "tel:7042;phone-context=EXAMPLE.com"));
	assert_true(
	    eq("tel:863-1234;phone-context=+1-914-555", "tel:8631234;phone-context=+1914555"));
	assert_false(
	    eq("tel:7042;phone-context=example.com", "tel:7042;phone-context=example.net"));
	assert_false(eq("tel:7042;phone-context=+1", "tel:7042;phone-context=+2"));
	/* parameters in any order; a parameter in one only: not equal */
	assert_true(
	    eq("tel:+1-201-555-0123;ext=1234;isub=4a", "tel:+12015550123;isub=4A;ext=12-34"));
	assert_false(eq("tel:+1-201-555-0123;ext=1234", "tel:+1-201-555-0123"));
	assert_false(eq("tel:+1-201-555-0123", "tel:+1-201-555-0123;foo"));
	assert_false(eq("tel:+1-201-555-0123;ext=1234", "tel:+1-201-555-0123;ext=1235"));
	/* case-insensitive parameter names and values, hex digits */
	assert_true(eq("tel:+1-201-555-0123;Foo=Bar", "tel:+1-201-555-0123;foo=bar"));
	assert_true(eq("tel:ab-CD;phone-context=x.com", "tel:ABcd;phone-context=X.COM"));
	assert_false(eq("tel:*1;phone-context=x.com", "tel:#1;phone-context=x.com"));
}

static void test_tel_digits(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(sip_uri_tel_digits(S("+1-(212).555-0100"), buf, sizeof(buf)), 12);
	assert_string_equal(buf, "+12125550100");
	assert_int_equal(sip_uri_tel_digits(S("+12125550100;isub=1"), buf, sizeof(buf)), 12);
	assert_string_equal(buf, "+12125550100");
	assert_int_equal(sip_uri_tel_digits(S("*67#ab"), buf, sizeof(buf)), 6);
	assert_string_equal(buf, "*67#AB");
	assert_int_equal(sip_uri_tel_digits(S("%2B1%2d2"), buf, sizeof(buf)), 3);
	assert_string_equal(buf, "+12");
	/* exactly fits: 15 chars + NUL; one more does not */
	assert_int_equal(sip_uri_tel_digits(S("123456789012345"), buf, sizeof(buf)), 15);
	assert_int_equal(sip_uri_tel_digits(S("1234567890123456"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S("alice"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S("1+2"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S("+"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S("--"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S(""), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S("12%3"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S("1 2"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_uri_tel_digits(S("1"), buf, 0), -1);
}

static void test_unescape(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(sip_unescape(S("a%20b%7e"), buf, sizeof(buf)), 4);
	assert_string_equal(buf, "a b~");
	assert_int_equal(sip_unescape(S("%00x"), buf, sizeof(buf)), 2);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 'x');
	assert_int_equal(sip_unescape(S(""), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(sip_unescape(S("1234567"), buf, sizeof(buf)), 7);
	assert_int_equal(sip_unescape(S("12345678"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_unescape(S("%4"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_unescape(S("%4g"), buf, sizeof(buf)), -1);
	assert_int_equal(sip_unescape(S("%"), buf, sizeof(buf)), -1);
}

static void test_param_get(void **state)
{
	struct pl v, n, rest;

	(void)state;
	assert_true(sip_param_get(S(";tag=abc;lr;q=0.5"), "TAG", &v));
	assert_pl(v, "abc");
	assert_true(sip_param_get(S(";tag=abc;lr;q=0.5"), "lr", &v));
	assert_int_equal(v.l, 0);
	assert_true(sip_param_get(S(";tag=abc;lr;q=0.5"), "q", NULL));
	assert_false(sip_param_get(S(";tag=abc;lr;q=0.5"), "ta", &v));
	assert_false(sip_param_get(S(";tag=abc"), "tag=abc", &v));
	assert_false(sip_param_get(pl_make(NULL, 0), "tag", &v));
	/* LWS and folding around ';' and '=', as in RFC 4475 wsinv */
	assert_true(sip_param_get(S(" ;   tag    = 1918181833n\r\n  ;\r\n  x = y "), "tag", &v));
	assert_pl(v, "1918181833n");
	assert_true(sip_param_get(S(" ;   tag    = 1918181833n\r\n  ;\r\n  x = y "), "x", &v));
	assert_pl(v, "y");
	/* quoted values: quotes stripped, ';' and '=' inside do not split */
	assert_true(sip_param_get(S(";text=\"a;b=c \\\" d\";cause=16"), "text", &v));
	assert_pl(v, "a;b=c \\\" d");
	assert_true(sip_param_get(S(";text=\"a;b=c \\\" d\";cause=16"), "cause", &v));
	assert_pl(v, "16");
	assert_false(sip_param_get(S(";text=\"x;cause=17\""), "cause", &v));
	/* first occurrence wins; ";;" is skipped */
	assert_true(sip_param_get(S(";;a=1;;a=2"), "a", &v));
	assert_pl(v, "1");
	/* iteration */
	rest = S(";a=1;b;c=\"x\"");
	assert_true(sip_param_next(&rest, &n, &v));
	assert_pl(n, "a");
	assert_pl(v, "1");
	assert_true(sip_param_next(&rest, &n, &v));
	assert_pl(n, "b");
	assert_true(sip_param_next(&rest, &n, NULL));
	assert_pl(n, "c");
	assert_false(sip_param_next(&rest, &n, &v));
	assert_false(sip_param_next(&rest, &n, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sip_basic),     cmocka_unit_test(test_sip_invalid),
	    cmocka_unit_test(test_rfc4475),       cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_rfc3261_equal), cmocka_unit_test(test_sip_equal_rules),
	    cmocka_unit_test(test_tel),           cmocka_unit_test(test_tel_equal),
	    cmocka_unit_test(test_tel_digits),    cmocka_unit_test(test_unescape),
	    cmocka_unit_test(test_param_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
