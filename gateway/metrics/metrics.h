/*
 * metrics: Prometheus metrics for tandemd: a registry that modules add
 * counters, gauges and histograms to, the text exposition format (version
 * 0.0.4, what every Prometheus scrapes), and a tiny HTTP/1.1 endpoint that
 * serves GET /metrics on the loop.
 *
 * Series must be bounded. A label takes its values from a small fixed set
 * (span number, direction, result class, Q.850 cause, SIP status class),
 * never from a Call-ID, a number or a user name: per-call facts go to the CDR
 * (gateway/cdr), and Prometheus sees them aggregated (active calls per span,
 * set-up time and duration histograms per direction, causes per side). Each
 * family also has a hard cap on series (METRICS_MAX_SERIES by default); past
 * it metric_get() returns NULL, updates through NULL are no-ops, and the
 * registry counts the refusals in tandem_metrics_series_refused_total.
 *
 * Threading: not thread-safe: the registry, its series and the endpoint
 * belong to the loop thread (media statistics arrive there as events).
 * Ownership: family and series pointers stay valid until metrics_free();
 * callers cache them and update without lookups on the hot path.
 */
#ifndef TANDEM_METRICS_METRICS_H
#define TANDEM_METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct sa;
struct metrics;
struct metric;
struct metric_series;

#include "core/version.h"

#define METRICS_MAX_LABELS  4
#define METRICS_MAX_SERIES  256
#define METRICS_MAX_BUCKETS 32

/* Label values in label-name order: metric_get(f, METRIC_LABELS("1", "out")). */
#define METRIC_LABELS(...) ((const char *const[]){__VA_ARGS__})

/* Called before each exposition so a module can set gauges from its state. */
typedef void(metrics_collect_h)(struct metrics *m, void *arg);

/* The registry starts with tandem_metrics_series_refused_total,
 * tandem_build_info{version} and process_start_time_seconds. */
int metrics_alloc(struct metrics **mp);
void metrics_free(struct metrics *m);
int metrics_on_collect(struct metrics *m, metrics_collect_h *h, void *arg);

/*
 * Adds a family. name: [a-zA-Z_:][a-zA-Z0-9_:]* (counters should end in
 * _total, units in the name: _seconds, _bytes); labels: comma-separated
 * label names ("span,direction") or NULL. A family without labels has its one
 * series from the start, so it is exported as 0 before the first update.
 * EINVAL for a bad name or labels, EEXIST for a name already registered.
 */
int metrics_counter(struct metrics *m, struct metric **fp, const char *name, const char *help,
                    const char *labels);
int metrics_gauge(struct metrics *m, struct metric **fp, const char *name, const char *help,
                  const char *labels);
/* bounds: the buckets' upper bounds, strictly increasing, finite (+Inf is implied). */
int metrics_histogram(struct metrics *m, struct metric **fp, const char *name, const char *help,
                      const char *labels, const double *bounds, unsigned nbounds);
void metric_set_max_series(struct metric *f, unsigned max);

/*
 * The series for these label values (as many as the family has label names;
 * NULL for none), created on first use. NULL when out of memory or past the
 * family's series cap.
 */
struct metric_series *metric_get(struct metric *f, const char *const *values);
/* Drops a series (a span removed by a reload). */
void metric_remove(struct metric *f, const char *const *values);

/* All accept NULL (a refused series) and do nothing then. */
void metric_inc(struct metric_series *s);
/* Counter: v >= 0 (a negative or NaN v is ignored). Gauge: any v. */
void metric_add(struct metric_series *s, double v);
void metric_set(struct metric_series *s, double v);     /* gauge only */
void metric_observe(struct metric_series *s, double v); /* histogram only */
double metric_value(const struct metric_series *s);     /* counter/gauge; count for histograms */

/* The exposition text (malloc'ed, caller frees) and its length. ENOMEM. */
int metrics_render(struct metrics *m, char **textp, size_t *lenp);

/* Buckets for the call metrics (seconds). */
extern const double metrics_buckets_setup[];
extern const unsigned metrics_nbuckets_setup;
extern const double metrics_buckets_duration[];
extern const unsigned metrics_nbuckets_duration;
extern const double metrics_buckets_jitter[];
extern const unsigned metrics_nbuckets_jitter;

/* ---- the HTTP endpoint ---- */

struct metrics_http;

struct metrics_http_config {
	unsigned max_conns;  /* 0: 8 */
	unsigned timeout_ms; /* a request must arrive and the reply leave within it; 0: 5000 */
};

/*
 * Serves GET /metrics (and HEAD) on addr, HTTP/1.1, one request per
 * connection; anything else gets 404/405/400. addr should be loopback (the
 * endpoint has no authentication); port 0 picks a free one. cfg may be NULL.
 */
int metrics_http_alloc(struct metrics_http **hp, struct loop *loop, struct metrics *m,
                       const struct sa *addr, const struct metrics_http_config *cfg);
void metrics_http_free(struct metrics_http *h);
/* The bound port (useful with port 0). */
uint16_t metrics_http_port(const struct metrics_http *h);

#endif

/* ---- call metrics (bounded: no label holds a call's identity) ---- */

/*
 * Families added by metrics_calls_alloc():
 *   tandem_calls_active{direction,span}             gauge (span="none": no PRI leg)
 *   tandem_calls_total{direction,result}             counter, at call end
 *   tandem_call_causes_total{side,cause}             counter, Q.850 cause per side
 *   tandem_call_setup_seconds{direction}             histogram, start -> answer
 *   tandem_call_duration_seconds{direction}          histogram, answer -> end
 *   tandem_rtp_packets_received_total{span}          counter
 *   tandem_rtp_packets_lost_total{span}              counter
 *   tandem_rtp_jitter_seconds{direction}             histogram of each call's final jitter
 * result is one of answered, busy, no_answer, rejected, unallocated, congestion,
 * cancelled, failed (from the causes, see calls.c). Series: 3 directions x
 * (spans + 1) + 3 x 8 + 2 x 128 + a few: bounded by configuration, not traffic.
 */
struct metrics_calls;
struct cdr_rec;

int metrics_calls_alloc(struct metrics_calls **mcp, struct metrics *m);
void metrics_calls_free(struct metrics_calls *mc);
/* A call took (+1) or left (-1) a span's channel, or a SIP-only call began/ended (span 0). */
void metrics_calls_active(struct metrics_calls *mc, int dir, int span, int delta);
/* The call ended: counters and histograms from its CDR (the same record cdr_write takes). */
void metrics_calls_end(struct metrics_calls *mc, const struct cdr_rec *r);
/* The result class metrics_calls_end() counts r under. */
const char *metrics_call_result(const struct cdr_rec *r);
