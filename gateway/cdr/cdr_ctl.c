/*
 * The "cdr" command of the control socket: the last N records, oldest first,
 * with times as UTC ISO 8601 so a person can read them (the raw epoch
 * milliseconds are in the database).
 */
#include "cdr/cdr.h"
#include "core/err.h"
#include "ctl/ctl.h"

#include <stdio.h>
#include <time.h>

#define CDR_CTL_DEFAULT 20
#define CDR_CTL_MAX     1000

static void put_time(struct json_w *w, const char *key, int64_t ms)
{
	char buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (!ms) {
		json_null(w, key);
		return;
	}
	gmtime_r(&t, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(ms % 1000));
	json_str(w, key, buf);
}

static void put_opt(struct json_w *w, const char *key, int v)
{
	if (v)
		json_int(w, key, v);
	else
		json_null(w, key);
}

static void put_rec(const struct cdr_rec *r, void *arg)
{
	struct json_w *w = arg;
	int64_t billed = r->answer_ms ? r->end_ms - r->answer_ms : 0;

	json_obj_begin(w, NULL);
	json_int(w, "id", r->id);
	put_time(w, "start", r->start_ms);
	json_str(w, "dir", cdr_dir_name(r->dir));
	json_str(w, "calling", r->calling);
	json_str(w, "called", r->called);
	json_double(w, "billsec", (double)billed / 1000.0);
	put_opt(w, "sip", r->sip_status);
	put_opt(w, "cause_sip", r->cause_sip);
	put_opt(w, "cause_pstn", r->cause_pstn);
	json_str(w, "ended_by", cdr_end_name(r->ended_by));
	put_opt(w, "span", r->span);
	put_opt(w, "chan", r->channel);
	json_uint(w, "rtp_rx", r->rtp_rx);
	json_uint(w, "rtp_lost", r->rtp_lost);
	json_double(w, "jitter_ms", r->jitter_ms);
	json_double(w, "jitter_max_ms", r->jitter_max_ms);
	put_time(w, "answer", r->answer_ms);
	put_time(w, "end", r->end_ms);
	json_str(w, "call_id", r->call_id);
	json_obj_end(w);
}

static int cmd_cdr(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct cdr *c = arg;
	int64_t n = CDR_CTL_DEFAULT;
	uint64_t total;
	int err = ctl_req_int(req, "last", &n);

	if ((err && err != ENOENT) || n < 1 || n > CDR_CTL_MAX) {
		ctl_req_fail(req, "last must be a number from 1 to %d", CDR_CTL_MAX);
		return EINVAL;
	}
	err = cdr_count(c, &total);
	if (err)
		return err;
	json_uint(w, "total", total);
	json_arr_begin(w, "cdrs");
	err = cdr_last(c, (unsigned)n, put_rec, w);
	json_arr_end(w);
	return err;
}

int cdr_ctl_register(struct cdr *c, struct ctl *ctl)
{
	return ctl_register(ctl, "cdr", cmd_cdr, c,
	                    "the last call detail records (last=N, default 20)");
}
