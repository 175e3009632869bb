"""The registrar (gateway/registrar) against real SIP clients, through build/sipreg.

- sipsak (Debian 0.9.8.1) registers with digest authentication over UDP and TCP;
  a wrong password is refused; a short registration expires on the timer.
- SIPp 3.6 runs tests/e2e/sipp/register_auth.xml (401, then [authentication],
  then a query) for the demo users 1001-1004; the 200s must list the contact
  with its expires and q, and carry a Date.
- Bindings survive a restart of sipreg: `sipreg --dump` on the same database
  reports them while the second instance runs and after it stopped.
Both clients only do MD5 and read only the first WWW-Authenticate, so sipreg
runs with --md5-only (the registrar offers SHA-256 first by default, RFC 8760).
Everything runs on 127.0.0.1 with free ports; every process is bounded in time.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import binary, free_port, log_counters
from peers.sipsak import SIPSAK, sipsak

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
SCENARIO = os.path.join(os.path.dirname(__file__), "sipp", "register_auth.xml")


def start_sipreg(procs, db, port, *extra):
    p = procs.start([binary("sipreg"), "--listen", f"udp:127.0.0.1:{port}",
                     "--listen", f"tcp:127.0.0.1:{port}", "--db", str(db), "--md5-only",
                     *extra], name="sipreg")
    assert p.wait_for("LISTEN TCP", 10), p.output()
    return p


def dump(db):
    """{(aor, uri): fields} from `sipreg --db DB --dump`."""
    out = subprocess.run([binary("sipreg"), "--db", str(db), "--dump"], capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    res = {}
    for line in out.stdout.splitlines():
        if line.startswith("BINDING "):
            f = dict(kv.split("=", 1) for kv in line.split()[1:])
            res[(f["aor"], f["uri"])] = f
    m = re.search(r"COUNT (\d+)", out.stdout)
    assert m and int(m.group(1)) == len(res), out.stdout
    return res


def result(proc):
    """The counters sipreg prints when stopped (call after proc.stop())."""
    return log_counters(proc, "RESULT sipreg")


needs_sipsak = pytest.mark.skipif(not os.access(SIPSAK, os.X_OK), reason="sipsak not installed")
needs_sipp = pytest.mark.skipif(not os.access(SIPP, os.X_OK), reason="sipp not installed")


@needs_sipsak
def test_sipsak_register_survives_restart(procs, tmp_path):
    db = tmp_path / "reg.db"
    port = free_port()
    reg = start_sipreg(procs, db, port)
    r = sipsak(port, "1001", "demo1001", 15099, 600)
    assert r.returncode == 0, r.stdout + r.stderr
    r = sipsak(port, "1002", "demo1002", 15098, 900, transport="tcp")
    assert r.returncode == 0, r.stdout + r.stderr
    assert reg.wait_for("EVENT added aor=1002", 5), reg.output()
    assert re.search(r"EVENT added aor=1001 uri=sip:1001@127.0.0.1:15099 expires=600 .*tp=UDP",
                     reg.output()), reg.output()
    assert re.search(r"EVENT added aor=1002 .*tp=TCP", reg.output()), reg.output()
    reg.stop()
    st = result(reg)
    assert st["ok"] == 2 and st["challenged"] == 2 and st["added"] == 2, st

    # a second instance on the same database: nothing lost, nothing re-added
    reg2 = start_sipreg(procs, db, free_port())
    b = dump(db)  # read while reg2 runs (WAL: readers do not block)
    assert set(b) == {("1001", "sip:1001@127.0.0.1:15099"), ("1002", "sip:1002@127.0.0.1:15098")}
    one = b[("1001", "sip:1001@127.0.0.1:15099")]
    assert 590 <= int(one["expires"]) <= 600, one
    assert one["tp"] == "UDP" and one["source"].startswith("127.0.0.1:"), one
    assert b[("1002", "sip:1002@127.0.0.1:15098")]["tp"] == "TCP"
    reg2.stop()
    assert result(reg2)["added"] == 0
    assert len(dump(db)) == 2


@needs_sipsak
def test_sipsak_wrong_password_and_expiry(procs, tmp_path):
    db = tmp_path / "reg.db"
    port = free_port()
    reg = start_sipreg(procs, db, port, "--min-expires", "1")
    r = sipsak(port, "1003", "not-the-password", 15097, 60)
    assert r.returncode != 0, r.stdout
    assert "authorization failed" in r.stdout + r.stderr
    assert dump(db) == {}
    r = sipsak(port, "1004", "demo1004", 15096, 2)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ("1004", "sip:1004@127.0.0.1:15096") in dump(db)
    # the expiry timer removes it (2 s, rounded) and reports it
    assert reg.wait_for("EVENT expired aor=1004", 6), reg.output()
    assert dump(db) == {}
    reg.stop()
    st = result(reg)
    assert st["ok"] == 1 and st["expired"] == 1 and st["added"] == 1, st
    assert st["challenged"] >= 3, st  # two for the wrong password, one for the right one


@needs_sipp
def test_sipp_register_with_auth(procs, tmp_path):
    db = tmp_path / "reg.db"
    port = free_port()
    reg = start_sipreg(procs, db, port)
    for user in ("1001", "1002", "1003", "1004"):
        lport = free_port(also_tcp=False)
        out = subprocess.run(
            [SIPP, f"127.0.0.1:{port}", "-sf", SCENARIO, "-s", user, "-au", user,
             "-ap", f"demo{user}", "-m", "1", "-i", "127.0.0.1", "-p", str(lport),
             "-timeout", "20", "-timeout_error", "-nostdin", "-trace_err",
             "-trace_msg", "-message_file", str(tmp_path / f"sipp-{user}.msg"),
             "-error_file", str(tmp_path / f"sipp-{user}.err")],
            capture_output=True, text=True, timeout=40, cwd=tmp_path)
        msgs = (tmp_path / f"sipp-{user}.msg").read_text(errors="replace")
        assert out.returncode == 0, msgs[-3000:] + out.stdout[-1000:]
        assert msgs.count("SIP/2.0 401 Unauthorized") == 2, msgs[-3000:]
        assert msgs.count("SIP/2.0 200 OK") == 2, msgs[-3000:]
    b = dump(db)
    assert sorted(a for a, _ in b) == ["1001", "1002", "1003", "1004"], b
    for f in b.values():
        assert f["q"] == "0.8" and f["tp"] == "UDP" and 290 <= int(f["expires"]) <= 300, f
    reg.stop()
    st = result(reg)
    assert st["ok"] == 8 and st["added"] == 4 and st["refreshed"] == 0, st
