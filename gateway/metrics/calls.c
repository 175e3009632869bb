/*
 * Call metrics: what Prometheus should know about calls without one series
 * per call. The CDR has each call; here calls are counted by direction,
 * result class, cause and span, and timed in histograms.
 */
#include "metrics/metrics.h"
#include "cdr/cdr.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct metrics_calls {
	struct metric *active, *total, *causes, *setup, *duration, *rx, *lost, *jitter;
};

/* Q.850 cause -> result class of an unanswered call (tables over code). */
static const struct {
	int cause;
	const char *result;
} cause_result[] = {
    {17, "busy"},       {18, "no_answer"},  {19, "no_answer"},   {21, "rejected"},
    {1, "unallocated"}, {3, "unallocated"}, {22, "unallocated"}, {28, "unallocated"},
    {34, "congestion"}, {38, "congestion"}, {41, "congestion"},  {42, "congestion"},
    {44, "congestion"}, {47, "congestion"},
};

const char *metrics_call_result(const struct cdr_rec *r)
{
	int cause = r->cause_pstn ? r->cause_pstn : r->cause_sip;
	bool by_caller;

	if (r->answer_ms)
		return "answered";
	for (size_t i = 0; i < ARRAY_SIZE(cause_result); i++)
		if (cause_result[i].cause == cause)
			return cause_result[i].result;
	/* the caller gave up before the answer: CANCEL, or a normal clearing from its side */
	by_caller = r->dir == CDR_DIR_IN ? r->ended_by == CDR_END_PSTN : r->ended_by == CDR_END_SIP;
	if (r->sip_status == 487 || (by_caller && (cause == 0 || cause == 16 || cause == 31)))
		return "cancelled";
	return "failed";
}

static void span_label(int span, char *buf, size_t n)
{
	if (span > 0)
		snprintf(buf, n, "%d", span);
	else
		snprintf(buf, n, "none");
}

int metrics_calls_alloc(struct metrics_calls **mcp, struct metrics *m)
{
	struct metrics_calls *mc = calloc(1, sizeof(*mc));
	int err;

	if (!mc)
		return ENOMEM;
	err = metrics_gauge(m, &mc->active, "tandem_calls_active",
	                    "Calls in progress, by direction and span.", "direction,span");
	if (!err)
		err = metrics_counter(m, &mc->total, "tandem_calls_total",
		                      "Calls ended, by direction and result.", "direction,result");
	if (!err)
		err = metrics_counter(m, &mc->causes, "tandem_call_causes_total",
		                      "Q.850 causes at call end, by side.", "side,cause");
	if (!err)
		err = metrics_histogram(m, &mc->setup, "tandem_call_setup_seconds",
		                        "From the first request to the answer.", "direction",
		                        metrics_buckets_setup, metrics_nbuckets_setup);
	if (!err)
		err =
		    metrics_histogram(m, &mc->duration, "tandem_call_duration_seconds",
		                      "From the answer to the end of answered calls.", "direction",
		                      metrics_buckets_duration, metrics_nbuckets_duration);
	if (!err)
		err = metrics_counter(m, &mc->rx, "tandem_rtp_packets_received_total",
		                      "RTP packets received, by span.", "span");
	if (!err)
		err = metrics_counter(m, &mc->lost, "tandem_rtp_packets_lost_total",
		                      "RTP packets lost (RFC 3550), by span.", "span");
	if (!err)
		err =
		    metrics_histogram(m, &mc->jitter, "tandem_rtp_jitter_seconds",
		                      "RFC 3550 interarrival jitter at each call's end.",
		                      "direction", metrics_buckets_jitter, metrics_nbuckets_jitter);
	if (err) {
		free(mc); /* the families stay in the registry until metrics_free */
		return err;
	}
	*mcp = mc;
	return 0;
}

void metrics_calls_free(struct metrics_calls *mc)
{
	free(mc);
}

void metrics_calls_active(struct metrics_calls *mc, int dir, int span, int delta)
{
	char sp[16];

	if (!mc)
		return;
	span_label(span, sp, sizeof(sp));
	metric_add(metric_get(mc->active, METRIC_LABELS(cdr_dir_name(dir), sp)), delta);
}

static void count_cause(struct metrics_calls *mc, const char *side, int cause)
{
	char c[8];

	if (cause <= 0 || cause > 127)
		return;
	snprintf(c, sizeof(c), "%d", cause);
	metric_inc(metric_get(mc->causes, METRIC_LABELS(side, c)));
}

void metrics_calls_end(struct metrics_calls *mc, const struct cdr_rec *r)
{
	const char *dir;
	char sp[16];

	if (!mc || !r)
		return;
	dir = cdr_dir_name(r->dir);
	span_label(r->span, sp, sizeof(sp));
	metric_inc(metric_get(mc->total, METRIC_LABELS(dir, metrics_call_result(r))));
	count_cause(mc, "sip", r->cause_sip);
	count_cause(mc, "pstn", r->cause_pstn);
	if (r->answer_ms) {
		metric_observe(metric_get(mc->setup, METRIC_LABELS(dir)),
		               (double)(r->answer_ms - r->start_ms) / 1000.0);
		metric_observe(metric_get(mc->duration, METRIC_LABELS(dir)),
		               (double)(r->end_ms - r->answer_ms) / 1000.0);
	}
	if (r->rtp_rx || r->rtp_lost) {
		metric_add(metric_get(mc->rx, METRIC_LABELS(sp)), (double)r->rtp_rx);
		metric_add(metric_get(mc->lost, METRIC_LABELS(sp)), (double)r->rtp_lost);
		metric_observe(metric_get(mc->jitter, METRIC_LABELS(dir)), r->jitter_ms / 1000.0);
	}
}
