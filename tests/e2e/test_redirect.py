"""3xx followed by the gateway: a DID routed to a SIP URI whose UA answers 302 with a
Contact; tandemd sends a new INVITE there (bounded: at most 3 redirects per call) and the
PSTN caller is connected to the UA that answers. A redirect loop ends with the 3xx
mapped to a cause after the third hop.

Real peers: SIPp as the redirecting UAS (302) and as the final UAS (built-in uas),
pstnsim placing the DID call on the virtual E1. All on 127.0.0.1; every wait bounded.
"""
import time

from conftest import free_port
from peers import gateway as gwmod
from peers import sipp


def redirect_uas(target_port):
    """Answers every INVITE with 302 to sip:moved@127.0.0.1:target_port."""
    return sipp.scenario(
        "answer every INVITE with 302", sipp.recv("INVITE"),
        sipp.reply("302 Moved Temporarily", f"Contact: <sip:moved@127.0.0.1:{target_port}>",
                   to_tag="[pid]r[call_number]"),
        sipp.recv("ACK"))


def start(tmp_path, procs, target_uri):
    return gwmod.start(tmp_path, procs, inbound={"+12125559000": f"uri:{target_uri}"})


def test_302_followed_to_answering_ua(tmp_path, procs, need_sipp):
    p_redirect, p_final = free_port(), free_port()
    sipp.start_uas(procs, tmp_path, p_redirect, redirect_uas(p_final), "redirect")
    final = sipp.start_uas(procs, tmp_path, p_final, name="final")
    time.sleep(0.3)
    gw = start(tmp_path, procs, f"sip:did@127.0.0.1:{p_redirect}")
    ctl = gw.ctl
    call, e = ctl.call("+12125559000")
    assert e and e["event"] == "connect", (ctl.events, gw.output()[-4000:])
    assert "302: redirected to sip:moved@127.0.0.1" in gw.output()
    ctl.send({"cmd": "hangup", "call": call, "cause": 16})
    assert ctl.wait_event(lambda e: e["event"] == "disconnect", 5)
    assert final.wait(10) == 0, final.report()  # it saw the BYE


def test_redirect_loop_is_bounded(tmp_path, procs, need_sipp):
    p = free_port()
    # redirects to itself, forever: the gateway stops after 3 and clears the call
    sipp.start_uas(procs, tmp_path, p, redirect_uas(p), "loop", calls=4)
    time.sleep(0.3)
    gw = start(tmp_path, procs, f"sip:did@127.0.0.1:{p}")
    ctl = gw.ctl
    _, e = ctl.call("+12125559000")
    assert e and e["event"] == "disconnect", ctl.events
    out = gw.output()
    assert out.count("302: redirected") == 4 and "not followed: 3 redirects" in out, out[-4000:]


# A trunk's INVITE without SDP, answered 302 with the Contact the route builds.
ROUTE_302_UAC = sipp.scenario(
    "INVITE answered 302 by a redirect route", sipp.invite("trunk"), sipp.recv(100, optional=True),
    sipp.recv(302, sipp.ereg(r"sip:\+12125550990@192\.0\.2\.55>", "c", "Contact:")),
    sipp.ack_error("trunk"))


def test_route_answers_302(tmp_path, procs, need_sipp):
    """An outbound route with redirect: the gateway answers 302 itself, Contact built from
    the number dialled; no B-channel is taken (nothing is placed: the address is never
    contacted, it is in TEST-NET-1)."""
    sport = free_port()
    gw = gwmod.start(tmp_path, procs, trusted=[sport], replace=[(
        "  outbound:                # first match wins, on the E.164 form of the Request-URI\n",
        "  outbound:\n    - { name: moved, pattern: \"+1212555099X\", "
        "redirect: \"sip:{number}@192.0.2.55\" }\n")])
    rc, report = sipp.run_uac(tmp_path, gw.port, ROUTE_302_UAC, "+12125550990", sport,
                              name="r302", timeout=10)
    assert rc == 0, (report, gw.output()[-3000:])
    out = gw.output()
    assert "route moved redirects +12125550990: 302" in out and "SETUP" not in out, out[-3000:]
