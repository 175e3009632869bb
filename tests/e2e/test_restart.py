"""Registrations and CDRs survive a restart of tandemd (SIGTERM, then the same config).

The demo configuration (as test_gateway.py rewrites it: ports, ctl socket, registrar and
CDR databases in tmp_path) with pstnsim as the exchange. Real peers: sipsak registers
(MD5, the first challenge: the config offers md5 first), SIPp places an outbound call
and later answers as the registered contact, build/pstnctl places the DID call,
build/tandemctl lists registrations and CDRs, Python's sqlite3 reads the CDR file.

The registrar's Min-Expires is 60 s (tandemd does not lower it), so the expiry test
registers for 60 s and waits that long while tandemd is stopped: about 65 s.
"""
import os
import re
import sqlite3
import subprocess
import time
import uuid

import pytest

from conftest import binary, free_port
from test_gateway import PSTNSIM_CFG, SIPP, gw_config, pstnctl, run_sipp, wait_until
from test_ops import ctl, ctl_json
from test_registrar import SIPSAK, sipsak

MIN_EXPIRES = 60  # gateway/registrar's default, which tandemd keeps

needs_peers = pytest.mark.skipif(not (SIPP and os.access(SIPSAK, os.X_OK)),
                                 reason="sipp and sipsak are needed (packaging/deps.sh)")


class Gateway:
    """pstnsim (kept running) and tandemd (stopped and started again) on one virtual E1."""

    def __init__(self, tmp_path, procs):
        self.tmp, self.procs = tmp_path, procs
        span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
        self.port = free_port()
        self.cfg = gw_config(tmp_path, self.port, span_addr)
        self.sock = str(tmp_path / "ctl.sock")
        self.cdr_db = str(tmp_path / "cdr.db")
        self.reg_db = str(tmp_path / "registrar.db")
        text = open(self.cfg).read()
        # the demo's own paths are gone: nothing is shared with `make run` or other tests
        assert f'db: "{self.reg_db}"' in text and f"path: {self.cdr_db}" in text, text
        assert f"socket: {self.sock}" in text, text
        self.sim_sock = str(tmp_path / "sim.sock")
        self.sim = procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", self.sim_sock,
                                "--addr", f"1={span_addr}"], name="pstnsim")
        self.gw = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.gw = self.procs.start([binary("tandemd"), "-c", self.cfg],
                                   name=f"tandemd{self.runs}")
        self.gw.port = self.port  # what run_sipp() dials
        assert self.gw.wait_for("ready", 10), self.gw.output()
        assert self.gw.wait_for("D-channel up", 10), self.gw.output() + self.sim.output()
        assert wait_until(lambda: ctl(self.sock, "status").returncode == 0, 5)
        return self.gw

    def stop(self):
        assert self.gw.stop() == 0, self.gw.output()[-3000:]  # SIGTERM: a clean exit

    def bindings(self):
        """{aor: [contact, ...]} and the raw list, from `tandemctl registrations`."""
        regs = ctl_json(self.sock, "registrations")
        assert regs["count"] == len(regs["registrations"]), regs
        out = {}
        for r in regs["registrations"]:
            out.setdefault(r["aor"], []).append(r)
        return out

    def cdr_rows(self):
        conn = sqlite3.connect(self.cdr_db)
        try:
            return conn.execute("SELECT id, call_id, direction, called, sip_status, cause_pstn,"
                                " start_ms, end_ms FROM cdr ORDER BY id").fetchall()
        finally:
            conn.close()


@pytest.fixture
def gateway(tmp_path, procs):
    if not SIPP:
        pytest.fail("sipp is not installed (packaging/deps.sh installs sip-tester)")
    g = Gateway(tmp_path, procs)
    g.start()
    return g


def register(g, user, contact_port, expires):
    r = sipsak(g.port, user, f"demo{user}", contact_port, expires)
    assert r.returncode == 0, r.stdout + r.stderr + g.gw.output()[-3000:]


def did_call_answered(g, tmp_path, did, contact_port):
    """pstnsim calls did; SIPp answers as the registered contact; pstnsim hangs up (16)."""
    uas = subprocess.Popen([SIPP, "-sn", "uas", "-i", "127.0.0.1", "-p", str(contact_port),
                            "-m", "1", "-nostdin", "-timeout", "20", "-timeout_error"],
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)  # SIPp binds its port
        call = pstnctl(g, "call", "+12125550199", did)["call"]
        assert wait_until(lambda: "CONNECT" in g.gw.output(), 10), g.gw.output()[-4000:]
        pstnctl(g, "hangup", str(call), "16")
        assert uas.wait(20) == 0, uas.stderr.read().decode(errors="replace") + g.gw.output()
    finally:
        if uas.poll() is None:
            uas.kill()
            uas.wait(5)


@needs_peers
def test_registrations_and_cdrs_survive_restart(tmp_path, gateway):
    g = gateway
    contact_port = free_port()
    contact = f"sip:1002@127.0.0.1:{contact_port}"
    register(g, "1002", contact_port, 600)
    before = g.bindings()
    assert list(before) == ["1002"] and before["1002"][0]["contact"] == contact, before
    assert 590 <= before["1002"][0]["expires"] <= 600, before

    # a call that leaves a CDR: busy at pstnsim
    run_sipp(tmp_path, g.gw, "+12125550486", 486, 17)
    assert wait_until(lambda: ctl_json(g.sock, "cdr", "last=1")["total"] == 1, 10)
    rows = g.cdr_rows()
    assert len(rows) == 1 and rows[0][2:6] == ("out", "2125550486", 486, 17), rows

    g.stop()
    # stopped: both files are on disk and hold what the daemon wrote
    assert os.path.getsize(g.reg_db) > 0
    assert g.cdr_rows() == rows
    g.start()

    after = g.bindings()
    assert list(after) == ["1002"], after
    b = after["1002"][0]
    assert b["contact"] == contact and b["via"].startswith("UDP:127.0.0.1:"), b
    assert 500 <= b["expires"] <= before["1002"][0]["expires"], b  # counted from the REGISTER
    r = ctl(g.sock, "registrations")  # the table a person reads
    assert r.returncode == 0 and contact in r.stdout, r.stdout
    rec = ctl_json(g.sock, "cdr", "last=5")
    assert rec["total"] == 1 and rec["cdrs"][0]["call_id"] == rows[0][1], rec

    # the DID of 1002 rings the contact it registered before the restart
    did_call_answered(g, tmp_path, "+12125551002", contact_port)
    assert f"INVITE {contact}" in g.gw.output(), g.gw.output()[-4000:]
    assert wait_until(lambda: len(g.cdr_rows()) == 2, 10), g.gw.output()[-3000:]
    new = g.cdr_rows()
    assert new[0] == rows[0], new  # the old record untouched
    assert new[1][0] > rows[0][0] and new[1][2] == "in" and new[1][4] == 200, new
    assert new[1][6] >= rows[0][7]  # started after the first call ended
    assert ctl_json(g.sock, "cdr", "last=5")["total"] == 2


@needs_peers
def test_expired_bindings_are_gone_after_restart(tmp_path, gateway):
    g = gateway
    short_port, long_port = free_port(), free_port()
    register(g, "1001", short_port, MIN_EXPIRES)
    t0 = time.monotonic()
    register(g, "1003", long_port, 3600)
    regs = g.bindings()
    assert sorted(regs) == ["1001", "1003"], regs
    assert regs["1001"][0]["expires"] <= MIN_EXPIRES, regs  # not raised: it is the minimum

    g.stop()
    # the short binding runs out while tandemd is down
    left = MIN_EXPIRES + 2 - (time.monotonic() - t0)
    if left > 0:
        time.sleep(left)
    g.start()

    assert g.gw.wait_for("registrar: 1 bindings expired while stopped", 5), g.gw.output()
    regs = g.bindings()
    assert list(regs) == ["1003"], regs
    assert regs["1003"][0]["contact"] == f"sip:1003@127.0.0.1:{long_port}", regs

    # 1001's DID now finds nobody: pstnsim hears cause 20 (subscriber absent)
    pstnctl(g, "call", "+12125550199", "+12125551001")
    assert wait_until(lambda: re.search(r'"cause":\s*20\b', g.sim.output()), 10), \
        g.gw.output()[-3000:] + g.sim.output()[-3000:]
    assert f"127.0.0.1:{short_port}" not in g.gw.output()
