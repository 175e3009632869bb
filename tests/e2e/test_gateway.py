"""tandemd as a gateway: SIPp phones calling the demo numbers at pstnsim over a virtual E1.

tandemd (CPE) and pstnsim (NET) share one virtual span on an abstract socket
named for the test; SIPp authenticates as user 1001 (MD5 digest) and checks the
final status and the Reason header (Q.850 cause) for each demo number.
"""
import re
import socket
import time
import uuid

import pytest

from conftest import free_port, wait_until
from peers import gateway as gwmod
from peers import sipp


@pytest.fixture
def gateway(tmp_path, procs, need_sipp):
    return gwmod.start(tmp_path, procs)


@pytest.mark.parametrize("number,code,cause", [
    ("+12125550100", 200, None),          # answers
    ("+12125550486", 486, 17),            # busy
    ("+12125550404", 404, 1),             # unallocated
    ("+12125550503", 503, 34),            # congestion
])
def test_outbound(tmp_path, gateway, number, code, cause):
    gwmod.phone_call(tmp_path, gateway, number, code, cause)
    if code == 200:
        assert re.search(r"PSTN answered: 200", gateway.output())
    else:
        assert re.search(rf"cleared with cause {cause} ", gateway.output()), gateway.output()


def test_outbound_no_answer(tmp_path, gateway):
    """+12125550480 rings (in-band ringback) and never answers: after pstnsim's 30 s the
    network clears with cause 19, which the phone gets as 480 with Reason cause 19."""
    rc, report = sipp.run_uac(tmp_path, gateway.port, gwmod.phone_scenario(480, 19),
                              "+12125550480", free_port(), name="noanswer", timeout=45,
                              auth=gwmod.PHONE_AUTH)
    assert rc == 0, f"sipp exit {rc}\n{report}\n{gateway.output()[-4000:]}"
    assert "in-band information: 183 with early media" in gateway.output()
    assert re.search(r"cleared with cause 19 ", gateway.output()), gateway.output()[-4000:]


def test_delayed_offer(tmp_path, procs, need_sipp):
    """An INVITE without SDP (a trusted trunk): the 200 carries our offer, the ACK the
    answer, and only then does the call get its media channel."""
    sport = free_port()
    gw = gwmod.start(tmp_path, procs, trusted=(sport,))
    xml = sipp.scenario(
        "delayed offer",
        sipp.invite("trunk"), sipp.provisional(100, 180, 183, 180),
        sipp.recv(200, sipp.ereg(r"m=audio [0-9]+ RTP/AVP 8 0 101", "offer", search_in="body"),
                  rrs=True),
        sipp.in_dialog("ACK", "trunk", 1, body=sipp.sdp(8), ctype="application/sdp",
                       retrans=None),
        sipp.pause(1500), sipp.bye("trunk", 2))
    rc, report = sipp.run_uac(tmp_path, gw.port, xml, "+12125550100", sport, name="delayed")
    assert rc == 0, f"sipp exit {rc}\n{report}\n{gw.output()[-4000:]}"
    out = gw.output()
    answered, media = out.find("PSTN answered: 200"), out.find("media: RTP port")
    assert 0 <= answered < media, out[-4000:]  # the channel waited for the ACK's answer
    assert "SDP answer not usable" not in out


def test_unauthenticated_invite_is_challenged(tmp_path, gateway):
    """A phone without the password never reaches a B-channel."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.bind(("127.0.0.1", 0))
    cid = uuid.uuid4().hex
    msg = (f"INVITE sip:+12125550100@127.0.0.1:{gateway.port};user=phone SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]};branch=z9hG4bK{cid[:10]};rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:1001@gw>;tag=x1\r\n"
           f"Contact: <sip:1001@127.0.0.1:{s.getsockname()[1]}>\r\n"
           f"To: <sip:+12125550100@gw>\r\nCall-ID: {cid}\r\nCSeq: 1 INVITE\r\n"
           "Content-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", gateway.port))
    code = 0
    while code < 200:
        r = s.recv(65535).decode(errors="replace")
        code = int(r.split(" ", 2)[1])
    s.close()
    assert code == 407
    assert "Proxy-Authenticate: Digest" in r
    assert "SETUP" not in gateway.output()


@pytest.fixture
def gateway_did(tmp_path, procs, need_sipp):
    """The demo gateway plus a DID routed to a fixed URI where SIPp answers as a UAS."""
    uas_port = free_port()
    gw = gwmod.start(tmp_path, procs,
                     inbound={"+12125559000": f"uri:sip:desk@127.0.0.1:{uas_port}"})
    gw.uas_port = uas_port
    return gw


def test_inbound_did_answered_and_cleared(tmp_path, procs, gateway_did):
    gw = gateway_did
    uas = sipp.start_uas(procs, tmp_path, gw.uas_port, timeout=20)
    time.sleep(0.3)
    call = gw.pstnctl("call", "+12125550199", "+12125559000")["call"]
    assert wait_until(lambda: "CONNECT" in gw.output(), 10), gw.output()
    gw.pstnctl("hangup", str(call), "16")
    assert uas.wait(20) == 0, uas.report() + gw.output()
    out = gw.output()
    assert "INVITE sip:desk@127.0.0.1" in out
    assert "PSTN hung up (cause 16): BYE" in out


def test_inbound_did_without_route_is_unallocated(gateway_did):
    gw = gateway_did
    gw.pstnctl("call", "+12125550199", "+12125557777")
    # refused while collecting digits (tdm/pri asks call control whether any DID can match)
    assert wait_until(lambda: "'2125557777' refused: cause 1" in gw.output(), 10), gw.output()
    assert wait_until(lambda: re.search(r'"cause":\s*1\b', gw.sim.output()) is not None, 10), \
        gw.sim.output()


def test_inbound_did_user_not_registered(gateway_did):
    gw = gateway_did
    gw.pstnctl("call", "+12125550199", "+12125551002")
    assert wait_until(lambda: re.search(r'"cause":\s*20\b', gw.sim.output()) is not None, 10), \
        gw.output() + gw.sim.output()
