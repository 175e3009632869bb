/*
 * Call control: the calls list, the spans, PRI event dispatch, and a call's
 * lifetime. A call is freed from deferred work once both legs are gone (the
 * SIP sessions closed and the PRI call's one HANGUP event seen), so that no
 * handler ever runs on a freed call.
 */
#include "call/call_int.h"

#include "cause/cause.h"
#include "cdr/cdr.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "metrics/metrics.h"
#include "provisioning/config.h"
#include "sip/ua/ua.h"
#include "tdm/span/span.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* call_dir and cdr_dir name the same directions in the same order. */
_Static_assert((int)CALL_OUT == (int)CDR_DIR_OUT && (int)CALL_IN == (int)CDR_DIR_IN &&
                   (int)CALL_LOCAL == (int)CDR_DIR_LOCAL,
               "call_dir and cdr_dir differ");

int64_t call_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void call_ended_by(struct call *c, int who)
{
	if (c->ended_by == CDR_END_UNKNOWN)
		c->ended_by = who;
}

/* Moves the call in the active-calls gauge to span (0: no PRI leg; -1: out of it). */
static void call_gauge(struct call *c, int span)
{
	struct metrics_calls *mc = c->cc ? c->cc->cfg.mcalls : NULL;

	if (c->m_span == span)
		return;
	if (c->m_span >= 0)
		metrics_calls_active(mc, (int)c->dir, c->m_span, -1);
	if (span >= 0)
		metrics_calls_active(mc, (int)c->dir, span, +1);
	c->m_span = span;
}

/* The CDR and the call metrics, once, from the same record. */
static void call_record(struct call *c)
{
	struct call_ctl *cc = c->cc;
	struct cdr_rec r = {
	    .call_id = c->callid[0] ? c->callid : NULL,
	    .dir = (enum cdr_dir)c->dir,
	    .calling = c->calling.digits[0] ? c->calling.digits : NULL,
	    .called = c->called.digits[0] ? c->called.digits : NULL,
	    .start_ms = c->start_ms,
	    .answer_ms = c->answered ? c->answer_ms : 0,
	    .end_ms = call_wall_ms(),
	    .sip_status = c->answered ? 200 : c->sip_status ? c->sip_status : c->best,
	    .cause_sip = c->cause_sip,
	    .cause_pstn = c->cause_pstn,
	    .ended_by = c->ended_by ? (enum cdr_end)c->ended_by : CDR_END_GATEWAY,
	    .span = c->span,
	    .channel = c->chan,
	};
	int err;

	if (c->recorded || !cc)
		return;
	c->recorded = true;
	call_media_cdr(c, &r);
	if (r.end_ms < r.start_ms) /* the wall clock stepped back */
		r.end_ms = r.start_ms;
	call_gauge(c, -1);
	metrics_calls_end(cc->cfg.mcalls, &r);
	if (cc->cfg.cdr && (err = cdr_write(cc->cfg.cdr, &r)))
		LOGE(c->ctx, "CDR not written: %s", strerror(err));
}

static void call_unlink(struct call *c)
{
	struct call_ctl *cc = c->cc;

	if (c->prev)
		c->prev->next = c->next;
	else if (cc->calls == c)
		cc->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	if (cc->st.active)
		cc->st.active--;
}

static void call_destroy(void *arg)
{
	struct call *c = arg;

	call_media_close(c);
	if (c->cc) {
		loop_defer_cancel(c->cc->loop, &c->free_defer);
		call_unlink(c);
	}
}

int call_alloc(struct call **cp, struct call_ctl *cc, enum call_dir dir)
{
	struct call *c = mem_zalloc(sizeof(*c), call_destroy);

	if (!c)
		return ENOMEM;
	c->cc = cc;
	c->dir = dir;
	c->rtp_fd = c->rtcp_fd = -1;
	c->start_ms = call_wall_ms();
	c->start_mono = loop_clock_ms();
	c->m_span = -1;
	c->next = cc->calls;
	if (cc->calls)
		cc->calls->prev = c;
	cc->calls = c;
	cc->st.active++;
	if (dir == CALL_LOCAL)
		call_gauge(c, 0);
	*cp = c;
	return 0;
}

static void call_free_deferred(void *arg)
{
	struct call *c = arg;

	LOGI(c->ctx, "call over (%s)", c->answered ? "answered" : "not answered");
	mem_deref(c);
}

void call_check_done(struct call *c)
{
	if (c->done || c->sess || c->a || c->nlive || c->pc)
		return;
	if (call_media_busy(c)) { /* freed when the engine says the channel stopped */
		call_media_stop(c);
		return;
	}
	c->done = true;
	call_record(c);
	loop_defer(c->cc->loop, &c->free_defer, call_free_deferred, c);
}

void call_set_ctx(struct call *c)
{
	int n = snprintf(c->ctx, sizeof(c->ctx), "call=%s", c->callid[0] ? c->callid : "-");

	if (c->tp && c->pc) {
		c->span = (int)tpri_span(c->tp)->conf.num;
		c->chan = tpri_call_channel(c->pc);
		call_gauge(c, c->span);
	}
	if (c->tp && c->pc && n > 0 && (size_t)n < sizeof(c->ctx))
		snprintf(c->ctx + n, sizeof(c->ctx) - (size_t)n, " span=%u/%d",
		         tpri_span(c->tp)->conf.num, tpri_call_channel(c->pc));
}

int call_reason_hdr(char *buf, size_t size, int cause)
{
	char v[96];
	int n;

	if (cause_reason_fmt(v, sizeof(v), cause > 0 && cause < 128 ? (unsigned)cause : 16))
		return EINVAL;
	n = snprintf(buf, size, "Reason: %s\r\n", v);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

static void on_pri_event(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct call_ctl *cc = arg;
	struct call *c;

	switch (ev->type) {
	case TPRI_EV_DCHAN_UP:
	case TPRI_EV_DCHAN_DOWN:
		LOGN(tpri_span(tp)->ctx, "D-channel %s",
		     ev->type == TPRI_EV_DCHAN_UP ? "up" : "down");
		return;
	case TPRI_EV_RING:
		call_in_ring(cc, tp, ev);
		return;
	default:
		break;
	}
	if (!ev->call || !(c = tpri_call_arg(ev->call)))
		return;
	mem_ref(c);
	if (ev->type == TPRI_EV_HANGUP) {
		call_xfer_abort(c); /* the transferor (if still there) gets the BYE below */
		call_media_stop(c); /* the B-channel may be hunted again at once */
		if (!c->pri_cleared)
			call_ended_by(c, CDR_END_PSTN);
		if (!c->cause_pstn)
			c->cause_pstn = ev->cause;
	}
	if (c->dir == CALL_OUT)
		call_out_pri_event(c, ev);
	else if (c->dir == CALL_IN)
		call_in_pri_event(c, ev);
	mem_deref(c);
}

int call_ctl_span_add(struct call_ctl *cc, struct span *sp, const struct tpri_conf *conf,
                      uint16_t group, struct tpri **tpp)
{
	struct call_span *s;
	int err;

	if (cc->nspans >= CALL_MAX_SPANS)
		return ENOSPC;
	s = &cc->spans[cc->nspans];
	err = tpri_alloc(&s->tp, sp, conf, on_pri_event, cc);
	if (err)
		return err;
	if (cc->engine && (err = media_engine_add_span(cc->engine, cc->nspans %
	                                                   media_engine_nworkers(cc->engine),
	                                               sp))) {
		s->tp = mem_deref(s->tp);
		return err;
	}
	s->group = group;
	tpri_set_digits_handler(s->tp, call_in_digits, cc);
	cc->nspans++;
	if (tpp)
		*tpp = s->tp;
	return 0;
}

unsigned call_ctl_span_count(const struct call_ctl *cc)
{
	return cc ? cc->nspans : 0;
}

static void ctl_destroy(void *arg)
{
	struct call_ctl *cc = arg;

	while (cc->calls) {
		struct call *c = cc->calls;

		call_unlink(c);
		call_xfer_abort(c);
		if (c->dir == CALL_OUT)
			call_out_abort(c);
		else
			call_in_abort(c); /* CALL_LOCAL too */
		if (c->pc)
			tpri_call_set_arg(c->pc, NULL);
		call_ended_by(c, CDR_END_GATEWAY);
		call_record(c);
		loop_defer_cancel(cc->loop, &c->free_defer);
		c->cc = NULL;
		mem_deref(c);
	}
	/* channels left are freed and every span's tick goes back to the signalling loop */
	mem_deref(cc->engine);
	for (unsigned i = 0; i < cc->nspans; i++)
		mem_deref(cc->spans[i].tp);
	sip_ua_set_handler(cc->cfg.ua, SIP_M_MESSAGE, NULL, NULL);
	mem_deref(cc->auth);
	mem_deref(cc->gauges);
}

static int ctl_engine(struct call_ctl *cc)
{
	const struct cfg_media *m = &cc->cfg.cfg->media;
	struct media_engine_cfg ec = {.workers = m->workers, .rt_prio = (int)m->rt_priority};
	int err = media_engine_alloc(&cc->engine, &ec, cc->loop, call_ctl_media_event, cc);

	if (!err && (err = media_engine_start(cc->engine)))
		cc->engine = mem_deref(cc->engine);
	if (err)
		LOGE(NULL, "media engine: %s", strerror(err));
	return err;
}

int call_ctl_alloc(struct call_ctl **ccp, struct loop *loop, const struct call_ctl_config *cfg)
{
	struct call_ctl *cc;
	int err;

	if (!cfg || !cfg->ua || !cfg->cfg || !cfg->routes)
		return EINVAL;
	cc = mem_zalloc(sizeof(*cc), ctl_destroy);
	if (!cc)
		return ENOMEM;
	cc->loop = loop;
	cc->cfg = *cfg;
	if (!cc->cfg.realm)
		cc->cfg.realm = sip_ua_domain(cfg->ua);
	if (!cc->cfg.retry_after)
		cc->cfg.retry_after = 300;
	call_media_prefs(cc);
	err = call_auth_alloc(cc);
	if (!err)
		err = call_ctl_message_register(cc);
	if (!err && cfg->media)
		err = ctl_engine(cc);
	if (err) {
		mem_deref(cc);
		return err;
	}
	*ccp = cc;
	return 0;
}

void call_ctl_free(struct call_ctl *cc)
{
	mem_deref(cc);
}

void call_ctl_set_config(struct call_ctl *cc, const struct tandem_config *cfg,
                         const struct route_table *routes, const struct cause_map *causes)
{
	cc->cfg.cfg = cfg;
	cc->cfg.routes = routes;
	cc->cfg.causes = causes;
	call_media_prefs(cc); /* codecs, SRTP, DTMF, ports for new calls; workers stay */
}

void call_ctl_stats(const struct call_ctl *cc, struct call_ctl_stats *st)
{
	*st = cc->st;
}

void call_leg_adopt(struct call *c, struct sip_sess *s)
{
	if (c->dir == CALL_OUT)
		call_out_leg_adopt(c, s);
	else
		call_in_leg_adopt(c, s);
}

void call_leg_gone(struct call *c, struct sip_sess *s)
{
	if (c->dir != CALL_OUT)
		call_in_leg_gone(c, s);
}

bool call_is_number(const char *user)
{
	return *user && strspn(user, "+0123456789*#") == strlen(user);
}
