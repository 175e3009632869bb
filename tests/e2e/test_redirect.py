"""3xx followed by the gateway: a DID routed to a SIP URI whose UA answers 302 with a
Contact; tandemd sends a new INVITE there (bounded: at most 3 redirects per call) and the
PSTN caller is connected to the UA that answers. A redirect loop ends with the 3xx
mapped to a cause after the third hop.

Real peers: SIPp as the redirecting UAS (302) and as the final UAS (built-in uas),
pstnsim placing the DID call on the virtual E1. All on 127.0.0.1; every wait bounded.
"""
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import binary, free_port
from peers.pstnsim import Ctl
from test_gateway import PSTNSIM_CFG, gw_config

SIPP = shutil.which("sipp")

REDIRECT_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer every INVITE with 302">
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 302 Moved Temporarily
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]r[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:moved@127.0.0.1:TARGET_PORT>
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
"""


def start(tmp_path, procs, target_uri):
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port = free_port()
    sim_sock = tmp_path / "sim.sock"
    procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", str(sim_sock),
                 "--addr", f"1={span_addr}"], name="pstnsim")
    cfg = gw_config(tmp_path, port, span_addr)
    text = open(cfg).read().replace(
        "  inbound: []", f'  inbound:\n    - {{ did: "+12125559000", to: "uri:{target_uri}" }}')
    open(cfg, "w").write(text)
    gw = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert gw.wait_for("D-channel up", 10), gw.output()
    return gw, Ctl(str(sim_sock))


def sipp_uas(tmp_path, procs, port, xml=None, name="uas", calls=1):
    args = [SIPP, "-i", "127.0.0.1", "-p", str(port), "-m", str(calls), "-nostdin",
            "-timeout", "30", "-trace_err"]
    if xml:
        sf = tmp_path / f"{name}.xml"
        sf.write_text(xml)
        args += ["-sf", str(sf)]
    else:
        args += ["-sn", "uas"]
    return procs.start(args, name=name)


@pytest.fixture
def need_sipp():
    if not SIPP:
        pytest.fail("sipp is not installed")


def test_302_followed_to_answering_ua(tmp_path, procs, need_sipp):
    p_redirect, p_final = free_port(), free_port()
    sipp_uas(tmp_path, procs, p_redirect, REDIRECT_UAS.replace("TARGET_PORT", str(p_final)),
             "redirect")
    final = sipp_uas(tmp_path, procs, p_final, name="final")
    time.sleep(0.3)
    gw, ctl = start(tmp_path, procs, f"sip:did@127.0.0.1:{p_redirect}")
    r = ctl.send({"cmd": "call", "span": 1, "from": "+12125559999", "to": "+12125559000"})
    assert r["ok"], r
    e = ctl.wait_event(lambda e: e["event"] in ("connect", "disconnect"), 10)
    assert e and e["event"] == "connect", (ctl.events, gw.output()[-4000:])
    assert "302: redirected to sip:moved@127.0.0.1" in gw.output()
    ctl.send({"cmd": "hangup", "call": r["call"], "cause": 16})
    assert ctl.wait_event(lambda e: e["event"] == "disconnect", 5)
    assert final.p.wait(10) == 0, final.output()[-2000:]  # it saw the BYE
    ctl.close()


def test_redirect_loop_is_bounded(tmp_path, procs, need_sipp):
    p = free_port()
    # redirects to itself, forever: the gateway stops after 3 and clears the call
    sipp_uas(tmp_path, procs, p, REDIRECT_UAS.replace("TARGET_PORT", str(p)), "loop", calls=4)
    time.sleep(0.3)
    gw, ctl = start(tmp_path, procs, f"sip:did@127.0.0.1:{p}")
    r = ctl.send({"cmd": "call", "span": 1, "from": "+12125559999", "to": "+12125559000"})
    assert r["ok"], r
    e = ctl.wait_event(lambda e: e["event"] in ("connect", "disconnect"), 10)
    assert e and e["event"] == "disconnect", ctl.events
    out = gw.output()
    assert out.count("302: redirected") == 4 and "not followed: 3 redirects" in out, out[-4000:]
    ctl.close()


ROUTE_302_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="INVITE answered 302 by a redirect route">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:trunk@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="302">
    <action>
      <ereg regexp="sip:\\+12125550990@192\\.0\\.2\\.55>" search_in="hdr" header="Contact:"
            check_it="true" assign_to="c"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0
      [last_Via:]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="c"/>
</scenario>
"""


def test_route_answers_302(tmp_path, procs, need_sipp):
    """An outbound route with redirect: the gateway answers 302 itself, Contact built from
    the number dialled; no B-channel is taken (nothing is placed: the address is never
    contacted, it is in TEST-NET-1)."""
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port, sport = free_port(), free_port()
    procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", str(tmp_path / "sim.sock"),
                 "--addr", f"1={span_addr}"], name="pstnsim")
    cfg = gw_config(tmp_path, port, span_addr)
    text = open(cfg).read().replace(
        "  outbound:                # first match wins, on the E.164 form of the Request-URI\n",
        "  outbound:\n    - { name: moved, pattern: \"+1212555099X\", "
        "redirect: \"sip:{number}@192.0.2.55\" }\n")
    text = text.replace("trunks: []", f'trunks:\n  - {{ name: sipp, address: "udp:127.0.0.1:{sport}" }}')
    open(cfg, "w").write(text)
    gw = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert gw.wait_for("D-channel up", 10), gw.output()
    sf = tmp_path / "r302.xml"
    sf.write_text(ROUTE_302_UAC)
    r = subprocess.run([SIPP, f"127.0.0.1:{port}", "-sf", str(sf), "-s", "+12125550990",
                        "-i", "127.0.0.1", "-p", str(sport), "-m", "1", "-nostdin",
                        "-timeout", "10", "-timeout_error", "-trace_err"],
                       cwd=tmp_path, capture_output=True, timeout=30)
    errs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("r302*_errors.log"))
    assert r.returncode == 0, (errs, gw.output()[-3000:])
    out = gw.output()
    assert "route moved redirects +12125550990: 302" in out and "SETUP" not in out, out[-3000:]
