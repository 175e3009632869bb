/* Unit tests for provisioning/config: values, defaults, and file:line:column errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "provisioning/config.h"

static struct tandem_config *load_ok(const char *text)
{
	struct tandem_config *cfg = NULL;
	char err[512] = "";

	if (cfg_load_string(&cfg, "t.yaml", text, err, sizeof(err)))
		fail_msg("unexpected error: %s", err);
	return cfg;
}

static void expect_err(const char *text, const char *want)
{
	struct tandem_config *cfg = NULL;
	char err[512] = "";

	assert_int_not_equal(cfg_load_string(&cfg, "t.yaml", text, err, sizeof(err)), 0);
	assert_null(cfg);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_full(void **state)
{
	(void)state;
	struct tandem_config *cfg = load_ok("log:\n"
					    "  level: debug\n"
					    "sip:\n"
					    "  domain: gw.example.net\n"
					    "  listen:\n"
					    "    - udp:127.0.0.1:5070\n"
					    "    - tcp:[::1]\n"
					    "    - tls:127.0.0.1\n"
					    "  tls: { cert: /c.pem, key: /k.pem, verify_server: false }\n"
					    "  timers: { t1: 100, t2: 1000 }\n"
					    "  limits: { max_connections: 10 }\n"
					    "  dscp: 46\n");
	assert_int_equal(cfg->log.level, LOG_LVL_DEBUG);
	assert_string_equal(cfg->sip.domain, "gw.example.net");
	assert_string_equal(cfg->sip.user_agent, "Tandem");
	assert_int_equal(cfg->sip.nlisten, 3);
	assert_int_equal(cfg->sip.listen[0].tp, SIP_TP_UDP);
	assert_int_equal(sa_port(&cfg->sip.listen[0].addr), 5070);
	assert_int_equal(cfg->sip.listen[1].tp, SIP_TP_TCP);
	assert_int_equal(sa_af(&cfg->sip.listen[1].addr), AF_INET6);
	assert_int_equal(sa_port(&cfg->sip.listen[1].addr), 5060);
	assert_int_equal(sa_port(&cfg->sip.listen[2].addr), 5061);
	assert_string_equal(cfg->sip.tls_cert, "/c.pem");
	assert_false(cfg->sip.tls_verify_server);
	assert_int_equal(cfg->sip.t1_ms, 100);
	assert_int_equal(cfg->sip.t2_ms, 1000);
	assert_int_equal(cfg->sip.t4_ms, 5000);
	assert_int_equal(cfg->sip.max_connections, 10);
	assert_int_equal(cfg->sip.dscp, 46);
	cfg_free(cfg);
}

static void test_defaults(void **state)
{
	(void)state;
	struct tandem_config *cfg = load_ok("sip: {}\n");
	assert_int_equal(cfg->sip.nlisten, 2); /* UDP and TCP, RFC 3261 §18 */
	assert_int_equal(cfg->sip.t1_ms, 500);
	assert_int_equal(cfg->sip.dscp, 24);
	assert_true(cfg->sip.tls_verify_server);
	cfg_free(cfg);
}

static void test_errors(void **state)
{
	(void)state;
	expect_err("sip:\n  listen:\n    - udp:127.0.0.1:5060\n    - sctp:1.2.3.4\n",
		   "t.yaml:4:7: listener 'sctp:1.2.3.4'");
	expect_err("sip:\n  domian: x\n", "t.yaml:2:3: unknown key 'domian'");
	expect_err("sip:\n  timers:\n    t1: fast\n", "t.yaml:3:9: expected a whole number");
	expect_err("sip:\n  timers: { t1: 2000, t2: 1000 }\n", "t.yaml:2:11: t2 (1000 ms)");
	expect_err("sip:\n  listen: [ tls:127.0.0.1 ]\n", "a tls listener needs");
	expect_err("sip:\n  dscp: 64\n", "t.yaml:2:9: expected a whole number from 0 to 63");
	expect_err("log: { level: loud }\nsip: {}\n", "t.yaml:1:15: log level");
	expect_err("log: {}\n", "missing section 'sip'");
	expect_err("sip: [\n", "t.yaml:2:1:");
	expect_err("sip: {}\nsip: {}\n", "duplicate key 'sip'");
	expect_err("sip:\n  listen:\n    - udp:127.0.0.1\n    - udp:127.0.0.1:5060\n",
		   "t.yaml:4:7: listener 'udp:127.0.0.1:5060' given twice");
}

static void test_file(void **state)
{
	char path[] = "/tmp/tandem-cfg-XXXXXX";
	struct tandem_config *cfg = NULL;
	char err[512];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "sip:\n  tls: { cert: a }\n", 24), 24);
	close(fd);
	assert_int_not_equal(cfg_load(&cfg, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":2:8: tls needs both cert and key"));
	unlink(path);
	assert_int_not_equal(cfg_load(&cfg, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
