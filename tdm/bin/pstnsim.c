/*
 * pstnsim: the PSTN simulator. Plays the network (libpri NET) on the virtual
 * spans of a YAML file, answers for its subscribers, and takes commands and
 * gives events on a Unix control socket (one JSON object per line).
 *
 *   pstnsim -c FILE [-s CONTROL] [--addr N=ADDRESS]... [-v] [--check]
 *
 * Events are also logged. SIGINT/SIGTERM stop it; exit 0 then.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ctl/json.h"
#include "tdm/pstnsim/pstnsim.h"

struct app {
	struct loop *l;
	struct psim_ctl *ctl;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pstnsim -c FILE [-s CONTROL_SOCKET] [--addr SPAN=ADDRESS]... [-v] "
	           "[--check]\n"
	           "  -c, --config FILE    subscribers and spans (YAML)\n"
	           "  -s, --control PATH   control socket (overrides the file's 'control')\n"
	           "  -a, --addr N=ADDR    span N's socket path or @name (overrides the file)\n"
	           "  -v, --verbose        debug logging (libpri included)\n"
	           "      --check          validate the file and exit\n");
}

static void on_event(const struct psim_ev *ev, void *arg)
{
	struct app *a = arg;
	struct json_w w;

	json_w_init(&w, 4096);
	psim_ev_json(&w, ev);
	if (!json_w_err(&w))
		LOGI("pstnsim", "event %s", w.buf);
	json_w_free(&w);
	psim_ctl_event(a->ctl, ev);
}

static void on_signal(int signo, void *arg)
{
	struct app *a = arg;

	LOGI("pstnsim", "signal %d: stopping", signo);
	loop_stop(a->l);
}

static int addr_override(struct psim_conf *c, const char *arg)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*end != '=' || !end[1])
		return EINVAL;
	for (size_t i = 0; i < c->nspans; i++) {
		if (c->spans[i].num == n) {
			snprintf(c->spans[i].addr, sizeof(c->spans[i].addr), "%s", end + 1);
			return 0;
		}
	}
	return ENOENT;
}

/* Runs the exchange until SIGINT/SIGTERM. Returns the exit status. */
static int run(struct psim_conf *conf)
{
	struct app a = {0};
	struct psim *p = NULL;
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	if (loop_alloc(&a.l) || loop_signal(a.l, SIGINT, on_signal, &a) ||
	    loop_signal(a.l, SIGTERM, on_signal, &a))
		goto out;
	if (psim_alloc(&p, a.l, conf, on_event, &a))
		goto out;
	if (conf->control[0] && psim_ctl_alloc(&a.ctl, a.l, p, conf->control)) {
		LOGE("pstnsim", "cannot listen on %s", conf->control);
		goto out;
	}
	LOGI("pstnsim", "ready: %zu spans, %zu subscribers, control %s", conf->nspans, conf->nsubs,
	     conf->control[0] ? conf->control : "(none)");
	rc = loop_run(a.l) ? 1 : 0;
out:
	a.ctl = mem_deref(a.ctl);
	mem_deref(p);
	if (a.l)
		loop_free(a.l);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"control", required_argument, NULL, 's'},
	    {"addr", required_argument, NULL, 'a'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"check", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *file = NULL, *control = NULL, *addrs[PSIM_MAX_SPANS];
	size_t naddrs = 0;
	bool verbose = false, check = false;
	struct psim_conf *conf = NULL;
	char err[600];
	int o, rc = 1;

	while ((o = getopt_long(argc, argv, "c:s:a:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			file = optarg;
			break;
		case 's':
			control = optarg;
			break;
		case 'a':
			if (naddrs < PSIM_MAX_SPANS)
				addrs[naddrs++] = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!file || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("pstnsim", false, verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (psim_conf_load(&conf, file, err, sizeof(err))) {
		fprintf(stderr, "pstnsim: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < naddrs; i++) {
		if (addr_override(conf, addrs[i])) {
			fprintf(stderr, "pstnsim: --addr %s: no such span in %s\n", addrs[i], file);
			goto out;
		}
	}
	if (check) {
		printf("%s: ok, %zu spans, %zu subscribers\n", file, conf->nspans, conf->nsubs);
		rc = 0;
		goto out;
	}
	if (control)
		snprintf(conf->control, sizeof(conf->control), "%s", control);
	rc = run(conf);
out:
	mem_deref(conf);
	return rc;
}
