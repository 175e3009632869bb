"""Operations side of tandemd: tandemctl over the control socket, GET /metrics, the CDR file.

Real peers: build/tandemctl (the shipped client), urllib as the scraper, Python's sqlite3
module reading the CDR database the daemon wrote. Skipped (with the reason) while tandemd
does not yet accept the ctl/metrics/cdr configuration sections.
"""
import json
import os
import socket
import sqlite3
import stat
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import binary, free_port

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
    if check.returncode != 0 and "ctl" in check.stderr:
        pytest.skip("tandemd does not read ctl/metrics/cdr yet: " + check.stderr.strip())
    assert check.returncode == 0, check.stderr
    p = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert p.wait_for("ready", 10), p.output()
    p.sock, p.db, p.metrics = sock, db, metrics
    return p


def ctl(sock, *args, raw=False):
    cmd = [binary("tandemctl"), "-s", sock] + (["--json"] if raw else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10)


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
