/*
 * The control socket. Why it looks like this:
 * - Line framing with a hard cap: a client that sends a line longer than
 *   max_line gets one error reply and is disconnected, since there is no safe
 *   way to find the start of its next request.
 * - Replies are built in one shared writer (handlers run one at a time on the
 *   loop) and copied into the client's output queue; a client that stops
 *   reading is not read from either until its queue drains, so memory per
 *   client stays bounded by about max_reply plus one read.
 * - A client closed inside its own fd handler is freed at once: the handler
 *   returns right after, and the loop drops stale events by generation.
 */
#include "ctl/ctl.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_MAX_TOKS 65 /* the object plus 32 members */
#define CTX          "ctl"

struct ctl_cmd {
	const char *name, *help;
	ctl_cmd_h *h;
	void *arg;
};

struct ctl_status {
	const char *name;
	ctl_status_h *h;
	void *arg;
};

struct client {
	struct client *next;
	struct ctl *ctl;
	int fd;
	char *in;
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	struct tmr idle;
	bool eof;
};

struct ctl {
	struct loop *loop;
	struct ctl_config cfg;
	int fd;
	char *path;
	struct ctl_cmd *cmds;
	size_t ncmds;
	struct ctl_status *st;
	size_t nst;
	struct client *clients;
	unsigned nclients;
	uint64_t started_ms, nreq, nerr;
	time_t started;
	struct json_w w;
	char *scratch;
	size_t scratch_size;
};

struct ctl_req {
	struct ctl *ctl;
	struct json_tok toks[CTL_MAX_TOKS];
	size_t ntok;
	char cmd[64];
	size_t scratch_used;
	char error[256];
};

/* ---- requests ---- */

const char *ctl_req_cmd(const struct ctl_req *req)
{
	return req->cmd;
}

const char *ctl_req_str(struct ctl_req *req, const char *key)
{
	struct ctl *ctl = req->ctl;
	int i = json_obj_get(req->toks, req->ntok, 0, key);
	const struct json_tok *t;
	char *dst = ctl->scratch + req->scratch_used;
	size_t room = ctl->scratch_size - req->scratch_used;

	if (i < 0)
		return NULL;
	t = &req->toks[i];
	if (t->type == JSON_STRING) {
		if (json_tok_str(t, dst, room))
			return NULL;
	} else if (t->type != JSON_NULL && t->raw.l < room) {
		pl_strcpy(t->raw, dst, room);
	} else {
		return NULL;
	}
	req->scratch_used += strlen(dst) + 1;
	return dst;
}

int ctl_req_int(struct ctl_req *req, const char *key, int64_t *v)
{
	int i = json_obj_get(req->toks, req->ntok, 0, key);
	struct json_tok t;
	char buf[32];

	if (i < 0)
		return ENOENT;
	t = req->toks[i];
	if (t.type == JSON_STRING) {
		if (json_tok_str(&t, buf, sizeof(buf)))
			return EINVAL;
		t.type = JSON_NUMBER; /* digits only are accepted below */
		t.raw = pl_make(buf, strlen(buf));
	}
	return json_tok_i64(&t, v);
}

void ctl_req_fail(struct ctl_req *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->error, sizeof(req->error), fmt, ap);
	va_end(ap);
}

/* ---- built-in commands ---- */

static int cmd_help(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct ctl *ctl = arg;

	json_arr_begin(w, "commands");
	for (size_t i = 0; i < ctl->ncmds; i++) {
		json_obj_begin(w, NULL);
		json_str(w, "name", ctl->cmds[i].name);
		json_str(w, "help", ctl->cmds[i].help ? ctl->cmds[i].help : "");
		json_obj_end(w);
	}
	json_arr_end(w);
	return 0;
}

static int cmd_version(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct ctl *ctl = arg;

	json_str(w, "version", ctl->cfg.version);
	return 0;
}

static int cmd_status(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct ctl *ctl = arg;
	char started[32];
	struct tm tm;

	gmtime_r(&ctl->started, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_str(w, "version", ctl->cfg.version);
	json_int(w, "pid", (int64_t)getpid());
	json_str(w, "started", started);
	json_uint(w, "uptime_s", (loop_clock_ms() - ctl->started_ms) / 1000u);
	json_obj_begin(w, "ctl");
	json_uint(w, "clients", ctl->nclients);
	json_uint(w, "requests", ctl->nreq);
	json_uint(w, "errors", ctl->nerr);
	json_obj_end(w);
	for (size_t i = 0; i < ctl->nst; i++) {
		json_obj_begin(w, ctl->st[i].name);
		ctl->st[i].h(w, ctl->st[i].arg);
		json_obj_end(w);
	}
	return 0;
}

/* ---- registration ---- */

static struct ctl_cmd *find_cmd(struct ctl *ctl, const char *name)
{
	for (size_t i = 0; i < ctl->ncmds; i++)
		if (!strcmp(ctl->cmds[i].name, name))
			return &ctl->cmds[i];
	return NULL;
}

int ctl_register(struct ctl *ctl, const char *name, ctl_cmd_h *h, void *arg, const char *help)
{
	struct ctl_cmd *c;

	if (!ctl || !name || !*name || !h || strlen(name) >= sizeof(((struct ctl_req *)0)->cmd))
		return EINVAL;
	if (find_cmd(ctl, name))
		return EEXIST;
	c = realloc(ctl->cmds, (ctl->ncmds + 1) * sizeof(*c));
	if (!c)
		return ENOMEM;
	ctl->cmds = c;
	ctl->cmds[ctl->ncmds++] = (struct ctl_cmd){name, help, h, arg};
	return 0;
}

void ctl_unregister(struct ctl *ctl, const char *name)
{
	struct ctl_cmd *c = ctl ? find_cmd(ctl, name) : NULL;

	if (!c)
		return;
	memmove(c, c + 1, (size_t)(ctl->cmds + ctl->ncmds - (c + 1)) * sizeof(*c));
	ctl->ncmds--;
}

int ctl_status_register(struct ctl *ctl, const char *name, ctl_status_h *h, void *arg)
{
	struct ctl_status *s;

	if (!ctl || !name || !*name || !h)
		return EINVAL;
	for (size_t i = 0; i < ctl->nst; i++)
		if (!strcmp(ctl->st[i].name, name))
			return EEXIST;
	s = realloc(ctl->st, (ctl->nst + 1) * sizeof(*s));
	if (!s)
		return ENOMEM;
	ctl->st = s;
	ctl->st[ctl->nst++] = (struct ctl_status){name, h, arg};
	return 0;
}

void ctl_status_unregister(struct ctl *ctl, const char *name)
{
	for (size_t i = 0; ctl && i < ctl->nst; i++) {
		if (strcmp(ctl->st[i].name, name))
			continue;
		memmove(&ctl->st[i], &ctl->st[i + 1], (ctl->nst - i - 1) * sizeof(ctl->st[0]));
		ctl->nst--;
		return;
	}
}

unsigned ctl_nclients(const struct ctl *ctl)
{
	return ctl->nclients;
}

/* ---- one request line -> one reply in ctl->w ---- */

static void reply_error(struct ctl *ctl, const char *msg)
{
	ctl->nerr++;
	json_w_reset(&ctl->w);
	json_obj_begin(&ctl->w, NULL);
	json_bool(&ctl->w, "ok", false);
	json_str(&ctl->w, "error", msg);
	json_obj_end(&ctl->w);
}

/* Checks the shape: an object of primitives with unique keys and a "cmd" string. */
static const char *check_request(struct ctl_req *req)
{
	const struct json_tok *t = req->toks;
	int c;

	if (t[0].type != JSON_OBJECT)
		return "a request is one JSON object";
	for (unsigned i = 1; i < req->ntok; i += 2) {
		if (t[i + 1].type == JSON_OBJECT || t[i + 1].type == JSON_ARRAY)
			return "arguments must be strings, numbers, booleans or null";
		for (unsigned j = 1; j < i; j += 2)
			if (t[i].raw.l == t[j].raw.l && !memcmp(t[i].raw.p, t[j].raw.p, t[i].raw.l))
				return "duplicate key";
	}
	c = json_obj_get(t, req->ntok, 0, "cmd");
	if (c < 0 || json_tok_str(&t[c], req->cmd, sizeof(req->cmd)))
		return "missing or bad \"cmd\" (a string)";
	return NULL;
}

static void handle_line(struct ctl *ctl, struct ctl_req *req, const char *line, size_t len)
{
	const struct ctl_cmd *cmd;
	const char *bad;
	char msg[128];
	int err;

	req->ctl = ctl;
	req->cmd[0] = '\0';
	req->scratch_used = 0;
	req->error[0] = '\0';
	ctl->nreq++;
	err = json_parse(line, len, req->toks, ARRAY_SIZE(req->toks), &req->ntok);
	if (err) {
		reply_error(ctl, err == E2BIG ? "too many arguments" : "malformed JSON");
		return;
	}
	bad = check_request(req);
	if (bad) {
		reply_error(ctl, bad);
		return;
	}
	cmd = find_cmd(ctl, req->cmd);
	if (!cmd) {
		snprintf(msg, sizeof(msg), "unknown command '%s' (try help)", req->cmd);
		reply_error(ctl, msg);
		return;
	}
	json_w_reset(&ctl->w);
	json_obj_begin(&ctl->w, NULL);
	json_bool(&ctl->w, "ok", true);
	err = cmd->h(req, &ctl->w, cmd->arg);
	json_obj_end(&ctl->w);
	if (!err && json_w_err(&ctl->w))
		err = json_w_err(&ctl->w);
	if (err) {
		if (!req->error[0])
			snprintf(req->error, sizeof(req->error), "%s",
			         err == E2BIG ? "reply too large" : strerror(err));
		reply_error(ctl, req->error);
	}
}

/* ---- clients ---- */

static void client_close(struct client *c)
{
	struct ctl *ctl = c->ctl;
	struct client **pp;

	for (pp = &ctl->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctl->nclients--;
	loop_fd_forget(ctl->loop, c->fd);
	close(c->fd);
	tmr_cancel(&c->idle);
	free(c->in);
	free(c->out);
	free(c);
}

static int queue_reply(struct client *c, const char *s, size_t n)
{
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n + 1 > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 1024;
		char *b;

		while (cap < c->outlen + n + 1)
			cap *= 2;
		b = realloc(c->out, cap);
		if (!b)
			return ENOMEM;
		c->out = b;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, s, n);
	c->out[c->outlen + n] = '\n';
	c->outlen += n + 1;
	return 0;
}

static void client_line(struct client *c, const char *line, size_t len)
{
	struct ctl *ctl = c->ctl;
	struct ctl_req *req;

	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	req = malloc(sizeof(*req));
	if (!req) {
		reply_error(ctl, "out of memory");
	} else {
		handle_line(ctl, req, line, len);
		free(req);
	}
	if (json_w_err(&ctl->w))
		reply_error(ctl, "out of memory");
	if (ctl->w.buf && queue_reply(c, ctl->w.buf, ctl->w.len))
		c->eof = true; /* cannot answer: hang up rather than skip a reply */
}

static void client_fd(int fd, unsigned events, void *arg);
static void client_idle(void *arg);

/* Flushes output, then picks what to wait for next; false when c was closed. */
static bool client_pump(struct client *c)
{
	struct ctl *ctl = c->ctl;
	unsigned ev = 0;

	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			client_close(c);
			return false;
		}
		if (n < 0)
			break;
		c->outoff += (size_t)n;
	}
	if (c->outoff < c->outlen)
		ev |= LOOP_WRITE;
	else if (c->eof) {
		client_close(c);
		return false;
	}
	if (!c->eof && c->outlen - c->outoff <= ctl->cfg.max_reply)
		ev |= LOOP_READ;
	if (loop_fd_listen(ctl->loop, c->fd, ev, client_fd, c)) {
		client_close(c);
		return false;
	}
	return true;
}

/* Splits the input buffer into lines; keeps a partial last line. */
static void client_lines(struct client *c)
{
	size_t start = 0, cap = c->ctl->cfg.max_line + 1;
	char *nl;

	while ((nl = memchr(c->in + start, '\n', c->inlen - start)) != NULL) {
		client_line(c, c->in + start, (size_t)(nl - (c->in + start)));
		start = (size_t)(nl - c->in) + 1;
	}
	memmove(c->in, c->in + start, c->inlen - start);
	c->inlen -= start;
	if (c->inlen == cap) {
		reply_error(c->ctl, "line too long");
		queue_reply(c, c->ctl->w.buf, c->ctl->w.len);
		c->eof = true;
	} else if (c->eof && c->inlen) {
		client_line(c, c->in, c->inlen); /* a last request without its newline */
		c->inlen = 0;
	}
}

static void client_fd(int fd, unsigned events, void *arg)
{
	struct client *c = arg;
	size_t cap = c->ctl->cfg.max_line + 1;

	if ((events & LOOP_READ) && !c->eof) {
		ssize_t n = read(fd, c->in + c->inlen, cap - c->inlen);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_close(c);
			return;
		}
		if (n == 0)
			c->eof = true;
		if (n > 0)
			c->inlen += (size_t)n;
		client_lines(c);
		tmr_start(c->ctl->loop, &c->idle, c->ctl->cfg.idle_ms, client_idle, c);
	} else if ((events & LOOP_ERROR) && !(events & LOOP_WRITE)) {
		client_close(c);
		return;
	}
	client_pump(c);
}

static void client_idle(void *arg)
{
	struct client *c = arg;

	LOGD(CTX, "client fd %d idle, closing", c->fd);
	client_close(c);
}

static void refuse(int fd, const char *why)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":\"%s\"}\n", why);

	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* best effort: the client is refused either way */
	}
	close(fd);
}

static void accept_one(struct ctl *ctl, int fd)
{
	struct client *c;

	if (ctl->nclients >= ctl->cfg.max_clients) {
		LOGW(CTX, "refusing a client: %u already connected", ctl->nclients);
		refuse(fd, "too many clients");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->in = malloc(ctl->cfg.max_line + 1);
	if (!c || !c->in) {
		if (c)
			free(c);
		refuse(fd, "out of memory");
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	tmr_init(&c->idle);
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->nclients++;
	if (tmr_start(ctl->loop, &c->idle, ctl->cfg.idle_ms, client_idle, c) ||
	    loop_fd_listen(ctl->loop, fd, LOOP_READ, client_fd, c))
		client_close(c);
}

static void listen_fd(int fd, unsigned events, void *arg)
{
	struct ctl *ctl = arg;

	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				LOGW(CTX, "accept: %s", strerror(errno));
			return;
		}
		accept_one(ctl, cfd);
	}
}

/* ---- the listening socket ---- */

/* Whether something accepts connections at path (a live daemon). */
static bool socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return true; /* cannot tell: do not remove anything */
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	        (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return alive;
}

static int bind_socket(struct ctl *ctl)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;

	if (strlen(ctl->path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	strcpy(sun.sun_path, ctl->path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return errno;
	if (bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno != EADDRINUSE)
			return errno;
		/* Left by a daemon that died: replace it, but never a live one or a file. */
		if (lstat(ctl->path, &st) < 0 || !S_ISSOCK(st.st_mode) || socket_alive(&sun))
			return EADDRINUSE;
		LOGN(CTX, "replacing the stale socket %s", ctl->path);
		if (unlink(ctl->path) < 0 ||
		    bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			return errno;
	}
	/* Before listen(), so nobody connects while the mode is still the umask's. */
	if (chmod(ctl->path, 0660) < 0 || listen(ctl->fd, 16) < 0) {
		int err = errno;
		unlink(ctl->path);
		return err;
	}
	return 0;
}

int ctl_alloc(struct ctl **cp, struct loop *loop, const struct ctl_config *cfg)
{
	struct ctl *ctl;
	int err;

	if (!cp || !loop || !cfg || !cfg->path || !*cfg->path)
		return EINVAL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return ENOMEM;
	ctl->fd = -1;
	ctl->loop = loop;
	ctl->cfg = *cfg;
	if (!ctl->cfg.max_clients)
		ctl->cfg.max_clients = CTL_DEF_CLIENTS;
	if (!ctl->cfg.max_line)
		ctl->cfg.max_line = CTL_DEF_LINE;
	if (!ctl->cfg.max_reply)
		ctl->cfg.max_reply = CTL_DEF_REPLY;
	if (!ctl->cfg.idle_ms)
		ctl->cfg.idle_ms = CTL_DEF_IDLE_MS;
	if (!ctl->cfg.version)
		ctl->cfg.version = TANDEM_VERSION;
	ctl->started_ms = loop_clock_ms();
	ctl->started = time(NULL);
	json_w_init(&ctl->w, ctl->cfg.max_reply);
	/* Decoded arguments are never longer than the line; +2 per token for NULs. */
	ctl->scratch_size = ctl->cfg.max_line + 2 * CTL_MAX_TOKS;
	ctl->scratch = malloc(ctl->scratch_size);
	ctl->path = strdup(cfg->path);
	if (!ctl->scratch || !ctl->path) {
		err = ENOMEM;
		goto out;
	}
	err = bind_socket(ctl);
	if (err)
		goto out;
	err = loop_fd_listen(loop, ctl->fd, LOOP_READ, listen_fd, ctl);
	if (!err)
		err = ctl_register(ctl, "help", cmd_help, ctl, "list the commands");
	if (!err)
		err = ctl_register(ctl, "version", cmd_version, ctl, "the daemon's version");
	if (!err)
		err = ctl_register(ctl, "status", cmd_status, ctl,
		                   "uptime, version and each module's counters");
	if (err) {
		unlink(ctl->path);
		goto out;
	}
	LOGI(CTX, "control socket on %s", ctl->path);
	*cp = ctl;
	return 0;
out:
	if (ctl->fd >= 0) {
		loop_fd_forget(loop, ctl->fd);
		close(ctl->fd);
	}
	free(ctl->cmds);
	free(ctl->scratch);
	free(ctl->path);
	free(ctl);
	return err;
}

void ctl_free(struct ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_close(ctl->clients);
	loop_fd_forget(ctl->loop, ctl->fd);
	close(ctl->fd);
	unlink(ctl->path);
	json_w_free(&ctl->w);
	free(ctl->cmds);
	free(ctl->st);
	free(ctl->scratch);
	free(ctl->path);
	free(ctl);
}
