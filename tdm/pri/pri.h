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
	/* Features (tdm/pri/hunt.c, overlap.c, service.c); zero: off or libpri's default. */
	int t302;	    /* overlap receiving inter-digit timer, ms (0: 15000) */
	int t316, n316;	    /* RESTART ACK wait, ms (0: 120000), and tries (0: 2) */
	int hunt;	    /* enum tpri_hunt for incoming calls that let us choose */
	bool restart_on_up; /* RESTART every idle B-channel when the link first comes up */
	bool service;	    /* SERVICE messages (NI2, 4ESS, 5ESS only: see tpri_switch_has_service) */
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
	TPRI_EV_RING,	    /* SETUP received: ev.call is new, ev.called/calling set (see below) */
	TPRI_EV_PROCEEDING, /* CALL PROCEEDING */
	TPRI_EV_ALERTING,   /* ALERTING */
	TPRI_EV_PROGRESS,   /* PROGRESS (ev.progress: PRI_PROG_* bits) */
	TPRI_EV_ANSWER,	    /* CONNECT */
	TPRI_EV_HANGUP,	    /* the call is over (ev.cause: Q.850); ev.call ends after this */
	TPRI_EV_RESTART,    /* RESTART of ev.channel (0: all) */
	TPRI_EV_SETUP_ACK,  /* SETUP ACKNOWLEDGE: send the rest with tpri_call_info() */
	TPRI_EV_DIGITS,	    /* INFORMATION with more digits (ev.digits), no digits handler set */
	TPRI_EV_SERVICE,    /* the far end put ev.channel (0: all) in or out of service */
};

struct tpri_event {
	enum tpri_ev_type type;
	struct tpri_call *call; /* NULL for link events */
	int channel;		/* timeslot, 0: unknown or any */
	int cause;		/* HANGUP: Q.850 cause value */
	int progress;		/* PRI_PROG_* bits of a progress indicator */
	bool complete;		/* RING: sending complete */
	const struct tpri_number *called, *calling; /* RING only */
	/* RING: redirecting number (digits "" if none) and reason (PRI_REDIR_*). */
	const struct tpri_number *redirecting;
	int redirect_reason;
	const char *digits; /* DIGITS */
	bool in_service;    /* SERVICE */
};

/*
 * RING: ev.channel is the channel the SETUP asked for (0: any); the call
 * already has its channel (tpri_call_channel(): hunted when "any", or another
 * one when the one asked for was busy and only preferred; a SETUP that cannot
 * have one is refused with cause 34 or 44 before any event). The call has
 * been answered with CALL PROCEEDING already when its number is complete:
 * Sending Complete, or the digits handler said so, or no digits handler and
 * a switch type without Sending Complete (all but EuroISDN: en bloc). Answer
 * any other at once (tpri_call_setup_ack() or _proceeding()): libpri forgets,
 * without an event, an unanswered call that the far end clears, and its
 * channel would stay busy.
 */
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
/*
 * Clears the call with a Q.850 cause (DISCONNECT; RELEASE COMPLETE at once for
 * causes 1, 34, 44, 81, 82, whose HANGUP event then comes from the loop).
 */
int tpri_call_hangup(struct tpri_call *c, int cause);

int tpri_call_channel(const struct tpri_call *c);
bool tpri_call_outgoing(const struct tpri_call *c);
/* Opaque user data of the call, for the layer above. */
void tpri_call_set_arg(struct tpri_call *c, void *arg);
void *tpri_call_arg(const struct tpri_call *c);

const char *tpri_ev_name(enum tpri_ev_type t);

/* ---- presentation and screening (struct tpri_number.pres, Q.931 octet 3a) ---- */

enum tpri_pres {
	TPRI_PRES_ALLOWED = 0,
	TPRI_PRES_RESTRICTED = 1,
	TPRI_PRES_UNAVAILABLE = 2,
};

enum tpri_screen {
	TPRI_SCREEN_USER_NOT_SCREENED = 0,
	TPRI_SCREEN_USER_PASSED = 1,
	TPRI_SCREEN_USER_FAILED = 2,
	TPRI_SCREEN_NETWORK = 3,
};

static inline enum tpri_pres tpri_number_pres(const struct tpri_number *n)
{
	return (enum tpri_pres)((n->pres >> 5) & 0x3);
}

static inline enum tpri_screen tpri_number_screen(const struct tpri_number *n)
{
	return (enum tpri_screen)(n->pres & 0x3);
}

static inline uint8_t tpri_pres_octet(enum tpri_pres p, enum tpri_screen s)
{
	return (uint8_t)(((unsigned)p & 0x3) << 5 | ((unsigned)s & 0x3));
}

/* ---- SETUP with every option (overlap.c) ---- */

struct tpri_setup {
	unsigned channel; /* timeslot wanted; 0: any (the network side hunts one itself) */
	bool exclusive;	  /* that channel or none; else preferred */
	bool overlap;	  /* no Sending Complete: the rest follows with tpri_call_info() */
	const struct tpri_number *called;      /* required */
	const struct tpri_number *calling;     /* may be NULL */
	const struct tpri_number *redirecting; /* may be NULL */
	int redirect_reason;		       /* PRI_REDIR_* */
};

/* Sends SETUP as s says; *callp is borrowed, as with tpri_call_place(). */
int tpri_call_setup(struct tpri_call **callp, struct tpri *tp, const struct tpri_setup *s);
/* Overlap sending: more called digits, one INFORMATION each (after TPRI_EV_SETUP_ACK). */
int tpri_call_info(struct tpri_call *c, const char *digits);
/* Overlap receiving by hand (no digits handler): SETUP ACKNOWLEDGE; digits come as DIGITS. */
int tpri_call_setup_ack(struct tpri_call *c);

/*
 * Overlap receiving. With a digits handler set, a SETUP is not given to the
 * event handler until the handler says the called number is complete: while
 * it says incomplete we answer SETUP ACKNOWLEDGE and collect INFORMATION
 * digits under T302; no match clears with cause 1, incomplete with Sending
 * Complete or at T302 expiry with cause 28. timeout: T302 expired (a last
 * chance for variable-length numbers). The RING event then has the whole number.
 */
enum tpri_digits {
	TPRI_DIGITS_COMPLETE,
	TPRI_DIGITS_INCOMPLETE,
	TPRI_DIGITS_NOMATCH,
};
typedef enum tpri_digits(tpri_digits_h)(struct tpri *tp, struct tpri_call *c,
					 const struct tpri_number *called, bool timeout, void *arg);
void tpri_set_digits_handler(struct tpri *tp, tpri_digits_h *h, void *arg);

/* ---- B-channels: state, hunting, groups (hunt.c) ---- */

enum tpri_hunt {
	TPRI_HUNT_ASC,	/* lowest free timeslot first */
	TPRI_HUNT_DESC, /* highest first (the usual choice opposite an ascending end) */
	TPRI_HUNT_RR,	/* round robin: the next free one after the last taken */
};

enum tpri_chan_state {
	TPRI_CHAN_NONE,	      /* not a B-channel of the span */
	TPRI_CHAN_IDLE,
	TPRI_CHAN_BUSY,	      /* a call holds it */
	TPRI_CHAN_RESTARTING, /* RESTART sent, no acknowledgement yet */
	TPRI_CHAN_OOS,	      /* out of service: ours, the far end's, or RESTART failed */
};

enum tpri_chan_state tpri_chan_state(const struct tpri *tp, unsigned ts);
/* A free, in-service B-channel in that order: ENOSPC if none. */
int tpri_hunt(struct tpri *tp, enum tpri_hunt order, unsigned *ts);

/* Spans hunted as one; holds references to its tpris. Hunting goes span by span. */
struct tpri_group;
int tpri_group_alloc(struct tpri_group **gp, enum tpri_hunt order);
/* Appends a span (at most 32): ascending hunting starts with the first added. */
int tpri_group_add(struct tpri_group *g, struct tpri *tp);
/* ENOSPC if every B-channel of every span with its link up is busy or out of service. */
int tpri_group_hunt(struct tpri_group *g, struct tpri **tpp, unsigned *ts);
/* Hunts, then places the call on the channel found (s->channel is ignored). */
int tpri_group_call(struct tpri_call **callp, struct tpri_group *g, const struct tpri_setup *s);

/* ---- RESTART and SERVICE (service.c) ---- */

/* Whether the switch type has SERVICE messages in libpri (NI2, 4ESS, 5ESS). */
bool tpri_switch_has_service(enum tpri_switch sw);
/* RESTART of one B-channel (0: every idle one, one RESTART each); its calls are cleared (41). */
int tpri_chan_restart(struct tpri *tp, unsigned ts);
/*
 * Takes ts (0: every B-channel) out of service for maintenance, or puts it
 * back; tells the far end with SERVICE when conf.service is set. Hunting
 * skips it from now on; a call already on it runs to its end.
 */
int tpri_chan_service(struct tpri *tp, unsigned ts, bool in_service);

#endif
