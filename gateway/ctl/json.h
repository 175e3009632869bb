/*
 * json: the small JSON writer and reader of the control socket (and tandemctl).
 *
 * Writer: appends to a growable buffer with a hard size cap; errors (ENOMEM,
 * E2BIG for the cap, EINVAL for misnesting) are sticky, so a reply is built
 * without checking every call and checked once with json_w_err(). Strings are
 * escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD, so the
 * output is always valid JSON whatever the input (Call-IDs come from the net).
 *
 * Reader: a tokenizer in the jsmn/picohttpparser manner: no allocation, the
 * caller passes a token array and gets slices (struct pl) into its own buffer
 * back, in document order. Strings keep their escapes (validated) until
 * json_tok_str() decodes them into a caller buffer.
 *
 * Thread-safe: no shared state; a struct json_w belongs to one thread.
 */
#ifndef TANDEM_CTL_JSON_H
#define TANDEM_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"

#define JSON_MAX_DEPTH 32

/* ---- writer ---- */

struct json_w {
	char *buf; /* NUL-terminated when err == 0; malloc'ed, freed by json_w_free */
	size_t len, cap, max;
	int err;
	unsigned depth;
	bool first[JSON_MAX_DEPTH + 1]; /* nothing written yet at this depth */
	char close[JSON_MAX_DEPTH + 1]; /* '}' or ']' */
};

/* max: the largest output accepted (bytes); beyond it err becomes E2BIG. */
void json_w_init(struct json_w *w, size_t max);
void json_w_free(struct json_w *w);
/* Empties the buffer and clears the error; keeps the allocation. */
void json_w_reset(struct json_w *w);
int json_w_err(const struct json_w *w);

/*
 * key: the member name inside an object, NULL inside an array or at the top.
 * A key given outside an object (or missing inside one) is EINVAL.
 */
void json_obj_begin(struct json_w *w, const char *key);
void json_obj_end(struct json_w *w);
void json_arr_begin(struct json_w *w, const char *key);
void json_arr_end(struct json_w *w);
void json_str(struct json_w *w, const char *key, const char *s); /* s NULL: null */
void json_strn(struct json_w *w, const char *key, struct pl s);
void json_int(struct json_w *w, const char *key, int64_t v);
void json_uint(struct json_w *w, const char *key, uint64_t v);
/* Non-finite values are written as null (JSON has no NaN/Inf). */
void json_double(struct json_w *w, const char *key, double v);
void json_bool(struct json_w *w, const char *key, bool v);
void json_null(struct json_w *w, const char *key);

/* ---- reader ---- */

enum json_type {
	JSON_OBJECT = 1,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

struct json_tok {
	enum json_type type;
	/* Object/array: the whole text with brackets. String: the content between
	 * the quotes, escapes not decoded. Others: the literal text. */
	struct pl raw;
	unsigned n;    /* object: members; array: elements; else 0 */
	unsigned next; /* index of the token after this one's subtree */
};

/*
 * Tokenizes exactly one JSON value in p (surrounding white space allowed).
 * An object's tokens are key, value, key, value... each value followed by its
 * own subtree. Returns 0 (*ntok set), EBADMSG (malformed, or nesting deeper
 * than JSON_MAX_DEPTH) or E2BIG (more than max tokens). Duplicate keys are
 * not checked here.
 */
int json_parse(const char *p, size_t len, struct json_tok *toks, size_t max, size_t *ntok);

/* Decodes a string token into buf (NUL-terminated). EINVAL if not a string,
 * E2BIG if it does not fit. \u0000 is refused (EINVAL): C strings cannot hold it. */
int json_tok_str(const struct json_tok *t, char *buf, size_t n);
/* Whether a string token equals s after decoding. */
bool json_tok_eq(const struct json_tok *t, const char *s);
/* Integer number token (no fraction, no exponent): 0, EINVAL or ERANGE. */
int json_tok_i64(const struct json_tok *t, int64_t *v);
/* Index of the value of member key in the object at toks[obj], or -1. */
int json_obj_get(const struct json_tok *toks, size_t ntok, unsigned obj, const char *key);

#endif
