/*
 * Helpers shared by the files of sip/auth. Not a public header.
 */
#ifndef TANDEM_SIP_AUTH_PRIV_H
#define TANDEM_SIP_AUTH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"

/* base64url without padding (RFC 4648 §5). enc returns the length written
 * (size must be >= ceil(4n / 3) + 1; NUL-terminated; 0 if too small). dec: 0 or EBADMSG. */
size_t auth_b64url_enc(const uint8_t *in, size_t n, char *out, size_t size);
int auth_b64url_dec(struct pl in, uint8_t *out, size_t size, size_t *n);

/* A fixed-capacity text builder: appends silently stop at the capacity and
 * mark the builder as overflowed. */
struct auth_sb {
	char *p;
	size_t len, cap;
	bool over;
};

void auth_sb_init(struct auth_sb *sb, char *buf, size_t cap);
void auth_sb_add(struct auth_sb *sb, const char *s, size_t n);
void auth_sb_str(struct auth_sb *sb, const char *s);
void auth_sb_pl(struct auth_sb *sb, struct pl pl);
/* Appends s with '"' and '\' escaped for a quoted-string. */
void auth_sb_esc(struct auth_sb *sb, struct pl s);
void auth_sb_printf(struct auth_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 0 with *strp a mem_strndup of the text, E2BIG if it overflowed, ENOMEM. */
int auth_sb_finish(struct auth_sb *sb, char **strp);

#endif
