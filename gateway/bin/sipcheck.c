/*
 * sipcheck: the verdict a Tandem UAS gives on SIP messages stored in files.
 *
 *   sipcheck [-s] FILE...
 *
 * Prints one line per file: "FILE: valid" or "FILE: invalid CODE REASON",
 * CODE being the status a UAS would answer with, or "drop" when nothing can
 * be answered (a broken response, unrecognisable garbage). Exit status: 0 if
 * every file was read, 2 on usage or I/O errors (verdicts do not change it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "sip/msg/msg.h"

static const char *const supported[] = {"100rel",   "timer",      "replaces", "path",
                                        "outbound", "norefersub", "gruu",     NULL};
static const char *const accepted[] = {"application/sdp",
                                       "multipart/mixed",
                                       "multipart/alternative",
                                       "text/plain",
                                       "message/sipfrag",
                                       "application/dtmf-relay",
                                       NULL};
static const char *const produced[] = {"application/sdp", NULL};
static const char *const auth_schemes[] = {"Digest", NULL};

static void usage(void)
{
	fprintf(stderr,
	        "usage: sipcheck [-s] FILE...\n"
	        "  Decodes each file as one SIP message and prints\n"
	        "  \"FILE: valid\" or \"FILE: invalid CODE|drop REASON\".\n"
	        "  -s  stream semantics (TCP: frame by Content-Length);\n"
	        "      default: datagram semantics (UDP: the file end ends the message).\n"
	        "  A file without any CR is taken to use bare LF line endings (as RFC 5118\n"
	        "  ships its messages): LF is converted to CRLF, a missing blank line\n"
	        "  ending the header section is added, and a Content-Length larger than\n"
	        "  the converted body is set to the body's size (such a file is a\n"
	        "  transcription from an RFC's text, whose byte counts are not reliable:\n"
	        "  RFC 5118 §4.6 says 268 for a 251-byte body).\n");
}

/* In a transcribed file, a Content-Length beyond the body is set to its size. */
static char *fix_clen(char *buf, size_t *len)
{
	struct sip_msg *msg = NULL, *partial = NULL;
	const struct sip_hdr *h;
	char num[24], *out = buf;
	size_t body, n;

	sip_msg_decode_ex(&msg, &partial, buf, *len, false, NULL, NULL);
	if (!msg)
		msg = partial;
	h = sip_msg_hdr(msg, SIP_HDR_CONTENT_LENGTH);
	if (!msg || !h || sip_msg_hdr_count(msg, SIP_HDR_CONTENT_LENGTH) != 1 ||
	    msg->body.l >= msg->clen || !msg->bad)
		goto out;
	body = (size_t)(buf + *len - msg->body.p);
	n = (size_t)snprintf(num, sizeof(num), "%zu", body);
	out = mem_zalloc(*len + n + 1, NULL);
	if (!out) {
		out = buf;
		goto out;
	}
	size_t pre = (size_t)(h->val.p - buf), post = *len - pre - h->val.l;
	memcpy(out, buf, pre);
	memcpy(out + pre, num, n);
	memcpy(out + pre + n, h->val.p + h->val.l, post);
	*len = pre + n + post;
	mem_deref(buf);
out:
	mem_deref(msg);
	return out;
}

/* LF -> CRLF for files with no CR at all; adds the blank line if missing. */
static char *normalise(char *buf, size_t *len)
{
	size_t n = *len, lfs = 0, o = 0;
	char *out;

	if (memchr(buf, '\r', n))
		return buf;
	for (size_t i = 0; i < n; i++)
		lfs += buf[i] == '\n';
	out = mem_zalloc(n + lfs + 3, NULL);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			out[o++] = '\r';
		out[o++] = buf[i];
	}
	if (!memmem(out, o, "\r\n\r\n", 4)) {
		if (o < 2 || memcmp(out + o - 2, "\r\n", 2)) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
		out[o++] = '\r';
		out[o++] = '\n';
	}
	mem_deref(buf);
	*len = o;
	return fix_clen(out, len);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = NULL;

	if (!f)
		return NULL;
	for (;;) {
		char *nb = mem_zalloc(cap, NULL);
		size_t r;
		if (!nb)
			break;
		if (buf)
			memcpy(nb, buf, n);
		mem_deref(buf);
		buf = nb;
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap) {
			if (ferror(f))
				buf = mem_deref(buf);
			break;
		}
		cap *= 2;
	}
	fclose(f);
	if (buf)
		*len = n;
	return buf;
}

static void verdict(const char *path, const char *buf, size_t len, bool stream)
{
	const struct sip_check_opts opts = {
	    .supported = supported,
	    .accept = accepted,
	    .produce = produced,
	    .auth_schemes = auth_schemes,
	};
	struct sip_msg *msg = NULL, *partial = NULL;
	const char *reason = "";
	uint16_t code = 0;
	int err;

	if (stream) {
		size_t skip = 0, mlen = 0;
		err = sip_msg_frame(buf, len, NULL, &skip, &mlen);
		if (err) {
			printf("%s: invalid drop %s\n", path,
			       err == ENODATA ? "Incomplete Message" : "Unframeable Message");
			return;
		}
		buf += skip;
		len = mlen;
	}
	err = sip_msg_decode_ex(&msg, &partial, buf, len, stream, NULL, NULL);
	if (err && !partial) {
		printf("%s: invalid drop %s\n", path,
		       err == E2BIG ? "Message Too Large" : "Malformed Message");
		return;
	}
	if (sip_msg_check(msg ? msg : partial, &opts, &code, &reason))
		printf("%s: valid\n", path);
	else if (code)
		printf("%s: invalid %u %s\n", path, code, reason);
	else
		printf("%s: invalid drop %s\n", path, reason);
	mem_deref(msg);
	mem_deref(partial);
}

int main(int argc, char **argv)
{
	bool stream = false;
	int ret = 0, c;

	while ((c = getopt(argc, argv, "sh")) != -1) {
		switch (c) {
		case 's':
			stream = true;
			break;
		default:
			usage();
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc) {
		usage();
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		size_t len = 0;
		char *buf = read_file(argv[i], &len);
		if (!buf) {
			fprintf(stderr, "sipcheck: %s: %s\n", argv[i],
			        strerror(errno ? errno : EIO));
			ret = 2;
			continue;
		}
		buf = normalise(buf, &len);
		if (!buf) {
			fprintf(stderr, "sipcheck: %s: out of memory\n", argv[i]);
			ret = 2;
			continue;
		}
		if (!len)
			printf("%s: invalid drop Empty Message\n", argv[i]);
		else
			verdict(argv[i], buf, len, stream);
		mem_deref(buf);
	}
	return ret;
}
