"""Operations side of tandemd: tandemctl over the control socket, GET /metrics, the CDR file.

Real peers: build/tandemctl (the shipped client), urllib as the scraper, Python's sqlite3
module reading the CDR database the daemon wrote, and for a call SIPp (the phone) and
pstnsim (the exchange) on a virtual E1 as in test_gateway.py.
"""
import json
import os
import socket
import sqlite3
import stat
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import binary, free_port, wait_until
from peers import gateway as gwmod
from peers import sipp
from peers.gateway import tandemctl as ctl, tandemctl_json as ctl_json

PROM_LINE = (r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? '
             r'(-?[0-9.e+-]+|[+-]Inf|NaN)$')


def config(tmp_path):
    sip, metrics = free_port(), free_port(kind=socket.SOCK_STREAM)
    sock, db = tmp_path / "ctl.sock", tmp_path / "cdr.db"
    text = f"""
log: {{ level: debug }}
sip:
  domain: gw.test
  listen: [ "udp:127.0.0.1:{sip}" ]
ctl: {{ socket: "{sock}" }}
metrics: {{ listen: "127.0.0.1:{metrics}" }}
cdr: {{ path: "{db}", sync: normal }}
"""
    path = tmp_path / "tandem.yaml"
    path.write_text(text)
    return str(path), str(sock), str(db), metrics


@pytest.fixture
def daemon(tmp_path, procs):
    cfg, sock, db, metrics = config(tmp_path)
    check = subprocess.run([binary("tandemd"), "-c", cfg, "--check"], capture_output=True,
                           text=True, timeout=10)
    assert check.returncode == 0, check.stderr
    p = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert p.wait_for("ready", 10), p.output()
    p.sock, p.db, p.metrics = sock, db, metrics
    return p


def test_tandemctl(daemon):
    mode = os.stat(daemon.sock).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o660
    r = ctl(daemon.sock, "status", raw=True)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["ok"] is True and st["uptime_s"] >= 0 and st["pid"] == daemon.p.pid
    r = ctl(daemon.sock, "help")
    assert r.returncode == 0
    names = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    for want in ("help", "version", "status", "reload", "cdr"):
        assert want in names, r.stdout
    r = ctl(daemon.sock, "reload")
    assert r.returncode == 0 and "reload:" in daemon.output()
    r = ctl(daemon.sock, "no-such-command")
    assert r.returncode == 1 and "unknown command" in r.stderr
    r = ctl(daemon.sock, "cdr", "last=0")
    assert r.returncode == 1 and "last must be" in r.stderr
    # garbage straight on the socket gets an error line, and the daemon lives on
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(daemon.sock)
    s.sendall(b"\x00\xffnot json\n")
    reply = json.loads(s.makefile().readline())
    s.close()
    assert reply == {"ok": False, "error": "malformed JSON"}
    assert ctl(daemon.sock, "version").returncode == 0


def test_metrics_endpoint(daemon):
    import re
    url = f"http://127.0.0.1:{daemon.metrics}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        body = r.read().decode()
    assert body.endswith("\n")
    for line in body.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", line), line
        else:
            assert re.match(PROM_LINE, line), line
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{daemon.metrics}/", timeout=5)
    assert e.value.code == 404


def test_cdr_file(daemon):
    r = ctl(daemon.sock, "cdr", "last=5", raw=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"] == 0
    db = sqlite3.connect(daemon.db)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM cdr").fetchone()[0] == 0
    finally:
        db.close()


# ---- a call through the gateway, seen and ended from tandemctl ----

def calls_total(metrics):
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5) as r:
        body = r.read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith("tandem_calls_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total, body


def held_call(procs, tmp_path, port):
    """SIPp as 1001 calling +12125550100 and holding the call until the gateway's BYE (with
    Reason: Q.850;cause=16), which it answers."""
    held = (sipp.ack("1001", 2, "[remote_ip]") +
            sipp.recv("BYE", sipp.reason(16), timeout=20000) + sipp.ok_reply())
    return sipp.start_uac(procs, tmp_path, port, gwmod.phone_scenario(200, after=held),
                          "+12125550100", free_port(), name="held", timeout=30,
                          auth=gwmod.PHONE_AUTH)


@pytest.fixture
def ops_gw(tmp_path, procs, need_sipp):
    """The demo gateway with ctl, metrics and cdr in tmp_path, pstnsim as the exchange."""
    return gwmod.start(tmp_path, procs)


def test_busy_call_recorded(tmp_path, ops_gw):
    gw, sock = ops_gw, ops_gw.sock
    gwmod.phone_call(tmp_path, gw, "+12125550486", 486, 17)
    rec = wait_until(lambda: ctl_json(sock, "cdr", "last=1")["cdrs"], 10)
    assert rec, gw.output()[-3000:]
    cdr = rec[0]
    assert (cdr["sip"], cdr["cause_sip"], cdr["cause_pstn"]) == (486, 17, 17), cdr
    assert cdr["ended_by"] == "pstn" and cdr["answer"] is None and cdr["billsec"] == 0
    assert cdr["called"] == "2125550486" and cdr["span"] == 1
    _, body = calls_total(gw.metrics)
    assert 'tandem_calls_total{direction="out",result="busy"} 1' in body, body
    assert 'tandem_call_causes_total{side="sip",cause="17"} 1' in body
    assert ctl_json(sock, "spans")["spans"][0]["busy"] == 0


def test_call_seen_hung_up_and_recorded(tmp_path, procs, ops_gw):
    gw, sim, port, sock, db, metrics = (ops_gw, ops_gw.sim, ops_gw.port, ops_gw.sock,
                                        ops_gw.db, ops_gw.metrics)

    r = ctl(sock, "status")
    assert r.returncode == 0 and "calls:" in r.stdout and "config:" in r.stdout, r.stdout
    spans = ctl_json(sock, "spans")["spans"]
    assert [(s["span"], s["type"], s["dchan"], s["alarms"]) for s in spans] == \
        [(1, "E1", "up", "none")], spans
    assert spans[0]["busy"] == 0 and spans[0]["idle"] == 30
    assert ctl_json(sock, "registrations")["count"] == 0
    before, _ = calls_total(metrics)

    held = held_call(procs, tmp_path, port)

    def answered():
        calls = ctl_json(sock, "calls")["calls"]
        return calls if calls and calls[0]["state"] == "answered" else None
    calls = wait_until(answered, 15)
    assert calls, gw.output()[-4000:]
    assert len(calls) == 1
    c = calls[0]
    assert c["dir"] == "out" and c["to"] == "2125550100" and c["span"] == 1, c
    assert 1 <= c["chan"] <= 31 and c["chan"] != 16 and c["duration_s"] >= 0
    assert "SIPpTag" not in c["id"] and c["id"]
    assert ctl_json(sock, "spans")["spans"][0]["busy"] == 1
    r = ctl(sock, "calls")  # the table form a person reads
    assert r.returncode == 0 and c["id"] in r.stdout, r.stdout
    r = ctl(sock, "hangup", "id=no-such-call")
    assert r.returncode == 1 and "no such call" in r.stderr
    r = ctl(sock, "hangup", f"id={c['id']}")
    assert r.returncode == 0, r.stderr
    assert held.wait(20) == 0, held.report() + gw.output()[-4000:]
    assert wait_until(lambda: "cleared: cause 16" in sim.output(), 10), sim.output()[-3000:]
    assert wait_until(lambda: not ctl_json(sock, "calls")["calls"], 10)

    rec = ctl_json(sock, "cdr", "last=1")
    assert rec["total"] == 1
    cdr = rec["cdrs"][0]
    assert cdr["call_id"] == c["id"] and cdr["dir"] == "out" and cdr["called"] == "2125550100"
    assert (cdr["sip"], cdr["cause_sip"], cdr["cause_pstn"]) == (200, 16, 16), cdr
    assert cdr["ended_by"] == "gateway" and cdr["span"] == 1 and cdr["chan"] == c["chan"]
    assert cdr["answer"] and cdr["end"] and cdr["billsec"] >= 0
    assert cdr["rtp_rx"] == 0  # no RTP counters until the media engine is wired in
    r = ctl(sock, "cdr", "last=1")
    assert r.returncode == 0 and "gateway" in r.stdout

    after, body = calls_total(metrics)
    assert after == before + 1, body
    assert 'tandem_calls_total{direction="out",result="answered"} 1' in body, body
    assert 'tandem_call_causes_total{side="pstn",cause="16"} 1' in body
    assert 'tandem_calls_active{direction="out",span="1"} 0' in body
    assert 'tandem_span_dchan_up{span="1"} 1' in body

    # the record survives a restart, read back by the daemon and by SQLite
    assert gw.stop() == 0
    gw.run("tandemd2")
    rec = wait_until(lambda: ctl(sock, "cdr", "last=1", raw=True).returncode == 0, 5)
    rec = ctl_json(sock, "cdr", "last=1")
    assert rec["total"] == 1 and rec["cdrs"][0]["call_id"] == c["id"]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM cdr").fetchone()[0] == 1
    finally:
        conn.close()


def test_inbound_call_hung_up_from_tandemctl(tmp_path, procs, need_sipp):
    """A DID call from pstnsim answered by SIPp as a UAS, ended from tandemctl."""
    uas_port = free_port()
    gw = gwmod.start(tmp_path, procs,
                     inbound={"+12125559000": f"uri:sip:desk@127.0.0.1:{uas_port}"})
    sim, sock, metrics = gw.sim, gw.sock, gw.metrics
    uas = sipp.start_uas(procs, tmp_path, uas_port, timeout=20)
    time.sleep(0.3)
    gw.pstnctl("call", "+12125550199", "+12125559000")

    def answered():
        calls = ctl_json(sock, "calls")["calls"]
        return calls if calls and calls[0]["state"] == "answered" else None
    calls = wait_until(answered, 15)
    assert calls, gw.output()[-4000:]
    c = calls[0]
    assert c["dir"] == "in" and c["span"] == 1 and c["to"] == "2125559000", c
    assert ctl(sock, "hangup", f"id={c['id']}").returncode == 0
    assert uas.wait(20) == 0, uas.report() + gw.output()
    assert wait_until(lambda: "cleared: cause 16" in sim.output(), 10), sim.output()[-3000:]
    rec = wait_until(lambda: ctl_json(sock, "cdr", "last=1")["cdrs"], 10)
    cdr = rec[0]
    assert cdr["dir"] == "in" and cdr["call_id"] == c["id"] and cdr["ended_by"] == "gateway"
    assert (cdr["sip"], cdr["cause_sip"], cdr["cause_pstn"]) == (200, 16, 16), cdr
    _, body = calls_total(metrics)
    assert 'tandem_calls_total{direction="in",result="answered"} 1' in body, body


def test_call_up_at_shutdown_is_recorded(tmp_path, procs, ops_gw):
    """SIGTERM with a call up: call control ends it and writes its CDR before the store closes."""
    gw = ops_gw
    held = held_call(procs, tmp_path, gw.port)
    try:
        assert wait_until(lambda: [c for c in ctl_json(gw.sock, "calls")["calls"]
                                   if c["state"] == "answered"], 15), gw.output()[-4000:]
        assert gw.stop() == 0, gw.output()[-4000:]
    finally:
        held.stop()
    conn = sqlite3.connect(gw.db)
    try:
        rows = conn.execute("SELECT direction, ended_by, sip_status, cause_pstn, answer_ms > 0, "
                            "end_ms >= answer_ms, span FROM cdr").fetchall()
    finally:
        conn.close()
    assert rows == [("out", "gateway", 200, 41, 1, 1, 1)], rows  # 41: temporary failure
    assert wait_until(lambda: "cleared: cause" in gw.sim.output(), 10), gw.sim.output()[-3000:]
