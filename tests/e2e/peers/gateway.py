"""tandemd as the tests run it: the demo configuration rewritten for one test, pstnsim (NET)
and tandemd (CPE) on one virtual E1 named for the test.

    gw = start(tmp_path, procs, media={"dtmf": "info"}, trusted=[sipp_port])
    gw.port (SIP on 127.0.0.1, UDP and TCP), gw.proc (tandemd's Proc; gw.output() its log),
    gw.sim (pstnsim's Proc), gw.ctl (pstnsim's control socket, peers.pstnsim.Ctl, closed
    at teardown), gw.cfg, gw.sock (tandemctl's socket), gw.db (the CDR file),
    gw.metrics (the metrics port), gw.sim_sock; gw.pstnctl(...) runs build/pstnctl.

start() waits for tandemd's "ready" and, with pstnsim, for the D-channel. Options:
md5 (digest MD5 only: baresip 1.0 gives up on a challenge listing more), media (keys of
the media section), trusted (SIPp ports made trunks trusted by address: trunk NAME, or
NAME0.. for several), inbound ({did: route}), replace ((old, new) pairs, each old
must be in the file), sim=False (no pstnsim), net=True (the network side: listens on
the span, clock master), span (the virtual span's address, to share one), name.

phone_call() is SIPp as the demo's user 1001 (digest MD5) calling a number through the
gateway and checking the final status and the Reason's Q.850 cause; tandemctl() and
tandemctl_json() run build/tandemctl on the gateway's control socket.
"""
import json
import os
import re
import subprocess
import uuid

from conftest import ROOT, binary, free_port
from peers import sipp
from peers.pstnsim import Ctl

PSTNSIM_CFG = os.path.join(ROOT, "tdm", "pstnsim", "examples", "demo.yaml")


def gw_config(tmp_path, port, span_addr):
    """The demo config (provisioning/examples/tandem.yaml) at tmp_path/tandem.yaml: SIP on
    port, span 1 at span_addr, debug logs, its own ctl socket, CDR and registrar files and
    metrics port, digest MD5 offered first."""
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
    # nothing is shared with `make run` or other tests
    assert f"socket: {tmp_path / 'ctl.sock'}" in cfg and f"path: {tmp_path / 'cdr.db'}" in cfg, cfg
    p = tmp_path / "tandem.yaml"
    p.write_text(cfg)
    return str(p)


def edit(path, *pairs):
    """Replaces each old text (which must be in the file) by the new one."""
    text = open(path).read()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    open(path, "w").write(text)


def set_media(path, **kv):
    """Rewrites keys of the media section of the config at path (each on one line)."""
    lines = open(path).read().split("\n")
    for k, v in kv.items():
        at = [i for i, line in enumerate(lines) if line.startswith(f"  {k}:")]
        assert len(at) == 1, f"media.{k} is not once in the demo config"
        lines[at[0]] = f"  {k}: {v}"
    open(path, "w").write("\n".join(lines))


def trust(path, *ports, name="sipp"):
    """Trunks trusted by address (no digest) for SIPp on these ports."""
    names = [name] if len(ports) == 1 else [f"{name}{i}" for i in range(len(ports))]
    edit(path, ("trunks: []", "trunks:\n" + "\n".join(
        f'  - {{ name: {n}, address: "udp:127.0.0.1:{p}" }}' for n, p in zip(names, ports))))


def route_inbound(path, routes):
    """DIDs from the PSTN routed as given ({did: "uri:sip:..." or "trunk:NAME"})."""
    edit(path, ("  inbound: []", "  inbound:\n" + "\n".join(
        f'    - {{ did: "{did}", to: "{to}" }}' for did, to in routes.items())))


def md5_only(path):
    """baresip 1.0 gives up on a 401 that lists any algorithm besides MD5."""
    text = open(path).read()
    text, n = re.subn(r"digest_algorithms: \[.*\]", "digest_algorithms: [md5]", text)
    assert n == 1, text
    open(path, "w").write(text)


def net_side(path):
    """The span as the network side (pstnsim's role): listens, clock master."""
    edit(path, ("    side: cpe ", "    side: net "),
         ("    clock_master: false", "    clock_master: true"))
    text, n = re.subn(r'^(    address: "@tandem-e2e-[0-9a-f]+".*\n)', r"\1    listen: true\n",
                      open(path).read(), flags=re.M)
    assert n == 1, text
    open(path, "w").write(text)


class Gateway:
    """tandemd (gw.run() starts it again on the same config) and pstnsim."""

    def __init__(self, tmp_path, procs, cfg, port, sim, sim_sock):
        self.procs, self.cfg, self.port = procs, cfg, port
        self.sim, self.sim_sock, self.proc, self.ctl = sim, sim_sock, None, None
        text = open(cfg).read()
        self.sock, self.db = str(tmp_path / "ctl.sock"), str(tmp_path / "cdr.db")
        m = re.search(r"^metrics:\n  listen: 127\.0\.0\.1:(\d+)", text, re.M)
        assert m, text
        self.metrics = int(m.group(1))

    def run(self, name="tandemd"):
        """Starts tandemd; waits until it is ready and, with pstnsim, its D-channel is up."""
        self.proc = self.procs.start([binary("tandemd"), "-c", self.cfg], name=name)
        assert self.proc.wait_for("ready", 10), self.proc.output()
        if self.sim:
            assert self.proc.wait_for("D-channel up", 10), self.output() + self.sim.output()
        return self.proc

    def output(self):
        return self.proc.output()

    def stop(self):
        return self.proc.stop()

    def pstnctl(self, *args):
        """build/pstnctl on pstnsim's socket: its JSON reply."""
        r = subprocess.run([binary("pstnctl"), "-s", self.sim_sock, *args], capture_output=True,
                           timeout=10)
        out = r.stdout.decode(errors="replace")
        assert r.returncode == 0, out + r.stderr.decode(errors="replace")
        return json.loads(out.strip().splitlines()[-1])


def start(tmp_path, procs, span=None, sim=True, net=False, md5=False, media=None, trusted=(),
          trunk="sipp", inbound=None, replace=(), name="tandemd"):
    """pstnsim and tandemd on the demo config changed as the options say (see above)."""
    span = span or f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port = free_port()
    os.makedirs(tmp_path, exist_ok=True)
    cfg = gw_config(tmp_path, port, span)
    if net:
        net_side(cfg)
    if md5:
        md5_only(cfg)
    if media:
        set_media(cfg, **media)
    if trusted:
        trust(cfg, *trusted, name=trunk)
    if inbound:
        route_inbound(cfg, inbound)
    edit(cfg, *replace)
    sim_sock = str(tmp_path / "sim.sock")
    proc = None
    if sim:
        proc = procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", sim_sock,
                            "--addr", f"1={span}"], name="pstnsim")
    gw = Gateway(tmp_path, procs, cfg, port, proc, sim_sock)
    gw.run(name)
    if sim:  # connected from the start: pstnsim sends each event to the clients it has then
        gw.ctl = Ctl(sim_sock)
        procs.at_teardown(gw.ctl.close)
    return gw


# ---- user 1001 calling through the gateway -----------------------------------------------

PHONE_AUTH = ("1001", "demo1001")
PHONE_SDP = sipp.sdp(8, 0, origin="user1 53655765 2353687637", typed=True)


def phone_scenario(code, cause=None, after=None):
    """1001 calls [service]: INVITE, 407, ACK, INVITE with credentials, then the final code
    expected (with cause: its Reason's Q.850 cause) and after it `after`: by default the
    ACK and for a 200 a BYE a second later."""
    def invite(cseq, auth=None):
        return sipp.invite("1001", sdp=PHONE_SDP, cseq=cseq, host="[remote_ip]", auth=auth)
    if after is None:
        after = sipp.ack_error("1001", 2, "[remote_ip]")
        if code == 200:
            after = (sipp.ack("1001", 2, "[remote_ip]") + sipp.pause(1000) +
                     sipp.bye("1001", 3, "[remote_ip]"))
    checks = [sipp.ereg(rf"Q\.850;cause={cause}[^0-9]", "reason", "Reason:")] if cause else []
    return sipp.scenario(
        "uac with digest through the gateway",
        invite(1), sipp.recv(100, optional=True), sipp.recv(407, auth=True),
        sipp.ack_error("1001", 1, "[remote_ip]"),
        invite(2, "[authentication username=1001 password=demo1001]"),
        sipp.provisional(100, 180, 183, 180), sipp.recv(code, *checks, rrs=True), after)


def phone_call(tmp_path, gw, number, code, cause):
    """SIPp as 1001 calls number at gw: the call must end as phone_scenario() expects."""
    rc, report = sipp.run_uac(tmp_path, gw.port, phone_scenario(code, cause), number,
                              free_port(), name=f"call_{number[1:]}", auth=PHONE_AUTH)
    assert rc == 0, f"sipp exit {rc}\n{report}\n{gw.output()[-6000:]}"


def tandemctl(sock, *args, raw=False):
    """build/tandemctl (--json with raw): the CompletedProcess, text."""
    cmd = [binary("tandemctl"), "-s", sock] + (["--json"] if raw else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10)


def tandemctl_json(sock, *args):
    """build/tandemctl --json, which must succeed: its reply."""
    r = tandemctl(sock, *args, raw=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)
