"""The SIP UA core (gateway/sip/ua) against SIPp 3.6, through build/sipua.

- SIPp's built-in `-sn uac` places 1000 calls on sipua --uas over UDP with
  5 % of messages lost (retransmissions of INVITE, 2xx, ACK, BYE), and 1000
  over TCP; every call must succeed.
- SIPp's built-in `-sn uas` answers calls placed by sipua --uac over UDP and TCP.
- TLS: Debian's SIPp is built without TLS (`sipp -v` shows no TLS), so sipua's
  UAC calls sipua's UAS over TLS with a throw-away certificate; a SIPp TLS run
  is attempted only when the binary supports it.
Every process is bounded in time; traffic stays on 127.0.0.1.
"""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import binary, free_port, sipua_counters
from peers.sipp import screen_counts

SIPP = "/usr/bin/sipp"
RUN_TIMEOUT = 120

pytestmark = pytest.mark.skipif(not os.access(SIPP, os.X_OK), reason="sipp not installed")


def sipp_has_tls():
    out = subprocess.run([SIPP, "-v"], capture_output=True, text=True, timeout=10)
    return "TLS" in (out.stdout + out.stderr)


def wait_listening(port, tcp, timeout=10.0):
    """SIPp takes a moment to bind; a UAC started earlier would lose its first calls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tcp:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                pass
        else:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                return  # bound by SIPp
            finally:
                u.close()
        time.sleep(0.05)
    raise AssertionError(f"SIPp did not listen on {port}")


@pytest.fixture
def uas(procs):
    port = free_port()
    p = procs.start([binary("sipua"), "--listen", f"udp:127.0.0.1:{port}",
                     "--listen", f"tcp:127.0.0.1:{port}", "--uas"], name="sipua-uas")
    assert p.wait_for("LISTEN TCP", 10), p.output()
    p.port = port
    return p


def run_sipp_uac(tmp_path, port, transport, calls, extra=()):
    screen = tmp_path / f"sipp-uac-{transport}.screen"
    sport = free_port()
    args = [SIPP, "-sn", "uac", f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p", str(sport),
            "-t", transport, "-r", "250", "-m", str(calls), "-l", "300", "-nostdin",
            "-timeout", "100", "-timeout_error", "-trace_screen", "-screen_file", str(screen),
            *extra]
    r = subprocess.run(args, cwd=tmp_path, capture_output=True, timeout=RUN_TIMEOUT)
    return r.returncode, screen_counts(screen)


def test_sipp_uac_udp_with_losses(tmp_path, uas):
    rc, (ok, failed) = run_sipp_uac(tmp_path, uas.port, "u1", 1000, ("-lost", "5"))
    assert (rc, ok, failed) == (0, 1000, 0)
    uas.stop()
    c = sipua_counters(uas)
    assert c["invites"] == 1000 and c["answered"] == 1000
    # with 5 % loss some 2xx must have been retransmitted (T1 doubling until ACK)
    assert c["retrans_2xx"] > 0
    assert c["byes"] >= 990


def test_sipp_uac_tcp(tmp_path, uas):
    rc, (ok, failed) = run_sipp_uac(tmp_path, uas.port, "t1", 1000)
    assert (rc, ok, failed) == (0, 1000, 0)
    uas.stop()
    c = sipua_counters(uas)
    assert c["invites"] == 1000 and c["established"] == 1000 and c["byes"] == 1000
    assert c["sessions"] == 0


@pytest.mark.parametrize("transport,sipp_t", [("udp", "u1"), ("tcp", "t1")])
def test_sipua_uac_against_sipp_uas(tmp_path, procs, transport, sipp_t):
    calls = 200
    sport = free_port()
    screen = tmp_path / "sipp-uas.screen"
    sipp = subprocess.Popen([SIPP, "-sn", "uas", "-i", "127.0.0.1", "-p", str(sport),
                             "-t", sipp_t, "-m", str(calls), "-nostdin", "-timeout", "100",
                             "-trace_screen", "-screen_file", str(screen)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_listening(sport, transport == "tcp")
        # --linger: SIPp's uas scenario waits 4 s after the BYE on our connection
        ua = subprocess.run([binary("sipua"), "--uac", f"sip:service@127.0.0.1:{sport}",
                             "--transport", transport, "--calls", str(calls), "--rate", "100",
                             "--timeout", "60", "--linger", "4500"],
                            capture_output=True, text=True, timeout=RUN_TIMEOUT)
        rc = sipp.wait(timeout=RUN_TIMEOUT)
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait(5)
    assert f"RESULT sipua calls={calls} ok={calls}" in ua.stdout, ua.stdout + ua.stderr
    assert ua.returncode == 0
    assert rc == 0
    ok, failed = screen_counts(screen)
    assert (ok, failed) == (calls, 0)


@pytest.fixture
def cert(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    key, crt = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(crt), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return str(crt), str(key)


def test_tls_sipua_to_sipua(procs, cert):
    crt, key = cert
    port = free_port()
    p = procs.start([binary("sipua"), "--listen", f"tls:127.0.0.1:{port}", "--cert", crt,
                     "--key", key, "--uas"], name="sipua-tls-uas")
    assert p.wait_for("LISTEN TLS", 10), p.output()
    ua = subprocess.run([binary("sipua"), "--uac", f"sip:service@127.0.0.1:{port}",
                         "--transport", "tls", "--cert", crt, "--key", key, "--calls", "100",
                         "--rate", "100", "--timeout", "60"],
                        capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert "RESULT sipua calls=100 ok=100" in ua.stdout, ua.stdout + ua.stderr
    assert ua.returncode == 0
    p.stop()
    c = sipua_counters(p)
    assert c["invites"] == 100 and c["byes"] == 100


def test_tls_sipp_uac(tmp_path, procs, cert):
    if not sipp_has_tls():
        pytest.skip("this SIPp build has no TLS (sipp -v); covered by test_tls_sipua_to_sipua")
    crt, key = cert
    port = free_port()
    p = procs.start([binary("sipua"), "--listen", f"tls:127.0.0.1:{port}", "--cert", crt,
                     "--key", key, "--uas"], name="sipua-tls-uas")
    assert p.wait_for("LISTEN TLS", 10), p.output()
    rc, (ok, failed) = run_sipp_uac(tmp_path, port, "l1", 200,
                                    ("-tls_cert", crt, "-tls_key", key))
    assert (rc, ok, failed) == (0, 200, 0)
