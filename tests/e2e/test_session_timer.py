"""RFC 4028 session timers through tandemd, SIP trunk -> PRI (pstnsim), two calls at once.

- expiry: SIPp asks for Session-Expires: 90;refresher=uac and never refreshes. tandemd
  answers with the same interval (and Require: timer), and when the session expires,
  interval - min(32, interval/3) = 60 s after the ACK, sends BYE and clears the PRI call.
- refresh: the other call asks for refresher=uas and allows UPDATE. tandemd refreshes
  with an UPDATE at half the interval (45 s); SIPp answers it and hangs up itself at
  ~65 s: that call outlived the other's expiry.
Both run together (one minute and a bit). media.rtp_timeout is 0 here: SIPp sends no
RTP, and the RTP timeout must not be what clears the call.
Everything on 127.0.0.1 and one abstract Unix socket; every wait is bounded.
"""
import re
import socket
import sqlite3
import time
import uuid
from datetime import datetime

from conftest import free_port
from peers import gateway as gwmod
from peers import sipp

INTERVAL = 90
EXPIRE_S = INTERVAL - min(32, INTERVAL // 3)  # 60
REFRESH_S = INTERVAL / 2                      # 45
CALLER = "+12125550199"


def scenario(refresher):
    """The call asking for Session-Expires: INTERVAL;refresher=REFRESHER, as above."""
    uac = refresher == "uac"
    allow = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS" + ("" if uac else ", UPDATE")
    checks = [sipp.ereg(f"^ *{INTERVAL};refresher={refresher} *$", "se", "Session-Expires:")]
    if uac:  # no refresh: the gateway's BYE comes (no Reason: nothing failed on the PRI)
        checks.append(sipp.ereg("timer", "req", "Require:"))
        after = sipp.recv("BYE", timeout=80000) + sipp.ok_reply()
    else:
        # The gateway's UPDATE (no offer) refreshes; the answer keeps the interval with the
        # gateway as refresher, as RFC 4028 §9 has the UAS of the UPDATE echo it.
        after = (sipp.recv("UPDATE", sipp.ereg(f"^ *{INTERVAL};refresher=uac *$", "upd",
                                               "Session-Expires:"), timeout=60000) +
                 sipp.ok_reply("Contact: <sip:trunk@[local_ip]:[local_port]>", "Require: timer",
                               f"Session-Expires: {INTERVAL};refresher=uac") +
                 sipp.pause(20000) + sipp.bye(CALLER))
    return sipp.scenario(
        f"session timer, refresher={refresher}",
        sipp.invite(CALLER, "Supported: timer",
                    f"Session-Expires: {INTERVAL};refresher={refresher}", allow,
                    sdp=sipp.sdp(8), contact="trunk"),
        sipp.provisional(), sipp.recv(200, *checks, rrs=True), sipp.ack(CALLER), after)


def start(tmp_path, procs, trunk_ports, **options):
    """The demo gateway with SIPp's ports as trunks; SIPp sends no RTP: the RTP timeout must
    not be what ends the calls."""
    return gwmod.start(tmp_path, procs, media={"rtp_timeout": 0}, trusted=trunk_ports,
                       **options)


def log_time(out, pattern):
    """The time of tandemd's first log line matching pattern (HH:MM:SS.mmm), as seconds."""
    m = re.search(r"^(\d\d:\d\d:\d\d\.\d{3}) .*" + pattern, out, flags=re.M)
    assert m, pattern
    t = datetime.strptime(m.group(1), "%H:%M:%S.%f")
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def sipp_messages(d):
    """(time, 'sent'|'received', first line) of each message in SIPp's -trace_msg file."""
    text = "".join(f.read_text(errors="replace") for f in d.glob("*_messages.log"))
    return [(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(), m.group(2),
             m.group(3)) for m in re.finditer(
        r"^-{10,} (\S+ \S+)\n\w+ message (sent|received) [\[(]\d+\]? bytes\)? ?:\n+(.*)$",
        text, flags=re.M)]


def test_session_expires_clears_call_refreshed_one_stays(tmp_path, procs, need_sipp):
    p_exp, p_ref = free_port(), free_port()
    gw = start(tmp_path, procs, [p_exp, p_ref])
    # the interval the test relies on is the one the demo config gives
    text = open(gw.cfg).read()
    assert re.search(r"session_timer: \{ expires: 1800, min_se: 90 \}", text), text
    ctl = gw.ctl
    sipps = {}
    # +12125550100 answers with a tone (the expiring call), +12125550101 echoes (refreshed)
    for name, refresher, number, sport in (("exp", "uac", "+12125550100", p_exp),
                                           ("ref", "uas", "+12125550101", p_ref)):
        d = tmp_path / name
        d.mkdir()
        sipps[name] = sipp.start_uac(procs, d, gw.port, scenario(refresher), number, sport,
                                     name="st", timeout=100, extra=["-trace_msg"])
    # pstnsim's events, with when they were read
    seen, deadline, all_done = [], time.monotonic() + 90, None
    while time.monotonic() < deadline:
        ctl.pump(0.2)
        now = time.monotonic()
        seen += [(now, e) for e in ctl.events[len(seen):]]
        if sum(1 for _, e in seen if e["event"] == "disconnect") >= 2:
            break
        if all_done is None and not any(s.proc.alive() for s in sipps.values()):
            all_done = now
        if all_done is not None and now - all_done > 2:
            break  # both SIPps are over: what pstnsim saw is all there will be
    codes = {name: s.wait(20) for name, s in sipps.items()}
    out = gw.output()
    assert codes["exp"] == 0, sipps["exp"].report() + out[-5000:]
    assert codes["ref"] == 0, sipps["ref"].report() + out[-5000:]

    calls = {e["to"]: e["call"] for _, e in seen if e["event"] == "setup"}
    assert set(calls) >= {"+12125550100", "+12125550101"}, seen

    def when(ev, number):
        return [(t, e) for t, e in seen if e["event"] == ev and e["call"] == calls[number]]

    (c_exp, _), (c_ref, _) = when("connect", "+12125550100")[0], when("connect", "+12125550101")[0]
    (d_exp, e_exp), = when("disconnect", "+12125550100")
    (d_ref, e_ref), = when("disconnect", "+12125550101")
    # the gateway cleared the expired call on the PRI, one session interval's worth after
    # the answer (pstnsim's events are read every 0.2 s)
    assert EXPIRE_S - 1 <= d_exp - c_exp <= EXPIRE_S + 2, (d_exp - c_exp, seen)
    assert e_exp["cause"] == 102, e_exp  # recovery on timer expiry
    # the refreshed call lived on past that, until SIPp's own BYE at ~65 s
    assert d_ref - c_ref >= EXPIRE_S + 3, (d_ref - c_ref, seen)
    assert e_ref["cause"] == 16, e_ref
    # SIPp's traces: the expired call's BYE came 60 s after the 200; nothing refreshed it
    msgs = sipp_messages(tmp_path / "exp")
    t200 = next(t for t, d, first in msgs if d == "received" and first.startswith("SIP/2.0 200"))
    tbye = next(t for t, d, first in msgs if d == "received" and first.startswith("BYE "))
    assert EXPIRE_S - 0.5 <= tbye - t200 <= EXPIRE_S + 1.0, (tbye - t200, msgs)
    assert not [m for m in msgs if m[2].startswith(("UPDATE ", "INVITE sip:trunk"))], msgs
    # the refresh: tandemd's UPDATE came at half the interval after its 200
    msgs = sipp_messages(tmp_path / "ref")
    t200 = next(t for t, d, first in msgs if d == "received" and first.startswith("SIP/2.0 200"))
    tupd = next(t for t, d, first in msgs if d == "received" and first.startswith("UPDATE "))
    assert REFRESH_S - 0.5 <= tupd - t200 <= REFRESH_S + 1.0, (tupd - t200, msgs)
    assert sum(1 for _, d, first in msgs if first.startswith("UPDATE ")) == 1, msgs
    # tandemd's own account: 60 s from answer to expiry, for the right call only
    expired = re.findall(r"\] ua: session timer expired \((\d+) s\)", out)
    assert expired == [str(INTERVAL)], out[-5000:]
    t_ans = log_time(out, r"call=\S+ span=1/%d\] PSTN answered: 200" % e_exp["channel"])
    t_expd = log_time(out, r"ua: session timer expired")
    assert EXPIRE_S - 0.5 <= t_expd - t_ans <= EXPIRE_S + 1.0, (t_expd - t_ans, out[-5000:])
    # both CDRs: SIP side ended each call
    conn = sqlite3.connect(str(tmp_path / "cdr.db"))
    try:
        rows = conn.execute("SELECT called, sip_status, cause_pstn, ended_by, "
                            "(end_ms - answer_ms) / 1000 FROM cdr ORDER BY called").fetchall()
    finally:
        conn.close()
    assert [r[:4] for r in rows] == [("2125550100", 200, 102, "sip"),
                                     ("2125550101", 200, 16, "sip")], rows
    assert rows[0][4] == EXPIRE_S and rows[1][4] >= EXPIRE_S + 3, rows


def test_config_min_se_reaches_the_ua(tmp_path, procs):
    """sip.session_timer.min_se from the YAML: an INVITE asking for less gets 422 with it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.bind(("127.0.0.1", 0))
    try:
        gw = start(tmp_path, procs, [s.getsockname()[1]], sim=False, replace=[(
            "session_timer: { expires: 1800, min_se: 90 }",
            "session_timer: { expires: 600, min_se: 120 }")])
        port = gw.port
        cid = uuid.uuid4().hex
        lport = s.getsockname()[1]
        msg = (f"INVITE sip:+12125550100@127.0.0.1:{port};user=phone SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{cid[:10]};rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:+12125550199@127.0.0.1>;tag=x1\r\n"
               f"Contact: <sip:trunk@127.0.0.1:{lport}>\r\n"
               f"To: <sip:+12125550100@127.0.0.1>\r\nCall-ID: {cid}\r\nCSeq: 1 INVITE\r\n"
               "Supported: timer\r\nSession-Expires: 90\r\nContent-Length: 0\r\n\r\n")
        s.sendto(msg.encode(), ("127.0.0.1", port))
        code, r = 0, ""
        for _ in range(5):
            r = s.recv(65535).decode(errors="replace")
            code = int(r.split(" ", 2)[1])
            if code >= 200:
                break
        assert code == 422, r
        assert re.search(r"^Min-SE: *120\r$", r, flags=re.M), r
        s.sendto((f"ACK sip:+12125550100@127.0.0.1:{port};user=phone SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{cid[:10]};rport\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:+12125550199@127.0.0.1>;tag=x1\r\n"
                  f"{re.search(r'^To: .*$', r, flags=re.M).group(0)}\n"
                  f"Call-ID: {cid}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n").encode(),
                 ("127.0.0.1", port))
    finally:
        s.close()
