"""pstnsim end to end: the demo exchange on a virtual span, a libpri user end
(build/pritest --connect) calling every demo number, the control socket's
events, a DID call placed by command (build/pstnctl), and pritest's own
two-ended loop. Everything stays on Unix sockets in a temporary directory."""
import json
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import ROOT, Proc, binary
from peers.pstnsim import Ctl

DEMO = os.path.join(ROOT, "tdm", "pstnsim", "examples", "demo.yaml")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    d = tmp_path_factory.mktemp("pstnsim")
    span, ctl = str(d / "span1"), str(d / "ctl.sock")
    text = open(DEMO).read()
    # The demo's numbers as they are; only the waits are made short for the test.
    text = text.replace("answer_after: 1", "answer_after: 0")
    text = text.replace("timeout: 30", "timeout_ms: 1500")
    assert "timeout_ms: 1500" in text
    conf = d / "demo.yaml"
    conf.write_text(text)
    p = Proc([binary("pstnsim"), "-c", str(conf), "-s", ctl, "--addr", "1=" + span],
             str(d / "pstnsim.log"))
    assert p.wait_for("ready:", 5), p.output()
    yield {"span": span, "ctl": ctl, "proc": p}
    assert p.alive(), p.output()
    assert p.stop() == 0, p.output()


def probe(sim, *args, timeout=20):
    """One call from the user side; returns the CALL line's fields."""
    r = subprocess.run([binary("pritest"), "--connect", sim["span"], *args],
                       capture_output=True, text=True, timeout=timeout)
    m = re.search(r"^CALL (.*)$", r.stdout, re.M)
    assert m and r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return dict(kv.split("=", 1) for kv in m.group(1).split())


@pytest.fixture
def ctl(sim):
    c = Ctl(sim["ctl"])
    yield c
    c.close()


@pytest.mark.parametrize("number,cause", [
    ("+12125550486", 17),  # busy
    ("+12125550404", 1),   # unallocated
    ("+12125550503", 34),  # congestion
    ("+12125550777", 1),   # nobody has it
])
def test_rejected(sim, ctl, number, cause):
    r = probe(sim, "--call", number, "--from", "+12125559999")
    assert r["connect"] == "0" and int(r["cause"]) == cause, r
    e = ctl.wait_event(lambda e: e["event"] == "disconnect")
    assert e and e["cause"] == cause, ctl.events
    setup = [e for e in ctl.events if e["event"] == "setup"]
    assert setup and setup[0]["to"] == number and setup[0]["from"] == "+12125559999"


def test_no_answer(sim, ctl):
    t0 = time.monotonic()
    r = probe(sim, "--call", "+12125550480", "--national")
    assert r["alerting"] == "1" and r["connect"] == "0" and r["cause"] == "19", r
    assert time.monotonic() - t0 >= 1.5
    assert ctl.wait_event(lambda e: e["event"] == "disconnect" and e["cause"] == 19)


def test_answer_plays_1004(sim, ctl):
    r = probe(sim, "--call", "+12125550100", "--hold-ms", "600")
    assert r["connect"] == "1" and r["cause"] == "16", r
    assert r["tone_hz"] == "1004" and abs(float(r["tone_dbm0"]) + 10) < 1, r
    assert ctl.wait_event(lambda e: e["event"] == "disconnect")
    kinds = [e["event"] for e in ctl.events if e.get("call")]
    assert kinds == ["setup", "proceeding", "alerting", "connect", "disconnect"], kinds


def test_echo(sim, ctl):
    r = probe(sim, "--call", "+12125550101", "--tone", "700", "--hold-ms", "600")
    assert r["connect"] == "1" and r["tone_hz"] == "700", r
    t = ctl.wait_event(lambda e: e["event"] == "tone")
    assert t and t["frequency"] == 700 and abs(t["level"] + 10) < 1, ctl.events


def test_ivr_digits(sim, ctl):
    r = probe(sim, "--call", "+12125550102", "--send-digits", "123#", "--hold-ms", "2000")
    assert r["connect"] == "1" and r["digits"] == "123#", r  # played back to us
    assert ctl.wait_event(lambda e: e["event"] == "disconnect")
    heard = "".join(e["digits"] for e in ctl.events if e["event"] == "digits")
    assert heard == "123#", ctl.events


def test_did_by_command(sim, ctl, tmp_path):
    p = Proc([binary("pritest"), "--connect", sim["span"], "--answer", "--hold-ms", "10000",
              "--timeout", "15"], str(tmp_path / "pritest.log"))
    try:
        assert p.wait_for("READY", 5), p.output()
        out = subprocess.run([binary("pstnctl"), "-s", sim["ctl"], "call", "+12125550199",
                              "+12125551001"], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out
        call = json.loads(out.stdout)["call"]
        assert ctl.wait_event(lambda e: e["event"] == "connect" and e["call"] == call), ctl.events
        time.sleep(0.5)  # the user side listens to our tone meanwhile
        out = subprocess.run([binary("pstnctl"), "-s", sim["ctl"], "hangup", str(call)],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out
        assert p.wait_for("CALL ", 5), p.output()
        rc = p.p.wait(5)  # it leaves by itself once the call is over
        stdout = p.output()
    finally:
        p.stop()
    assert rc == 0, stdout
    m = re.search(r"^INCOMING (.*)$", stdout, re.M)
    assert m, stdout
    inc = dict(kv.split("=", 1) for kv in m.group(1).split())
    # number_format: national on the demo span: TON national, +1 stripped
    assert inc["to"] == "2125551001" and inc["to_ton"] == "2", inc
    assert inc["from"] == "2125550199", inc
    end = dict(kv.split("=", 1) for kv in re.search(r"^CALL (.*)$", stdout, re.M).group(1).split())
    assert end["cause"] == "16" and end["tone_hz"] == "440", end
    assert ctl.wait_event(lambda e: e["event"] == "disconnect" and e["call"] == call)


def test_pstnctl_list_and_errors(sim):
    out = subprocess.run([binary("pstnctl"), "-s", sim["ctl"], "list"], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0 and json.loads(out.stdout) == {"ok": True, "calls": []}, out
    out = subprocess.run([binary("pstnctl"), "-s", sim["ctl"], "hangup", "9999"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 1 and json.loads(out.stdout)["ok"] is False, out


def test_pstnctl_watch(sim):
    w = subprocess.Popen([binary("pstnctl"), "-s", sim["ctl"], "watch", "-n", "3", "-t", "10"],
                         stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)  # connected before the call starts
        probe(sim, "--call", "+12125550486")
        out, _ = w.communicate(timeout=10)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert w.returncode == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["link", "setup", "disconnect"], events
    assert events[2]["cause"] == 17 and events[2]["cause_text"] == "User busy", events


@pytest.mark.parametrize("args,n", [(["--calls", "200"], 200), (["--calls", "50", "--t1"], 50)])
def test_pritest_loop(args, n):
    t0 = time.monotonic()
    r = subprocess.run([binary("pritest"), *args], capture_output=True, text=True, timeout=60)
    m = re.search(r"^RESULT pri_loop calls=(\d+) ok=(\d+) audio_ok=(\d+) dtmf_ok=(\d+)$",
                  r.stdout, re.M)
    assert m, (r.stdout, r.stderr)
    assert [int(x) for x in m.groups()] == [n, n, n, n], r.stdout
    assert r.returncode == 0
    assert time.monotonic() - t0 < 40
