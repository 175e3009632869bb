#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
	char ident[32];
	bool syslog;
	enum log_level min;
} g_log = { "tandem", false, LOG_LVL_INFO };

static const char *const names[] = { "debug", "info", "notice", "warning", "error" };
static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR };

void log_init(const char *ident, bool use_syslog, enum log_level min)
{
	snprintf(g_log.ident, sizeof(g_log.ident), "%s", ident ? ident : "tandem");
	if (g_log.syslog)
		closelog();
	g_log.syslog = use_syslog;
	g_log.min = min;
	if (use_syslog)
		openlog(g_log.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level min)
{
	g_log.min = min;
}

enum log_level log_get_level(void)
{
	return g_log.min;
}

int log_level_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	if (!strcmp(s, "warn"))
		return LOG_LVL_WARN;
	return -1;
}

bool log_enabled(enum log_level lvl)
{
	return lvl >= g_log.min;
}

void log_msg(enum log_level lvl, const char *ctx, const char *fmt, ...)
{
	char line[1024];
	int n = 0;
	va_list ap;

	if (lvl < g_log.min)
		return;
	if (lvl > LOG_LVL_ERR)
		lvl = LOG_LVL_ERR;

	if (!g_log.syslog) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s[%d] %s: ", tm.tm_hour,
			     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, g_log.ident, (int)getpid(),
			     names[lvl]);
	}
	if (ctx && n >= 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", ctx);
	if (n >= 0 && (size_t)n < sizeof(line)) {
		va_start(ap, fmt);
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;

	if (g_log.syslog) {
		syslog(prio[lvl], "%s", line);
		return;
	}
	line[n++] = '\n';
	/* One write per line so lines from threads do not interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report it. */
	}
}
