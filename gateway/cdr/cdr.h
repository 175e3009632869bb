/*
 * cdr: call detail records in SQLite, one row per call, written when the
 * call ends.
 *
 * Durability: the database is in WAL mode. Each record is one transaction
 * (BEGIN IMMEDIATE; INSERT; COMMIT), so a record is either all there or not
 * at all. With synchronous=NORMAL (the default) a committed record survives a
 * crash or kill of tandemd, since it is in the WAL file in the kernel's page
 * cache; only a power loss or kernel crash can lose the records committed
 * since the last checkpoint's fsync (at most about one checkpoint, 1000 pages,
 * of recent calls), and the database stays consistent either way. NORMAL
 * keeps the commit free of fsync, which matters because it runs on the
 * signalling thread. CDR_SYNC_FULL fsyncs the WAL on every commit (one
 * fsync per call, milliseconds on a disk): choose it where a record lost
 * to a power cut costs more than that pause.
 *
 * Threading: a struct cdr belongs to one thread (the signalling thread).
 * Several processes or handles may open the same file (SQLite's locking; a
 * writer waits up to busy_ms for another writer).
 */
#ifndef TANDEM_CDR_CDR_H
#define TANDEM_CDR_CDR_H

#include <stdbool.h>
#include <stdint.h>

struct cdr;

enum cdr_sync {
	CDR_SYNC_NORMAL = 0,
	CDR_SYNC_FULL,
};

enum cdr_dir {
	CDR_DIR_OUT = 0, /* SIP -> PSTN */
	CDR_DIR_IN,      /* PSTN -> SIP (DID) */
	CDR_DIR_LOCAL,   /* SIP -> SIP (registered user to registered user) */
};

/* Who ended the call. */
enum cdr_end {
	CDR_END_UNKNOWN = 0,
	CDR_END_SIP,     /* the SIP side (BYE, CANCEL, error response) */
	CDR_END_PSTN,    /* the PRI side (DISCONNECT, RELEASE) */
	CDR_END_GATEWAY, /* tandemd (timer, shutdown, tandemctl hangup) */
};

/*
 * One call. Strings are borrowed (NULL: unknown) and copied by SQLite on
 * write; in records handed to a read callback they point into SQLite's row
 * and are valid only during the callback. Times are Unix epoch milliseconds,
 * 0 for "did not happen" (answer_ms of an unanswered call). Causes are Q.850
 * values, 0 when there was none on that side.
 */
struct cdr_rec {
	int64_t id; /* assigned on write; read back */
	const char *call_id;
	enum cdr_dir dir;
	const char *calling, *called; /* as presented: E.164 or the dialled digits */
	int64_t start_ms, answer_ms, end_ms;
	int sip_status; /* final SIP status of the INVITE (200, 486...) */
	int cause_sip;  /* Q.850 cause seen on SIP (Reason: Q.850;cause=N) */
	int cause_pstn; /* Q.850 cause of the PRI leg (DISCONNECT/RELEASE) */
	enum cdr_end ended_by;
	int span, channel;         /* 0: no PRI leg */
	uint64_t rtp_rx, rtp_lost; /* RTP packets received and lost (RFC 3550 A.3) */
	double jitter_ms;          /* RFC 3550 interarrival jitter at the end of the call */
	double jitter_max_ms;
};

struct cdr_config {
	enum cdr_sync sync;
	unsigned busy_ms; /* wait for another writer; 0: 1000 */
};

/* Opens or creates path and brings its schema up to date. cfg may be NULL.
 * ENOTSUP for a database written by a newer schema, EIO for SQLite errors. */
int cdr_open(struct cdr **cp, const char *path, const struct cdr_config *cfg);
void cdr_close(struct cdr *c);

/* Writes r in one transaction; r->id is set on success. EINVAL, EIO, EBUSY. */
int cdr_write(struct cdr *c, struct cdr_rec *r);

typedef void(cdr_read_h)(const struct cdr_rec *r, void *arg);
/* Calls h for the last n records, oldest first. Returns 0 or EIO. */
int cdr_last(struct cdr *c, unsigned n, cdr_read_h *h, void *arg);
/* Number of records. */
int cdr_count(struct cdr *c, uint64_t *n);

const char *cdr_dir_name(enum cdr_dir d);
const char *cdr_end_name(enum cdr_end e);

/* The schema version this code writes (PRAGMA user_version). */
#define CDR_SCHEMA_VERSION 1

struct ctl;
/* Registers "cdr" (last=N, default 20, at most 1000) on the control socket. */
int cdr_ctl_register(struct cdr *c, struct ctl *ctl);

#endif
