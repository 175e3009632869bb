/*
 * log: levelled logging to stderr or syslog.
 *
 * Every line about a call carries the call's identity (ctx), for example
 * "call=a84b4c76e66710 span=1/5", so one grep follows a call through SIP,
 * Q.931 and media. Pass NULL when a line is about no call.
 * Thread-safe: each line is written with one write()/syslog() call.
 */
#ifndef TANDEM_CORE_LOG_H
#define TANDEM_CORE_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_NOTICE,
	LOG_LVL_WARN,
	LOG_LVL_ERR,
};

/* ident: program name; use_syslog: else stderr. May be called again. */
void log_init(const char *ident, bool use_syslog, enum log_level min);
void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* "debug", "info", "notice", "warning", "error" -> level; -1 if unknown. */
int log_level_parse(const char *s);
bool log_enabled(enum log_level lvl);

void log_msg(enum log_level lvl, const char *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOGD(ctx, ...)                                                                    \
	do {                                                                              \
		if (log_enabled(LOG_LVL_DEBUG))                                           \
			log_msg(LOG_LVL_DEBUG, ctx, __VA_ARGS__);                          \
	} while (0)
#define LOGI(ctx, ...) log_msg(LOG_LVL_INFO, ctx, __VA_ARGS__)
#define LOGN(ctx, ...) log_msg(LOG_LVL_NOTICE, ctx, __VA_ARGS__)
#define LOGW(ctx, ...) log_msg(LOG_LVL_WARN, ctx, __VA_ARGS__)
#define LOGE(ctx, ...) log_msg(LOG_LVL_ERR, ctx, __VA_ARGS__)

#endif
