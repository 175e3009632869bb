/*
 * span: one E1/T1 span behind one interface, whatever carries it.
 *
 * A span has a D-channel (HDLC frames) and B-channels (8 kHz samples in the
 * span's law, moved in blocks of SPAN_BLOCK bytes = 20 ms per timeslot), and
 * alarms. Backends fill in struct span_ops: `virtual` (tdm/virtual, Unix
 * sockets) today, `dahdi` later. libpri drives the D-channel through
 * tdm/pri, media code the B-channels.
 *
 * D-channel frames follow DAHDI's HDLCFCS convention, which libpri expects:
 * a frame read ends with the two FCS bytes, a frame written carries two
 * trailing placeholder bytes for the FCS. A backend carries frames verbatim.
 *
 * Ownership and threading: a span is a mem object owned by whoever allocated
 * it. It runs on two loops, which may be the same:
 * - the loop given to span_alloc() (signalling): open/close, the D-channel and
 *   its handler, alarms and their handler, link life (connect, reconnect);
 * - the B loop (sp->bloop, the same loop until moved): the tick handler and
 *   span_bchan_read()/span_bchan_write(). A media worker takes it over with
 *   span_bchan_detach() on the old B loop's thread then span_bchan_attach() on
 *   its own (or span_set_bchan_loop() when the caller owns both loops).
 * Shared between the two threads: conf, ops, loop, open (immutable while the
 * B side is on another loop: span_close() refuses then), tickh/tick_arg (set
 * only by the B side's thread or while detached), and the backend's hand-over
 * state (atomics, see the backends). span_ec_set() may be called from either.
 */
#ifndef TANDEM_TDM_SPAN_H
#define TANDEM_TDM_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

struct loop;
struct span;

#define SPAN_BLOCK	 160 /* bytes per timeslot per tick: 20 ms at 8 kHz */
#define SPAN_TICK_MS	 20
#define SPAN_MAX_TS	 31 /* E1: timeslots 1..31; T1: 1..24 */
#define SPAN_DFRAME_MAX	 1024 /* largest D-channel frame, FCS included */
#define SPAN_FCS_LEN	 2
#define SPAN_ADDR_MAX	 108 /* sun_path */

enum span_type {
	SPAN_E1,
	SPAN_T1,
};

enum span_law {
	SPAN_ALAW,
	SPAN_ULAW,
};

/* system.conf framing (ccs/cas for E1, d4/esf for T1) and line code. */
enum span_framing {
	SPAN_FRAMING_CCS,
	SPAN_FRAMING_CAS,
	SPAN_FRAMING_D4,
	SPAN_FRAMING_ESF,
};

enum span_coding {
	SPAN_CODING_HDB3,
	SPAN_CODING_AMI,
	SPAN_CODING_B8ZS,
};

/* Alarm bits, as DAHDI reports them, plus loss of the D-channel link. */
enum {
	SPAN_ALARM_RED = 1 << 0,    /* loss of signal/frame: cable pulled, peer gone */
	SPAN_ALARM_YELLOW = 1 << 1, /* remote alarm indication */
	SPAN_ALARM_BLUE = 1 << 2,   /* AIS: all ones from upstream */
	SPAN_ALARM_DCHAN = 1 << 3,  /* D-channel carrier down while the span is up */
};

/*
 * A span as /etc/dahdi/system.conf describes it. Timeslots are numbered
 * within the span (1..31 for E1, 1..24 for T1); system.conf's global
 * channel numbers are translated by span_conf_parse().
 */
struct span_conf {
	unsigned num;	  /* span=N */
	unsigned first_chan; /* DAHDI's global channel number of timeslot 1 (span 2 of E1s: 32) */
	unsigned timing;  /* span=N,timing: 0 = we provide the clock */
	enum span_type type;
	enum span_framing framing;
	enum span_coding coding;
	bool crc4;
	uint32_t bchans;  /* bit ts set: timeslot ts is a B-channel */
	unsigned dchan;	  /* timeslot of the D-channel, 0: none */
	enum span_law law;

	/* virtual backend */
	char addr[SPAN_ADDR_MAX]; /* socket path, or "@name" for an abstract name */
	bool listen;		  /* we bind and accept; else we connect */
	bool clock_master;	  /* our timer paces the B-channel ticks */
};

/* Fills c with a span's defaults: E1 CCS HDB3 CRC4, bchan 1-15,17-31, dchan 16, A-law. */
void span_conf_default(struct span_conf *c, unsigned num, enum span_type type);

/* Number of timeslots on the wire: 31 (E1) or 24 (T1). */
unsigned span_type_nslots(enum span_type type);

/*
 * Parses system.conf text (span=, bchan=, dchan=, alaw=/mulaw=, comments) into
 * up to max spans, numbered as dahdi_cfg numbers channels: span 1 owns the first
 * 31 (E1) or 24 (T1) channels, span 2 the next, and so on. *n is the count found.
 * Returns 0, EINVAL on malformed text (*errline: the 1-based line), ERANGE for a
 * channel outside every span.
 */
int span_conf_parse(struct span_conf *out, size_t max, size_t *n, const char *text,
		    unsigned *errline);

/* "1-15,17-31" -> bit mask of timeslots; EINVAL if malformed or outside 1..31. */
int span_ts_ranges(const char *s, uint32_t *mask);

/* ---- handlers ---- */

/*
 * D-channel frames are waiting: call span_dchan_read() until it says EAGAIN.
 * Frames that arrive while no handler is set are kept by a backend with a
 * dchan_watch op (virtual: in its socket, which bounds them) and announced
 * once a handler is set; dahdi still reads and drops them.
 */
typedef void(span_dchan_h)(struct span *sp, void *arg);
/*
 * One B-channel tick (20 ms) of the span's clock: span_bchan_read() gives the
 * blocks received for this tick; blocks written with span_bchan_write() now go
 * out with the next one. tick counts the span's clock since it last came up.
 */
typedef void(span_tick_h)(struct span *sp, uint32_t tick, void *arg);
/*
 * The alarm bits changed; alarms is the new set (0: span up). Never called
 * from inside span_open(): a change found there (a connecting span that comes
 * up at once) is told from the loop, when the span is open and can send.
 */
typedef void(span_alarm_h)(struct span *sp, unsigned alarms, void *arg);

/* ---- backend ops ---- */

struct span_ops {
	const char *name;
	int (*open)(struct span *sp);
	void (*close)(struct span *sp);
	/* One frame with its FCS bytes into buf; EAGAIN if none; EMSGSIZE if too big. */
	int (*dchan_read)(struct span *sp, void *buf, size_t size, size_t *lenp);
	/* One frame, FCS placeholder included; EAGAIN if it cannot go now, ENOTCONN if down. */
	int (*dchan_write)(struct span *sp, const void *buf, size_t len);
	/* SPAN_BLOCK bytes of timeslot ts. */
	int (*bchan_read)(struct span *sp, unsigned ts, uint8_t *block);
	int (*bchan_write)(struct span *sp, unsigned ts, const uint8_t *block);
	/* Echo canceller on timeslot ts with taps (0: off). NULL: the backend has none. */
	int (*ec_set)(struct span *sp, unsigned ts, unsigned taps);
	/*
	 * Open span, D-channel handler set (on) or removed: the backend watches
	 * the D-channel only while someone reads it, and leaves frames where they
	 * are meanwhile. NULL: the backend needs no telling.
	 */
	void (*dchan_watch)(struct span *sp, bool on);
	/*
	 * Open span: start ticking on sp->bloop (on that loop's thread), or stop
	 * (on the thread of the loop it ticked on). Called by span.c only.
	 */
	int (*bchan_attach)(struct span *sp);
	void (*bchan_detach)(struct span *sp);
};

/* What a backend sees of a span; the rest is for span.c. */
struct span {
	struct span_conf conf;
	const struct span_ops *ops;
	struct loop *loop;  /* signalling: D-channel, alarms, link life */
	struct loop *bloop; /* B-channel tick; NULL while detached */
	void *be; /* backend state: a mem object, dereferenced when the span goes */
	unsigned alarms;
	char ctx[24]; /* "span=N" for logs */

	span_dchan_h *dchanh;
	void *dchan_arg;
	span_tick_h *tickh;
	void *tick_arg;
	span_alarm_h *alarmh;
	void *alarm_arg;
	bool open;
	bool opening;		       /* inside ops->open: alarm changes are told later */
	struct loop_defer alarm_defer; /* tells the alarm handler after span_open() */
};

/* Allocates a span for conf on backend ops (not opened yet). */
int span_alloc(struct span **spp, const struct span_conf *conf, const struct span_ops *ops,
	       struct loop *loop);
int span_open(struct span *sp);
/* Refused (logged) while the B side is attached to another loop than sp->loop. */
void span_close(struct span *sp);

void span_set_dchan_handler(struct span *sp, span_dchan_h *h, void *arg);
void span_set_tick_handler(struct span *sp, span_tick_h *h, void *arg);
void span_set_alarm_handler(struct span *sp, span_alarm_h *h, void *arg);

/*
 * B-channel hand-over. span_bchan_detach(): on the thread of the current B
 * loop; no tick runs after it returns (blocks arriving meanwhile wait in the
 * backend, bounded by its buffers). span_bchan_attach(): on loop's thread;
 * ticks run there from now. A span opened while detached starts its B side at
 * attach. span_set_bchan_loop(): both at once, for a caller that owns both
 * loops (the other loop's thread not running, or the same thread). Likewise
 * span_open() attaches the B side to sp->bloop from the caller's thread: open
 * a span before giving its B side to a running thread.
 */
void span_bchan_detach(struct span *sp);
int span_bchan_attach(struct span *sp, struct loop *loop);
int span_set_bchan_loop(struct span *sp, struct loop *loop);

int span_dchan_read(struct span *sp, void *buf, size_t size, size_t *lenp);
int span_dchan_write(struct span *sp, const void *buf, size_t len);
/* EINVAL for a timeslot that is not one of the span's B-channels. */
int span_bchan_read(struct span *sp, unsigned ts, uint8_t *block);
int span_bchan_write(struct span *sp, unsigned ts, const uint8_t *block);
/* ENOTSUP when the backend has no echo canceller. */
int span_ec_set(struct span *sp, unsigned ts, unsigned taps);

unsigned span_alarms(const struct span *sp);
bool span_is_bchan(const struct span *sp, unsigned ts);
/* The idle (silence) byte of the span's law: 0xD5 A-law, 0xFF u-law. */
uint8_t span_idle_byte(const struct span *sp);
/* "red", "yellow|dchan", "ok": for logs. */
const char *span_alarm_str(unsigned alarms, char *buf, size_t size);

/*
 * For backends: records the new alarm set and calls the alarm handler if it
 * changed (from the loop, after span_open() returned, if called inside it).
 */
void span_report_alarms(struct span *sp, unsigned alarms);

#endif
