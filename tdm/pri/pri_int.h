/*
 * pri internals shared by pri.c (the libpri glue) and the feature files
 * hunt.c (B-channel state, hunting, glare), overlap.c (SETUP options,
 * overlap sending and receiving) and service.c (RESTART, SERVICE).
 * Not a public header: the layers above include tdm/pri/pri.h only.
 */
#ifndef TANDEM_TDM_PRI_INT_H
#define TANDEM_TDM_PRI_INT_H

#include <libpri.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "tdm/pri/pri.h"
#include "tdm/span/span.h"

struct tpri_call {
	struct tpri_call *next;
	struct tpri *tp; /* not a reference: the tpri owns its calls */
	q931_call *qc;   /* NULL once libpri let go of it */
	int channel;
	bool outgoing;
	bool responded; /* incoming: we sent PROCEEDING, ALERTING, PROGRESS or CONNECT;
	                   outgoing: the far end answered the SETUP */
	bool cleared;   /* we asked libpri to clear it */
	bool reported;  /* TPRI_EV_HANGUP delivered */
	void *arg;
	struct loop_defer gone; /* libpri freed the call on our hangup: report it */
	int gone_cause;

	/* incoming, overlap receiving (overlap.c) */
	bool collecting; /* SETUP ACKNOWLEDGE sent: digits come by INFORMATION */
	bool rung;       /* TPRI_EV_RING delivered */
	int requested;   /* the channel the SETUP asked for (0: any) */
	struct tmr t302;
	struct tpri_number called, calling, redirecting;
	int redirect_reason;
};

struct logbuf {
	char b[512];
	size_t n;
};

struct tpri {
	struct span *sp;
	struct pri *ctrl;
	struct tpri_conf conf;
	tpri_event_h *h;
	void *arg;
	struct tmr tmr;
	bool up;
	struct tpri_call *calls;
	unsigned ncalls;
	uint8_t rx[SPAN_DFRAME_MAX];
	size_t rxlen;
	struct logbuf msg, err;
	struct lapdcap *cap;

	/* features */
	tpri_digits_h *digitsh;
	void *digits_arg;
	uint32_t oos_local;  /* timeslot bits we took out of service */
	uint32_t oos_remote; /* ... the far end took out (SERVICE) */
	uint32_t restarting; /* RESTART sent, not acknowledged */
	uint32_t failed;     /* RESTART never acknowledged: out of service */
	uint8_t restart_tries[SPAN_MAX_TS + 1];
	struct tmr t316;
	bool was_up;      /* the link came up once: start-up RESTART done */
	unsigned rr_last; /* round robin: last timeslot taken */
};

/* pri.c */
int tpri__call_new(struct tpri_call **cp, struct tpri *tp, q931_call *qc, bool outgoing);
struct tpri_call *tpri__call_find(struct tpri *tp, q931_call *qc);
void tpri__call_unlink(struct tpri_call *c);
void tpri__call_report_hangup(struct tpri_call *c, int cause);
void tpri__emit(struct tpri *tp, struct tpri_event *ev);
void tpri__resched(struct tpri *tp);
void tpri__number_from(struct tpri_number *n, const char *digits, int plan, int pres);
int tpri__plan_of(const struct tpri_number *n);

/* hunt.c: picks the channel of a SETUP received; false: rejected (cause sent). */
bool tpri__ring_channel(struct tpri *tp, struct tpri_call *c, int requested, bool flexible);

/* overlap.c */
void tpri__ring(struct tpri *tp, struct tpri_call *c, const pri_event_ring *r);
void tpri__call_gone(struct tpri_call *c);
bool tpri__overlap_event(struct tpri *tp, pri_event *e);

/* service.c: events pri.c does not handle itself; false if not ours either. */
bool tpri__event(struct tpri *tp, pri_event *e);
void tpri__link_up(struct tpri *tp);
void tpri__restart_rx(struct tpri *tp, int channel);
void tpri__features_init(struct tpri *tp);
void tpri__features_close(struct tpri *tp);

#endif
