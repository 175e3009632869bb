/*
 * JSON writer and tokenizer (RFC 8259). The reader is strict (it validates
 * UTF-8, escapes and surrogate pairs) because it faces whatever a local client
 * sends; the writer repairs instead of failing because its input is ours.
 */
#include "ctl/json.h"
#include "core/err.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence (RFC 3629) at s, or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* ---- writer ---- */

void json_w_init(struct json_w *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

void json_w_free(struct json_w *w)
{
	free(w->buf);
	json_w_init(w, w->max);
}

void json_w_reset(struct json_w *w)
{
	w->len = 0;
	w->err = 0;
	w->depth = 0;
	if (w->buf)
		w->buf[0] = '\0';
}

int json_w_err(const struct json_w *w)
{
	return w->err;
}

static void put(struct json_w *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (n > w->max - w->len) {
		w->err = E2BIG;
		return;
	}
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *b;

		while (cap < w->len + n + 1)
			cap *= 2;
		if (cap > w->max + 1)
			cap = w->max + 1;
		b = realloc(w->buf, cap);
		if (!b) {
			w->err = ENOMEM;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void put_quoted(struct json_w *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	put(w, "\"", 1);
	while (i < n) {
		unsigned char c = u[i];
		size_t l = c >= 0x20 && c != '"' && c != '\\' ? utf8_len(u + i, n - i) : 0;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		size_t el = 6;

		if (l) {
			i += l;
			run += l;
			continue;
		}
		put(w, s + i - run, run);
		run = 0;
		switch (c) {
		case '"':
			esc[1] = '"';
			el = 2;
			break;
		case '\\':
			esc[1] = '\\';
			el = 2;
			break;
		case '\n':
			esc[1] = 'n';
			el = 2;
			break;
		case '\r':
			esc[1] = 'r';
			el = 2;
			break;
		case '\t':
			esc[1] = 't';
			el = 2;
			break;
		case '\b':
			esc[1] = 'b';
			el = 2;
			break;
		case '\f':
			esc[1] = 'f';
			el = 2;
			break;
		default:
			if (c >= 0x80)
				memcpy(esc, "\\ufffd", 6); /* not UTF-8: replacement character */
			break;
		}
		put(w, esc, el);
		i++;
	}
	put(w, s + i - run, run);
	put(w, "\"", 1);
}

static bool begin_value(struct json_w *w, const char *key)
{
	bool in_obj = w->depth > 0 && w->close[w->depth] == '}';

	if (w->err)
		return false;
	if (in_obj != (key != NULL) || (w->depth == 0 && w->len > 0)) {
		w->err = EINVAL;
		return false;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			put(w, ",", 1);
		w->first[w->depth] = false;
	}
	if (key) {
		put_quoted(w, key, strlen(key));
		put(w, ":", 1);
	}
	return !w->err;
}

static void open_container(struct json_w *w, const char *key, char open, char close)
{
	if (!begin_value(w, key))
		return;
	if (w->depth == JSON_MAX_DEPTH) {
		w->err = EINVAL;
		return;
	}
	put(w, &open, 1);
	w->depth++;
	w->first[w->depth] = true;
	w->close[w->depth] = close;
}

static void close_container(struct json_w *w, char close)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->close[w->depth] != close) {
		w->err = EINVAL;
		return;
	}
	put(w, &close, 1);
	w->depth--;
}

void json_obj_begin(struct json_w *w, const char *key)
{
	open_container(w, key, '{', '}');
}

void json_obj_end(struct json_w *w)
{
	close_container(w, '}');
}

void json_arr_begin(struct json_w *w, const char *key)
{
	open_container(w, key, '[', ']');
}

void json_arr_end(struct json_w *w)
{
	close_container(w, ']');
}

void json_strn(struct json_w *w, const char *key, struct pl s)
{
	if (begin_value(w, key))
		put_quoted(w, s.p ? s.p : "", s.l);
}

void json_str(struct json_w *w, const char *key, const char *s)
{
	if (!s)
		json_null(w, key);
	else if (begin_value(w, key))
		put_quoted(w, s, strlen(s));
}

static void put_fmt(struct json_w *w, const char *key, const char *s)
{
	if (begin_value(w, key))
		put(w, s, strlen(s));
}

void json_int(struct json_w *w, const char *key, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRId64, v);
	put_fmt(w, key, b);
}

void json_uint(struct json_w *w, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	put_fmt(w, key, b);
}

void json_double(struct json_w *w, const char *key, double v)
{
	char b[32];

	if (!isfinite(v)) {
		json_null(w, key);
		return;
	}
	snprintf(b, sizeof(b), "%.15g", v);
	if (strtod(b, NULL) != v)
		snprintf(b, sizeof(b), "%.17g", v);
	put_fmt(w, key, b);
}

void json_bool(struct json_w *w, const char *key, bool v)
{
	put_fmt(w, key, v ? "true" : "false");
}

void json_null(struct json_w *w, const char *key)
{
	put_fmt(w, key, "null");
}

/* ---- reader ---- */

struct jp {
	const char *s, *end;
	struct json_tok *toks;
	size_t max, n;
};

static void skip_ws(struct jp *ps)
{
	while (ps->s < ps->end &&
	       (*ps->s == ' ' || *ps->s == '\t' || *ps->s == '\n' || *ps->s == '\r'))
		ps->s++;
}

static int hex4(const char *s, const char *end, unsigned *v)
{
	*v = 0;
	if (end - s < 4)
		return EBADMSG;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
		             : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
		             : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
		                                    : 16u;
		if (d > 15)
			return EBADMSG;
		*v = *v << 4 | d;
	}
	return 0;
}

/* Decodes one escape after the backslash at *pp: code point out, *pp advanced. */
static int unescape(const char **pp, const char *end, unsigned *cp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *s = *pp + 1, *m;
	unsigned lo;

	if (s >= end)
		return EBADMSG;
	if (*s != 'u') {
		m = memchr(from, *s, sizeof(from) - 1);
		if (!m || !*s)
			return EBADMSG;
		*cp = (unsigned char)to[m - from];
		*pp = s + 1;
		return 0;
	}
	if (hex4(s + 1, end, cp))
		return EBADMSG;
	s += 5;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return EBADMSG; /* a low surrogate alone */
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, end, &lo) ||
		    lo < 0xdc00 || lo > 0xdfff)
			return EBADMSG;
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
		s += 6;
	}
	*pp = s;
	return 0;
}

static int new_tok(struct jp *ps, enum json_type type, const char *start, unsigned *idx)
{
	if (ps->n >= ps->max)
		return E2BIG;
	*idx = (unsigned)ps->n++;
	ps->toks[*idx] = (struct json_tok){type, {start, 0}, 0, *idx + 1};
	return 0;
}

static int string(struct jp *ps)
{
	const char *start = ++ps->s;
	unsigned idx, cp;
	int err;

	while (ps->s < ps->end && *ps->s != '"') {
		unsigned char c = (unsigned char)*ps->s;
		size_t l;

		if (c == '\\') {
			if (unescape(&ps->s, ps->end, &cp))
				return EBADMSG;
			continue;
		}
		l = c < 0x20 ? 0
		             : utf8_len((const unsigned char *)ps->s, (size_t)(ps->end - ps->s));
		if (!l)
			return EBADMSG;
		ps->s += l;
	}
	if (ps->s >= ps->end)
		return EBADMSG;
	err = new_tok(ps, JSON_STRING, start, &idx);
	if (err)
		return err;
	ps->toks[idx].raw.l = (size_t)(ps->s - start);
	ps->s++;
	return 0;
}

static bool digits(struct jp *ps)
{
	const char *s = ps->s;

	while (ps->s < ps->end && *ps->s >= '0' && *ps->s <= '9')
		ps->s++;
	return ps->s > s;
}

static int number(struct jp *ps)
{
	const char *start = ps->s;
	unsigned idx;
	int err;

	if (*ps->s == '-')
		ps->s++;
	if (ps->s < ps->end && *ps->s == '0')
		ps->s++;
	else if (!digits(ps))
		return EBADMSG;
	if (ps->s < ps->end && *ps->s == '.') {
		ps->s++;
		if (!digits(ps))
			return EBADMSG;
	}
	if (ps->s < ps->end && (*ps->s == 'e' || *ps->s == 'E')) {
		ps->s++;
		if (ps->s < ps->end && (*ps->s == '+' || *ps->s == '-'))
			ps->s++;
		if (!digits(ps))
			return EBADMSG;
	}
	err = new_tok(ps, JSON_NUMBER, start, &idx);
	if (!err)
		ps->toks[idx].raw.l = (size_t)(ps->s - start);
	return err;
}

static int literal(struct jp *ps, const char *word, enum json_type type)
{
	size_t l = strlen(word);
	unsigned idx;
	int err;

	if ((size_t)(ps->end - ps->s) < l || memcmp(ps->s, word, l))
		return EBADMSG;
	err = new_tok(ps, type, ps->s, &idx);
	if (err)
		return err;
	ps->toks[idx].raw.l = l;
	ps->s += l;
	return 0;
}

static int value(struct jp *ps, unsigned depth);

/* Object or array: members separated by commas up to the closing bracket. */
static int container(struct jp *ps, unsigned depth, bool obj)
{
	const char *start = ps->s;
	char close = obj ? '}' : ']';
	unsigned idx, n = 0;
	int err;

	if (depth >= JSON_MAX_DEPTH)
		return EBADMSG;
	err = new_tok(ps, obj ? JSON_OBJECT : JSON_ARRAY, start, &idx);
	if (err)
		return err;
	ps->s++;
	skip_ws(ps);
	if (ps->s < ps->end && *ps->s == close)
		goto done;
	for (;;) {
		if (obj) {
			skip_ws(ps);
			if (ps->s >= ps->end || *ps->s != '"')
				return EBADMSG;
			if ((err = string(ps)))
				return err;
			skip_ws(ps);
			if (ps->s >= ps->end || *ps->s++ != ':')
				return EBADMSG;
		}
		if ((err = value(ps, depth + 1)))
			return err;
		n++;
		skip_ws(ps);
		if (ps->s < ps->end && *ps->s == ',') {
			ps->s++;
			continue;
		}
		if (ps->s < ps->end && *ps->s == close)
			break;
		return EBADMSG;
	}
done:
	ps->s++;
	ps->toks[idx].raw.l = (size_t)(ps->s - start);
	ps->toks[idx].n = n;
	ps->toks[idx].next = (unsigned)ps->n;
	return 0;
}

static int value(struct jp *ps, unsigned depth)
{
	skip_ws(ps);
	if (ps->s >= ps->end)
		return EBADMSG;
	switch (*ps->s) {
	case '{':
		return container(ps, depth, true);
	case '[':
		return container(ps, depth, false);
	case '"':
		return string(ps);
	case 't':
		return literal(ps, "true", JSON_TRUE);
	case 'f':
		return literal(ps, "false", JSON_FALSE);
	case 'n':
		return literal(ps, "null", JSON_NULL);
	default:
		if (*ps->s == '-' || (*ps->s >= '0' && *ps->s <= '9'))
			return number(ps);
		return EBADMSG;
	}
}

int json_parse(const char *p, size_t len, struct json_tok *toks, size_t max, size_t *ntok)
{
	struct jp ps = {p, p + len, toks, max, 0};
	int err;

	if (!p)
		return EBADMSG;
	err = value(&ps, 0);
	if (err)
		return err;
	skip_ws(&ps);
	if (ps.s != ps.end)
		return EBADMSG;
	*ntok = ps.n;
	return 0;
}

/* Next decoded character of a validated string token as UTF-8 bytes; 0 at the end. */
static size_t next_char(const char **pp, const char *end, char out[4])
{
	const char *s = *pp;
	unsigned cp;

	if (s >= end)
		return 0;
	if (*s != '\\') {
		*pp = s + 1;
		out[0] = *s;
		return 1;
	}
	if (unescape(pp, end, &cp)) {
		*pp = end; /* cannot happen for tokens from json_parse */
		return 0;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int json_tok_str(const struct json_tok *t, char *buf, size_t n)
{
	const char *s, *end;
	size_t len = 0, l;
	char c[4];

	if (t->type != JSON_STRING || n == 0)
		return EINVAL;
	s = t->raw.p;
	end = s + t->raw.l;
	while ((l = next_char(&s, end, c)) > 0) {
		if (l == 1 && c[0] == '\0')
			return EINVAL;
		if (len + l >= n)
			return E2BIG;
		memcpy(buf + len, c, l);
		len += l;
	}
	buf[len] = '\0';
	return 0;
}

bool json_tok_eq(const struct json_tok *t, const char *str)
{
	const char *s, *end;
	size_t l;
	char c[4];

	if (t->type != JSON_STRING)
		return false;
	s = t->raw.p;
	end = s + t->raw.l;
	while ((l = next_char(&s, end, c)) > 0) {
		if (strncmp(str, c, l) != 0 || memchr(c, '\0', l))
			return false;
		str += l;
	}
	return *str == '\0';
}

int json_tok_i64(const struct json_tok *t, int64_t *v)
{
	const char *s = t->raw.p, *end = s + t->raw.l;
	bool neg = false;
	uint64_t u = 0, lim;

	if (t->type != JSON_NUMBER || t->raw.l == 0)
		return EINVAL;
	if (*s == '-') {
		neg = true;
		s++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (s == end)
		return EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return EINVAL;
		if (u > (lim - (uint64_t)(*s - '0')) / 10)
			return ERANGE;
		u = u * 10 + (uint64_t)(*s - '0');
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

int json_obj_get(const struct json_tok *toks, size_t ntok, unsigned obj, const char *key)
{
	unsigned i;

	if (obj >= ntok || toks[obj].type != JSON_OBJECT)
		return -1;
	i = obj + 1;
	for (unsigned m = 0; m < toks[obj].n && i + 1 < ntok; m++) {
		if (json_tok_eq(&toks[i], key))
			return (int)i + 1;
		i = toks[i + 1].next;
	}
	return -1;
}
