/*
 * pstnctl: talks to pstnsim's control socket (one JSON object per line).
 *
 *   pstnctl [-s SOCKET] call [--span N] FROM TO   place a call into the user side
 *   pstnctl [-s SOCKET] hangup CALL [CAUSE]
 *   pstnctl [-s SOCKET] digits CALL DIGITS       DTMF in-band on an answered call
 *   pstnctl [-s SOCKET] list
 *   pstnctl [-s SOCKET] record CALL FILE.wav [SECONDS]   what the call hears (default 60 s)
 *   pstnctl [-s SOCKET] play CALL FILE.wav       a 16-bit 8 kHz mono WAV into the call
 *   pstnctl [-s SOCKET] send '{"cmd":...}'      any command as JSON
 *   pstnctl [-s SOCKET] watch [-n COUNT] [-t SECONDS]   print events, one per line
 *
 * A command prints the reply line; exit 0 if it says "ok":true. watch prints
 * events until COUNT were printed or SECONDS passed (default: forever).
 * Relative FILE paths are made absolute here: pstnsim runs in its own directory.
 */
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "ctl/json.h"

#define DEFAULT_SOCKET "/tmp/tandem-pstnsim.sock"
#define LINE_MAX_LEN   65536

static void usage(FILE *f)
{
	fprintf(f, "usage: pstnctl [-s SOCKET] [-t SECONDS] COMMAND\n"
	           "  call [--span N] FROM TO | hangup CALL [CAUSE] | digits CALL DIGITS | list\n"
	           "  record CALL FILE [SECONDS] | play CALL FILE\n"
	           "  send JSON | watch [-n COUNT]\n"
	           "  -s, --socket PATH   pstnsim's control socket (default $PSTNSIM_SOCKET "
	           "or " DEFAULT_SOCKET ")\n"
	           "  -t, --timeout S     give up after S seconds (default 5; watch: forever)\n"
	           "  -n, --count N       watch: stop after N events\n");
}

static int connect_to(const char *path)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(un.sun_path))
		return -1;
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct reader {
	int fd;
	char buf[LINE_MAX_LEN];
	size_t len;
};

/* Next line (NUL-terminated, no newline) within deadline (0: none). 0, ETIMEDOUT, EPIPE. */
static int read_line(struct reader *r, uint64_t deadline, char **line)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
		int64_t left = deadline ? (int64_t)(deadline - loop_clock_ms()) : -1;
		ssize_t n;

		if (nl) {
			*nl = '\0';
			*line = r->buf;
			return 0;
		}
		if (deadline && left <= 0)
			return ETIMEDOUT;
		if (poll(&pfd, 1, deadline ? (int)left : -1) <= 0)
			continue;
		if (r->len == sizeof(r->buf))
			return EMSGSIZE;
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n <= 0)
			return EPIPE;
		r->len += (size_t)n;
	}
}

static void consume_line(struct reader *r)
{
	size_t l = strlen(r->buf) + 1;

	memmove(r->buf, r->buf + l, r->len - l);
	r->len -= l;
}

static bool is_event(const char *line)
{
	struct json_tok t[64];
	size_t n;

	return !json_parse(line, strlen(line), t, ARRAY_SIZE(t), &n) && t[0].type == JSON_OBJECT &&
	       json_obj_get(t, n, 0, "event") >= 0;
}

static bool reply_ok(const char *line)
{
	struct json_tok t[256];
	size_t n;
	int i;

	if (json_parse(line, strlen(line), t, ARRAY_SIZE(t), &n) || t[0].type != JSON_OBJECT)
		return false;
	i = json_obj_get(t, n, 0, "ok");
	return i >= 0 && t[i].type == JSON_TRUE;
}

/* FILE as pstnsim needs it: absolute. */
static int file_arg(struct json_w *w, const char *file)
{
	char cwd[PATH_MAX], abs[PATH_MAX + 1];

	if (file[0] == '/') {
		json_str(w, "path", file);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)) ||
	    snprintf(abs, sizeof(abs), "%s/%s", cwd, file) >= (int)sizeof(abs))
		return ENAMETOOLONG;
	json_str(w, "path", abs);
	return 0;
}

static int build(struct json_w *w, int argc, char **argv)
{
	const char *cmd = argv[0];
	int i = 1;

	json_obj_begin(w, NULL);
	json_str(w, "cmd", cmd);
	if (!strcmp(cmd, "call")) {
		long span = 1;

		if (argc > 2 && !strcmp(argv[1], "--span")) {
			span = strtol(argv[2], NULL, 10);
			i = 3;
		}
		if (argc - i != 2)
			return EINVAL;
		json_int(w, "span", span);
		json_str(w, "from", argv[i]);
		json_str(w, "to", argv[i + 1]);
	} else if (!strcmp(cmd, "hangup") && (argc == 2 || argc == 3)) {
		json_int(w, "call", strtol(argv[1], NULL, 10));
		if (argc == 3)
			json_int(w, "cause", strtol(argv[2], NULL, 10));
	} else if (!strcmp(cmd, "digits") && argc == 3) {
		json_int(w, "call", strtol(argv[1], NULL, 10));
		json_str(w, "digits", argv[2]);
	} else if ((!strcmp(cmd, "record") && (argc == 3 || argc == 4)) ||
	           (!strcmp(cmd, "play") && argc == 3)) {
		json_int(w, "call", strtol(argv[1], NULL, 10));
		if (file_arg(w, argv[2]))
			return ENAMETOOLONG;
		if (argc == 4)
			json_int(w, "seconds", strtol(argv[3], NULL, 10));
	} else if (strcmp(cmd, "list") || argc != 1) {
		return EINVAL;
	}
	json_obj_end(w);
	return json_w_err(w);
}

static int watch(struct reader *r, long count, uint64_t deadline)
{
	char *line;

	for (long seen = 0; count <= 0 || seen < count;) {
		int err = read_line(r, deadline, &line);

		if (err)
			return err == ETIMEDOUT ? 0 : 1;
		if (is_event(line)) {
			printf("%s\n", line);
			fflush(stdout);
			seen++;
		}
		consume_line(r);
	}
	return 0;
}

static int command(struct reader *r, const char *req, uint64_t deadline)
{
	char *line;

	if (write(r->fd, req, strlen(req)) != (ssize_t)strlen(req) || write(r->fd, "\n", 1) != 1)
		return 1;
	for (;;) {
		int err = read_line(r, deadline, &line);

		if (err) {
			fprintf(stderr, "pstnctl: no reply: %s\n", strerror(err));
			return 1;
		}
		if (!is_event(line)) {
			printf("%s\n", line);
			return reply_ok(line) ? 0 : 1;
		}
		consume_line(r);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *sock = getenv("PSTNSIM_SOCKET");
	static struct reader r;
	long timeout = -1, count = 0;
	uint64_t deadline;
	struct json_w w;
	int o, rc;

	while ((o = getopt_long(argc, argv, "+s:t:n:h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock = optarg;
			break;
		case 't':
			timeout = strtol(optarg, NULL, 10);
			break;
		case 'n':
			count = strtol(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "watch")) {
		optind = 1;
		while ((o = getopt(argc, argv, "n:t:")) != -1) {
			if (o == 'n')
				count = strtol(optarg, NULL, 10);
			else if (o == 't')
				timeout = strtol(optarg, NULL, 10);
			else
				return 2;
		}
	}
	r.fd = connect_to(sock ? sock : DEFAULT_SOCKET);
	if (r.fd < 0) {
		fprintf(stderr, "pstnctl: cannot connect to %s\n", sock ? sock : DEFAULT_SOCKET);
		return 1;
	}
	if (!strcmp(argv[0], "watch")) {
		deadline = timeout > 0 ? loop_clock_ms() + (uint64_t)timeout * 1000 : 0;
		rc = watch(&r, count, deadline);
	} else {
		deadline = loop_clock_ms() + (uint64_t)(timeout > 0 ? timeout : 5) * 1000;
		json_w_init(&w, LINE_MAX_LEN);
		if (!strcmp(argv[0], "send") && argc == 2)
			rc = command(&r, argv[1], deadline);
		else if (build(&w, argc, argv)) {
			usage(stderr);
			rc = 2;
		} else
			rc = command(&r, w.buf, deadline);
		json_w_free(&w);
	}
	close(r.fd);
	return rc;
}
