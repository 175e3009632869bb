"""A SIP trunk behind an outbound proxy: a DID routed to trunk:carrier goes out as
INVITE sip:+E164@TRUNK-ADDRESS with a Route header naming the trunk's proxy, and is sent to
the proxy; the dialog then follows the proxy's Record-Route (ACK and BYE go to the proxy
with Route = the Record-Route, Request-URI = the callee's Contact).

Real peers: pstnsim placing the DID call on the virtual E1, SIPp acting as the proxy (it
answers itself, checking every request it gets). The trunk's own address and the callee's
Contact are TEST-NET-1 addresses that nothing may contact: everything goes through the
proxy on 127.0.0.1. Every wait bounded.
"""
import os
import shutil

import pytest

from conftest import binary, free_port
from peers.pstnsim import Ctl
from test_gateway import PSTNSIM_CFG, gw_config

SIPP = shutil.which("sipp")
DID = "+12125559000"
TRUNK = "udp:192.0.2.10:5060"

# The proxy: checks the INVITE's Request-URI and Route, answers with a Record-Route of its
# own (a parameter the configured proxy URI lacks, so the BYE shows which one it used).
PROXY_UAS = r"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="outbound proxy of trunk carrier, answering">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="^INVITE sip:\+12125559000@192\.0\.2\.10:5060;user=phone SIP/2\.0"
            search_in="msg" check_it="true" assign_to="ruri"/>
      <ereg regexp="^ *&lt;sip:127\.0\.0\.1:PROXY_PORT;lr&gt; *$" search_in="hdr"
            header="Route:" check_it="true" assign_to="route"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]px[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Record-Route: <sip:127.0.0.1:PROXY_PORT;lr;rr=carrier>
      Contact: <sip:callee@192.0.2.10:5060>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]px[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Record-Route: <sip:127.0.0.1:PROXY_PORT;lr;rr=carrier>
      Contact: <sip:callee@192.0.2.10:5060>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 2 2 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]>
  </send>
  <recv request="ACK" crlf="true">
    <action>
      <ereg regexp="^ACK sip:callee@192\.0\.2\.10:5060 SIP/2\.0" search_in="msg"
            check_it="true" assign_to="ack_ruri"/>
      <ereg regexp="^ *&lt;sip:127\.0\.0\.1:PROXY_PORT;lr;rr=carrier&gt; *$" search_in="hdr"
            header="Route:" check_it="true" assign_to="ack_route"/>
    </action>
  </recv>
  <recv request="BYE" timeout="15000">
    <action>
      <ereg regexp="^BYE sip:callee@192\.0\.2\.10:5060 SIP/2\.0" search_in="msg"
            check_it="true" assign_to="bye_ruri"/>
      <ereg regexp="^ *&lt;sip:127\.0\.0\.1:PROXY_PORT;lr;rr=carrier&gt; *$" search_in="hdr"
            header="Route:" check_it="true" assign_to="bye_route"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="ruri,route,ack_ruri,ack_route,bye_ruri,bye_route"/>
</scenario>
"""


@pytest.fixture
def need_sipp():
    if not SIPP:
        pytest.fail("sipp is not installed (packaging/deps.sh installs sip-tester)")


def test_did_to_trunk_goes_through_its_proxy(tmp_path, procs, need_sipp):
    pport = free_port()
    sf = tmp_path / "proxy.xml"
    sf.write_text(PROXY_UAS.replace("PROXY_PORT", str(pport)))
    proxy = procs.start([SIPP, "-sf", str(sf), "-i", "127.0.0.1", "-p", str(pport), "-m", "1",
                         "-nostdin", "-timeout", "30", "-trace_err",
                         "-error_file", str(tmp_path / "proxy_errors.log")], name="proxy")

    span_addr = f"@tandem-e2e-{os.urandom(6).hex()}"
    port = free_port()
    procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", str(tmp_path / "sim.sock"),
                 "--addr", f"1={span_addr}"], name="pstnsim")
    cfg = gw_config(tmp_path, port, span_addr)
    with open(cfg) as f:
        text = f.read()
    for old, new in (("trunks: []", f'trunks:\n  - {{ name: carrier, address: "{TRUNK}", '
                                     f'proxy: "sip:127.0.0.1:{pport};lr" }}'),
                     ("  inbound: []", f'  inbound:\n    - {{ did: "{DID}", to: "trunk:carrier" }}')):
        assert old in text, old
        text = text.replace(old, new)
    with open(cfg, "w") as f:
        f.write(text)
    gw = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert gw.wait_for("D-channel up", 10), gw.output()

    ctl = Ctl(str(tmp_path / "sim.sock"))
    r = ctl.send({"cmd": "call", "span": 1, "from": "+12125559999", "to": DID})
    assert r["ok"], r
    e = ctl.wait_event(lambda e: e.get("call") == r["call"]
                       and e["event"] in ("connect", "disconnect"), 10)
    assert e and e["event"] == "connect", (ctl.events, proxy.output()[-2000:],
                                           gw.output()[-4000:])
    ctl.send({"cmd": "hangup", "call": r["call"], "cause": 16})
    assert ctl.wait_event(lambda e: e.get("call") == r["call"] and e["event"] == "disconnect", 5)
    # SIPp exits 0 only when every check held and the BYE came (to it, with its Record-Route)
    rc = proxy.p.wait(15)
    errs = (tmp_path / "proxy_errors.log").read_text(errors="replace") \
        if (tmp_path / "proxy_errors.log").exists() else ""
    assert rc == 0, (errs[-3000:], gw.output()[-4000:])
    assert f"INVITE sip:{DID}@192.0.2.10:5060;user=phone" in gw.output()
    ctl.close()
