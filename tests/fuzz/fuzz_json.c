/*
 * libFuzzer target for gateway/ctl/json: tokenize, then check what must hold
 * whatever the input: token slices lie inside the input and subtrees nest;
 * every string decodes (or is too long / holds \u0000) and, written back
 * through the writer, re-parses to the same text; integers convert or report
 * EINVAL/ERANGE; json_obj_get finds each member it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "ctl/json.h"

#define MAXTOK 256

static void check_string(const struct json_tok *t)
{
	static char buf[4096];
	struct json_tok back[2];
	struct json_w w;
	size_t n;
	int err = json_tok_str(t, buf, sizeof(buf));

	if (err == E2BIG || err == EINVAL)
		return;
	if (err)
		abort();
	json_w_init(&w, 6 * sizeof(buf) + 2);
	json_str(&w, NULL, buf);
	if (json_w_err(&w) || json_parse(w.buf, w.len, back, 2, &n) || n != 1 ||
	    back[0].type != JSON_STRING || !json_tok_eq(&back[0], buf) || !json_tok_eq(t, buf))
		abort();
	json_w_free(&w);
}

static void check_tokens(const char *in, size_t size, const struct json_tok *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		int err;

		if (t[i].raw.p < in || t[i].raw.p + t[i].raw.l > in + size)
			abort();
		if (t[i].next <= i || t[i].next > n)
			abort();
		if (t[i].type == JSON_STRING)
			check_string(&t[i]);
		if (t[i].type == JSON_NUMBER) {
			err = json_tok_i64(&t[i], &v);
			if (err && err != EINVAL && err != ERANGE)
				abort();
		}
		if (t[i].type == JSON_OBJECT && t[i].n > 0) {
			/* the first member is always found (duplicates return the first) */
			char key[256];
			if (json_tok_str(&t[i + 1], key, sizeof(key)) == 0 &&
			    json_obj_get(t, n, (unsigned)i, key) != (int)i + 2)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_tok toks[MAXTOK];
	size_t n = 0;
	int err = json_parse((const char *)data, size, toks, MAXTOK, &n);

	if (err == EBADMSG || err == E2BIG)
		return 0;
	if (err || n == 0 || toks[0].next != n)
		abort();
	check_tokens((const char *)data, size, toks, n);
	return 0;
}
