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
#include "core/err.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "route/route.h"

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

static const char gw_yaml[] =
	"sip: {}\n"
	"numbering: { country_code: '44', national_prefix: '0', international_prefix: '00',"
	" area_code: '20', nsn_length: 10, local_length: 8 }\n"
	"spans:\n"
	"  - { number: 1, address: '@s1', side: net, switch: qsig, group: 2, clock_master: true,"
	" listen: true }\n"
	"  - { number: 2, backend: dahdi, type: t1, bchan: '1-23', dchan: 24, law: ulaw }\n"
	"  - { number: 3, backend: dahdi, bchan: '63-77,79-93', dchan: 78 }\n"
	"users:\n"
	"  - { name: '1001', password: pw1, dids: ['+442079460001', '+442079460002'] }\n"
	"  - { name: '1002', password: pw2, number: '+442079460099' }\n"
	"trunks:\n"
	"  - { name: carrier, address: 'tcp:192.0.2.10' }\n"
	"registrar: { db: /tmp/x.db, digest_algorithms: [md5, sha-512-256, sha-256] }\n"
	"causes: { profile: rfc3398, to_sip: { 17: 600 }, from_sip: { 486: 21 },"
	" from_sip_alerted: { 486: 17 } }\n"
	"routes:\n"
	"  outbound:\n"
	"    - { name: uk, pattern: '+44!', strip: 2, prefix: '0', ton: national, npi: e164,"
	" groups: [2, 1], hunting: descending }\n"
	"    - { pattern: '+!' }\n"
	"  inbound:\n"
	"    - { did: '+442079469000', to: 'uri:sip:ivr@192.0.2.1' }\n"
	"    - { pattern: '+4420794691XX', to: 'user:1002' }\n"
	"    - { did: '+442079468000', to: 'trunk:carrier' }\n";

static void test_gateway_sections(void **state)
{
	struct tandem_config *cfg = load_ok(gw_yaml);
	const struct route_did *did;
	struct route_out_match m;
	struct route_table *t = NULL;

	(void)state;
	assert_string_equal(cfg->numbering.cc, "44");
	assert_string_equal(cfg->numbering.natpfx, "0");
	assert_string_equal(cfg->numbering.area, "20");
	assert_int_equal(cfg->numbering.local_len, 8);
	assert_int_equal(cfg->nspans, 3);
	/* span 3 of E1s in DAHDI's global channel numbers: 63-93, D-channel 78 = timeslot 16 */
	assert_int_equal(cfg->spans[2].conf.first_chan, 63);
	assert_int_equal(cfg->spans[2].conf.bchans, 0xfffefffeu);
	assert_int_equal(cfg->spans[2].conf.dchan, 16);
	assert_int_equal(cfg->spans[0].backend, CFG_SPAN_VIRTUAL);
	assert_string_equal(cfg->spans[0].conf.addr, "@s1");
	assert_true(cfg->spans[0].conf.listen);
	assert_true(cfg->spans[0].conf.clock_master);
	assert_int_equal(cfg->spans[0].pri.node, TPRI_NET);
	assert_int_equal(cfg->spans[0].pri.sw, TPRI_SW_QSIG);
	assert_int_equal(cfg->spans[0].group, 2);
	assert_int_equal(cfg->spans[0].conf.dchan, 16); /* E1 defaults */
	assert_int_equal(cfg->spans[1].backend, CFG_SPAN_DAHDI);
	assert_int_equal(cfg->spans[1].conf.type, SPAN_T1);
	assert_int_equal(cfg->spans[1].conf.bchans, 0xfffffeu);
	assert_int_equal(cfg->spans[1].conf.dchan, 24);
	assert_int_equal(cfg->spans[1].conf.law, SPAN_ULAW);
	assert_int_equal(cfg->spans[1].pri.node, TPRI_CPE);
	assert_int_equal(cfg->spans[1].group, 1);
	assert_int_equal(cfg->nusers, 2);
	assert_string_equal(cfg->users[0].number, "+442079460001"); /* its first DID */
	assert_int_equal(cfg->users[0].ndids, 2);
	assert_string_equal(cfg_user_find(cfg, "1002")->number, "+442079460099");
	assert_null(cfg_user_find(cfg, "1003"));
	assert_int_equal(cfg->ntrunks, 1);
	assert_int_equal(cfg->trunks[0].tp, SIP_TP_TCP);
	assert_int_equal(sa_port(&cfg->trunks[0].addr), 5060);
	assert_ptr_equal(cfg_trunk_by_addr(cfg, SIP_TP_TCP, &cfg->trunks[0].addr), &cfg->trunks[0]);
	assert_null(cfg_trunk_by_addr(cfg, SIP_TP_UDP, &cfg->trunks[0].addr));
	assert_null(cfg_trunk_find(cfg, "other"));
	assert_string_equal(cfg->registrar.db, "/tmp/x.db");
	assert_int_equal(cfg->causes.profile, CAUSE_PROFILE_RFC3398);
	assert_int_equal(cfg->causes.novr, 3);
	{
		struct cause_map *cm = NULL;

		assert_int_equal(cfg_cause_map(cfg, &cm), 0);
		assert_int_equal(cause_to_sip(cm, 17, NULL), 600);
		assert_int_equal(cause_from_sip(cm, 486, false), 21);
		assert_int_equal(cause_from_sip(cm, 486, true), 17);
		assert_int_equal(cause_to_sip(cm, 1, NULL), 404); /* the rest as the table says */
		mem_deref(cm);
	}
	/* the challenge order, as written */
	assert_int_equal(cfg->registrar.digest_algs.n, 3);
	assert_int_equal(cfg->registrar.digest_algs.alg[0], SIP_DIGEST_MD5);
	assert_int_equal(cfg->registrar.digest_algs.alg[1], SIP_DIGEST_SHA512_256);
	assert_int_equal(cfg->registrar.digest_algs.alg[2], SIP_DIGEST_SHA256);
	assert_int_equal(cfg->nroutes_out, 2);
	assert_int_equal(cfg->routes_out[0].ngroups, 2);
	assert_int_equal(cfg->routes_out[0].groups[0], 2);
	assert_int_equal(cfg->routes_out[0].hunt, ROUTE_HUNT_DESCENDING);
	assert_int_equal(cfg->routes_out[1].ton, ROUTE_TON_INTERNATIONAL); /* defaults */
	assert_int_equal(cfg->routes_out[1].groups[0], 1);

	/* the route table built from it */
	assert_int_equal(cfg_route_table(cfg, &t), 0);
	assert_int_equal(route_out_lookup(t, "+442079460123", &m), 0);
	assert_string_equal(m.called, "02079460123");
	assert_int_equal(route_out_lookup(t, "+12125550100", &m), 0);
	assert_string_equal(m.called, "12125550100");
	assert_int_equal(route_did_lookup(t, "2079460002", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, &did),
			 0);
	assert_int_equal(did->kind, ROUTE_TARGET_USER);
	assert_string_equal(did->target, "1001");
	assert_int_equal(route_did_lookup(t, "442079469000", ROUTE_TON_INTERNATIONAL,
					  ROUTE_NPI_E164, &did),
			 0);
	assert_int_equal(did->kind, ROUTE_TARGET_URI);
	assert_string_equal(did->target, "sip:ivr@192.0.2.1");
	assert_int_equal(route_did_lookup(t, "2079469155", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, &did),
			 0);
	assert_string_equal(did->target, "1002");
	assert_int_equal(route_did_lookup(t, "2079467777", ROUTE_TON_NATIONAL, ROUTE_NPI_E164, &did),
			 ENOENT);
	mem_deref(t);
	cfg_free(cfg);
}

static void test_gateway_defaults(void **state)
{
	struct tandem_config *cfg = load_ok("sip: {}\nspans: [ { number: 3, address: /tmp/s } ]\n");

	(void)state;
	assert_string_equal(cfg->numbering.cc, "1"); /* NANP */
	assert_string_equal(cfg->numbering.intlpfx, "011");
	assert_int_equal(cfg->nspans, 1);
	assert_int_equal(cfg->spans[0].conf.num, 3);
	assert_int_equal(cfg->spans[0].conf.type, SPAN_E1);
	assert_int_equal(cfg->spans[0].pri.node, TPRI_CPE);
	assert_int_equal(cfg->spans[0].pri.sw, TPRI_SW_EUROISDN_E1);
	assert_false(cfg->spans[0].conf.clock_master);
	assert_int_equal(cfg->nusers, 0);
	assert_string_equal(cfg->registrar.db, ":memory:");
	assert_int_equal(cfg->registrar.digest_algs.n, 0); /* the auth server's [sha-256, md5] */
	cfg_free(cfg);
	cfg = load_ok("sip: {}\nregistrar: { digest_algorithms: [sha-256] }\n");
	assert_int_equal(cfg->registrar.digest_algs.n, 1);
	assert_int_equal(cfg->registrar.digest_algs.alg[0], SIP_DIGEST_SHA256);
	assert_string_equal(cfg->registrar.db, ":memory:");
	cfg_free(cfg);
}

static void test_media_section(void **state)
{
	struct tandem_config *cfg = load_ok("sip: {}\n");
	const struct cfg_media *m = &cfg->media;

	(void)state;
	assert_int_equal(m->port_min, 10000);
	assert_int_equal(m->port_max, 19999);
	assert_int_equal(m->dscp, 46);
	assert_int_equal(m->ncodecs, 2);
	assert_int_equal(m->codecs[0], SDP_CODEC_PCMA);
	assert_int_equal(m->srtp, SDP_SRTP_OFF);
	assert_int_equal(m->dtmf, MEDIA_DTMF_RFC4733);
	assert_true(m->ec);
	assert_int_equal(m->ec_tail_ms, 64);
	assert_int_equal(m->rtp_timeout_s, 30);
	cfg_free(cfg);
	cfg = load_ok("sip: {}\nmedia:\n  rtp_ports: 30000-30099\n  dscp: off\n"
	              "  codecs: [g722, pcmu]\n  srtp: mandatory\n  dtmf: info\n"
	              "  jitter_buffer: { min_ms: 60, max_ms: 300 }\n"
	              "  echo_cancel: { enabled: false, tail_ms: 128 }\n  rtp_timeout: 0\n"
	              "  workers: 2\n  ptime: 30\n");
	m = &cfg->media;
	assert_int_equal(m->port_min, 30000);
	assert_int_equal(m->port_max, 30099);
	assert_int_equal(m->dscp, -1);
	assert_int_equal(m->ncodecs, 2);
	assert_int_equal(m->codecs[0], SDP_CODEC_G722);
	assert_int_equal(m->codecs[1], SDP_CODEC_PCMU);
	assert_int_equal(m->srtp, SDP_SRTP_MANDATORY);
	assert_int_equal(m->dtmf, MEDIA_DTMF_INFO);
	assert_int_equal(m->jb_min_ms, 60);
	assert_int_equal(m->jb_max_ms, 300);
	assert_false(m->ec);
	assert_int_equal(m->ec_tail_ms, 128);
	assert_int_equal(m->rtp_timeout_s, 0);
	assert_int_equal(m->workers, 2);
	assert_int_equal(m->ptime, 30);
	cfg_free(cfg);
}

static void test_route_redirect(void **state)
{
	struct tandem_config *cfg = load_ok(
	    "sip: {}\nroutes:\n  outbound:\n    - { pattern: '+1212555099X', redirect: "
	    "'sip:{number}@gw2.example' }\n");
	struct route_table *t = NULL;
	struct route_out_match m;

	(void)state;
	assert_int_equal(cfg_route_table(cfg, &t), 0);
	assert_int_equal(route_out_lookup(t, "+12125550990", &m), 0);
	assert_string_equal(m.route->redirect, "sip:{number}@gw2.example");
	mem_deref(t);
	cfg_free(cfg);
	expect_err("sip: {}\nroutes:\n  outbound:\n    - { pattern: '+!', redirect: 'tel:+1' }\n",
	           "t.yaml:4:34: redirect must be a sip: or sips: URI");
}

/* One DID, one destination: duplicates are errors with their position (found by
 * fuzz_config: they used to load and then fail to build the route table). */
static void test_did_unique(void **state)
{
	(void)state;
	expect_err("sip: {}\nusers:\n  - { name: a, password: x, dids: ['+12125551001'] }\n"
	           "  - { name: b, password: y, dids: ['+12125551002', '+12125551001'] }\n",
	           "t.yaml:4:52: DID '+12125551001' already belongs to user 'a'");
	expect_err("sip: {}\nusers:\n  - { name: a, password: x, dids: ['+1212', '+1212'] }\n",
	           "t.yaml:3:45: DID '+1212' given twice");
	expect_err("sip: {}\nusers:\n  - { name: a, password: x, dids: ['+12125551001'] }\n"
	           "routes:\n  inbound:\n    - { did: '+12125551001', to: 'user:a' }\n",
	           "t.yaml:6:14: DID '+12125551001' already belongs to user 'a'");
	expect_err("sip: {}\nusers:\n  - { name: a, password: x }\nroutes:\n  inbound:\n"
	           "    - { did: '+12125559000', to: 'user:a' }\n"
	           "    - { did: '+12125559000', to: 'uri:sip:x@y' }\n",
	           "t.yaml:7:14: DID '+12125559000' has a route already");
}

static void test_gateway_errors(void **state)
{
	(void)state;
	expect_err("sip: {}\nnumbering: { country_code: 'x1' }\n", "t.yaml:2:28: expected up to");
	expect_err("sip: {}\nnumbering: { contry_code: '1' }\n", "t.yaml:2:14: unknown key");
	expect_err("sip: {}\nspans:\n  - { number: 1 }\n", "t.yaml:3:5: a virtual span needs");
	expect_err("sip: {}\nspans:\n  - { address: x }\n", "t.yaml:3:5: a span needs its number");
	expect_err("sip: {}\nspans:\n  - { number: 1, address: x, side: both }\n",
		   "t.yaml:3:36: 'both' is not one of net, cpe");
	expect_err("sip: {}\nspans:\n  - { number: 1, address: x, switch: sip }\n",
		   "t.yaml:3:38: unknown switch type 'sip'");
	expect_err("sip: {}\nspans:\n  - { number: 2, address: x, bchan: '32-63' }\n",
	           "t.yaml:3:37: bchan '32-63' is not a list of channel ranges of span 2 "
	           "(timeslots 1-31, or DAHDI channels 32-62)");
	expect_err("sip: {}\nspans:\n  - { number: 1, address: x, type: t1, bchan: '1-31' }\n",
		   "t.yaml:3:47: bchan '1-31'");
	expect_err("sip: {}\nspans:\n  - { number: 1, address: x, bchan: '1-16' }\n",
		   "dchan 16 is also a B-channel");
	expect_err("sip: {}\nspans:\n  - { number: 1, address: x }\n  - { number: 1, address: y }\n",
		   "t.yaml:4:5: span 1 given twice");
	expect_err("sip: {}\nusers:\n  - { name: '1001' }\n", "t.yaml:3:5: user '1001' needs a password");
	expect_err("sip: {}\nusers:\n  - { name: '1001', password: x, dids: ['2125551001'] }\n",
		   "t.yaml:3:41: DID '2125551001' is not an E.164");
	expect_err("sip: {}\nusers:\n  - { name: a, password: x }\n  - { name: a, password: y }\n",
		   "t.yaml:4:5: user 'a' given twice");
	expect_err("sip: {}\nroutes:\n  outbound:\n    - { pattern: '+1N?' }\n",
		   "t.yaml:4:18: bad pattern '+1N?'");
	expect_err("sip: {}\nroutes:\n  outbound:\n    - { pattern: '+!', ton: far }\n",
		   "t.yaml:4:29: unknown type of number 'far'");
	expect_err("sip: {}\nroutes:\n  outbound:\n    - { pattern: '+!', groups: [] }\n",
		   "t.yaml:4:32: groups: 1 to 8");
	expect_err("sip: {}\nroutes:\n  inbound:\n    - { did: '+1212', to: 'user:9' }\n",
		   "t.yaml:4:27: no user '9'");
	expect_err("sip: {}\nroutes:\n  inbound:\n    - { did: '+1212', to: 'phone:9' }\n",
		   "'phone:9' is not user:NAME");
	expect_err("sip: {}\nroutes:\n  inbound:\n    - { to: 'uri:sip:a@b' }\n",
		   "t.yaml:4:7: an inbound route needs one of did or pattern");
	expect_err("sip: {}\nroutes:\n  outbound:\n    - { pattern: '+!', hunt: up }\n",
		   "t.yaml:4:24: unknown key 'hunt'");
	expect_err("sip: {}\nmedia: { codecs: [pcma, gsm] }\n",
	           "t.yaml:2:25: a codec must be one of pcma, pcmu, g722");
	expect_err("sip: {}\nmedia: { rtp_ports: 20000-10000 }\n", "t.yaml:2:21: rtp_ports must be");
	expect_err("sip: {}\nmedia: { srtp: maybe }\n", "t.yaml:2:16: srtp must be one of off");
	expect_err("sip: {}\nmedia: { dtmf: sip }\n", "t.yaml:2:16: dtmf must be one of rfc4733");
	expect_err("sip: {}\nmedia: { jitter_buffer: { min_ms: 100, max_ms: 60 } }\n",
	           "t.yaml:2:25: jitter_buffer: max_ms below min_ms");
	expect_err("sip: {}\nmedia: { ptime: 25 }\n", "t.yaml:2:17: ptime must be 10");
	expect_err("sip: {}\nmedia: { echo: true }\n", "t.yaml:2:10: unknown key 'echo'");
	expect_err("sip: {}\ntrunks:\n  - { name: c, address: 'udp:carrier.example' }\n",
	           "t.yaml:3:25: trunk address 'udp:carrier.example'");
	expect_err("sip: {}\ntrunks:\n  - { name: c }\n", "t.yaml:3:5: trunk 'c' needs an address");
	expect_err("sip: {}\ncauses: { to_sip: { 17: 200 } }\n", "t.yaml:2:21: 17 -> 200:");
	expect_err("sip: {}\ncauses: { profile: q931 }\n", "t.yaml:2:20: profile must be");
	expect_err("sip: {}\ncauses: { from_sip: [486] }\n", "t.yaml:2:21: expected a mapping");
	expect_err("sip: {}\nroutes:\n  inbound:\n    - { did: '+1212', to: 'trunk:x' }\n",
	           "no trunk 'x' in trunks");
	expect_err("sip: {}\nregistrar:\n  digest_algorithms: [md5, sha-1]\n",
	           "t.yaml:3:28: unknown digest algorithm 'sha-1' (md5, sha-256 or sha-512-256)");
	expect_err("sip: {}\nregistrar:\n  digest_algorithms:\n    - sha-256\n    - MD5-sess\n",
	           "t.yaml:5:7: unknown digest algorithm 'MD5-sess'");
	expect_err("sip: {}\nregistrar:\n  digest_algorithms: []\n",
	           "t.yaml:3:22: digest_algorithms needs at least one of md5, sha-256, sha-512-256");
	expect_err("sip: {}\nregistrar: { digest_algorithms: [md5, sha-256, md5] }\n",
	           "t.yaml:2:48: digest algorithm 'md5' given twice");
	expect_err("sip: {}\nregistrar: { digest_algorithms: md5 }\n",
	           "t.yaml:2:33: expected a list");
	expect_err("sip: {}\nregistrar: { md5_only: true }\n", "t.yaml:2:14: unknown key 'md5_only'");
}

static void test_demo_file(void **state)
{
	struct tandem_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	if (cfg_load(&cfg, "provisioning/examples/tandem.yaml", err, sizeof(err)))
		fail_msg("the demo configuration: %s", err);
	assert_int_equal(cfg->nspans, 1);
	assert_int_equal(cfg->nusers, 4);
	assert_string_equal(cfg_user_find(cfg, "1003")->password, "demo1003");
	assert_string_equal(cfg->ctl.socket, "/tmp/tandem-ctl.sock");
	assert_true(cfg->metrics.enabled);
	assert_int_equal(sa_port(&cfg->metrics.listen), 9469);
	assert_string_equal(cfg->cdr.path, "/tmp/tandem-cdr.db");
	assert_false(cfg->cdr.sync_full);
	/* bindings in a file (they survive a restart); MD5 only (baresip 1.0, SIPp, sipsak) */
	assert_string_equal(cfg->registrar.db, "/tmp/tandem-registrar.db");
	assert_int_equal(cfg->registrar.digest_algs.n, 1);
	assert_int_equal(cfg->registrar.digest_algs.alg[0], SIP_DIGEST_MD5);
	cfg_free(cfg);
}

static void test_ops_sections(void **state)
{
	struct tandem_config *cfg;

	(void)state;
	cfg = load_ok("sip: {}\n");
	assert_null(cfg->ctl.socket);
	assert_false(cfg->metrics.enabled);
	assert_null(cfg->cdr.path);
	cfg_free(cfg);
	cfg = load_ok("sip: {}\nctl: { socket: /run/t.sock }\nmetrics: { listen: '[::1]:9100' }\n"
		      "cdr: { path: /var/lib/t/cdr.db, sync: full }\n");
	assert_string_equal(cfg->ctl.socket, "/run/t.sock");
	assert_true(cfg->metrics.enabled);
	assert_int_equal(sa_port(&cfg->metrics.listen), 9100);
	assert_int_equal(sa_af(&cfg->metrics.listen), AF_INET6);
	assert_string_equal(cfg->cdr.path, "/var/lib/t/cdr.db");
	assert_true(cfg->cdr.sync_full);
	cfg_free(cfg);
	cfg = load_ok("sip: {}\nmetrics: {}\ncdr: { path: c.db }\n");
	assert_false(cfg->metrics.enabled);
	assert_false(cfg->cdr.sync_full);
	cfg_free(cfg);
}

static void test_ops_errors(void **state)
{
	char big[300];

	(void)state;
	expect_err("sip: {}\nctl: { sock: /x }\n", "t.yaml:2:8: unknown key 'sock'");
	expect_err("sip: {}\nctl: { socket: '' }\n", "t.yaml:2:16: a path of 1 to 107 bytes");
	snprintf(big, sizeof(big), "sip: {}\nctl: { socket: /%0120d }\n", 0);
	expect_err(big, "t.yaml:2:16: a path of 1 to 107 bytes");
	expect_err("sip: {}\nmetrics: { listen: 127.0.0.1 }\n",
		   "t.yaml:2:20: metrics.listen must be ADDRESS:PORT");
	expect_err("sip: {}\nmetrics: { listen: 'nowhere:x' }\n", "t.yaml:2:20: metrics.listen");
	expect_err("sip: {}\ncdr: { path: c.db, sync: sometimes }\n",
		   "t.yaml:2:26: cdr.sync must be normal or full");
	expect_err("sip: {}\ncdr: [ c.db ]\n", "t.yaml:2:6:");
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

static void test_session_timer(void **state)
{
	struct tandem_config *cfg;

	(void)state;
	cfg = load_ok("sip: {}\n"); /* RFC 4028 §4's 1800 s, §5's floor of 90 s */
	assert_int_equal(cfg->sip.session_expires, 1800);
	assert_int_equal(cfg->sip.min_se, 90);
	assert_false(cfg->sip.no_session_timer);
	cfg_free(cfg);
	cfg = load_ok("sip:\n  session_timer: { expires: 600, min_se: 120 }\n");
	assert_int_equal(cfg->sip.session_expires, 600);
	assert_int_equal(cfg->sip.min_se, 120);
	cfg_free(cfg);
	cfg = load_ok("sip:\n  session_timer: { expires: 90, min_se: 90 }\n");
	assert_int_equal(cfg->sip.session_expires, 90);
	cfg_free(cfg);
	cfg = load_ok("sip:\n  session_timer:\n    enabled: false\n");
	assert_true(cfg->sip.no_session_timer);
	assert_int_equal(cfg->sip.session_expires, 1800);
	cfg_free(cfg);
	expect_err("sip:\n  session_timer: { min_se: 89 }\n",
		   "t.yaml:2:28: min_se 89: RFC 4028 allows no less than 90 s");
	expect_err("sip:\n  session_timer:\n    expires: 100\n    min_se: 120\n",
		   "t.yaml:3:14: expires (100 s) must not be below min_se (120 s)");
	/* min_se above the default interval without an expires: the mapping is named */
	expect_err("sip:\n  session_timer: { min_se: 3600 }\n",
		   "t.yaml:2:18: expires (1800 s) must not be below min_se (3600 s)");
	expect_err("sip:\n  session_timer: { expires: 0 }\n",
		   "t.yaml:2:29: expected a whole number from 1 to 86400");
	expect_err("sip:\n  session_timer: { expires: soon }\n", "t.yaml:2:29: expected a whole");
	expect_err("sip:\n  session_timer: { refresher: uac }\n",
		   "t.yaml:2:20: unknown key 'refresher'");
	expect_err("sip:\n  session_timer: { enabled: maybe }\n", "t.yaml:2:29:");
	expect_err("sip:\n  session_timer: 1800\n", "t.yaml:2:18:");
}

/* users[].contacts (static bindings) and trunks[].proxy: values, defaults, errors. */
#define USER1 "sip: {}\nusers:\n  - { name: \"1\", password: p, contacts: "
#define TRUNK1 "sip: {}\ntrunks:\n  - { name: c, address: \"udp:192.0.2.10\", "
static void test_contacts_and_proxy(void **state)
{
	struct tandem_config *cfg;
	const struct cfg_user *u;
	const struct cfg_trunk *t;
	char text[600];

	(void)state;
	cfg = load_ok("sip: {}\n"
		      "users:\n"
		      "  - name: \"1004\"\n"
		      "    password: demo1004\n"
		      "    contacts: [\"sip:1004@192.0.2.40:5060\",\n"
		      "               \"sips:desk@[2001:db8::4];transport=tls\"]\n"
		      "  - { name: \"1005\", password: p, contacts: [] }\n"
		      "  - { name: \"1006\", password: p }\n"
		      "trunks:\n"
		      "  - { name: carrier, address: \"udp:192.0.2.10:5060\",\n"
		      "      proxy: \"sip:sbc.example:5060;lr\" }\n"
		      "  - { name: direct, address: \"tcp:192.0.2.11\" }\n");
	u = cfg_user_find(cfg, "1004");
	assert_non_null(u);
	assert_int_equal(u->ncontacts, 2);
	assert_string_equal(u->contacts[0], "sip:1004@192.0.2.40:5060");
	assert_string_equal(u->contacts[1], "sips:desk@[2001:db8::4];transport=tls");
	assert_int_equal(cfg_user_find(cfg, "1005")->ncontacts, 0);
	assert_int_equal(cfg_user_find(cfg, "1006")->ncontacts, 0);
	assert_null(cfg_user_find(cfg, "1006")->contacts);
	t = cfg_trunk_find(cfg, "carrier");
	assert_non_null(t);
	assert_string_equal(t->proxy, "sip:sbc.example:5060;lr");
	assert_null(cfg_trunk_find(cfg, "direct")->proxy);
	cfg_free(cfg);

	expect_err(USER1 "[\"tel:+12125550100\"] }\n",
		   "t.yaml:3:42: contact 'tel:+12125550100' is not a sip: or sips: URI");
	expect_err("sip: {}\nusers:\n  - name: \"1\"\n    password: p\n    contacts:\n"
		   "      - sip:1@192.0.2.40\n      - \"<sip:1@192.0.2.41>\"\n",
		   "t.yaml:7:9: contact '<sip:1@192.0.2.41>' is not a sip: or sips: URI");
	expect_err(USER1 "[\"sip:1@192.0.2.40?x=y\"] }\n",
		   "t.yaml:3:42: contact 'sip:1@192.0.2.40?x=y' is not");
	expect_err(USER1 "[\"sip:@\"] }\n", "t.yaml:3:42: contact 'sip:@' is not");
	expect_err(USER1 "[\"sip:a@h\", \"sip:a@h\"] }\n",
		   "t.yaml:3:53: contact 'sip:a@h' given twice");
	expect_err(USER1 "\"sip:a@h\" }\n", "t.yaml:3:41: expected a list");
	expect_err(USER1 "[[\"sip:a@h\"]] }\n", "t.yaml:3:42: expected a string");
	/* call control keeps 255 bytes of a target */
	snprintf(text, sizeof(text), USER1 "[\"sip:%0256d@h\"] }\n", 0);
	expect_err(text, "t.yaml:3:42: contact 'sip:0000");
	snprintf(text, sizeof(text), USER1 "[\"sip:%0246d@h\"] }\n", 0);
	cfg_free(load_ok(text));
	expect_err(TRUNK1 "proxy: \"sbc.example\" }\n",
		   "t.yaml:3:50: proxy 'sbc.example' is not a sip: or sips: URI");
	expect_err(TRUNK1 "proxy: \"tel:+1\" }\n", "t.yaml:3:50: proxy 'tel:+1' is not");
	expect_err(TRUNK1 "proxy: [] }\n", "t.yaml:3:50: expected a string");
	expect_err(TRUNK1 "outbound_proxy: x }\n", "t.yaml:3:43: unknown key 'outbound_proxy'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_gateway_sections),
		cmocka_unit_test(test_gateway_defaults),
		cmocka_unit_test(test_gateway_errors),
		cmocka_unit_test(test_media_section),
		cmocka_unit_test(test_route_redirect),
		cmocka_unit_test(test_did_unique),
		cmocka_unit_test(test_demo_file),
		cmocka_unit_test(test_ops_sections),
		cmocka_unit_test(test_ops_errors),
		cmocka_unit_test(test_session_timer),
		cmocka_unit_test(test_contacts_and_proxy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
