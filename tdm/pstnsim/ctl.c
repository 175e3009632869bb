/*
 * pstnsim's control socket: a Unix stream socket, one JSON object per line
 * both ways. Commands in, a reply to the sender, events to every client. Why
 * it looks like this:
 * - A slow or stuck client must not stall the exchange: output is queued per
 *   client up to CLI_OUTMAX and a client that falls that far behind is dropped.
 * - Commands are executed by psim_cmd_exec() on a line, so tests drive it
 *   without a socket.
 */
#include "tdm/pstnsim/pstnsim.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ctl/json.h"

#include <libpri.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CLI_INMAX  4096
#define CLI_OUTMAX (256 * 1024)
#define MAX_TOK    64

struct cli {
	struct cli *next;
	struct psim_ctl *ctl;
	int fd;
	char in[CLI_INMAX];
	size_t inlen;
	char *out;
	size_t outlen, outcap;
};

struct psim_ctl {
	struct loop *l;
	struct psim *p;
	int lfd;
	char path[SPAN_ADDR_MAX];
	struct cli *clis;
	unsigned ncli;
};

/* ---- events and commands as JSON ---- */

void psim_ev_json(struct json_w *w, const struct psim_ev *ev)
{
	json_obj_begin(w, NULL);
	json_str(w, "event", psim_ev_name(ev->type));
	json_uint(w, "span", ev->span);
	if (ev->type == PSIM_EV_LINK) {
		json_bool(w, "up", ev->up);
		json_obj_end(w);
		return;
	}
	json_uint(w, "call", ev->call);
	json_int(w, "channel", ev->channel);
	json_str(w, "direction", ev->outgoing ? "out" : "in");
	switch (ev->type) {
	case PSIM_EV_SETUP:
		json_str(w, "from", ev->from);
		json_str(w, "to", ev->to);
		if (ev->behaviour)
			json_str(w, "behaviour", ev->behaviour);
		break;
	case PSIM_EV_DIGITS: {
		char d[2] = {ev->digit, 0};

		json_str(w, "digits", d);
		break;
	}
	case PSIM_EV_TONE:
		json_double(w, "frequency", ev->hz);
		json_double(w, "level", (double)lrint(ev->dbm0 * 10) / 10);
		break;
	case PSIM_EV_DISCONNECT:
		json_int(w, "cause", ev->cause);
		json_str(w, "cause_text", pri_cause2str(ev->cause));
		break;
	case PSIM_EV_RECORDED:
		json_str(w, "path", ev->path);
		json_uint(w, "samples", ev->samples);
		if (ev->err)
			json_str(w, "error", strerror(ev->err));
		break;
	case PSIM_EV_PLAYED:
		json_uint(w, "samples", ev->samples);
		break;
	default:
		break;
	}
	json_obj_end(w);
}

static void reply_err(struct json_w *w, const char *fmt, int err)
{
	char buf[128];

	snprintf(buf, sizeof(buf), fmt, strerror(err));
	json_bool(w, "ok", false);
	json_str(w, "error", buf);
}

static int get_uint(const struct json_tok *t, size_t n, const char *key, int64_t *v)
{
	int i = json_obj_get(t, n, 0, key);

	if (i < 0)
		return ENOENT;
	return json_tok_i64(&t[i], v) || *v < 0 ? EINVAL : 0;
}

static int get_str(const struct json_tok *t, size_t n, const char *key, char *buf, size_t size)
{
	int i = json_obj_get(t, n, 0, key);

	if (i < 0)
		return ENOENT;
	return json_tok_str(&t[i], buf, size) ? EINVAL : 0;
}

static void cmd_call(struct psim *p, const struct json_tok *t, size_t n, struct json_w *w)
{
	char from[PSIM_NUM_MAX] = "", to[PSIM_NUM_MAX];
	int64_t span = 1, tone = -1, timeout = 0;
	unsigned id;
	int err;

	if (get_str(t, n, "to", to, sizeof(to))) {
		reply_err(w, "call needs \"to\" (%s)", EINVAL);
		return;
	}
	if ((get_uint(t, n, "span", &span) == EINVAL) ||
	    get_str(t, n, "from", from, sizeof(from)) == EINVAL ||
	    get_uint(t, n, "tone", &tone) == EINVAL) {
		reply_err(w, "bad span, from or tone (%s)", EINVAL);
		return;
	}
	if (get_uint(t, n, "timeout_ms", &timeout) == EINVAL || timeout > 86400000) {
		reply_err(w, "bad timeout_ms (%s)", EINVAL);
		return;
	}
	err = psim_call(p, (unsigned)span, from, to, (double)tone, &id);
	if (!err && timeout)
		err = psim_call_timeout(p, id, (uint32_t)timeout);
	if (err) {
		reply_err(w, "call failed: %s", err);
		return;
	}
	json_bool(w, "ok", true);
	json_uint(w, "call", id);
}

static void cmd_list(struct psim *p, struct json_w *w)
{
	struct psim_call_info info[64];
	size_t n = psim_list(p, info, ARRAY_SIZE(info));

	json_bool(w, "ok", true);
	json_arr_begin(w, "calls");
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(w, NULL);
		json_uint(w, "call", info[i].id);
		json_uint(w, "span", info[i].span);
		json_int(w, "channel", info[i].channel);
		json_str(w, "direction", info[i].outgoing ? "out" : "in");
		json_str(w, "from", info[i].from);
		json_str(w, "to", info[i].to);
		json_bool(w, "answered", info[i].answered);
		if (info[i].behaviour)
			json_str(w, "behaviour", info[i].behaviour);
		json_obj_end(w);
	}
	json_arr_end(w);
}

static void cmd_on_call(struct psim *p, const char *cmd, const struct json_tok *t, size_t n,
                        struct json_w *w)
{
	char digits[PSIM_DIGITS_MAX + 1];
	int64_t id, cause = 16;
	int err;

	if (get_uint(t, n, "call", &id)) {
		reply_err(w, "needs \"call\" (%s)", EINVAL);
		return;
	}
	if (!strcmp(cmd, "hangup")) {
		if (get_uint(t, n, "cause", &cause) == EINVAL || cause < 1 || cause > 127) {
			reply_err(w, "bad cause (%s)", EINVAL);
			return;
		}
		err = psim_hangup(p, (unsigned)id, (int)cause);
	} else {
		err = get_str(t, n, "digits", digits, sizeof(digits));
		if (!err)
			err = psim_digits(p, (unsigned)id, digits);
	}
	if (err) {
		reply_err(w, "failed: %s", err);
		return;
	}
	json_bool(w, "ok", true);
}

/* record {call, path, seconds (default 60)} and play {call, path}. */
static void cmd_file(struct psim *p, const char *cmd, const struct json_tok *t, size_t n,
                     struct json_w *w)
{
	char path[PATH_MAX];
	int64_t id, seconds = 60;
	int err;

	if (get_uint(t, n, "call", &id) || get_str(t, n, "path", path, sizeof(path))) {
		reply_err(w, "needs \"call\" and \"path\" (%s)", EINVAL);
		return;
	}
	if (!strcmp(cmd, "record")) {
		if (get_uint(t, n, "seconds", &seconds) == EINVAL || seconds < 1 ||
		    seconds > PSIM_REC_MAX_S) {
			reply_err(w, "bad seconds (%s)", EINVAL);
			return;
		}
		err = psim_record(p, (unsigned)id, path, (unsigned)seconds);
	} else {
		err = psim_play(p, (unsigned)id, path);
	}
	if (err) {
		reply_err(w,
		          err == EINVAL ? "failed (16-bit 8 kHz mono WAV, absolute path): %s"
		                        : "failed: %s",
		          err);
		return;
	}
	json_bool(w, "ok", true);
}

void psim_cmd_exec(struct psim *p, const char *line, size_t len, struct json_w *w)
{
	struct json_tok t[MAX_TOK];
	char cmd[16];
	size_t n;

	json_obj_begin(w, NULL);
	if (json_parse(line, len, t, ARRAY_SIZE(t), &n) || t[0].type != JSON_OBJECT) {
		reply_err(w, "not a JSON object (%s)", EBADMSG);
	} else if (get_str(t, n, "cmd", cmd, sizeof(cmd))) {
		reply_err(w, "no \"cmd\" (%s)", EINVAL);
	} else if (!strcmp(cmd, "call")) {
		cmd_call(p, t, n, w);
	} else if (!strcmp(cmd, "list")) {
		cmd_list(p, w);
	} else if (!strcmp(cmd, "hangup") || !strcmp(cmd, "digits")) {
		cmd_on_call(p, cmd, t, n, w);
	} else if (!strcmp(cmd, "record") || !strcmp(cmd, "play")) {
		cmd_file(p, cmd, t, n, w);
	} else {
		reply_err(w, "unknown cmd (call, hangup, digits, list, record, play) (%s)", EINVAL);
	}
	json_obj_end(w);
}

/* ---- clients ---- */

static void cli_free(struct cli *c)
{
	struct psim_ctl *ctl = c->ctl;

	for (struct cli **pp = &ctl->clis; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			ctl->ncli--;
			break;
		}
	}
	loop_fd_forget(ctl->l, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static void cli_fd_handler(int fd, unsigned events, void *arg);

static void cli_flush(struct cli *c)
{
	while (c->outlen) {
		ssize_t n = send(c->fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	loop_fd_listen(c->ctl->l, c->fd, LOOP_READ | (c->outlen ? LOOP_WRITE : 0), cli_fd_handler,
	               c);
}

/* Queues one line. Returns false if the client had to be dropped. */
static bool cli_send(struct cli *c, const char *s, size_t len)
{
	if (c->outlen + len + 1 > CLI_OUTMAX) {
		LOGW("pstnsim", "control client too slow: dropped");
		cli_free(c);
		return false;
	}
	if (c->outlen + len + 1 > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		char *o;

		while (cap < c->outlen + len + 1)
			cap *= 2;
		o = realloc(c->out, cap);
		if (!o) {
			cli_free(c);
			return false;
		}
		c->out = o;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, s, len);
	c->out[c->outlen + len] = '\n';
	c->outlen += len + 1;
	cli_flush(c);
	return true;
}

static bool cli_lines(struct cli *c)
{
	char *nl;

	while ((nl = memchr(c->in, '\n', c->inlen))) {
		size_t len = (size_t)(nl - c->in);
		struct json_w w;
		bool alive;

		json_w_init(&w, CLI_OUTMAX / 2);
		if (len)
			psim_cmd_exec(c->ctl->p, c->in, len, &w);
		alive = !len || json_w_err(&w) || cli_send(c, w.buf, w.len);
		json_w_free(&w);
		if (!alive)
			return false;
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
	return true;
}

static void cli_fd_handler(int fd, unsigned events, void *arg)
{
	struct cli *c = arg;
	ssize_t n;

	if (events & LOOP_WRITE)
		cli_flush(c);
	if (!(events & (LOOP_READ | LOOP_ERROR)))
		return;
	n = recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		cli_free(c);
		return;
	}
	c->inlen += (size_t)n;
	if (!cli_lines(c))
		return;
	if (c->inlen == sizeof(c->in)) {
		LOGW("pstnsim", "control line too long: client dropped");
		cli_free(c);
	}
}

static void accept_handler(int fd, unsigned events, void *arg)
{
	struct psim_ctl *ctl = arg;
	struct cli *c;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || loop_fd_listen(ctl->l, cfd, LOOP_READ, cli_fd_handler, c)) {
		free(c);
		close(cfd);
		return;
	}
	c->ctl = ctl;
	c->fd = cfd;
	c->next = ctl->clis;
	ctl->clis = c;
	ctl->ncli++;
}

void psim_ctl_event(struct psim_ctl *ctl, const struct psim_ev *ev)
{
	struct json_w w;
	struct cli *next;

	if (!ctl || !ctl->clis)
		return;
	json_w_init(&w, 4096);
	psim_ev_json(&w, ev);
	for (struct cli *c = ctl->clis; c && !json_w_err(&w); c = next) {
		next = c->next;
		cli_send(c, w.buf, w.len);
	}
	json_w_free(&w);
}

unsigned psim_ctl_nclients(const struct psim_ctl *ctl)
{
	return ctl ? ctl->ncli : 0;
}

static void ctl_destroy(void *data)
{
	struct psim_ctl *ctl = data;

	while (ctl->clis)
		cli_free(ctl->clis);
	if (ctl->lfd >= 0) {
		loop_fd_forget(ctl->l, ctl->lfd);
		close(ctl->lfd);
		unlink(ctl->path);
	}
}

int psim_ctl_alloc(struct psim_ctl **cp, struct loop *l, struct psim *p, const char *path)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct psim_ctl *ctl;
	int err;

	if (!cp || !l || !p || !path || !path[0] || strlen(path) >= sizeof(un.sun_path))
		return EINVAL;
	ctl = mem_zalloc(sizeof(*ctl), ctl_destroy);
	if (!ctl)
		return ENOMEM;
	ctl->l = l;
	ctl->p = p;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	strcpy(un.sun_path, path);
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0) {
		err = errno;
		goto out;
	}
	unlink(path); /* a stale socket from a previous run */
	if (bind(ctl->lfd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(ctl->lfd, 8) < 0) {
		err = errno;
		goto out;
	}
	err = loop_fd_listen(l, ctl->lfd, LOOP_READ, accept_handler, ctl);
out:
	if (err) {
		if (ctl->lfd >= 0)
			close(ctl->lfd);
		ctl->lfd = -1;
		mem_deref(ctl);
		return err;
	}
	*cp = ctl;
	return 0;
}
