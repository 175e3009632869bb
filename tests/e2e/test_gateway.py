"""tandemd as a gateway: SIPp phones calling the demo numbers at pstnsim over a virtual E1.

tandemd (CPE) and pstnsim (NET) share one virtual span on an abstract socket
named for the test; SIPp authenticates as user 1001 (MD5 digest) and checks the
final status and the Reason header (Q.850 cause) for each demo number.
"""
import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, binary, free_port

SIPP = shutil.which("sipp")
TEMPLATE = os.path.join(ROOT, "tests", "e2e", "sipp", "uac_auth_call.xml")
PSTNSIM_CFG = os.path.join(ROOT, "tdm", "pstnsim", "examples", "demo.yaml")

ACK_FINAL = """
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0
      [last_Via:]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

ANSWERED = """
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 ACK
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="1000"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""

REASON = ('    <action>\n      <ereg regexp="Q\\.850;cause={cause}[^0-9]" search_in="hdr" '
          'header="Reason:" check_it="true" assign_to="reason"/>\n    </action>')


def gw_config(tmp_path, port, span_addr):
    src = open(os.path.join(ROOT, "provisioning", "examples", "tandem.yaml")).read()
    cfg = (src.replace("@tandem-demo-span1", span_addr)
              .replace("udp:127.0.0.1:5060", f"udp:127.0.0.1:{port}")
              .replace("tcp:127.0.0.1:5060", f"tcp:127.0.0.1:{port}")
              .replace("level: info", "level: debug")
              # the demo's operations endpoints are fixed paths: keep tests apart
              .replace("/tmp/tandem-ctl.sock", str(tmp_path / "ctl.sock"))
              .replace("/tmp/tandem-cdr.db", str(tmp_path / "cdr.db"))
              .replace("127.0.0.1:9469", f"127.0.0.1:{free_port()}"))
    # SIPp answers only the first challenge and knows MD5 only; bindings in the test's own file.
    cfg, n = re.subn(r'^registrar:\n(?:[ #].*\n)*', 'registrar:\n'
                     f'  db: "{tmp_path / "registrar.db"}"\n'
                     '  digest_algorithms: [md5, sha-256]\n', cfg, flags=re.M)
    assert n == 1, cfg
    p = tmp_path / "tandem.yaml"
    p.write_text(cfg)
    return str(p)


@pytest.fixture
def gateway(tmp_path, procs):
    if not SIPP:
        pytest.fail("sipp is not installed (packaging/deps.sh installs sip-tester)")
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port = free_port()
    sim = procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", str(tmp_path / "sim.sock"),
                       "--addr", f"1={span_addr}"], name="pstnsim")
    gw = procs.start([binary("tandemd"), "-c", gw_config(tmp_path, port, span_addr)],
                     name="tandemd")
    assert gw.wait_for("ready", 10), gw.output()
    assert gw.wait_for("D-channel up", 10), gw.output() + sim.output()
    gw.port = port
    gw.sim = sim
    return gw


def run_sipp(tmp_path, gw, number, code, cause):
    xml = open(TEMPLATE).read()
    xml = xml.replace("FINAL_CODE", str(code))
    xml = xml.replace("REASON_ACTION", REASON.format(cause=cause) if cause else "")
    xml = xml.replace("AFTER_FINAL", ANSWERED if code == 200 else ACK_FINAL)
    if cause:  # SIPp refuses a variable that is assigned and never used
        xml = xml.replace("  <ResponseTimeRepartition", '  <Reference variables="reason"/>\n'
                          "  <ResponseTimeRepartition")
    sf = tmp_path / f"call_{number[1:]}.xml"
    sf.write_text(xml)
    sport = free_port()
    args = [SIPP, f"127.0.0.1:{gw.port}", "-sf", str(sf), "-s", number, "-au", "1001",
            "-ap", "demo1001", "-i", "127.0.0.1", "-p", str(sport), "-m", "1", "-nostdin",
            "-timeout", "20", "-timeout_error", "-trace_err"]
    r = subprocess.run(args, cwd=tmp_path, capture_output=True, timeout=40)
    errs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_errors.log"))
    assert r.returncode == 0, (f"sipp exit {r.returncode}\n{errs}\n"
                               f"{r.stdout.decode(errors='replace')[-2000:]}\n{gw.output()[-6000:]}")


@pytest.mark.parametrize("number,code,cause", [
    ("+12125550100", 200, None),          # answers
    ("+12125550486", 486, 17),            # busy
    ("+12125550404", 404, 1),             # unallocated
    ("+12125550503", 503, 34),            # congestion
])
def test_outbound(tmp_path, gateway, number, code, cause):
    run_sipp(tmp_path, gateway, number, code, cause)
    if code == 200:
        assert re.search(r"PSTN answered: 200", gateway.output())
    else:
        assert re.search(rf"cleared with cause {cause} ", gateway.output()), gateway.output()


def test_unauthenticated_invite_is_challenged(tmp_path, gateway):
    """A phone without the password never reaches a B-channel."""
    import socket
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


def pstnctl(gw, *args):
    r = subprocess.run([binary("pstnctl"), "-s", gw.sim_sock, *args], capture_output=True,
                       timeout=10)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out + r.stderr.decode(errors="replace")
    return json.loads(out.strip().splitlines()[-1])


def wait_until(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


@pytest.fixture
def gateway_did(tmp_path, procs):
    """The demo gateway plus a DID routed to a fixed URI where SIPp answers as a UAS."""
    if not SIPP:
        pytest.fail("sipp is not installed (packaging/deps.sh installs sip-tester)")
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port, uas_port = free_port(), free_port()
    cfg = open(gw_config(tmp_path, port, span_addr)).read().replace(
        "  inbound: []",
        f"  inbound:\n    - {{ did: '+12125559000', to: 'uri:sip:desk@127.0.0.1:{uas_port}' }}")
    (tmp_path / "tandem.yaml").write_text(cfg)
    sock = str(tmp_path / "sim.sock")
    sim = procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", sock,
                       "--addr", f"1={span_addr}"], name="pstnsim")
    gw = procs.start([binary("tandemd"), "-c", str(tmp_path / "tandem.yaml")], name="tandemd")
    assert gw.wait_for("ready", 10), gw.output()
    assert gw.wait_for("D-channel up", 10), gw.output() + sim.output()
    gw.port, gw.uas_port, gw.sim, gw.sim_sock = port, uas_port, sim, sock
    return gw


def test_inbound_did_answered_and_cleared(tmp_path, gateway_did):
    gw = gateway_did
    uas = subprocess.Popen([SIPP, "-sn", "uas", "-i", "127.0.0.1", "-p", str(gw.uas_port),
                            "-m", "1", "-nostdin", "-timeout", "20", "-timeout_error"],
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        call = pstnctl(gw, "call", "+12125550199", "+12125559000")["call"]
        assert wait_until(lambda: "CONNECT" in gw.output(), 10), gw.output()
        pstnctl(gw, "hangup", str(call), "16")
        assert uas.wait(20) == 0, uas.stderr.read().decode(errors="replace") + gw.output()
    finally:
        if uas.poll() is None:
            uas.kill()
            uas.wait(5)
    out = gw.output()
    assert "INVITE sip:desk@127.0.0.1" in out
    assert "PSTN hung up (cause 16): BYE" in out


def test_inbound_did_without_route_is_unallocated(gateway_did):
    gw = gateway_did
    pstnctl(gw, "call", "+12125550199", "+12125557777")
    # refused while collecting digits (tdm/pri asks call control whether any DID can match)
    assert wait_until(lambda: "'2125557777' refused: cause 1" in gw.output(), 10), gw.output()
    assert wait_until(lambda: re.search(r'"cause":\s*1\b', gw.sim.output()) is not None, 10), \
        gw.sim.output()


def test_inbound_did_user_not_registered(gateway_did):
    gw = gateway_did
    pstnctl(gw, "call", "+12125550199", "+12125551002")
    assert wait_until(lambda: re.search(r'"cause":\s*20\b', gw.sim.output()) is not None, 10), \
        gw.output() + gw.sim.output()
