/*
 * pstnsim: the telephone exchange in a box (prefix psim_).
 *
 * Plays the network side (libpri NET) on one or more spans and answers SETUPs
 * for scripted subscribers loaded from YAML: answer after a delay and play a
 * tone, echo, busy (17), ring without answer (19 after a timeout), reject with
 * any cause, an IVR that reports the digits it hears and plays them back. It
 * also places calls into the user side (DID tests) on command. Everything that
 * happens comes out as struct psim_ev to one handler; ctl.c turns commands
 * (JSON lines) into calls of this API and events into JSON lines.
 *
 * Numbers: subscribers are E.164 ("+12125550100"). A called number arriving as
 * TON international is '+' + digits; national is '+' + country code + digits;
 * unknown/subscriber strip the international prefix ('+') or the national
 * prefix ('+' + cc) when present, else are taken as national.
 *
 * Audio (audio.c) is shared with build/pritest: a phase-continuous tone
 * generator and a Goertzel detector for known frequencies, levels in dBm0
 * (spandsp's convention: a full-scale sine is +3.14 dBm0).
 *
 * Ownership: psim_conf and psim are mem objects; a psim keeps a reference to
 * its conf and its spans. Threading: everything runs on the loop given to
 * psim_alloc(); not thread-safe.
 */
#ifndef TANDEM_TDM_PSTNSIM_H
#define TANDEM_TDM_PSTNSIM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tdm/pri/pri.h"
#include "tdm/span/span.h"

struct loop;
struct json_w;

#define PSIM_NUM_MAX    (TPRI_NUM_MAX + 2) /* '+' and NUL */
#define PSIM_MAX_SPANS  8
#define PSIM_MAX_DETECT 16
#define PSIM_DIGITS_MAX 64
#define PSIM_REC_MAX_S  600 /* longest recording, seconds */
#define PSIM_PLAY_MAX_S 300 /* longest file played into a call, seconds */

/* ---- audio helpers ---- */

struct psim_tonegen {
	double phase, step; /* radians */
	double amp;
};

/* hz 0: silence. dbm0: level of the sine. */
void psim_tonegen_init(struct psim_tonegen *g, double hz, double dbm0);
/* Writes (not adds) n samples. */
void psim_tonegen_run(struct psim_tonegen *g, int16_t *out, size_t n);
/* Amplitude of the hz component of x (Goertzel), in sample units. */
double psim_goertzel(const int16_t *x, size_t n, double hz);
/* Share (0..1) of the block's energy carried by a sine of that amplitude. */
double psim_tone_share(const int16_t *x, size_t n, double amp);
double psim_amp_dbm0(double amp);
/* The span law's samples to linear and back (SPAN_BLOCK samples). */
void psim_decode(enum span_law law, const uint8_t *in, int16_t *out, size_t n);
void psim_encode(enum span_law law, const int16_t *in, uint8_t *out, size_t n);

/*
 * Tone detector over a fixed list of frequencies: a tone is reported once it
 * carries most of the energy (share >= 0.6, above -45 dBm0) for `need`
 * consecutive blocks; it re-arms after as many blocks without it.
 */
struct psim_tonedet {
	double hz[PSIM_MAX_DETECT];
	size_t n;
	unsigned need;
	int cur;       /* index being followed, -1: none */
	unsigned run;  /* consecutive blocks of cur */
	unsigned gone; /* blocks without cur since it was reported */
	bool reported;
	double level_sum;
};

void psim_tonedet_init(struct psim_tonedet *d, const double *hz, size_t n, unsigned need);
/* One block. Returns true when a tone is newly detected (*hz, *dbm0 set). */
bool psim_tonedet_block(struct psim_tonedet *d, const int16_t *x, size_t n, double *hz,
                        double *dbm0);

/*
 * WAV files (wav.c): 16-bit linear PCM, 8 kHz, mono only. A recording is
 * opened (header and stdio buffer) up front; psim_rec_write() then only
 * converts and buffers, and psim_rec_close() patches the header's sizes.
 */
struct psim_rec {
	FILE *f;   /* NULL: not recording */
	char *buf; /* the stream's buffer (mem) */
	char path[PATH_MAX];
	uint32_t n, max; /* samples written, limit */
	int err;         /* first write error */
};

/* path absolute; max_samples 1..PSIM_REC_MAX_S s. EBUSY if r is recording. */
int psim_rec_open(struct psim_rec *r, const char *path, uint32_t max_samples);
/* n samples (x NULL: silence). Returns true once the recording is full or failed. */
bool psim_rec_write(struct psim_rec *r, const int16_t *x, size_t n);
/* Finishes the file (no-op if not recording). Returns the first error, if any. */
int psim_rec_close(struct psim_rec *r);
/* The whole file as a mem array of samples. EINVAL: not that format; EFBIG: too long. */
int psim_wav_load(int16_t **sp, size_t *np, const char *path, size_t max_samples);

/* ---- configuration ---- */

enum psim_behaviour {
	PSIM_ANSWER,   /* answer after answer_ms, play tone_hz at tone_dbm0 */
	PSIM_ECHO,     /* answer, send back what is heard */
	PSIM_IVR,      /* answer, report digits heard, play each back as DTMF */
	PSIM_BUSY,     /* cause 17 */
	PSIM_NOANSWER, /* alert, cause 19 after timeout_ms */
	PSIM_REJECT,   /* cause (1 unallocated, 34 congestion, ...) */
};

struct psim_sub {
	char number[PSIM_NUM_MAX]; /* E.164 with '+' */
	enum psim_behaviour beh;
	uint32_t answer_ms;  /* ANSWER/ECHO/IVR: delay before CONNECT */
	uint32_t timeout_ms; /* NOANSWER: ringing before cause 19 */
	uint32_t hangup_ms;  /* answered: clear with 16 after this (0: never) */
	int cause;           /* BUSY/REJECT/NOANSWER: the cause sent */
	double tone_hz, tone_dbm0;
};

enum psim_numfmt {
	PSIM_NUM_INTERNATIONAL, /* TON international, digits without '+' */
	PSIM_NUM_NATIONAL,      /* TON national, '+cc' stripped when it matches */
};

struct psim_span_conf {
	unsigned num;
	enum span_type type;
	enum tpri_switch sw;
	char addr[SPAN_ADDR_MAX];
	bool listen;
	bool clock_master;
	enum psim_numfmt numfmt; /* how calls placed by the simulator carry numbers */
};

struct psim_numbering {
	char cc[8];          /* "1" */
	char intl_prefix[8]; /* "011" */
	char natl_prefix[8]; /* "1" */
};

struct psim_conf {
	struct psim_numbering numbering;
	char control[SPAN_ADDR_MAX]; /* control socket path ("" : none) */
	int unknown_cause;           /* numbers without a subscriber; default 1 */
	bool ringback;               /* in-band ringback while alerting; default true */
	double detect_hz[PSIM_MAX_DETECT];
	size_t ndetect;
	double did_tone_hz, did_tone_dbm0; /* what placed calls play once answered */
	struct psim_span_conf spans[PSIM_MAX_SPANS];
	size_t nspans;
	struct psim_sub *subs; /* mem array */
	size_t nsubs;
};

/* err gets "FILE:LINE:COLUMN: message" on EINVAL. */
int psim_conf_load(struct psim_conf **cp, const char *path, char *err, size_t errsz);
int psim_conf_load_string(struct psim_conf **cp, const char *name, const char *text, char *err,
                          size_t errsz);
/* Defaults only (no spans, no subscribers). */
int psim_conf_alloc(struct psim_conf **cp);
const struct psim_sub *psim_conf_find(const struct psim_conf *c, const char *e164);
const char *psim_behaviour_name(enum psim_behaviour b);

/* Q.931 number -> E.164 (ENAMETOOLONG/EINVAL). */
int psim_e164_from_q931(const struct psim_numbering *nb, const struct tpri_number *n, char *out,
                        size_t size);
/* E.164 "+..." -> Q.931 number in fmt. EINVAL if not '+' followed by digits. */
int psim_q931_from_e164(const struct psim_numbering *nb, enum psim_numfmt fmt, const char *e164,
                        struct tpri_number *n);

/* ---- the exchange ---- */

enum psim_ev_type {
	PSIM_EV_LINK,  /* up */
	PSIM_EV_SETUP, /* from, to, outgoing, behaviour */
	PSIM_EV_PROCEEDING,
	PSIM_EV_ALERTING,
	PSIM_EV_CONNECT,
	PSIM_EV_DIGITS,     /* digit heard on the B-channel */
	PSIM_EV_TONE,       /* hz, dbm0 */
	PSIM_EV_DISCONNECT, /* cause */
	PSIM_EV_RECORDED,   /* path, samples, err: a recording ended */
	PSIM_EV_PLAYED,     /* samples: a file played to its end */
	PSIM_EV_NTYPES
};

struct psim_ev {
	enum psim_ev_type type;
	unsigned span;
	unsigned call; /* 0 for link events */
	int channel;
	bool up;
	bool outgoing; /* placed by the simulator (DID) */
	const char *from, *to, *behaviour;
	int cause;
	char digit;
	double hz, dbm0;
	const char *path;
	uint32_t samples;
	int err;
};

typedef void(psim_ev_h)(const struct psim_ev *ev, void *arg);

struct psim;

struct psim_call_info {
	unsigned id, span;
	int channel;
	bool outgoing, answered;
	char from[PSIM_NUM_MAX], to[PSIM_NUM_MAX];
	const char *behaviour;
};

/* Opens every span of conf (virtual backend) and starts PRI (NET) on it. */
int psim_alloc(struct psim **pp, struct loop *l, struct psim_conf *conf, psim_ev_h *h, void *arg);
/* Adds an already allocated span (tests: span_virtual_pair); sc->num names it. */
int psim_span_add(struct psim *p, struct span *sp, const struct psim_span_conf *sc);
bool psim_span_up(const struct psim *p, unsigned span);
/* Places a call towards the user side. tone_hz < 0: the conf's did tone. */
int psim_call(struct psim *p, unsigned span, const char *from, const char *to, double tone_hz,
              unsigned *idp);
/* A call placed by psim_call() not answered within ms is cleared with 19 (no answer). */
int psim_call_timeout(struct psim *p, unsigned id, uint32_t ms);
/* ENOENT if no such call. */
int psim_hangup(struct psim *p, unsigned id, int cause);
/* Queues DTMF in-band on an answered call (EINVAL: bad digit, ENOSPC). */
int psim_digits(struct psim *p, unsigned id, const char *digits);
/*
 * Records what the call hears on its B-channel (what the user side sends) into
 * a WAV at path (absolute) for up to seconds (1..PSIM_REC_MAX_S), from the next
 * tick; it ends early with the call. PSIM_EV_RECORDED says when it is done.
 * EBUSY: the call is already recording.
 */
int psim_record(struct psim *p, unsigned id, const char *path, unsigned seconds);
/*
 * Plays a WAV (16-bit, 8 kHz, mono, up to PSIM_PLAY_MAX_S) into an answered
 * call, instead of what its behaviour plays, until the file ends
 * (PSIM_EV_PLAYED); DTMF digits still take over while they last. A new play
 * replaces the current one. ENOTCONN: not answered.
 */
int psim_play(struct psim *p, unsigned id, const char *path);
size_t psim_list(const struct psim *p, struct psim_call_info *out, size_t max);
unsigned psim_ncalls(const struct psim *p);

const char *psim_ev_name(enum psim_ev_type t);
/* One event as a JSON object (no newline). */
void psim_ev_json(struct json_w *w, const struct psim_ev *ev);
/*
 * One command line ({"cmd":"call"|"hangup"|"list"|"digits"|"record"|"play",...}) -> a reply
 * object in w ({"ok":true,...} or {"ok":false,"error":"..."}).
 */
void psim_cmd_exec(struct psim *p, const char *line, size_t len, struct json_w *w);

/* ---- control socket: a Unix stream socket, one JSON object per line ---- */

struct psim_ctl;

int psim_ctl_alloc(struct psim_ctl **cp, struct loop *l, struct psim *p, const char *path);
/* Sends the event to every connected client. */
void psim_ctl_event(struct psim_ctl *c, const struct psim_ev *ev);
unsigned psim_ctl_nclients(const struct psim_ctl *c);

#endif
