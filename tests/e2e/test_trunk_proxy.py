"""A SIP trunk behind an outbound proxy: a DID routed to trunk:carrier goes out as
INVITE sip:+E164@TRUNK-ADDRESS with a Route header naming the trunk's proxy, and is sent to
the proxy; the dialog then follows the proxy's Record-Route (ACK and BYE go to the proxy
with Route = the Record-Route, Request-URI = the callee's Contact).

Real peers: pstnsim placing the DID call on the virtual E1, SIPp acting as the proxy (it
answers itself, checking every request it gets). The trunk's own address and the callee's
Contact are TEST-NET-1 addresses that nothing may contact: everything goes through the
proxy on 127.0.0.1. Every wait bounded.
"""
from conftest import free_port
from peers import gateway as gwmod
from peers import sipp

DID = "+12125559000"
TRUNK = "udp:192.0.2.10:5060"

ROUTE = r"^ *<sip:127\.0\.0\.1:{port};lr{rr}> *$"
CALLEE = r"sip:callee@192\.0\.2\.10:5060"


def proxy_uas(port):
    """The proxy: checks the INVITE's Request-URI and Route, answers with a Record-Route of
    its own (a parameter the configured proxy URI lacks, so the BYE shows which one it
    used), then checks the ACK's and the BYE's Request-URI and Route."""
    rr = f"Record-Route: <sip:127.0.0.1:{port};lr;rr=carrier>"
    contact = "Contact: <sip:callee@192.0.2.10:5060>"
    return sipp.scenario(
        "outbound proxy of trunk carrier, answering",
        sipp.recv("INVITE", sipp.ereg(r"^INVITE sip:\+12125559000@192\.0\.2\.10:5060;user=phone "
                                      r"SIP/2\.0", "ruri", search_in="msg"),
                  sipp.ereg(ROUTE.format(port=port, rr=""), "route", "Route:"), crlf=True),
        sipp.reply("180 Ringing", rr, contact, to_tag="[pid]px[call_number]"),
        sipp.reply("200 OK", rr, contact, to_tag="[pid]px[call_number]",
                   body=sipp.sdp(8, origin="- 2 2"), retrans=500),
        sipp.recv("ACK", sipp.ereg(rf"^ACK {CALLEE} SIP/2\.0", "ack_ruri", search_in="msg"),
                  sipp.ereg(ROUTE.format(port=port, rr=";rr=carrier"), "ack_route", "Route:"),
                  crlf=True),
        sipp.recv("BYE", sipp.ereg(rf"^BYE {CALLEE} SIP/2\.0", "bye_ruri", search_in="msg"),
                  sipp.ereg(ROUTE.format(port=port, rr=";rr=carrier"), "bye_route", "Route:"),
                  timeout=15000),
        sipp.ok_reply())


def test_did_to_trunk_goes_through_its_proxy(tmp_path, procs, need_sipp):
    pport = free_port()
    proxy = sipp.start_uas(procs, tmp_path, pport, proxy_uas(pport), name="proxy")
    gw = gwmod.start(tmp_path, procs, inbound={DID: "trunk:carrier"}, replace=[(
        "trunks: []", f'trunks:\n  - {{ name: carrier, address: "{TRUNK}", '
                      f'proxy: "sip:127.0.0.1:{pport};lr" }}')])
    ctl = gw.ctl
    call, e = ctl.call(DID)
    assert e and e["event"] == "connect", (ctl.events, proxy.report(), gw.output()[-4000:])
    ctl.send({"cmd": "hangup", "call": call, "cause": 16})
    assert ctl.wait_event(lambda e: e.get("call") == call and e["event"] == "disconnect", 5)
    # SIPp exits 0 only when every check held and the BYE came (to it, with its Record-Route)
    assert proxy.wait(15) == 0, (proxy.report(), gw.output()[-4000:])
    assert f"INVITE sip:{DID}@192.0.2.10:5060;user=phone" in gw.output()
