"""Registrations and CDRs survive a restart of tandemd (SIGTERM, then the same config).

The demo configuration (as peers/gateway.py rewrites it: ports, ctl socket, registrar and
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
import time

import pytest

from conftest import SIPP, free_port, wait_until
from peers import gateway as gwmod
from peers import sipp
from peers.gateway import tandemctl, tandemctl_json
from peers.sipsak import SIPSAK, sipsak

MIN_EXPIRES = 60  # gateway/registrar's default, which tandemd keeps

needs_peers = pytest.mark.skipif(not (SIPP and os.access(SIPSAK, os.X_OK)),
                                 reason="sipp and sipsak are needed (packaging/deps.sh)")


@pytest.fixture
def gateway(tmp_path, procs, need_sipp):
    """pstnsim (kept running) and tandemd (stopped, and started again by restart())."""
    g = gwmod.start(tmp_path, procs)
    # the demo's own paths are gone: nothing is shared with `make run` or other tests
    g.reg_db = str(tmp_path / "registrar.db")
    assert f'db: "{g.reg_db}"' in open(g.cfg).read()
    g.runs = 1
    answering(g)
    return g


def answering(g):
    assert wait_until(lambda: tandemctl(g.sock, "status").returncode == 0, 5)


def stop(g):
    assert g.stop() == 0, g.output()[-3000:]  # SIGTERM: a clean exit


def restart(g):
    g.runs += 1
    g.run(f"tandemd{g.runs}")
    answering(g)


def bindings(g):
    """{aor: [binding, ...]} from `tandemctl registrations`."""
    regs = tandemctl_json(g.sock, "registrations")
    assert regs["count"] == len(regs["registrations"]), regs
    out = {}
    for r in regs["registrations"]:
        out.setdefault(r["aor"], []).append(r)
    return out


def cdr_rows(g):
    conn = sqlite3.connect(g.db)
    try:
        return conn.execute("SELECT id, call_id, direction, called, sip_status, cause_pstn,"
                            " start_ms, end_ms FROM cdr ORDER BY id").fetchall()
    finally:
        conn.close()


def register(g, user, contact_port, expires):
    r = sipsak(g.port, user, f"demo{user}", contact_port, expires)
    assert r.returncode == 0, r.stdout + r.stderr + g.output()[-3000:]


def did_call_answered(g, procs, tmp_path, did, contact_port):
    """pstnsim calls did; SIPp answers as the registered contact; pstnsim hangs up (16)."""
    uas = sipp.start_uas(procs, tmp_path, contact_port, timeout=20)
    time.sleep(0.3)  # SIPp binds its port
    call = g.pstnctl("call", "+12125550199", did)["call"]
    assert wait_until(lambda: "CONNECT" in g.output(), 10), g.output()[-4000:]
    g.pstnctl("hangup", str(call), "16")
    assert uas.wait(20) == 0, uas.report() + g.output()


@needs_peers
def test_registrations_and_cdrs_survive_restart(tmp_path, procs, gateway):
    g = gateway
    contact_port = free_port()
    contact = f"sip:1002@127.0.0.1:{contact_port}"
    register(g, "1002", contact_port, 600)
    before = bindings(g)
    assert list(before) == ["1002"] and before["1002"][0]["contact"] == contact, before
    assert 590 <= before["1002"][0]["expires"] <= 600, before

    # a call that leaves a CDR: busy at pstnsim
    gwmod.phone_call(tmp_path, g, "+12125550486", 486, 17)
    assert wait_until(lambda: tandemctl_json(g.sock, "cdr", "last=1")["total"] == 1, 10)
    rows = cdr_rows(g)
    assert len(rows) == 1 and rows[0][2:6] == ("out", "2125550486", 486, 17), rows

    stop(g)
    # stopped: both files are on disk and hold what the daemon wrote
    assert os.path.getsize(g.reg_db) > 0
    assert cdr_rows(g) == rows
    restart(g)

    after = bindings(g)
    assert list(after) == ["1002"], after
    b = after["1002"][0]
    assert b["contact"] == contact and b["via"].startswith("UDP:127.0.0.1:"), b
    assert 500 <= b["expires"] <= before["1002"][0]["expires"], b  # counted from the REGISTER
    r = tandemctl(g.sock, "registrations")  # the table a person reads
    assert r.returncode == 0 and contact in r.stdout, r.stdout
    rec = tandemctl_json(g.sock, "cdr", "last=5")
    assert rec["total"] == 1 and rec["cdrs"][0]["call_id"] == rows[0][1], rec

    # the DID of 1002 rings the contact it registered before the restart
    did_call_answered(g, procs, tmp_path, "+12125551002", contact_port)
    assert f"INVITE {contact}" in g.output(), g.output()[-4000:]
    assert wait_until(lambda: len(cdr_rows(g)) == 2, 10), g.output()[-3000:]
    new = cdr_rows(g)
    assert new[0] == rows[0], new  # the old record untouched
    assert new[1][0] > rows[0][0] and new[1][2] == "in" and new[1][4] == 200, new
    assert new[1][6] >= rows[0][7]  # started after the first call ended
    assert tandemctl_json(g.sock, "cdr", "last=5")["total"] == 2


@needs_peers
def test_expired_bindings_are_gone_after_restart(tmp_path, gateway):
    g = gateway
    short_port, long_port = free_port(), free_port()
    register(g, "1001", short_port, MIN_EXPIRES)
    t0 = time.monotonic()
    register(g, "1003", long_port, 3600)
    regs = bindings(g)
    assert sorted(regs) == ["1001", "1003"], regs
    assert regs["1001"][0]["expires"] <= MIN_EXPIRES, regs  # not raised: it is the minimum

    stop(g)
    # the short binding runs out while tandemd is down
    left = MIN_EXPIRES + 2 - (time.monotonic() - t0)
    if left > 0:
        time.sleep(left)
    restart(g)

    assert g.proc.wait_for("registrar: 1 bindings expired while stopped", 5), g.output()
    regs = bindings(g)
    assert list(regs) == ["1003"], regs
    assert regs["1003"][0]["contact"] == f"sip:1003@127.0.0.1:{long_port}", regs

    # 1001's DID now finds nobody: pstnsim hears cause 20 (subscriber absent)
    g.pstnctl("call", "+12125550199", "+12125551001")
    assert wait_until(lambda: re.search(r'"cause":\s*20\b', g.sim.output()), 10), \
        g.output()[-3000:] + g.sim.output()[-3000:]
    assert f"127.0.0.1:{short_port}" not in g.output()
