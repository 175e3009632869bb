/*
 * tandemctl: sends one command to tandemd's control socket and prints the reply.
 *
 *   tandemctl [-s SOCKET] [--json] [-t SECONDS] COMMAND [key=value...]
 *
 * The daemon answers every command; tandemctl only forwards it, so commands a
 * module registers (calls, spans, registrations, hangup id=..., reload, cdr
 * last=N) work without changes here. Arguments are sent as JSON strings; the
 * daemon reads numbers from strings of digits. The reply is printed as
 * "key: value" lines with lists of objects as tables, or as received with
 * --json. Exit status: 0 when the daemon said ok, 1 when it said no or could
 * not be reached, 2 for a usage error.
 */
#include <ctype.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "ctl/ctl.h"
#include "ctl/json.h"

#define DEFAULT_SOCKET "/run/tandem/ctl.sock"
#define MAX_REPLY      (CTL_DEF_REPLY + 1)
#define MAX_COLS       32

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: tandemctl [-s SOCKET] [--json] [-t SECONDS] COMMAND [key=value...]\n"
	       "  -s, --socket PATH   control socket (default $TANDEM_CTL_SOCKET or " DEFAULT_SOCKET
	       ")\n"
	       "  -j, --json          print the reply as received (one JSON line)\n"
	       "  -t, --timeout S     give up after S seconds (default 5)\n"
	       "commands: help, version, status, and whatever the daemon lists in help\n"
	       "  (calls, spans, registrations, bind aor=USER uri=URI, unbind ..., hangup id=CALL,\n"
	       "  reload, cdr last=N)\n");
}

/* ---- talking to the daemon ---- */

static int build_request(struct json_w *w, int argc, char **argv)
{
	json_obj_begin(w, NULL);
	json_str(w, "cmd", argv[0]);
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i]) {
			fprintf(stderr, "tandemctl: argument '%s' is not key=value\n", argv[i]);
			return EINVAL;
		}
		*eq = '\0';
		json_str(w, argv[i], eq + 1);
		*eq = '=';
	}
	json_obj_end(w);
	return json_w_err(w);
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tandemctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "tandemctl: cannot connect to %s: %s (is tandemd running?)\n", path,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one reply line (without its newline) into buf; 0 or an errno. */
static int read_line(int fd, char *buf, size_t cap, size_t *len, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char *nl = NULL;

	*len = 0;
	while (!nl) {
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? ETIMEDOUT : errno;
		n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ECONNRESET;
		nl = memchr(buf + *len, '\n', (size_t)n);
		*len += (size_t)n;
		if (!nl && *len == cap)
			return E2BIG;
	}
	*len = (size_t)(nl - buf);
	buf[*len] = '\0';
	return 0;
}

/* ---- printing ---- */

/* The text of a primitive token as a person reads it (malloc'ed). */
static char *cell(const struct json_tok *t)
{
	char *s = malloc(t->raw.l + 2);

	if (!s)
		return NULL;
	if (t->type == JSON_NULL)
		strcpy(s, "-");
	else if (t->type != JSON_STRING || json_tok_str(t, s, t->raw.l + 1))
		pl_strcpy(t->raw, s, t->raw.l + 1);
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?'; /* a name from the network must not break the table */
	return s;
}

/* Display width: UTF-8 code points (close enough for a terminal table). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void print_padded(const char *s, size_t w, bool last)
{
	fputs(s, stdout);
	if (!last)
		for (size_t i = width(s); i < w + 2; i++)
			putchar(' ');
}

/* Column names of a list of objects: every key, in order of first appearance. */
static size_t table_cols(const struct json_tok *t, unsigned arr, const struct json_tok **cols)
{
	size_t ncols = 0;

	for (unsigned e = arr + 1, r = 0; r < t[arr].n; r++, e = t[e].next) {
		for (unsigned k = e + 1, m = 0; m < t[e].n; m++, k = t[k + 1].next) {
			size_t c = 0;

			while (c < ncols && !pl_eq(cols[c]->raw, t[k].raw))
				c++;
			if (c == ncols && ncols < MAX_COLS)
				cols[ncols++] = &t[k];
		}
	}
	return ncols;
}

static void print_table(const struct json_tok *t, size_t ntok, unsigned arr, int indent)
{
	const struct json_tok *cols[MAX_COLS];
	size_t ncols = table_cols(t, arr, cols), w[MAX_COLS];
	char *name[MAX_COLS];
	unsigned e, r;

	for (size_t c = 0; c < ncols; c++) {
		name[c] = cell(cols[c]);
		for (char *p = name[c]; p && *p; p++)
			*p = (char)toupper((unsigned char)*p);
		w[c] = name[c] ? width(name[c]) : 0;
	}
	/* two passes: widths, then the rows */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			printf("%*s", indent, "");
			for (size_t c = 0; c < ncols; c++)
				print_padded(name[c] ? name[c] : "?", w[c], c + 1 == ncols);
			putchar('\n');
		}
		for (e = arr + 1, r = 0; r < t[arr].n; r++, e = t[e].next) {
			if (pass == 1)
				printf("%*s", indent, "");
			for (size_t c = 0; c < ncols; c++) {
				char key[256];
				int v = json_tok_str(cols[c], key, sizeof(key))
				            ? -1
				            : json_obj_get(t, ntok, e, key);
				char *s = v < 0 ? strdup("-") : cell(&t[v]);

				if (pass == 0 && s && width(s) > w[c])
					w[c] = width(s);
				if (pass == 1)
					print_padded(s ? s : "?", w[c], c + 1 == ncols);
				free(s);
			}
			if (pass == 1)
				putchar('\n');
		}
	}
	for (size_t c = 0; c < ncols; c++)
		free(name[c]);
}

static bool is_table(const struct json_tok *t, unsigned arr)
{
	if (t[arr].type != JSON_ARRAY || t[arr].n == 0)
		return false;
	for (unsigned e = arr + 1, r = 0; r < t[arr].n; r++, e = t[e].next)
		if (t[e].type != JSON_OBJECT)
			return false;
	return true;
}

static void print_members(const struct json_tok *t, size_t ntok, unsigned obj, int indent,
                          bool top);

static void print_member(const struct json_tok *t, size_t ntok, unsigned k, int indent, bool alone)
{
	unsigned v = k + 1;
	char *key = cell(&t[k]), *s;

	if (is_table(t, v)) {
		if (!alone)
			printf("%*s%s:\n", indent, "", key ? key : "?");
		print_table(t, ntok, v, alone ? indent : indent + 2);
	} else if (t[v].type == JSON_OBJECT) {
		printf("%*s%s:\n", indent, "", key ? key : "?");
		print_members(t, ntok, v, indent + 2, false);
	} else if (t[v].type == JSON_ARRAY) {
		printf("%*s%s:", indent, "", key ? key : "?");
		if (t[v].n == 0)
			printf(" (none)");
		for (unsigned e = v + 1, r = 0; r < t[v].n; r++, e = t[e].next) {
			s = t[e].type == JSON_ARRAY ? NULL : cell(&t[e]);
			printf("%s %.*s", r ? "," : "", s ? (int)strlen(s) : (int)t[e].raw.l,
			       s ? s : t[e].raw.p);
			free(s);
		}
		putchar('\n');
	} else {
		s = cell(&t[v]);
		printf("%*s%s: %s\n", indent, "", key ? key : "?", s ? s : "?");
		free(s);
	}
	free(key);
}

static void print_members(const struct json_tok *t, size_t ntok, unsigned obj, int indent, bool top)
{
	/* A reply with one list ("calls", "commands") prints as just the table. */
	bool alone = top && t[obj].n == 2;

	for (unsigned k = obj + 1, m = 0; m < t[obj].n; m++, k = t[k + 1].next) {
		if (top && json_tok_eq(&t[k], "ok"))
			continue;
		print_member(t, ntok, k, indent, alone);
	}
}

/* Prints the reply; returns the exit status. */
static int print_reply(const char *line, size_t len, bool raw)
{
	size_t max = len / 2 + 2, ntok;
	struct json_tok *t = malloc(max * sizeof(*t));
	char err[512] = "malformed reply";
	int ok, e, rc = 1;

	if (!t || json_parse(line, len, t, max, &ntok) || t[0].type != JSON_OBJECT) {
		fprintf(stderr, "tandemctl: the daemon sent a malformed reply: %s\n", line);
		goto out;
	}
	ok = json_obj_get(t, ntok, 0, "ok");
	rc = ok >= 0 && t[ok].type == JSON_TRUE ? 0 : 1;
	if (raw) {
		printf("%s\n", line);
	} else if (rc == 0) {
		print_members(t, ntok, 0, 0, true);
	} else {
		e = json_obj_get(t, ntok, 0, "error");
		if (e >= 0 && json_tok_str(&t[e], err, sizeof(err)))
			pl_strcpy(t[e].raw, err, sizeof(err));
		fprintf(stderr, "tandemctl: %s\n", err);
	}
out:
	free(t);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = getenv("TANDEM_CTL_SOCKET");
	bool raw = false;
	int c, fd, err, timeout_ms = 5000, rc = 1;
	struct json_w w;
	char *buf = NULL;
	size_t len;

	while ((c = getopt_long(argc, argv, "s:jt:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			raw = true;
			break;
		case 't':
			timeout_ms = atoi(optarg) * 1000;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || timeout_ms <= 0) {
		usage(stderr);
		return 2;
	}
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	json_w_init(&w, CTL_DEF_LINE);
	err = build_request(&w, argc - optind, argv + optind);
	if (err) {
		if (err != EINVAL)
			fprintf(stderr, "tandemctl: request too long\n");
		json_w_free(&w);
		return 2;
	}
	fd = connect_socket(path);
	if (fd < 0)
		goto out;
	buf = malloc(MAX_REPLY + 1);
	err = buf ? send_all(fd, w.buf, w.len) : ENOMEM;
	if (!err)
		err = send_all(fd, "\n", 1);
	if (!err)
		err = read_line(fd, buf, MAX_REPLY, &len, timeout_ms);
	if (err)
		fprintf(stderr, "tandemctl: %s: %s\n", path, strerror(err));
	else
		rc = print_reply(buf, len, raw);
	close(fd);
out:
	free(buf);
	json_w_free(&w);
	return rc;
}
