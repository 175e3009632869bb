/*
 * pri: ISDN PRI signalling on a span, through libpri (prefix tpri_, since
 * libpri owns pri_ and PRI_).
 *
 * One libpri instance per span, made with pri_new_cb() on the span's D-channel
 * (frames carry libpri's two FCS bytes both ways, see tdm/span/span.h). The
 * span's D-channel handler and one struct tmr (set from pri_schedule_next())
 * pump libpri from the loop; libpri's message and error output goes to
 * core/log with the span as context. Calls are struct tpri_call; what happens
 * to them comes back as struct tpri_event to one handler.
 *
 * Ownership: a tpri is a mem object holding a reference to its span; its calls
 * belong to it (the tpri keeps them until they end; mem_ref one to keep it
 * longer). Threading: all on the span's loop. A handler may call any tpri_call_
 * function but must not free the tpri.
 */
#ifndef TANDEM_TDM_PRI_H
#define TANDEM_TDM_PRI_H

#include <stdbool.h>
#include <stdint.h>

struct span;
struct tpri;
struct tpri_call;

enum tpri_node {
	TPRI_NET, /* we are the network (the exchange) */
	TPRI_CPE, /* we are the user side (a PBX, the gateway) */
};

enum tpri_switch {
	TPRI_SW_EUROISDN_E1,
	TPRI_SW_EUROISDN_T1,
	TPRI_SW_NI1,
	TPRI_SW_NI2,
	TPRI_SW_DMS100,
	TPRI_SW_4ESS,
	TPRI_SW_5ESS,
	TPRI_SW_QSIG,
};

/* "euroisdn" (= "euroisdn_e1"), "euroisdn_t1", "ni1", "ni2", "dms100", "4ess", "5ess", "qsig". */
int tpri_switch_parse(const char *name, enum tpri_switch *sw);
const char *tpri_switch_name(enum tpri_switch sw);

struct tpri_conf {
	enum tpri_node node;
	enum tpri_switch sw;
	int debug; /* libpri PRI_DEBUG_* bits, 0: quiet */
	/* Q.921/Q.931 timers in ms (or counts for n200); 0 keeps libpri's default. */
	int t200, t203, n200, t309;
};

/* Q.931 type of number and numbering plan, as in the called/calling party IEs. */
enum tpri_ton {
	TPRI_TON_UNKNOWN = 0,
	TPRI_TON_INTERNATIONAL = 1,
	TPRI_TON_NATIONAL = 2,
	TPRI_TON_NETWORK = 3,
	TPRI_TON_SUBSCRIBER = 4,
	TPRI_TON_ABBREVIATED = 6,
};

enum tpri_npi {
	TPRI_NPI_UNKNOWN = 0,
	TPRI_NPI_E164 = 1,
	TPRI_NPI_NATIONAL = 8,
	TPRI_NPI_PRIVATE = 9,
};

#define TPRI_NUM_MAX 32

struct tpri_number {
	char digits[TPRI_NUM_MAX];
	uint8_t ton;  /* enum tpri_ton */
	uint8_t npi;  /* enum tpri_npi */
	uint8_t pres; /* Q.931 presentation and screening octet (PRI_PRES_*), 0: allowed */
};

enum tpri_ev_type {
	TPRI_EV_DCHAN_UP,
	TPRI_EV_DCHAN_DOWN,
	TPRI_EV_RING,	    /* SETUP received: ev.call is new, ev.called/calling set */
	TPRI_EV_PROCEEDING, /* CALL PROCEEDING */
	TPRI_EV_ALERTING,   /* ALERTING */
	TPRI_EV_PROGRESS,   /* PROGRESS (ev.progress: PRI_PROG_* bits) */
	TPRI_EV_ANSWER,	    /* CONNECT */
	TPRI_EV_HANGUP,	    /* the call is over (ev.cause: Q.850); ev.call ends after this */
	TPRI_EV_RESTART,    /* RESTART of ev.channel (0: all) */
};

struct tpri_event {
	enum tpri_ev_type type;
	struct tpri_call *call; /* NULL for link events */
	int channel;		/* timeslot, 0: unknown or any */
	int cause;		/* HANGUP: Q.850 cause value */
	int progress;		/* PRI_PROG_* bits of a progress indicator */
	bool complete;		/* RING: sending complete */
	const struct tpri_number *called, *calling; /* RING only */
};

typedef void(tpri_event_h)(struct tpri *tp, const struct tpri_event *ev, void *arg);

/* Starts PRI on an opened (or opening) span; the link comes up by itself. */
int tpri_alloc(struct tpri **tpp, struct span *sp, const struct tpri_conf *conf, tpri_event_h *h,
	       void *arg);
bool tpri_dchan_up(const struct tpri *tp);
/* Captures the D-channel to a pcap file (LINUX_LAPD, see tdm/capture); replaces any. */
int tpri_capture_start(struct tpri *tp, const char *path);
void tpri_capture_stop(struct tpri *tp);
struct span *tpri_span(const struct tpri *tp);
/* Calls in progress on this span. */
unsigned tpri_ncalls(const struct tpri *tp);

/*
 * Sends SETUP. channel: the timeslot wanted (0: any); exclusive: that one or
 * none. calling may be NULL. The call is the tpri's; *callp is a borrowed pointer.
 */
int tpri_call_place(struct tpri_call **callp, struct tpri *tp, unsigned channel, bool exclusive,
		    const struct tpri_number *called, const struct tpri_number *calling);
/* For a call received: the B-channel to answer on (the network picks when asked for any). */
int tpri_call_set_channel(struct tpri_call *c, unsigned ts);
/* For a call received (RING): CALL PROCEEDING, ALERTING, PROGRESS, CONNECT. */
int tpri_call_proceeding(struct tpri_call *c, bool inband);
int tpri_call_alerting(struct tpri_call *c, bool inband);
int tpri_call_progress(struct tpri_call *c, bool inband);
int tpri_call_answer(struct tpri_call *c);
/* Clears the call with a Q.850 cause (DISCONNECT, or RELEASE COMPLETE before an answer). */
int tpri_call_hangup(struct tpri_call *c, int cause);

int tpri_call_channel(const struct tpri_call *c);
bool tpri_call_outgoing(const struct tpri_call *c);
/* Opaque user data of the call, for the layer above. */
void tpri_call_set_arg(struct tpri_call *c, void *arg);
void *tpri_call_arg(const struct tpri_call *c);

const char *tpri_ev_name(enum tpri_ev_type t);

#endif
