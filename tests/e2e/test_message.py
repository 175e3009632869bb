"""MESSAGE (RFC 3428) relayed between users by tandemd, and SUBSCRIBE/PUBLISH answered.

SIPp authenticates as 1001 (digest MD5) and sends MESSAGE to sip:1002@gateway; a second
SIPp registered as 1002 (digest) receives it with From 1001 and the text, answers 200,
and the sender gets that 200. To a user without a contact: 480; to a number: 488; to a
name that is not a user: 404; without credentials: 407. SUBSCRIBE to an unknown package
gets 489 with Allow-Events; PUBLISH gets 405 with Allow.
"""
import time

import pytest

from conftest import free_port
from peers import gateway as gwmod
from peers import sipp
from peers.sipsak import sipsak


def message(token, expect):
    """1001 sends MESSAGE to [service] with a text holding token: 407, then again with
    credentials, then the final status expected."""
    def send(cseq, auth=None):
        return sipp.send("MESSAGE sip:[service]@[remote_ip]:[remote_port] SIP/2.0", sipp.VIA,
                         sipp.from_("1001", "[remote_ip]"), "To: <sip:[service]@[remote_ip]>",
                         "Call-ID: [call_id]", f"CSeq: {cseq} MESSAGE", auth, "Max-Forwards: 70",
                         body=[f"hello from tandem {token}"], ctype="text/plain", retrans=500)
    return sipp.scenario("MESSAGE with digest", send(1), sipp.recv(407, auth=True),
                         send(2, "[authentication]"), sipp.recv(expect))


def plain(method, extra, expect, header, check):
    """One request without credentials (extra: its headers, CRLF between them) and the
    answer expected, header matching check."""
    return sipp.scenario(
        "one request, one expected answer",
        sipp.send(f"{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0", sipp.VIA,
                  sipp.from_("1001", "[remote_ip]"), "To: <sip:[service]@[remote_ip]>",
                  "Call-ID: [call_id]", f"CSeq: 1 {method}",
                  "Contact: <sip:1001@[local_ip]:[local_port]>", "Max-Forwards: 70",
                  *(h.strip() for h in extra.split("\r\n")),
                  retrans=500),
        sipp.recv(expect, sipp.ereg(check, "h", header)))


def receiver(token):
    """The phone of user 1002: takes one MESSAGE, from 1001 and with the text, answers 200."""
    return sipp.scenario(
        "the phone of user 1002 takes one MESSAGE",
        sipp.recv("MESSAGE", sipp.ereg(f"hello from tandem {token}", "b", search_in="body"),
                  sipp.ereg("sip:1001@", "f", "From:")),
        sipp.ok_reply(to_tag="[pid]rx"))


def run(tmp_path, gw, xml, service, name, auth=True):
    return sipp.run_uac(tmp_path, gw.port, xml, service, free_port(), name=name, timeout=15,
                        auth=gwmod.PHONE_AUTH if auth else None)


@pytest.fixture
def gw(tmp_path, procs, need_sipp):
    return gwmod.start(tmp_path, procs, md5=True)


def test_message_relayed_to_registered_user(tmp_path, gw, procs):
    token = str(time.monotonic_ns())
    rx_port = free_port()
    rx = sipp.start_uas(procs, tmp_path, rx_port, receiver(token), name="rx", timeout=20)
    r = sipsak(gw.port, "1002", "demo1002", rx_port, 120)
    assert r.returncode == 0, r.stdout + r.stderr + gw.output()[-3000:]
    rc, out = run(tmp_path, gw, message(token, 200), "1002", "msg_ok")
    assert rc == 0, out + gw.output()[-3000:]
    assert rx.wait(10) == 0, rx.report()  # it saw the text from 1001
    assert "MESSAGE from 1001 to 1002" in gw.output()
    assert "MESSAGE relayed: 200" in gw.output()


@pytest.mark.parametrize("service,code", [("1003", 480), ("+12125550100", 488),
                                          ("nobody", 404)])
def test_message_refused(tmp_path, gw, service, code):
    rc, out = run(tmp_path, gw, message("x", code), service, f"msg_{code}")
    assert rc == 0, out + gw.output()[-3000:]


@pytest.mark.parametrize("method,extra,code,header,check", [
    ("MESSAGE", "Content-Type: text/plain", 407, "Proxy-Authenticate:", "Digest"),
    ("SUBSCRIBE", "Event: presence\r\n      Expires: 60", 489, "Allow-Events:", "refer"),
    ("PUBLISH", "Event: presence\r\n      Expires: 60", 405, "Allow:", "INVITE"),
])
def test_other_requests(tmp_path, gw, method, extra, code, header, check):
    xml = plain(method, extra, code, header, check)
    rc, out = run(tmp_path, gw, xml, "1002", f"req_{method}", auth=False)
    assert rc == 0, out + gw.output()[-3000:]
