"""The baresip harness (tests/e2e/peers) proven against what exists today.

baresip 1.0.0 (Debian) is the real softphone of the gateway's end-to-end tests. Here:
- it registers to build/sipreg (user 1001 / demo1001, digest MD5) and `sipreg --dump`
  shows its binding; it unregisters when stopped. baresip 1.0 cannot answer a SHA-256
  challenge and does not fall back to the MD5 one offered after it (REGISTER_FAIL
  "Function not implemented"): registrars it talks to must offer MD5 only (a 401 listing SHA-256 anywhere fails).
- two instances call each other directly with tones of 697 Hz and 1209 Hz: each one's
  recording of what it heard has the other's frequency as the dominant one;
- `sndcode 123#` during the call arrives at the other side as RFC 4733 events
  (CALL_DTMF_START 1, 2, 3, # in order);
- with SRTP mandatory on both sides (SDES, AES_CM_128_HMAC_SHA1_80) the tone still
  crosses; SRTP-mandatory towards a plain-RTP peer does not establish;
- SIP INFO (application/dtmf-relay) from SIPp is reported like RFC 4733 (baresip 1.0
  cannot send INFO DTMF itself);
- early media (183 + SDP, answermode=early), hold and resume (re-INVITEs, RTP stops and
  restarts), blind transfer (REFER: the transferee calls the target and hears it);
- it answers calls placed by build/sipua --uac (auto-answer), also at the contact
  sipreg stored, and by another instance in manual answer mode (`accept`), and calls
  build/sipua --uas.
Quirks found are in tests/e2e/peers/baresip.py's docstring.
Everything on 127.0.0.1, every wait bounded, every process stopped by fixtures.
"""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import binary, free_port
from peers import baresip as bsmod
from peers.audio import dominant_frequency, level_dbfs, make_tone_wav, tone_ratio_db
from peers.baresip import BaresipError, wait_wav

pytestmark = pytest.mark.skipif(not bsmod.available(), reason="baresip not installed")

FA, FB = 697, 1209  # DTMF row/column tones: far apart, not harmonics of each other


@pytest.fixture
def tones(tmp_path):
    # 30 s: baresip 1.0 hangs up when its aufile source ends
    return (make_tone_wav(tmp_path / "a.wav", FA, 30), make_tone_wav(tmp_path / "b.wav", FB, 30))


def start_sipreg(procs, db, port, *extra):
    p = procs.start([binary("sipreg"), "--listen", f"udp:127.0.0.1:{port}",
                     "--listen", f"tcp:127.0.0.1:{port}", "--db", str(db), "-v", *extra],
                    name="sipreg")
    assert p.wait_for("LISTEN TCP", 10), p.output()
    return p


def dump(db):
    out = subprocess.run([binary("sipreg"), "--db", str(db), "--dump"], capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return [dict(kv.split("=", 1) for kv in line.split()[1:])
            for line in out.stdout.splitlines() if line.startswith("BINDING ")]


def wait_binding_count(db, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        b = dump(db)
        if len(b) == n or time.monotonic() > deadline:
            return b
        time.sleep(0.2)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_register_to_sipreg(procs, baresips, tmp_path, transport):
    db = tmp_path / "reg.db"
    port = free_port()
    reg = start_sipreg(procs, db, port, "--md5-only")
    bs = baresips.new("1001", account="1001", password="demo1001",
                      registrar=f"127.0.0.1:{port}", regint=120,
                      transport=None if transport == "udp" else transport)
    ev = bs.wait_event(("REGISTER_OK", "REGISTER_FAIL"), 10)
    assert ev["type"] == "REGISTER_OK" and ev["param"] == "200 OK", ev
    assert ev["accountaor"] == bs.aor
    b = dump(db)
    assert len(b) == 1, b
    one = b[0]
    # baresip 1.0's contact user is "USER-0xADDR", not the AOR's user
    assert one["aor"] == "1001" and one["tp"] == transport.upper(), one
    assert re.match(rf"sip:1001-0x[0-9a-f]+@127\.0\.0\.1:{bs.sip_port}\b", one["uri"]), one
    if transport == "udp":
        assert one["source"] == f"127.0.0.1:{bs.sip_port}", one
    assert 110 <= int(one["expires"]) <= 120, one
    assert reg.wait_for("EVENT added aor=1001", 5), reg.output()
    # SIGTERM: baresip unregisters (REGISTER with Expires: 0) before it exits
    bs.stop()
    assert wait_binding_count(db, 0) == []
    assert reg.wait_for("EVENT removed aor=1001", 5), reg.output()


def test_register_sha256_first_is_refused_by_baresip(procs, baresips, tmp_path):
    """Recorded quirk: libre 1.0 gives up on the first (SHA-256) WWW-Authenticate."""
    db = tmp_path / "reg.db"
    port = free_port()
    start_sipreg(procs, db, port)  # SHA-256 offered first, then MD5 (RFC 8760)
    bs = baresips.new("1002", account="1002", password="demo1002",
                      registrar=f"127.0.0.1:{port}")
    ev = bs.wait_event(("REGISTER_OK", "REGISTER_FAIL"), 10)
    assert ev["type"] == "REGISTER_FAIL", ev
    assert "not implemented" in ev["param"].lower(), ev
    assert dump(db) == []


def call(a, b, seconds):
    """a dials b (auto-answer), both established, hold `seconds`, a hangs up."""
    a.dial(b.uri)
    ea = a.wait_event("CALL_ESTABLISHED", 10)
    eb = b.wait_event("CALL_ESTABLISHED", 10)
    assert ea["direction"] == "outgoing" and eb["direction"] == "incoming"
    assert ea["id"] == eb["id"]  # the Call-ID
    b.wait_event("CALL_RTPESTAB", 5)
    a.wait_event("CALL_RTPESTAB", 5)
    time.sleep(seconds)
    a.hangup()
    a.wait_event("CALL_CLOSED", 5)
    closed = b.wait_event("CALL_CLOSED", 5)
    return closed


def check_heard(bs, expect, other, min_seconds=1.0):
    rec = bs.recordings()
    assert len(rec["dec"]) == 1 and len(rec["enc"]) == 1, rec
    heard = wait_wav(rec["dec"][0], min_seconds=min_seconds)
    sent = wait_wav(rec["enc"][0], min_seconds=0.5)
    f = dominant_frequency(heard)
    assert f is not None and abs(f - expect) <= 10, (heard, f)
    assert tone_ratio_db(heard, expect, other) > 30, heard
    assert level_dbfs(heard) > -20, level_dbfs(heard)
    assert abs(dominant_frequency(sent) - other) <= 10, sent
    return f


def test_direct_call_carries_tones_both_ways(baresips, tones):
    a = baresips.new("a", account="alice", wav_source=tones[0])
    b = baresips.new("b", account="bob", wav_source=tones[1])
    call(a, b, 2.0)
    check_heard(a, FB, FA)
    check_heard(b, FA, FB)
    assert not a.events_of("CALL_MENC") and not b.events_of("CALL_MENC")


def test_rfc4733_dtmf_during_call(baresips, tones):
    a = baresips.new("a", account="alice", wav_source=tones[0])
    b = baresips.new("b", account="bob", wav_source=tones[1])
    a.dial(b.uri)
    a.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_RTPESTAB", 5)
    assert a.send_dtmf("123#")["ok"]
    starts = [b.wait_event("CALL_DTMF_START", 5)["param"] for _ in range(4)]
    assert starts == ["1", "2", "3", "#"], starts
    b.wait_event("CALL_DTMF_END", 5)
    assert not a.events_of("CALL_DTMF_START")  # nothing echoed back
    a.hangup()
    b.wait_event("CALL_CLOSED", 5)


def test_srtp_mandatory_call_carries_tones(baresips, tones):
    a = baresips.new("a", account="alice", wav_source=tones[0], srtp=True)
    b = baresips.new("b", account="bob", wav_source=tones[1], srtp=True)
    a.dial(b.uri)
    for bs in (a, b):
        menc = bs.wait_event("CALL_MENC", 10)
        assert menc["param"] == "0,audio,AES_CM_128_HMAC_SHA1_80", menc
    a.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_RTPESTAB", 5)
    time.sleep(2.0)
    assert a.send_dtmf("9")["ok"]  # RFC 4733 inside SRTP too
    assert b.wait_event("CALL_DTMF_START", 5)["param"] == "9"
    a.hangup()
    b.wait_event("CALL_CLOSED", 5)
    check_heard(a, FB, FA)
    check_heard(b, FA, FB)


def test_srtp_mandatory_refuses_plain_rtp_peer(baresips, tones):
    a = baresips.new("a", account="alice", wav_source=tones[0], srtp=True)
    b = baresips.new("b", account="bob", wav_source=tones[1])
    a.dial(b.uri)
    closed = a.wait_event("CALL_CLOSED", 10)
    assert not a.events_of("CALL_ESTABLISHED"), closed
    assert not b.events_of("CALL_ESTABLISHED")


def test_early_media_then_answer(baresips, tones):
    """answermode=early: the callee answers 183 with SDP. The caller starts its media
    on the 183 (its audio reaches the callee before the 200); baresip 1.0 as the
    callee sends no audio of its own until it answers."""
    a = baresips.new("a", account="alice", wav_source=tones[0])
    b = baresips.new("b", account="bob", wav_source=tones[1], answermode="early")
    a.dial(b.uri)
    a.wait_event("CALL_PROGRESS", 10)  # the 183
    b.wait_event("CALL_RTPESTAB", 5)  # A's early media arrived
    time.sleep(1.0)
    assert not a.events_of("CALL_ESTABLISHED") and not b.events_of("CALL_ESTABLISHED")
    tx_early, _ = a.rtp_counts()
    assert tx_early >= 30, tx_early  # 20 ms packets for about a second
    assert b.answer()["ok"]
    a.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_ESTABLISHED", 10)
    time.sleep(1.5)
    a.hangup()
    b.wait_event("CALL_CLOSED", 5)
    check_heard(a, FB, FA)
    # quirk: B's recording of what it heard stops when it answers (it holds the early
    # media only) although RTP keeps arriving
    check_heard(b, FA, FB, min_seconds=0.5)


def test_hold_and_resume(baresips, tones):
    a = baresips.new("a", account="alice", wav_source=tones[0])
    b = baresips.new("b", account="bob", wav_source=tones[1])
    a.dial(b.uri)
    b.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_RTPESTAB", 5)
    time.sleep(0.5)
    assert a.hold()["ok"]
    b.wait_event("CALL_REMOTE_SDP", 5, pred=lambda e: e["param"] == "offer")
    time.sleep(0.3)
    tx1, rx1 = b.rtp_counts()
    time.sleep(0.6)
    tx2, rx2 = b.rtp_counts()
    # on hold (A offers a=sendonly) baresip 1.0 stops audio both ways, not just B's
    assert rx2 - rx1 <= 2 and tx2 - tx1 <= 2, (tx1, rx1, tx2, rx2)
    assert a.resume()["ok"]
    b.wait_event("CALL_REMOTE_SDP", 5, pred=lambda e: e["param"] == "offer")
    time.sleep(0.8)
    atx3, arx3 = a.rtp_counts()
    time.sleep(0.6)
    atx4, arx4 = a.rtp_counts()
    assert arx4 - arx3 >= 20, (arx3, arx4)  # B's audio reaches A again
    assert "sendrecv" in a.audio_debug()
    a.hangup()
    b.wait_event("CALL_CLOSED", 5)


def test_blind_transfer(baresips, tones, tmp_path):
    """B sends REFER: A (the transferee) reports TRANSFER, calls C and hears C."""
    fc = 1633
    tone_c = make_tone_wav(tmp_path / "c.wav", fc, 30)
    a = baresips.new("a", account="alice", wav_source=tones[0])
    b = baresips.new("b", account="bob", wav_source=tones[1])
    c = baresips.new("c", account="carol", wav_source=tone_c)
    a.dial(b.uri)
    a.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_ESTABLISHED", 10)
    assert b.transfer(c.uri)["ok"]
    tr = a.wait_event("TRANSFER", 5)
    assert tr["param"] == c.uri, tr
    assert b.wait_event("CALL_CLOSED", 5)["param"] == "Call transfered"
    ec = c.wait_event("CALL_ESTABLISHED", 10)
    assert ec["peeruri"] == a.aor, ec
    a.wait_event("CALL_ESTABLISHED", 10, pred=lambda e: e["peeruri"] == c.uri)
    time.sleep(1.5)  # recordings are named to the second: let the new call's be
    a.hangup()
    c.wait_event("CALL_CLOSED", 5)
    assert abs(dominant_frequency(a.heard_wav(min_seconds=1.0)) - fc) <= 10
    assert abs(dominant_frequency(c.heard_wav(min_seconds=1.0)) - FA) <= 10


def test_manual_answer(baresips, tones):
    a = baresips.new("a", account="alice", wav_source=tones[0])
    b = baresips.new("b", account="bob", wav_source=tones[1], answermode="manual")
    a.dial(b.uri)
    inc = b.wait_event("CALL_INCOMING", 10)
    assert inc["peeruri"] == a.aor, inc
    a.wait_event("CALL_RINGING", 5)
    time.sleep(0.3)
    assert not b.events_of("CALL_ESTABLISHED")
    assert b.answer()["ok"]
    a.wait_event("CALL_ESTABLISHED", 10)
    b.wait_event("CALL_ESTABLISHED", 10)
    b.hangup()
    a.wait_event("CALL_CLOSED", 5)


def test_answers_sipua_uac(baresips, tones):
    b = baresips.new("b", account="bob", wav_source=tones[1])
    r = subprocess.run([binary("sipua"), "--listen", f"udp:127.0.0.1:{free_port()}",
                        "--uac", b.uri, "--calls", "1", "--rate", "1", "--hold", "1000",
                        "--timeout", "10"], capture_output=True, text=True, timeout=30)
    assert "RESULT sipua calls=1 ok=1 failed=0" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0
    est = b.wait_event("CALL_ESTABLISHED", 5)
    assert est["direction"] == "incoming" and est["peeruri"].startswith("sip:sipua@"), est
    b.wait_event("CALL_CLOSED", 5)  # sipua's BYE after --hold


def test_registered_contact_answers_sipua(procs, baresips, tmp_path, tones):
    """The DID path's last hop: a call sent to the contact the registrar stored."""
    db = tmp_path / "reg.db"
    port = free_port()
    start_sipreg(procs, db, port, "--md5-only")
    bs = baresips.new("1003", account="1003", password="demo1003",
                      registrar=f"127.0.0.1:{port}", wav_source=tones[1])
    bs.wait_event("REGISTER_OK", 10)
    (binding,) = dump(db)
    r = subprocess.run([binary("sipua"), "--listen", f"udp:127.0.0.1:{free_port()}",
                        "--uac", binding["uri"], "--calls", "1", "--rate", "1", "--hold", "500",
                        "--timeout", "10"], capture_output=True, text=True, timeout=30)
    assert "RESULT sipua calls=1 ok=1 failed=0" in r.stdout, r.stdout + r.stderr
    est = bs.wait_event("CALL_ESTABLISHED", 5)
    assert est["accountaor"] == bs.aor, est
    bs.wait_event("CALL_CLOSED", 5)


def test_dial_number_goes_to_account_domain(procs, baresips):
    """A phone dialling a bare number sends the INVITE to its registrar's address."""
    port = free_port()
    uas = procs.start([binary("sipua"), "--listen", f"udp:127.0.0.1:{port}", "--uas"],
                      name="sipua-uas")
    assert uas.wait_for("LISTEN", 10), uas.output()
    a = baresips.new("a", account="1001", registrar=f"127.0.0.1:{port}", regint=0)
    a.dial("+12125550100")
    est = a.wait_event("CALL_ESTABLISHED", 10)
    assert est["peeruri"] == f"sip:+12125550100@127.0.0.1:{port}", est
    a.hangup()
    a.wait_event("CALL_CLOSED", 5)


def test_calls_sipua_uas(procs, baresips, tones):
    port = free_port()
    uas = procs.start([binary("sipua"), "--listen", f"udp:127.0.0.1:{port}", "--uas"],
                      name="sipua-uas")
    assert uas.wait_for("LISTEN", 10), uas.output()
    a = baresips.new("a", account="alice", wav_source=tones[0])
    a.dial(f"sip:service@127.0.0.1:{port}")
    a.wait_event("CALL_ESTABLISHED", 10)
    time.sleep(0.5)
    a.hangup()
    a.wait_event("CALL_CLOSED", 5)
    uas.stop()
    with open(uas.logpath, errors="replace") as f:
        text = f.read()
    m = re.search(r"COUNTERS sipua (.*)", text)
    assert m, text
    c = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    assert c["invites"] == 1 and c["established"] == 1 and c["byes"] == 1, c


def test_harness_stops_even_a_hung_instance(baresips, tmp_path):
    a = baresips.new("a", account="alice")
    os.kill(a.proc.pid, signal.SIGSTOP)  # SIGTERM alone would not end it
    t = time.monotonic()
    a.stop(timeout=1.0)
    assert not a.alive() and time.monotonic() - t < 5
    with pytest.raises(BaresipError):
        a.wait_event("CALL_ESTABLISHED", 0.2)


SIPP = "/usr/bin/sipp"
INFO_SCENARIO = os.path.join(os.path.dirname(__file__), "sipp", "uac_info_dtmf.xml")


@pytest.mark.skipif(not os.access(SIPP, os.X_OK), reason="sipp not installed")
def test_receives_info_dtmf(baresips, tones, tmp_path):
    """baresip 1.0 reports SIP INFO (application/dtmf-relay) as CALL_DTMF_START too;
    it cannot send INFO itself (no dtmfmode in 1.0): only RFC 4733 goes out."""
    b = baresips.new("b", account="bob", wav_source=tones[1])
    r = subprocess.run([SIPP, f"127.0.0.1:{b.sip_port}", "-sf", INFO_SCENARIO, "-s", "bob",
                        "-m", "1", "-i", "127.0.0.1", "-p", str(free_port(also_tcp=False)),
                        "-timeout", "15", "-timeout_error", "-nostdin", "-trace_msg",
                        "-message_file", str(tmp_path / "sipp.msg")],
                       capture_output=True, text=True, timeout=30, cwd=tmp_path)
    msgs = (tmp_path / "sipp.msg").read_text(errors="replace")
    assert r.returncode == 0, msgs[-3000:]
    b.wait_event("CALL_CLOSED", 5)
    assert b.dtmf_digits() == "45*", [(e["type"], e.get("param")) for e in b.events]


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
def test_calls_sipua_uas_over_tls(procs, baresips, tmp_path):
    """SIP over TLS to a self-signed server (baresip 1.0 does not verify it); its own
    TLS listener is PORT+1, which is why instances are never on adjacent ports."""
    key, crt = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(crt), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    uas = procs.start([binary("sipua"), "--listen", f"tls:127.0.0.1:{port}", "--cert", str(crt),
                       "--key", str(key), "--uas"], name="sipua-tls")
    assert uas.wait_for("LISTEN TLS", 10), uas.output()
    a = baresips.new("a", account="alice", sip_trace=True)
    a.dial(f"sip:service@127.0.0.1:{port};transport=tls")
    a.wait_event("CALL_ESTABLISHED", 10)
    a.hangup()
    a.wait_event("CALL_CLOSED", 5)
    assert f"Via: SIP/2.0/TLS 127.0.0.1:{a.sip_port + 1}" in a.output(), a.output()[-2000:]
    uas.stop()
    with open(uas.logpath, errors="replace") as f:
        text = f.read()
    assert re.search(r"COUNTERS sipua invites=1 answered=1 established=1 byes=1 ", text), text
