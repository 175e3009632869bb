/*
 * Unit tests for gateway/cause: every row of RFC 3398 §7.2.4.1 and §8.2.6.1
 * (transcribed here independently of the module's table), the default
 * profile's departures, class fallbacks, overrides, and the Reason header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cause/cause.h"
#include "core/err.h"
#include "core/mem.h"
#include "sip/msg/msg.h"

static struct pl S(const char *s)
{
	return pl_make(s, strlen(s));
}

/* RFC 3398 §7.2.4.1, ISUP cause -> SIP response, as printed (16: no status). */
static const struct {
	unsigned cause;
	uint16_t status;
} rfc_to_sip[] = {
	{ 1, 404 },   { 2, 404 },   { 3, 404 },   { 17, 486 },  { 18, 408 },  { 19, 480 },
	{ 20, 480 },  { 21, 403 },  { 22, 410 },  { 23, 410 },  { 26, 404 },  { 27, 502 },
	{ 28, 484 },  { 29, 501 },  { 31, 480 },  { 34, 503 },  { 38, 503 },  { 41, 503 },
	{ 42, 503 },  { 47, 503 },  { 55, 403 },  { 57, 403 },  { 58, 503 },  { 65, 488 },
	{ 70, 488 },  { 79, 501 },  { 87, 403 },  { 88, 503 },  { 102, 504 }, { 111, 500 },
	{ 127, 500 },
};

/* RFC 3398 §8.2.6.1, SIP response -> cause in the REL (487, 488, 606: none). */
static const struct {
	uint16_t status;
	unsigned cause;
} rfc_from_sip[] = {
	{ 400, 41 },  { 401, 21 },  { 402, 21 },  { 403, 21 },  { 404, 1 },   { 405, 63 },
	{ 406, 79 },  { 407, 21 },  { 408, 102 }, { 410, 22 },  { 413, 127 }, { 414, 127 },
	{ 415, 79 },  { 416, 127 }, { 420, 127 }, { 421, 127 }, { 423, 127 }, { 480, 18 },
	{ 481, 41 },  { 482, 25 },  { 483, 25 },  { 484, 28 },  { 485, 1 },   { 486, 17 },
	{ 500, 41 },  { 501, 79 },  { 502, 38 },  { 503, 41 },  { 504, 102 }, { 505, 127 },
	{ 513, 127 }, { 600, 17 },  { 603, 21 },  { 604, 1 },
};

static void test_rfc3398_to_sip(void **state)
{
	struct cause_map *m = NULL;
	const char *phrase = NULL;
	size_t i;

	(void)state;
	assert_int_equal(cause_map_alloc(&m, CAUSE_PROFILE_RFC3398), 0);
	for (i = 0; i < ARRAY_SIZE(rfc_to_sip); i++) {
		uint16_t s = cause_to_sip(m, rfc_to_sip[i].cause, &phrase);

		if (s != rfc_to_sip[i].status)
			fail_msg("cause %u: %u, RFC says %u", rfc_to_sip[i].cause, s,
				 rfc_to_sip[i].status);
		assert_string_equal(phrase, sip_reason_phrase(s));
	}
	/* 16 has no status in the RFC (BYE/CANCEL); an unanswered INVITE gets 480 */
	assert_int_equal(cause_to_sip(m, 16, NULL), 480);
	mem_deref(m);
}

static void test_rfc3398_from_sip(void **state)
{
	struct cause_map *m = NULL;
	size_t i;

	(void)state;
	assert_int_equal(cause_map_alloc(&m, CAUSE_PROFILE_RFC3398), 0);
	for (i = 0; i < ARRAY_SIZE(rfc_from_sip); i++) {
		unsigned c = cause_from_sip(m, rfc_from_sip[i].status, false);

		if (c != rfc_from_sip[i].cause)
			fail_msg("status %u: %u, RFC says %u", rfc_from_sip[i].status, c,
				 rfc_from_sip[i].cause);
		/* the RFC profile has no alerted refinement */
		assert_int_equal(cause_from_sip(m, rfc_from_sip[i].status, true), c);
	}
	mem_deref(m);
}

/* The default profile: RFC 3398 except where a row says why. */
static void test_default_profile(void **state)
{
	static const struct {
		unsigned cause;
		uint16_t status;
	} want[] = {
		{ 1, 404 },   { 16, 480 },  { 17, 486 }, { 18, 408 }, { 19, 480 },
		{ 21, 603 },  { 27, 502 },  { 28, 484 }, { 31, 480 }, { 34, 503 },
		{ 38, 503 },  { 88, 488 },  { 102, 504 }, { 127, 500 }, { 54, 403 },
	};
	struct cause_map *m = NULL;
	size_t i, n;
	const struct cause_row *rows;

	(void)state;
	assert_int_equal(cause_map_alloc(&m, CAUSE_PROFILE_DEFAULT), 0);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(cause_to_sip(m, want[i].cause, NULL), want[i].status);
		assert_int_equal(cause_to_sip(NULL, want[i].cause, NULL), want[i].status);
	}
	/* every RFC row the default keeps agrees; every departure is explained */
	for (i = 0; i < ARRAY_SIZE(rfc_to_sip); i++) {
		uint16_t s = cause_to_sip(m, rfc_to_sip[i].cause, NULL);

		if (s != rfc_to_sip[i].status)
			assert_true(rfc_to_sip[i].cause == 21 || rfc_to_sip[i].cause == 88);
	}
	for (int dir = CAUSE_TO_SIP; dir <= CAUSE_FROM_SIP; dir++) {
		rows = cause_table(dir, &n);
		assert_true(n > 30);
		for (i = 0; i < n; i++) {
			if (rows[i].rfc != rows[i].dflt || rows[i].alerted)
				assert_non_null(rows[i].why);
		}
	}
	mem_deref(m);
}

static void test_default_from_sip(void **state)
{
	static const struct {
		uint16_t status;
		bool alerted;
		unsigned cause;
	} want[] = {
		{ 486, false, 17 }, { 480, false, 18 }, { 480, true, 19 },  { 404, false, 1 },
		{ 408, false, 102 }, { 408, true, 102 }, { 603, false, 21 }, { 487, false, 16 },
		{ 488, false, 88 }, { 606, false, 88 },  { 301, false, 23 }, { 302, false, 23 },
		{ 380, false, 23 }, { 409, false, 41 },  /* x00 of the class: 400 -> 41 */
		{ 422, false, 41 }, { 489, true, 41 },   { 580, false, 41 }, { 699, false, 17 },
		{ 200, false, 16 }, { 204, true, 16 },   { 183, false, 127 }, { 99, false, 127 },
		{ 700, false, 127 }, { 0, false, 127 },
	};
	struct cause_map *m = NULL;
	size_t i;

	(void)state;
	assert_int_equal(cause_map_alloc(&m, CAUSE_PROFILE_DEFAULT), 0);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		unsigned c = cause_from_sip(m, want[i].status, want[i].alerted);

		if (c != want[i].cause)
			fail_msg("status %u%s: %u, want %u", want[i].status,
				 want[i].alerted ? " (alerted)" : "", c, want[i].cause);
	}
	/* the NULL map is the default profile, for every status and both states */
	for (unsigned s = 0; s < 800; s++) {
		assert_int_equal(cause_from_sip(NULL, (uint16_t)s, false),
				 cause_from_sip(m, (uint16_t)s, false));
		assert_int_equal(cause_from_sip(NULL, (uint16_t)s, true),
				 cause_from_sip(m, (uint16_t)s, true));
	}
	for (unsigned c = 0; c < 300; c++)
		assert_int_equal(cause_to_sip(NULL, c, NULL), cause_to_sip(m, c, NULL));
	mem_deref(m);
}

/* Q.850 §2.2.7.1: an unlisted cause counts as its class's unspecified one. */
static void test_class_fallback(void **state)
{
	static const struct {
		unsigned cause, as;
	} cls[] = {
		{ 6, 31 }, { 8, 31 }, { 44, 47 }, { 50, 63 }, { 66, 79 }, { 81, 95 },
		{ 96, 111 }, { 100, 111 }, { 120, 127 }, { 4, 31 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cls); i++)
		assert_int_equal(cause_to_sip(NULL, cls[i].cause, NULL),
				 cause_to_sip(NULL, cls[i].as, NULL));
	assert_int_equal(cause_to_sip(NULL, 44, NULL), 503);
	assert_int_equal(cause_to_sip(NULL, 66, NULL), 501);
	assert_int_equal(cause_to_sip(NULL, 0, NULL), 500);
	assert_int_equal(cause_to_sip(NULL, 128, NULL), 500);
	assert_int_equal(cause_to_sip(NULL, 100000, NULL), 500);
	/* every value gives a final status */
	for (unsigned c = 0; c < 200; c++) {
		uint16_t s = cause_to_sip(NULL, c, NULL);

		assert_true(s >= 300 && s <= 699);
	}
}

static void test_overrides(void **state)
{
	struct cause_map *m = NULL, *other = NULL;

	(void)state;
	assert_int_equal(cause_map_alloc(&m, CAUSE_PROFILE_DEFAULT), 0);
	assert_int_equal(cause_map_alloc(&other, CAUSE_PROFILE_DEFAULT), 0);
	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, 17, 600), 0);
	assert_int_equal(cause_to_sip(m, 17, NULL), 600);
	assert_int_equal(cause_to_sip(other, 17, NULL), 486); /* maps are independent */
	assert_int_equal(cause_to_sip(NULL, 17, NULL), 486);

	/* overriding a class's unspecified value moves the whole class */
	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, 31, 404), 0);
	assert_int_equal(cause_to_sip(m, 6, NULL), 404);
	/* a cause with no entry gets its own */
	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, 6, 488), 0);
	assert_int_equal(cause_to_sip(m, 6, NULL), 488);

	/* FROM_SIP sets both states; ALERTED after it makes them differ */
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP, 503, 34), 0);
	assert_int_equal(cause_from_sip(m, 503, false), 34);
	assert_int_equal(cause_from_sip(m, 503, true), 34);
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP, 480, 20), 0);
	assert_int_equal(cause_from_sip(m, 480, true), 20);
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP_ALERTED, 480, 19), 0);
	assert_int_equal(cause_from_sip(m, 480, false), 20);
	assert_int_equal(cause_from_sip(m, 480, true), 19);
	/* a new entry for a status without one beats the class default */
	assert_int_equal(cause_from_sip(m, 409, false), 41);
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP, 409, 47), 0);
	assert_int_equal(cause_from_sip(m, 409, false), 47);
	/* and the class x00 moves the others of the class */
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP, 400, 127), 0);
	assert_int_equal(cause_from_sip(m, 422, false), 127);

	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, 0, 486), EINVAL);
	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, 128, 486), EINVAL);
	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, 17, 200), EINVAL);
	assert_int_equal(cause_map_set(m, CAUSE_TO_SIP, 17, 700), EINVAL);
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP, 200, 16), EINVAL);
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP, 486, 0), EINVAL);
	assert_int_equal(cause_map_set(m, CAUSE_FROM_SIP_ALERTED, 486, 128), EINVAL);
	assert_int_equal(cause_map_set(m, (enum cause_dir)9, 486, 17), EINVAL);
	assert_int_equal(cause_map_set(NULL, CAUSE_TO_SIP, 17, 486), EINVAL);
	assert_int_equal(cause_to_sip(m, 17, NULL), 600); /* failed sets changed nothing */
	assert_int_equal(cause_map_alloc(&other, (enum cause_profile)7), EINVAL);
	mem_deref(m);
	mem_deref(other);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cause_name(17), "User busy");
	assert_string_equal(cause_name(16), "Normal call clearing");
	assert_string_equal(cause_name(1), "Unallocated (unassigned) number");
	assert_string_equal(cause_name(127), "Interworking, unspecified");
	assert_null(cause_name(0));
	assert_null(cause_name(12));
	assert_null(cause_name(128));
	/* every value the tables map to or from has a name */
	for (int dir = CAUSE_TO_SIP; dir <= CAUSE_FROM_SIP; dir++) {
		size_t n, i;
		const struct cause_row *rows = cause_table(dir, &n);

		for (i = 0; i < n; i++) {
			unsigned c = dir == CAUSE_TO_SIP ? rows[i].key : rows[i].dflt;

			if (!cause_name(c))
				fail_msg("cause %u has no name", c);
		}
	}
}

static void test_reason_fmt(void **state)
{
	char buf[128], small[16];

	(void)state;
	assert_int_equal(cause_reason_fmt(buf, sizeof(buf), 17), 0);
	assert_string_equal(buf, "Q.850;cause=17;text=\"User busy\"");
	assert_int_equal(cause_reason_fmt(buf, sizeof(buf), 12), 0);
	assert_string_equal(buf, "Q.850;cause=12");
	assert_int_equal(cause_reason_fmt(buf, sizeof(buf), 0), EINVAL);
	assert_int_equal(cause_reason_fmt(buf, sizeof(buf), 128), EINVAL);
	assert_int_equal(cause_reason_fmt(small, sizeof(small), 17), ENOSPC);
	assert_int_equal(cause_reason_fmt(NULL, 0, 17), EINVAL);
	/* every value formats, and parses back, through the SIP stack's decoder */
	for (unsigned c = 1; c <= 127; c++) {
		unsigned got = 0;

		assert_int_equal(cause_reason_fmt(buf, sizeof(buf), c), 0);
		assert_int_equal(cause_reason_q850(S(buf), &got), 0);
		assert_int_equal(got, c);
	}
}

static void test_reason_parse(void **state)
{
	static const struct {
		const char *val;
		int err;
		unsigned cause;
	} cases[] = {
		{ "Q.850;cause=16;text=\"Terminated\"", 0, 16 },
		{ "Q.850;cause=17", 0, 17 },
		{ "q.850;Cause=34", 0, 34 },
		{ "SIP;cause=200;text=\"Call completed elsewhere\", Q.850;cause=17", 0, 17 },
		{ "SIP;cause=200;text=\"a, Q.850;cause=1\", Q.850;cause=21", 0, 21 },
		{ "Q.850;cause=18, Q.850;cause=19", 0, 18 },
		{ "  Q.850 ;cause=3 ", 0, 3 },
		{ "SIP;cause=487", ENOENT, 0 },
		{ "", ENOENT, 0 },
		{ ",,,", ENOENT, 0 },
		{ "SIP;;;cause=\"x, Q.850;cause=5", ENOENT, 0 },
		{ "Q.850;text=\"x\"", EBADMSG, 0 },
		{ "Q.850;cause=300", EBADMSG, 0 },
		{ "Q.850;cause=abc", EBADMSG, 0 },
		{ "Q.8500;cause=16", ENOENT, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned c = 999;
		int err = cause_reason_q850(S(cases[i].val), &c);

		if (err != cases[i].err)
			fail_msg("\"%s\": %d, want %d", cases[i].val, err, cases[i].err);
		assert_int_equal(c, err ? 999 : cases[i].cause); /* untouched on error */
	}
	assert_int_equal(cause_reason_q850(S("Q.850;cause=16"), NULL), EINVAL);
}

static void test_reason_pick(void **state)
{
	struct cause_map *m = NULL;
	char buf[96];

	(void)state;
	assert_int_equal(cause_map_alloc(&m, CAUSE_PROFILE_DEFAULT), 0);
	/* RFC 6432: the Q.850 cause in a response wins over the status mapping */
	assert_int_equal(cause_from_sip_reason(m, 503, false, S("Q.850;cause=34")), 34);
	assert_int_equal(cause_from_sip_reason(m, 480, true, S("SIP;cause=480")), 19);
	assert_int_equal(cause_from_sip_reason(m, 480, false, pl_make(NULL, 0)), 18);
	assert_int_equal(cause_from_sip_reason(m, 486, false, S("Q.850;cause=0")), 17);
	assert_int_equal(cause_from_sip_reason(m, 486, false, S("Q.850;cause=200")), 17);
	/* a BYE/CANCEL: status 0 */
	assert_int_equal(cause_from_sip_reason(m, 0, false, pl_make(NULL, 0)), 16);
	assert_int_equal(cause_from_sip_reason(m, 0, false, S("Q.850;cause=31;text=\"x\"")),
			 31);
	cause_map_set(m, CAUSE_FROM_SIP, 486, 21);
	assert_int_equal(cause_from_sip_reason(m, 486, false, S("garbage")), 21);
	mem_deref(m);

	assert_int_equal(cause_reason_sip_fmt(buf, sizeof(buf), 200), 0);
	assert_string_equal(buf, "SIP;cause=200;text=\"Call completed elsewhere\"");
	assert_int_equal(cause_reason_sip_fmt(buf, sizeof(buf), 486), 0);
	assert_string_equal(buf, "SIP;cause=486;text=\"Busy Here\"");
	assert_int_equal(cause_reason_sip_fmt(buf, sizeof(buf), 99), EINVAL);
	assert_int_equal(cause_reason_sip_fmt(buf, sizeof(buf), 700), EINVAL);
	assert_int_equal(cause_reason_sip_fmt(buf, 10, 200), ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3398_to_sip),   cmocka_unit_test(test_rfc3398_from_sip),
		cmocka_unit_test(test_default_profile),  cmocka_unit_test(test_default_from_sip),
		cmocka_unit_test(test_class_fallback),   cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_names),            cmocka_unit_test(test_reason_fmt),
		cmocka_unit_test(test_reason_parse),     cmocka_unit_test(test_reason_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
