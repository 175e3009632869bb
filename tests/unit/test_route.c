/*
 * Unit tests for gateway/route: Request-URI forms -> E.164 under two
 * numbering plans (NANP: cc 1, national prefix 1, international 011, area
 * 212; UK: cc 44, national 0, international 00, area 20), Q.931 numbers both
 * ways, the pattern syntax, outbound and inbound tables, overlap receiving
 * digit by digit, and presentation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "route/route.h"

static const struct route_numplan nanp = {
	.cc = "1", .natpfx = "1", .intlpfx = "011", .area = "212", .nsn_len = 10, .local_len = 7,
};
static const struct route_numplan uk = {
	.cc = "44", .natpfx = "0", .intlpfx = "00", .area = "20", .nsn_len = 10, .local_len = 8,
};

static struct pl S(const char *s)
{
	return pl_make(s, strlen(s));
}

/* Normalises a URI text; returns the error, fills *n. */
static int norm(const struct route_numplan *np, const char *text, struct route_number *n)
{
	struct sip_uri u;

	if (sip_uri_decode(&u, S(text)) != 0)
		fail_msg("URI does not decode: %s", text);
	return route_normalise_uri(np, &u, n);
}

struct norm_case {
	const char *uri;
	int err;
	enum route_num_kind kind;
	const char *want;
	const char *ctx;
};

static void run_norm(const struct route_numplan *np, const struct norm_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct route_number num;
		int err;

		memset(&num, 0x5a, sizeof(num));
		err = norm(np, c[i].uri, &num);
		if (err != c[i].err)
			fail_msg("%s: error %d, want %d", c[i].uri, err, c[i].err);
		if (err)
			continue;
		if (num.kind != c[i].kind || strcmp(num.digits, c[i].want))
			fail_msg("%s: %s (kind %d), want %s (kind %d)", c[i].uri, num.digits,
				 num.kind, c[i].want, c[i].kind);
		if (c[i].ctx) {
			char buf[64];

			pl_strcpy(num.context, buf, sizeof(buf));
			assert_string_equal(buf, c[i].ctx);
		} else {
			assert_false(pl_isset(num.context));
		}
	}
}

static void test_normalise_nanp(void **state)
{
	static const struct norm_case c[] = {
		{ "tel:+12125550100", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "tel:+1-212-555-0100", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "tel:+1.212.(555).0100;ext=12", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:+12125550100@gw;user=phone", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:+12125550100@gw", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sips:+1-212-555-0100@gw:5061;user=phone", 0, ROUTE_NUM_E164, "+12125550100",
		  NULL },
		{ "sip:%2B12125550100@gw", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:2125550100@gw", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:212-555-0100@gw;user=phone", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:12125550100@gw", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:01112125550100@gw", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:011442079460000@gw", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "sip:5550100@gw", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "tel:5550100;phone-context=+1212", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "tel:555-0100;phone-context=+1-212", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:5550100;phone-context=+1212@gw;user=phone", 0, ROUTE_NUM_E164,
		  "+12125550100", NULL },
		{ "tel:5550100;phone-context=example.com", 0, ROUTE_NUM_PRIVATE, "5550100",
		  "example.com" },
		{ "tel:+12125550100;phone-context=example.com", 0, ROUTE_NUM_E164,
		  "+12125550100", NULL },
		{ "sip:1001@gw", 0, ROUTE_NUM_PRIVATE, "1001", NULL },
		{ "sip:*97@gw", 0, ROUTE_NUM_PRIVATE, "*97", NULL },
		{ "tel:911;phone-context=+1", 0, ROUTE_NUM_E164, "+1911", NULL },
		{ "sip:212555010@gw", 0, ROUTE_NUM_PRIVATE, "212555010", NULL },
		{ "sip:alice@gw", EINVAL, 0, NULL, NULL },
		{ "sip:cafe@gw", EINVAL, 0, NULL, NULL },
		{ "sip:gw", EINVAL, 0, NULL, NULL },
		{ "tel:+1234567890123456", EINVAL, 0, NULL, NULL },
		{ "sip:011@gw", 0, ROUTE_NUM_PRIVATE, "011", NULL },
		{ "sip:0111234567890123456@gw", EINVAL, 0, NULL, NULL },
		{ "sip:01102079460000@gw", EINVAL, 0, NULL, NULL },
		{ "tel:+0123", EINVAL, 0, NULL, NULL },
		{ "sip:5550100;phone-context=+@gw;user=phone", EINVAL, 0, NULL, NULL },
		{ "sip:55501A0;phone-context=+1212@gw;user=phone", EINVAL, 0, NULL, NULL },
		{ "sip:55501A0@gw;user=phone", 0, ROUTE_NUM_PRIVATE, "55501A0", NULL },
		{ "mailto:a@b.example", EPROTONOSUPPORT, 0, NULL, NULL },
	};

	(void)state;
	run_norm(&nanp, c, ARRAY_SIZE(c));
}

static void test_normalise_uk(void **state)
{
	static const struct norm_case c[] = {
		{ "tel:+442079460000", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "tel:+44-20-7946-0000", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "sip:+442079460000@gw;user=phone", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "sip:02079460000@gw", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "sip:2079460000@gw", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "sip:00442079460000@gw", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "sip:0012125550100@gw", 0, ROUTE_NUM_E164, "+12125550100", NULL },
		{ "sip:79460000@gw", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "tel:79460000;phone-context=+4420", 0, ROUTE_NUM_E164, "+442079460000", NULL },
		{ "tel:7946-0000;phone-context=+44-20", 0, ROUTE_NUM_E164, "+442079460000",
		  NULL },
		{ "tel:79460000;phone-context=example.co.uk", 0, ROUTE_NUM_PRIVATE, "79460000",
		  "example.co.uk" },
		{ "sip:999@gw", 0, ROUTE_NUM_PRIVATE, "999", NULL },
		/* a national prefix with the wrong NSN length is not national */
		{ "sip:0207946000@gw", 0, ROUTE_NUM_PRIVATE, "0207946000", NULL },
		{ "sip:12125550100@gw", 0, ROUTE_NUM_PRIVATE, "12125550100", NULL },
	};

	(void)state;
	run_norm(&uk, c, ARRAY_SIZE(c));
}

static void test_numplan_and_dial(void **state)
{
	struct route_numplan bad = nanp;
	struct route_numplan varying = { .cc = "49", .natpfx = "0", .intlpfx = "00" };
	struct route_number n;

	(void)state;
	assert_int_equal(route_numplan_check(&nanp), 0);
	assert_int_equal(route_numplan_check(&uk), 0);
	assert_int_equal(route_numplan_check(&varying), 0);
	bad.cc[0] = '\0';
	assert_int_equal(route_numplan_check(&bad), EINVAL);
	bad = nanp;
	strcpy(bad.intlpfx, "01a");
	assert_int_equal(route_numplan_check(&bad), EINVAL);
	bad = nanp;
	bad.nsn_len = 15;
	assert_int_equal(route_numplan_check(&bad), EINVAL);
	assert_int_equal(route_numplan_check(NULL), EINVAL);

	/* variable NSN length (Germany): anything after the national prefix */
	assert_int_equal(route_normalise_dial(&varying, "030123456", &n), 0);
	assert_string_equal(n.digits, "+4930123456");
	assert_int_equal(route_normalise_dial(&varying, "0", &n), 0);
	assert_int_equal(n.kind, ROUTE_NUM_PRIVATE);
	assert_int_equal(route_normalise_dial(&varying, "4930123456", &n), 0);
	assert_int_equal(n.kind, ROUTE_NUM_PRIVATE);

	assert_int_equal(route_normalise_dial(&nanp, "", &n), EINVAL);
	assert_int_equal(route_normalise_dial(&nanp, "+", &n), EINVAL);
	assert_int_equal(route_normalise_dial(&nanp, "12a", &n), EINVAL);
	assert_int_equal(route_normalise_dial(&nanp, "1+2", &n), EINVAL);
	assert_int_equal(route_normalise_dial(&nanp, "+1-212", &n), EINVAL);
	assert_int_equal(route_normalise_dial(&nanp, "123456789012345678901234567890123", &n),
			 EINVAL);
	assert_int_equal(route_normalise_dial(&nanp, "1234#", &n), 0);
	assert_int_equal(n.kind, ROUTE_NUM_PRIVATE);
	assert_string_equal(n.digits, "1234#");
}

struct q931_case {
	const char *digits;
	enum route_ton ton;
	enum route_npi npi;
	int err;
	enum route_num_kind kind;
	const char *want;
};

static void run_q931(const struct route_numplan *np, const struct q931_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct route_number num;
		int err = route_from_q931(np, c[i].digits, c[i].ton, c[i].npi, &num);

		if (err != c[i].err)
			fail_msg("%s ton %d npi %d: %d, want %d", c[i].digits, c[i].ton, c[i].npi,
				 err, c[i].err);
		if (err)
			continue;
		if (num.kind != c[i].kind || strcmp(num.digits, c[i].want))
			fail_msg("%s ton %d: %s, want %s", c[i].digits, c[i].ton, num.digits,
				 c[i].want);
	}
}

static void test_from_q931(void **state)
{
	static const struct q931_case n[] = {
		{ "12125550100", ROUTE_TON_INTERNATIONAL, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+12125550100" },
		{ "2125550100", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+12125550100" },
		{ "5550100", ROUTE_TON_SUBSCRIBER, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+12125550100" },
		{ "12125550100", ROUTE_TON_UNKNOWN, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+12125550100" },
		{ "2125550100", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, 0, ROUTE_NUM_E164,
		  "+12125550100" },
		{ "011442079460000", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, 0, ROUTE_NUM_E164,
		  "+442079460000" },
		{ "1001", ROUTE_TON_UNKNOWN, ROUTE_NPI_PRIVATE, 0, ROUTE_NUM_PRIVATE, "1001" },
		{ "2125550100", ROUTE_TON_NATIONAL, ROUTE_NPI_PRIVATE, 0, ROUTE_NUM_PRIVATE,
		  "2125550100" },
		{ "1001", ROUTE_TON_NETWORK, ROUTE_NPI_UNKNOWN, 0, ROUTE_NUM_PRIVATE, "1001" },
		{ "55", ROUTE_TON_ABBREVIATED, ROUTE_NPI_UNKNOWN, 0, ROUTE_NUM_PRIVATE, "55" },
		{ "", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, EINVAL, 0, NULL },
		{ "21255501x0", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, EINVAL, 0, NULL },
		{ "1234567890123456", ROUTE_TON_INTERNATIONAL, ROUTE_NPI_E164, EINVAL, 0, NULL },
		{ "21255501#", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, EINVAL, 0, NULL },
	};
	static const struct q931_case u[] = {
		{ "442079460000", ROUTE_TON_INTERNATIONAL, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+442079460000" },
		{ "2079460000", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+442079460000" },
		{ "79460000", ROUTE_TON_SUBSCRIBER, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+442079460000" },
		{ "02079460000", ROUTE_TON_UNKNOWN, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+442079460000" },
		{ "0012125550100", ROUTE_TON_UNKNOWN, ROUTE_NPI_E164, 0, ROUTE_NUM_E164,
		  "+12125550100" },
	};
	struct route_numplan noarea = nanp;
	struct route_number num;

	(void)state;
	run_q931(&nanp, n, ARRAY_SIZE(n));
	run_q931(&uk, u, ARRAY_SIZE(u));
	noarea.area[0] = '\0';
	assert_int_equal(route_from_q931(&noarea, "5550100", ROUTE_TON_SUBSCRIBER, ROUTE_NPI_E164,
					 &num),
			 EINVAL);
}

static void test_to_q931(void **state)
{
	static const struct {
		const struct route_numplan *np;
		const char *e164;
		enum route_ton ton;
		int err;
		const char *want;
	} c[] = {
		{ &nanp, "+12125550100", ROUTE_TON_INTERNATIONAL, 0, "12125550100" },
		{ &nanp, "+12125550100", ROUTE_TON_NATIONAL, 0, "2125550100" },
		{ &nanp, "+12125550100", ROUTE_TON_SUBSCRIBER, 0, "5550100" },
		{ &nanp, "+12125550100", ROUTE_TON_UNKNOWN, 0, "12125550100" },
		{ &nanp, "+442079460000", ROUTE_TON_UNKNOWN, 0, "011442079460000" },
		{ &nanp, "+442079460000", ROUTE_TON_NATIONAL, EINVAL, NULL },
		{ &nanp, "+13105550100", ROUTE_TON_SUBSCRIBER, EINVAL, NULL },
		{ &nanp, "+1", ROUTE_TON_NATIONAL, EINVAL, NULL },
		{ &nanp, "12125550100", ROUTE_TON_INTERNATIONAL, EINVAL, NULL },
		{ &nanp, "+1212555010x", ROUTE_TON_INTERNATIONAL, EINVAL, NULL },
		{ &nanp, "+12125550100", ROUTE_TON_NETWORK, EINVAL, NULL },
		{ &uk, "+442079460000", ROUTE_TON_INTERNATIONAL, 0, "442079460000" },
		{ &uk, "+442079460000", ROUTE_TON_NATIONAL, 0, "2079460000" },
		{ &uk, "+442079460000", ROUTE_TON_SUBSCRIBER, 0, "79460000" },
		{ &uk, "+442079460000", ROUTE_TON_UNKNOWN, 0, "02079460000" },
		{ &uk, "+12125550100", ROUTE_TON_UNKNOWN, 0, "0012125550100" },
		{ &uk, "+441612345678", ROUTE_TON_SUBSCRIBER, EINVAL, NULL },
	};
	char buf[ROUTE_NUM_MAX + 1], small[6];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		int err = route_to_q931(c[i].np, c[i].e164, c[i].ton, buf, sizeof(buf));

		if (err != c[i].err)
			fail_msg("%s ton %d: %d, want %d", c[i].e164, c[i].ton, err, c[i].err);
		if (!err)
			assert_string_equal(buf, c[i].want);
	}
	assert_int_equal(route_to_q931(&nanp, "+12125550100", ROUTE_TON_NATIONAL, small,
				       sizeof(small)),
			 ENOSPC);
}

/* E.164 -> Q.931 -> E.164 is the identity for every type that applies. */
static void test_q931_roundtrip(void **state)
{
	static const char *const nums[] = { "+12125550100", "+13105550199", "+442079460000",
					    "+441612345678", "+33123456789", "+12125551004" };
	static const enum route_ton tons[] = { ROUTE_TON_INTERNATIONAL, ROUTE_TON_NATIONAL,
					       ROUTE_TON_SUBSCRIBER, ROUTE_TON_UNKNOWN };
	const struct route_numplan *plans[] = { &nanp, &uk };
	unsigned done = 0;

	(void)state;
	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
			for (size_t t = 0; t < ARRAY_SIZE(tons); t++) {
				char d[ROUTE_NUM_MAX + 1];
				struct route_number n;

				if (route_to_q931(plans[p], nums[i], tons[t], d, sizeof(d)))
					continue;
				assert_int_equal(route_from_q931(plans[p], d, tons[t],
								 ROUTE_NPI_E164, &n),
						 0);
				assert_int_equal(n.kind, ROUTE_NUM_E164);
				assert_string_equal(n.digits, nums[i]);
				done++;
			}
		}
	}
	assert_true(done >= 24);
}

static unsigned pt(const char *pat, const char *num)
{
	struct route_pattern p;

	if (route_pattern_compile(&p, S(pat)) != 0)
		fail_msg("pattern %s does not compile", pat);
	return route_pattern_test(&p, num);
}

#define M ROUTE_PAT_MATCH
#define MORE ROUTE_PAT_MORE

static void test_pattern(void **state)
{
	static const struct {
		const char *pat, *num;
		unsigned want;
	} c[] = {
		{ "+1NXXNXXXXXX", "+12125550100", M },
		{ "+1NXXNXXXXXX", "+11125550100", 0 },
		{ "+1NXXNXXXXXX", "+12121550100", 0 },
		{ "+1NXXNXXXXXX", "+1212555010", MORE },
		{ "+1NXXNXXXXXX", "+121255501000", 0 },
		{ "+1NXXNXXXXXX", "+", MORE },
		{ "+1NXXNXXXXXX", "", MORE },
		{ "+1nxxnxxxxxx", "+12125550100", M },
		{ "+44.", "+44", MORE },
		{ "+44.", "+442", M | MORE },
		{ "+44.", "+4", MORE },
		{ "+44.", "+45", 0 },
		{ "+44.", "+44+", 0 },
		{ "+44!", "+44", M | MORE },
		{ "+44!", "+4420", M | MORE },
		{ "+44!", "+43", 0 },
		{ "_X.", "5", MORE },
		{ "_X.", "55", M | MORE },
		{ "_X.", "", MORE },
		{ "_X.", "*", 0 },
		{ "X.", "1*2#", M | MORE },
		{ "Z", "0", 0 },
		{ "Z", "1", M },
		{ "N", "1", 0 },
		{ "N", "2", M },
		{ "[2-46-8]", "2", M },
		{ "[2-46-8]", "4", M },
		{ "[2-46-8]", "5", 0 },
		{ "[2-46-8]", "8", M },
		{ "[2-46-8]", "9", 0 },
		{ "[2-46-8]", "1", 0 },
		{ "[135]X", "3", MORE },
		{ "[135]X", "39", M },
		{ "[*#]", "#", M },
		{ "[*#]", "1", 0 },
		{ "*97", "*97", M },
		{ ".", "", MORE },
		{ ".", "1", M | MORE },
		{ "!", "", M | MORE },
		{ "1001", "1001", M },
		{ "1001", "100", MORE },
		{ "1001", "10011", 0 },
		{ "+1212555100X", "+12125551009", M },
		{ "X", "a", 0 },
		{ "X!", "1 ", 0 },
	};
	static const char *const bad[] = {
		"", "_", "+44.1", "+44!1", "..", "[", "[]", "[5-3]", "[a]", "[2-]", "[+]",
		"ABC", "+1-212", "+1!.", "Q", " 1", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
	};
	struct route_pattern p;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		unsigned f = pt(c[i].pat, c[i].num);

		if (f != c[i].want)
			fail_msg("%s vs \"%s\": %u, want %u", c[i].pat, c[i].num, f, c[i].want);
		assert_int_equal(route_pattern_match(&(struct route_pattern){ 0 }, "x"), false);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&p, 0x33, sizeof(p));
		if (route_pattern_compile(&p, S(bad[i])) != EINVAL)
			fail_msg("pattern \"%s\" accepted", bad[i]);
		assert_int_equal(p.n, 0x33); /* untouched on error */
	}
	/* 32 positions is the limit, inclusive */
	assert_int_equal(route_pattern_compile(&p, S("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX.")), 0);
	assert_int_equal(p.n, 32);
	assert_int_equal(route_pattern_compile(&p, pl_make(NULL, 0)), EINVAL);
	/* literal: no wildcard anywhere */
	assert_int_equal(route_pattern_compile(&p, S("+12125551001")), 0);
	assert_true(p.literal);
	assert_int_equal(route_pattern_compile(&p, S("_+1[2]12")), 0);
	assert_true(p.literal);
	assert_int_equal(route_pattern_compile(&p, S("+1212555100X")), 0);
	assert_false(p.literal);
	assert_int_equal(route_pattern_compile(&p, S("+1!")), 0);
	assert_false(p.literal);
	assert_int_equal(route_pattern_test(NULL, "1"), 0);
}

static struct route_table *nanp_out(void)
{
	struct route_table *t = NULL;
	const struct route_out_cfg rules[] = {
		{ .name = "emergency", .pattern = "911", .ton = ROUTE_TON_UNKNOWN,
		  .npi = ROUTE_NPI_UNKNOWN, .groups = { 1 }, .ngroups = 1 },
		{ .name = "local", .pattern = "+1212NXXXXXX", .strip = 4,
		  .ton = ROUTE_TON_SUBSCRIBER, .npi = ROUTE_NPI_E164, .groups = { 1, 2 },
		  .ngroups = 2, .hunt = ROUTE_HUNT_DESCENDING },
		{ .name = "nanp", .pattern = "+1NXXNXXXXXX", .strip = 1, .ton = ROUTE_TON_NATIONAL,
		  .npi = ROUTE_NPI_E164, .groups = { 1, 2 }, .ngroups = 2,
		  .hunt = ROUTE_HUNT_DESCENDING },
		{ .name = "uk-via-carrier", .pattern = "+44.", .prefix = "011",
		  .ton = ROUTE_TON_UNKNOWN, .npi = ROUTE_NPI_UNKNOWN, .groups = { 3 },
		  .ngroups = 1 },
		{ .name = "intl", .pattern = "+.", .ton = ROUTE_TON_INTERNATIONAL,
		  .npi = ROUTE_NPI_E164, .groups = { 2, 1 }, .ngroups = 2,
		  .hunt = ROUTE_HUNT_ROUNDROBIN },
		{ .name = "pbx", .pattern = "7XXX", .strip = 1, .prefix = "55",
		  .ton = ROUTE_TON_UNKNOWN, .npi = ROUTE_NPI_PRIVATE, .groups = { 4 },
		  .ngroups = 1 },
	};

	assert_int_equal(route_table_alloc(&t, &nanp), 0);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		assert_int_equal(route_out_add(t, &rules[i]), 0);
	return t;
}

static void test_outbound(void **state)
{
	static const struct {
		const char *num, *route, *called;
		enum route_ton ton;
		enum route_npi npi;
	} c[] = {
		{ "+12125550100", "local", "5550100", ROUTE_TON_SUBSCRIBER, ROUTE_NPI_E164 },
		{ "+13105550100", "nanp", "3105550100", ROUTE_TON_NATIONAL, ROUTE_NPI_E164 },
		{ "+12121550100", "intl", "12121550100", ROUTE_TON_INTERNATIONAL,
		  ROUTE_NPI_E164 },
		{ "+442079460000", "uk-via-carrier", "011442079460000", ROUTE_TON_UNKNOWN,
		  ROUTE_NPI_UNKNOWN },
		{ "+33123456789", "intl", "33123456789", ROUTE_TON_INTERNATIONAL,
		  ROUTE_NPI_E164 },
		{ "911", "emergency", "911", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN },
		{ "7123", "pbx", "55123", ROUTE_TON_UNKNOWN, ROUTE_NPI_PRIVATE },
	};
	struct route_table *t = nanp_out();
	struct route_out_match m;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		assert_int_equal(route_out_lookup(t, c[i].num, &m), 0);
		if (strcmp(m.route->name, c[i].route) || strcmp(m.called, c[i].called))
			fail_msg("%s: %s/%s, want %s/%s", c[i].num, m.route->name, m.called,
				 c[i].route, c[i].called);
		assert_int_equal(m.ton, c[i].ton);
		assert_int_equal(m.npi, c[i].npi);
	}
	assert_int_equal(route_out_lookup(t, "+13105550100", &m), 0);
	assert_int_equal(m.route->ngroups, 2);
	assert_int_equal(m.route->groups[0], 1);
	assert_int_equal(m.route->groups[1], 2);
	assert_int_equal(m.route->hunt, ROUTE_HUNT_DESCENDING);
	assert_int_equal(route_out_lookup(t, "+33123456789", &m), 0);
	assert_int_equal(m.route->groups[0], 2);
	assert_int_equal(m.route->hunt, ROUTE_HUNT_ROUNDROBIN);

	memset(&m, 0x11, sizeof(m));
	assert_int_equal(route_out_lookup(t, "1001", &m), ENOENT);
	assert_int_equal(route_out_lookup(t, "+", &m), ENOENT);
	assert_int_equal(route_out_lookup(t, "", &m), ENOENT);
	assert_int_equal(m.ton, 0x11111111); /* untouched */
	mem_deref(t);
}

static void test_outbound_uk_and_errors(void **state)
{
	struct route_table *t = NULL;
	struct route_out_match m;
	struct route_out_cfg national = { .pattern = "+44[1-9].", .strip = 2,
					  .ton = ROUTE_TON_NATIONAL, .npi = ROUTE_NPI_E164,
					  .groups = { 1 }, .ngroups = 1 };
	struct route_out_cfg intl = { .pattern = "+.", .ton = ROUTE_TON_INTERNATIONAL,
				      .npi = ROUTE_NPI_E164, .groups = { 1 }, .ngroups = 1 };
	struct route_out_cfg bad;

	(void)state;
	assert_int_equal(route_table_alloc(&t, &uk), 0);
	assert_int_equal(route_out_add(t, &national), 0);
	assert_int_equal(route_out_add(t, &intl), 0);
	assert_int_equal(route_out_lookup(t, "+442079460000", &m), 0);
	assert_string_equal(m.called, "2079460000");
	assert_int_equal(m.ton, ROUTE_TON_NATIONAL);
	assert_int_equal(route_out_lookup(t, "+12125550100", &m), 0);
	assert_string_equal(m.called, "12125550100");
	assert_int_equal(m.ton, ROUTE_TON_INTERNATIONAL);
	assert_int_equal(route_out_lookup(t, "+440", &m), 0); /* [1-9] failed: falls through */
	assert_int_equal(m.ton, ROUTE_TON_INTERNATIONAL);

	bad = national;
	bad.pattern = "+44[.";
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad = national;
	bad.ngroups = 0;
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad.ngroups = ROUTE_GROUPS_MAX + 1;
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad = national;
	bad.prefix = "01a";
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad = national;
	bad.ton = (enum route_ton)5;
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad = national;
	bad.npi = (enum route_npi)2;
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad = national;
	bad.name = "a-name-that-is-far-too-long-to-keep-in-32";
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad = national;
	bad.hunt = (enum route_hunt)3;
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	bad = national;
	bad.pattern = NULL;
	assert_int_equal(route_out_add(t, &bad), EINVAL);
	mem_deref(t);

	/* a rule that strips the whole number, and one whose result is too long */
	assert_int_equal(route_table_alloc(&t, &uk), 0);
	bad = intl;
	bad.pattern = "999";
	bad.strip = 5;
	assert_int_equal(route_out_add(t, &bad), 0);
	bad.pattern = "X!";
	bad.strip = 0;
	bad.prefix = "123456789012345";
	assert_int_equal(route_out_add(t, &bad), 0);
	assert_int_equal(route_out_lookup(t, "999", &m), EINVAL);
	assert_int_equal(route_out_lookup(t, "12345", &m), 0);
	assert_string_equal(m.called, "12345678901234512345");
	assert_int_equal(route_out_lookup(t, "12345678901234567890", &m), ENOSPC);
	mem_deref(t);

	struct route_numplan np = uk;
	np.cc[0] = 'x';
	t = NULL;
	assert_int_equal(route_table_alloc(&t, &np), EINVAL);
	assert_null(t);
}

static struct route_table *nanp_did(void)
{
	struct route_table *t = NULL;

	assert_int_equal(route_table_alloc(&t, &nanp), 0);
	assert_int_equal(route_did_add(t, "+12125551001", ROUTE_TARGET_USER, "1001"), 0);
	assert_int_equal(route_did_add(t, "+12125551002", ROUTE_TARGET_USER, "1002"), 0);
	assert_int_equal(route_did_add(t, "+12125551004", ROUTE_TARGET_USER, "1004"), 0);
	assert_int_equal(route_did_add(t, "+12125551003", ROUTE_TARGET_USER, "1003"), 0);
	assert_int_equal(route_did_add(t, "+1212555200X", ROUTE_TARGET_URI, "sip:ivr@192.0.2.5"),
			 0);
	assert_int_equal(route_did_add(t, "+1800NXXXXXX", ROUTE_TARGET_TRUNK, "tollfree"), 0);
	assert_int_equal(route_did_add(t, "7000", ROUTE_TARGET_USER, "operator"), 0);
	/* exact wins over an earlier pattern */
	assert_int_equal(route_did_add(t, "+12125552005", ROUTE_TARGET_USER, "special"), 0);
	return t;
}

static void test_did_lookup(void **state)
{
	static const struct {
		const char *digits;
		enum route_ton ton;
		enum route_npi npi;
		int err;
		enum route_target kind;
		const char *target;
	} c[] = {
		{ "2125551001", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, 0, ROUTE_TARGET_USER, "1001" },
		{ "12125551002", ROUTE_TON_INTERNATIONAL, ROUTE_NPI_E164, 0, ROUTE_TARGET_USER,
		  "1002" },
		{ "5551003", ROUTE_TON_SUBSCRIBER, ROUTE_NPI_E164, 0, ROUTE_TARGET_USER, "1003" },
		{ "2125551004", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, 0, ROUTE_TARGET_USER,
		  "1004" },
		{ "12125551004", ROUTE_TON_UNKNOWN, ROUTE_NPI_E164, 0, ROUTE_TARGET_USER, "1004" },
		{ "2125552007", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, 0, ROUTE_TARGET_URI,
		  "sip:ivr@192.0.2.5" },
		{ "2125552005", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, 0, ROUTE_TARGET_USER,
		  "special" },
		{ "8005551234", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, 0, ROUTE_TARGET_TRUNK,
		  "tollfree" },
		{ "7000", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, 0, ROUTE_TARGET_USER, "operator" },
		{ "7000", ROUTE_TON_UNKNOWN, ROUTE_NPI_PRIVATE, 0, ROUTE_TARGET_USER, "operator" },
		{ "2125559999", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, ENOENT, 0, NULL },
		{ "2125551001", ROUTE_TON_NATIONAL, ROUTE_NPI_PRIVATE, ENOENT, 0, NULL },
		{ "7001", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, ENOENT, 0, NULL },
		{ "", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, ENOENT, 0, NULL },
	};
	struct route_table *t = nanp_did();
	const struct route_did *d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		int err = route_did_lookup(t, c[i].digits, c[i].ton, c[i].npi, &d);

		if (err != c[i].err)
			fail_msg("%s ton %d: %d, want %d", c[i].digits, c[i].ton, err, c[i].err);
		if (err)
			continue;
		assert_int_equal(d->kind, c[i].kind);
		assert_string_equal(d->target, c[i].target);
	}
	assert_int_equal(route_did_add(t, "+12125551001", ROUTE_TARGET_USER, "x"), EEXIST);
	/* an exact number written with one-element sets is still exact */
	assert_int_equal(route_did_add(t, "_+1[2]125551009", ROUTE_TARGET_USER, "set"), 0);
	assert_int_equal(route_did_lookup(t, "2125551009", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, &d),
			 0);
	assert_string_equal(d->target, "set");
	assert_string_equal(d->match, "+12125551009");
	assert_int_equal(route_did_add(t, "+12125551009", ROUTE_TARGET_USER, "x"), EEXIST);
	assert_int_equal(route_did_add(t, "+1212[", ROUTE_TARGET_USER, "x"), EINVAL);
	assert_int_equal(route_did_add(t, "+12125551009", ROUTE_TARGET_USER, ""), EINVAL);
	assert_int_equal(route_did_add(t, "+12125551009", (enum route_target)3, "x"), EINVAL);
	assert_int_equal(route_did_add(t, "123456789012345678901234567890123", ROUTE_TARGET_USER,
				       "x"),
			 EINVAL);
	mem_deref(t);
}

/* Feeds digits one at a time; want[i] is the decision after i+1 digits. */
static void overlap_seq(const struct route_table *t, const char *digits, enum route_ton ton,
			enum route_npi npi, const char *want)
{
	static const char code[] = { 'N', 'I', 'C' };
	size_t n = strlen(digits);

	assert_int_equal(strlen(want), n);
	for (size_t i = 1; i <= n; i++) {
		char part[ROUTE_NUM_MAX + 1];
		enum route_overlap o;

		memcpy(part, digits, i);
		part[i] = '\0';
		o = route_did_overlap(t, part, ton, npi);
		if (code[o] != want[i - 1])
			fail_msg("%s ton %d after \"%s\": %c, want %c", digits, ton, part, code[o],
				 want[i - 1]);
	}
}

static void test_overlap_nanp(void **state)
{
	struct route_table *t = nanp_did();

	(void)state;
	/* N: no match (cause 1), I: incomplete (wait), C: complete */
	overlap_seq(t, "2125551001", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "IIIIIIIIIC");
	overlap_seq(t, "12125551002", ROUTE_TON_INTERNATIONAL, ROUTE_NPI_E164, "IIIIIIIIIIC");
	overlap_seq(t, "5551003", ROUTE_TON_SUBSCRIBER, ROUTE_NPI_E164, "IIIIIIC");
	overlap_seq(t, "2125552007", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "IIIIIIIIIC");
	overlap_seq(t, "2125553", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "IIIIIIN");
	overlap_seq(t, "8005551234", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "IIIIIIIIIC");
	overlap_seq(t, "3", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "N");
	overlap_seq(t, "81", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "IN");
	/* unknown type: every reading of the dialling rules is followed */
	overlap_seq(t, "2125551001", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "IIIIIIIIIC");
	overlap_seq(t, "12125551001", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "IIIIIIIIIIC");
	overlap_seq(t, "01112125551001", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "IIIIIIIIIIIIIC");
	overlap_seq(t, "5551001", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "IIIIIIC");
	overlap_seq(t, "7000", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "IIIC");
	overlap_seq(t, "90", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "NN");
	/* a private plan only sees the digit rules */
	overlap_seq(t, "7000", ROUTE_TON_UNKNOWN, ROUTE_NPI_PRIVATE, "IIIC");
	overlap_seq(t, "2125551001", ROUTE_TON_NATIONAL, ROUTE_NPI_PRIVATE, "NNNNNNNNNN");
	/* nothing received yet: wait */
	assert_int_equal(route_did_overlap(t, "", ROUTE_TON_NATIONAL, ROUTE_NPI_E164),
			 ROUTE_OVERLAP_INCOMPLETE);
	assert_int_equal(route_did_overlap(t, "21255510011", ROUTE_TON_NATIONAL, ROUTE_NPI_E164),
			 ROUTE_OVERLAP_NO_MATCH);
	assert_int_equal(route_did_overlap(NULL, "2", ROUTE_TON_NATIONAL, ROUTE_NPI_E164),
			 ROUTE_OVERLAP_NO_MATCH);
	mem_deref(t);
}

static void test_overlap_open_ended(void **state)
{
	struct route_table *t = NULL;
	const struct route_did *d;

	(void)state;
	assert_int_equal(route_table_alloc(&t, &uk), 0);
	assert_int_equal(route_did_add(t, "+442079460001", ROUTE_TARGET_USER, "alice"), 0);
	assert_int_equal(route_did_add(t, "9.", ROUTE_TARGET_TRUNK, "pbx"), 0);
	assert_int_equal(route_did_add(t, "_+4420794610!", ROUTE_TARGET_URI, "sip:x@h"), 0);
	overlap_seq(t, "2079460001", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "IIIIIIIIIC");
	overlap_seq(t, "02079460001", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "IIIIIIIIIIC");
	overlap_seq(t, "00442079460001", ROUTE_TON_UNKNOWN, ROUTE_NPI_UNKNOWN, "IIIIIIIIIIIIIC");
	overlap_seq(t, "79460001", ROUTE_TON_SUBSCRIBER, ROUTE_NPI_E164, "IIIIIIIC");
	/* '.' and '!' rules: a match that could still grow stays incomplete (T302 decides) */
	overlap_seq(t, "912", ROUTE_TON_UNKNOWN, ROUTE_NPI_PRIVATE, "III");
	overlap_seq(t, "20794610", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "IIIIIIII");
	overlap_seq(t, "3", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, "N");
	/* when T302 runs out, the lookup takes what matches now */
	assert_int_equal(route_did_lookup(t, "912", ROUTE_TON_UNKNOWN, ROUTE_NPI_PRIVATE, &d), 0);
	assert_string_equal(d->target, "pbx");
	assert_int_equal(route_did_lookup(t, "20794610", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, &d),
			 0);
	assert_string_equal(d->target, "sip:x@h");
	assert_string_equal(d->match, "+4420794610!");
	assert_true(d->e164);
	assert_int_equal(route_did_lookup(t, "9", ROUTE_TON_UNKNOWN, ROUTE_NPI_PRIVATE, &d),
			 ENOENT);
	mem_deref(t);
}

static void test_presentation_from_sip(void **state)
{
	static const struct {
		const char *privacy; /* NULL: no header */
		enum route_id_source src;
		enum route_pres pres;
		enum route_screen screen;
	} c[] = {
		{ NULL, ROUTE_ID_PAI, ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_PASSED },
		{ "id", ROUTE_ID_PAI, ROUTE_PRES_RESTRICTED, ROUTE_SCREEN_USER_PASSED },
		{ "none", ROUTE_ID_FROM, ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_NOT_SCREENED },
		{ "header;session", ROUTE_ID_FROM, ROUTE_PRES_RESTRICTED,
		  ROUTE_SCREEN_USER_NOT_SCREENED },
		{ "user", ROUTE_ID_GATEWAY, ROUTE_PRES_RESTRICTED, ROUTE_SCREEN_NETWORK },
		{ "session", ROUTE_ID_PAI, ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_PASSED },
		{ "critical", ROUTE_ID_PAI, ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_PASSED },
		{ " ID ; critical", ROUTE_ID_PAI, ROUTE_PRES_RESTRICTED, ROUTE_SCREEN_USER_PASSED },
		{ "session, id", ROUTE_ID_FROM, ROUTE_PRES_RESTRICTED,
		  ROUTE_SCREEN_USER_NOT_SCREENED },
		{ "identity", ROUTE_ID_PAI, ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_PASSED },
		{ "", ROUTE_ID_GATEWAY, ROUTE_PRES_ALLOWED, ROUTE_SCREEN_NETWORK },
		{ "id", ROUTE_ID_NONE, ROUTE_PRES_UNAVAILABLE, ROUTE_SCREEN_NETWORK },
		{ NULL, ROUTE_ID_NONE, ROUTE_PRES_UNAVAILABLE, ROUTE_SCREEN_NETWORK },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		enum route_pres p = 99;
		enum route_screen s = 99;

		route_pres_from_sip(c[i].privacy ? S(c[i].privacy) : pl_make(NULL, 0), c[i].src,
				    &p, &s);
		if (p != c[i].pres || s != c[i].screen)
			fail_msg("\"%s\" src %d: %d/%d, want %d/%d",
				 c[i].privacy ? c[i].privacy : "(none)", c[i].src, p, s,
				 c[i].pres, c[i].screen);
	}
}

static void test_presentation_to_sip(void **state)
{
	static const struct {
		enum route_pres pres;
		enum route_screen screen;
		bool has_number;
		bool from, pai;
		const char *privacy;
	} c[] = {
		{ ROUTE_PRES_ALLOWED, ROUTE_SCREEN_NETWORK, true, true, true, NULL },
		{ ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_PASSED, true, true, true, NULL },
		{ ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_NOT_SCREENED, true, true, false, NULL },
		{ ROUTE_PRES_ALLOWED, ROUTE_SCREEN_USER_FAILED, true, true, false, NULL },
		{ ROUTE_PRES_RESTRICTED, ROUTE_SCREEN_NETWORK, true, false, true, "id" },
		{ ROUTE_PRES_RESTRICTED, ROUTE_SCREEN_USER_PASSED, true, false, true, "id" },
		{ ROUTE_PRES_RESTRICTED, ROUTE_SCREEN_USER_FAILED, true, false, false, NULL },
		{ ROUTE_PRES_UNAVAILABLE, ROUTE_SCREEN_NETWORK, true, false, false, NULL },
		{ ROUTE_PRES_ALLOWED, ROUTE_SCREEN_NETWORK, false, false, false, NULL },
		{ (enum route_pres)3, ROUTE_SCREEN_NETWORK, true, false, false, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct route_sip_id id;

		memset(&id, 0xff, sizeof(id));
		route_pres_to_sip(c[i].pres, c[i].screen, c[i].has_number, &id);
		assert_int_equal(id.number_in_from, c[i].from);
		assert_int_equal(id.send_pai, c[i].pai);
		if (c[i].privacy)
			assert_string_equal(id.privacy, c[i].privacy);
		else
			assert_null(id.privacy);
	}
	route_pres_to_sip(ROUTE_PRES_ALLOWED, ROUTE_SCREEN_NETWORK, true, NULL);
}

/* SIP -> Q.931 -> SIP keeps what a trusted peer should see. */
static void test_presentation_roundtrip(void **state)
{
	struct route_sip_id id;
	enum route_pres p;
	enum route_screen s;

	(void)state;
	route_pres_from_sip(S("id"), ROUTE_ID_PAI, &p, &s);
	route_pres_to_sip(p, s, true, &id);
	assert_true(id.send_pai);
	assert_false(id.number_in_from);
	assert_string_equal(id.privacy, "id");

	route_pres_from_sip(pl_make(NULL, 0), ROUTE_ID_FROM, &p, &s);
	route_pres_to_sip(p, s, true, &id);
	assert_true(id.number_in_from);
	assert_false(id.send_pai);

	route_pres_from_sip(pl_make(NULL, 0), ROUTE_ID_NONE, &p, &s);
	route_pres_to_sip(p, s, true, &id);
	assert_false(id.number_in_from || id.send_pai);
}

static void test_names(void **state)
{
	enum route_ton ton = 99;
	enum route_npi npi = 99;
	enum route_hunt hunt = 99;
	enum route_target kind = 99;

	(void)state;
	assert_int_equal(route_ton_parse(S("International"), &ton), 0);
	assert_int_equal(ton, ROUTE_TON_INTERNATIONAL);
	assert_int_equal(route_ton_parse(S("subscriber"), &ton), 0);
	assert_int_equal(ton, ROUTE_TON_SUBSCRIBER);
	assert_int_equal(route_ton_parse(S("local"), &ton), EINVAL);
	assert_int_equal(ton, ROUTE_TON_SUBSCRIBER);
	assert_int_equal(route_npi_parse(S("isdn"), &npi), 0);
	assert_int_equal(npi, ROUTE_NPI_E164);
	assert_int_equal(route_npi_parse(S("PRIVATE"), &npi), 0);
	assert_int_equal(npi, ROUTE_NPI_PRIVATE);
	assert_int_equal(route_npi_parse(S(""), &npi), EINVAL);
	assert_int_equal(route_hunt_parse(S("round-robin"), &hunt), 0);
	assert_int_equal(hunt, ROUTE_HUNT_ROUNDROBIN);
	assert_int_equal(route_hunt_parse(S("descending"), &hunt), 0);
	assert_int_equal(hunt, ROUTE_HUNT_DESCENDING);
	assert_int_equal(route_hunt_parse(S("random"), &hunt), EINVAL);
	assert_int_equal(route_target_parse(S("trunk"), &kind), 0);
	assert_int_equal(kind, ROUTE_TARGET_TRUNK);
	assert_int_equal(route_target_parse(S("users"), &kind), EINVAL);
	assert_string_equal(route_ton_name(ROUTE_TON_NATIONAL), "national");
	assert_string_equal(route_npi_name(ROUTE_NPI_E164), "e164");
	assert_string_equal(route_ton_name((enum route_ton)5), "?");
	/* every name parses back to its value */
	for (int v = 0; v <= 9; v++) {
		if (strcmp(route_ton_name(v), "?")) {
			assert_int_equal(route_ton_parse(S(route_ton_name(v)), &ton), 0);
			assert_int_equal(ton, v);
		}
		if (strcmp(route_npi_name(v), "?")) {
			assert_int_equal(route_npi_parse(S(route_npi_name(v)), &npi), 0);
			assert_int_equal(npi, v);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise_nanp),
		cmocka_unit_test(test_normalise_uk),
		cmocka_unit_test(test_numplan_and_dial),
		cmocka_unit_test(test_from_q931),
		cmocka_unit_test(test_to_q931),
		cmocka_unit_test(test_q931_roundtrip),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_outbound),
		cmocka_unit_test(test_outbound_uk_and_errors),
		cmocka_unit_test(test_did_lookup),
		cmocka_unit_test(test_overlap_nanp),
		cmocka_unit_test(test_overlap_open_ended),
		cmocka_unit_test(test_presentation_from_sip),
		cmocka_unit_test(test_presentation_to_sip),
		cmocka_unit_test(test_presentation_roundtrip),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
