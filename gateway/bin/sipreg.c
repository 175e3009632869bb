/*
 * sipreg: a registrar on gateway/sip/ua + gateway/registrar, for end-to-end tests.
 *
 *   sipreg --listen udp:127.0.0.1:5060 [--listen tcp:...] --db FILE
 *          [--realm R] [--min-expires S] [--max-expires S] [--max-contacts N]
 *          [--static AOR=URI]... [--md5-only]
 *       answers REGISTER for the demo users 1001-1004 (password "demo" + user),
 *       prints "LISTEN tp addr", then one "EVENT ..." line per binding change,
 *       and "RESULT sipreg requests=N ok=N ..." on SIGTERM/SIGINT.
 *   sipreg --db FILE --dump
 *       prints one "BINDING ..." line per unexpired binding and exits.
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
#include "registrar/registrar.h"
#include "provisioning/config.h"
#include "sip/auth/auth.h"
#include "sip/ua/ua.h"

struct app {
	struct loop *loop;
	struct sip_ua *ua;
	struct reg *reg;
	struct reg_config rc;
	struct sip_ua_config uc;
	const char *statics[16];
	unsigned nstatic;
	bool dump;
};

static void print_contact(const char *what, const struct reg_contact *c)
{
	char src[SA_STRLEN] = "-", q[8];

	if (sa_isset(&c->source))
		sa_str(&c->source, src, sizeof(src));
	printf("%s aor=%s uri=%s expires=%lld q=%s tp=%s source=%s static=%d path=%s "
	       "instance=%s reg_id=%d\n",
	       what, c->aor, c->uri, (long long)c->expires_in, reg_q_print(c->q, q, sizeof(q)),
	       c->tp == SIP_TP_NONE ? "-" : sip_tp_name(c->tp), src, c->is_static,
	       c->path ? c->path : "-", c->instance ? c->instance : "-", c->reg_id);
	fflush(stdout);
}

static void on_event(enum reg_event ev, const struct reg_contact *c, void *arg)
{
	char what[32];

	snprintf(what, sizeof(what), "EVENT %s", reg_event_name(ev));
	print_contact(what, c);
}

static void on_binding(const struct reg_contact *c, void *arg)
{
	print_contact("BINDING", c);
}

static void on_signal(int signo, void *arg)
{
	struct app *app = arg;
	struct reg_stats st;

	reg_stats(app->reg, &st);
	printf("RESULT sipreg requests=%llu ok=%llu challenged=%llu forbidden=%llu "
	       "not_found=%llu too_brief=%llu bad_request=%llu out_of_order=%llu added=%llu "
	       "refreshed=%llu removed=%llu expired=%llu\n",
	       (unsigned long long)st.requests, (unsigned long long)st.ok,
	       (unsigned long long)st.challenged, (unsigned long long)st.forbidden,
	       (unsigned long long)st.not_found, (unsigned long long)st.too_brief,
	       (unsigned long long)st.bad_request, (unsigned long long)st.out_of_order,
	       (unsigned long long)st.added, (unsigned long long)st.refreshed,
	       (unsigned long long)st.removed, (unsigned long long)st.expired);
	fflush(stdout);
	loop_stop(app->loop);
}

/* TRANSPORT:ADDR[:PORT], parsed as the YAML listen entries are. */
static int parse_listen(struct sip_ua_config *cfg, const char *arg)
{
	struct cfg_listen l;

	if (cfg->nlisten >= SIP_UA_MAX_LISTEN || cfg_parse_listen(arg, &l))
		return EINVAL;
	cfg->listen[cfg->nlisten].tp = l.tp;
	cfg->listen[cfg->nlisten++].addr = l.addr;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: sipreg --db FILE (--dump | --listen udp|tcp:ADDR:PORT ... "
	                "[--realm R] [--min-expires S] [--max-expires S] [--max-contacts N] "
	                "[--static AOR=URI]... [--md5-only]) [-v]\n");
}

static int parse_args(int argc, char **argv, struct app *app)
{
	static const struct option lo[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"db", required_argument, NULL, 'd'},
	    {"realm", required_argument, NULL, 'r'},
	    {"min-expires", required_argument, NULL, 'm'},
	    {"max-expires", required_argument, NULL, 'M'},
	    {"max-contacts", required_argument, NULL, 'c'},
	    {"static", required_argument, NULL, 's'},
	    {"dump", no_argument, NULL, 'D'},
	    {"md5-only", no_argument, NULL, '5'},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (parse_listen(&app->uc, optarg)) {
				fprintf(stderr, "sipreg: bad --listen %s\n", optarg);
				return 2;
			}
			break;
		case 'd':
			app->rc.db = optarg;
			break;
		case 'r':
			app->rc.realm = optarg;
			break;
		case 'm':
			app->rc.min_expires = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'M':
			app->rc.max_expires = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			app->rc.max_contacts = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (app->nstatic == ARRAY_SIZE(app->statics) || !strchr(optarg, '='))
				return 2;
			app->statics[app->nstatic++] = optarg;
			break;
		case 'D':
			app->dump = true;
			break;
		case '5': /* as `digest_algorithms: [md5]` in tandemd's registrar section */
			app->rc.algs = (struct sip_digest_algs){{SIP_DIGEST_MD5}, 1};
			break;
		case 'v':
			log_set_level(LOG_LVL_DEBUG);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!app->rc.db || (!app->dump && !app->uc.nlisten)) {
		usage();
		return 2;
	}
	return 0;
}

static int add_statics(struct app *app)
{
	for (unsigned i = 0; i < app->nstatic; i++) {
		char aor[64];
		const char *eq = strchr(app->statics[i], '=');
		snprintf(aor, sizeof(aor), "%.*s", (int)(eq - app->statics[i]), app->statics[i]);
		if (reg_static_add(app->reg, aor, eq + 1, 1000, NULL)) {
			fprintf(stderr, "sipreg: bad --static %s\n", app->statics[i]);
			return 2;
		}
	}
	return 0;
}

static int dump(struct app *app)
{
	unsigned n = 0;
	int err = reg_alloc(&app->reg, NULL, NULL, &app->rc);

	if (err) {
		fprintf(stderr, "sipreg: cannot open %s: %s\n", app->rc.db, strerror(err));
		return 1;
	}
	err = reg_foreach(app->reg, on_binding, NULL, &n);
	printf("COUNT %u\n", n);
	reg_free(app->reg);
	return err ? 1 : 0;
}

static void print_listeners(struct app *app)
{
	for (unsigned i = 0; i < app->uc.nlisten; i++) {
		char buf[SA_STRLEN];
		struct sa a;
		if (!sip_ua_local(app->ua, app->uc.listen[i].tp, sa_af(&app->uc.listen[i].addr),
		                  &a))
			printf("LISTEN %s %s\n", sip_tp_name(app->uc.listen[i].tp),
			       sa_str(&a, buf, sizeof(buf)));
	}
	fflush(stdout);
}

static int serve(struct app *app)
{
	int err = loop_alloc(&app->loop);

	if (err)
		return 1;
	app->uc.user_agent = "sipreg (Tandem)";
	err = sip_ua_alloc(&app->ua, app->loop, &app->uc);
	if (!err)
		err = reg_alloc(&app->reg, app->loop, app->ua, &app->rc);
	for (unsigned u = 1001; !err && u <= 1004; u++) {
		char user[8], pw[16];
		snprintf(user, sizeof(user), "%u", u);
		snprintf(pw, sizeof(pw), "demo%u", u);
		err = reg_user_set(app->reg, user, pw);
	}
	if (err) {
		fprintf(stderr, "sipreg: cannot start: %s\n", strerror(err));
	} else if (!add_statics(app)) {
		loop_signal(app->loop, SIGTERM, on_signal, app);
		loop_signal(app->loop, SIGINT, on_signal, app);
		print_listeners(app);
		loop_run(app->loop);
	}
	/* the UA first: it holds the REGISTER handler's pointer to the registrar */
	if (app->ua)
		sip_ua_free(app->ua);
	reg_free(app->reg);
	loop_free(app->loop);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct app app = {0};
	int err;

	log_init("sipreg", false, LOG_LVL_WARN);
	app.rc.realm = "tandem";
	app.rc.event = on_event;
	app.rc.event_arg = &app;
	err = parse_args(argc, argv, &app);
	if (err)
		return err;
	signal(SIGPIPE, SIG_IGN);
	return app.dump ? dump(&app) : serve(&app);
}
