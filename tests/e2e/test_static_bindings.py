"""Static bindings: devices that do not register, from the config (users[].contacts) and
from tandemctl (bind/unbind). A DID call from the PSTN reaches them like a registered
phone; a reload replaces the file's bindings and leaves REGISTER's and tandemctl's alone.

Real peers: pstnsim placing DID calls on the virtual E1, SIPp's built-in uas as the
fixed devices, SIPp registering user 1001 (tests/e2e/sipp/register_auth.xml), and the
shipped tandemctl. All on 127.0.0.1; every wait bounded.
"""
import json
import os
import signal
import subprocess
import time

from conftest import binary, free_port
from peers import gateway as gwmod
from peers import sipp

REGISTER_XML = os.path.join(os.path.dirname(__file__), "sipp", "register_auth.xml")
USER_1004 = '  - { name: "1004", password: demo1004, dids: ["+12125551004"] }\n'


def uas(procs, tmp_path, port, name, calls=1):
    """SIPp's built-in uas: answers, waits for the BYE; exit 0 once `calls` calls ended."""
    return sipp.start_uas(procs, tmp_path, port, name=name, calls=calls, timeout=60)


def tctl(gw, *args):
    """tandemctl --json: (exit status, reply or None, stderr)."""
    r = subprocess.run([binary("tandemctl"), "-s", gw.sock, "--json", *args],
                       capture_output=True, text=True, timeout=10)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


def bindings(gw):
    rc, reply, err = tctl(gw, "registrations")
    assert rc == 0, err
    return {(b["aor"], b["contact"]): b for b in reply["registrations"]}


def answered_and_cleared(ctl, gw, device, did):
    call, e = ctl.call(did)
    assert e and e["event"] == "connect", (ctl.events, gw.output()[-4000:])
    ctl.send({"cmd": "hangup", "call": call, "cause": 16})
    assert ctl.wait_event(lambda e: e.get("call") == call and e["event"] == "disconnect", 5)
    assert device.wait(10) == 0, device.report()  # it saw the BYE


def absent(ctl, gw, did):
    _, e = ctl.call(did)
    assert e and e["event"] == "disconnect" and e["cause"] == 20, (e, gw.output()[-3000:])


def register_1001(tmp_path, gw):
    sport = free_port()
    rc, report = sipp.run_uac(tmp_path, gw.port, open(REGISTER_XML).read(), "1001", sport,
                              name="register", timeout=10, auth=gwmod.PHONE_AUTH)
    assert rc == 0, (report, gw.output()[-3000:])
    return f"sip:1001@127.0.0.1:{sport}"


def test_config_and_tandemctl_bindings(tmp_path, procs, need_sipp):
    p_desk, p_lobby = free_port(), free_port()
    desk = uas(procs, tmp_path, p_desk, "desk")
    lobby = uas(procs, tmp_path, p_lobby, "lobby")
    desk_uri, lobby_uri = f"sip:1004@127.0.0.1:{p_desk}", f"sip:lobby@127.0.0.1:{p_lobby}"
    with_contact = USER_1004.replace(" }", f', contacts: ["{desk_uri}"] }}')
    time.sleep(0.3)
    gw = gwmod.start(tmp_path, procs, replace=[(USER_1004, with_contact)])
    ctl = gw.ctl
    assert "static bindings from the file: 1 set, 0 removed" in gw.output()

    b = bindings(gw)[("1004", desk_uri)]
    assert b["expires"] == "static" and b["q"] == 1 and b["via"] == "-", b
    answered_and_cleared(ctl, gw, desk, "+12125551004")  # the file's device

    # tandemctl: refusals first, then a second device for 1003
    for args, want in ((["bind", "aor=9999", f"uri={lobby_uri}"], "no such user: 9999"),
                       (["bind", "aor=1003", "uri=lobby@127.0.0.1"], "is not a sip: or sips:"),
                       (["bind", "aor=1003", "uri=tel:+12125550100"], "is not a sip: or sips:"),
                       (["bind", "aor=1003", f"uri={lobby_uri}", "q=2"], "q must be 0 to 1"),
                       (["bind", "aor=1003"], "usage: bind aor=USER uri=SIP-URI"),
                       (["unbind", "aor=1003", f"uri={lobby_uri}"], "no static binding"),
                       (["unbind", "aor=9999", f"uri={lobby_uri}"], "no such user: 9999")):
        rc, reply, err = tctl(gw, *args)
        assert rc == 1 and want in (reply or {}).get("error", ""), (args, reply, err)
    absent(ctl, gw, "+12125551003")
    rc, reply, err = tctl(gw, "bind", "aor=1003", f"uri={lobby_uri}", "q=0.5")
    assert rc == 0 and reply["contact"] == lobby_uri and reply["q"] == 0.5, (reply, err)
    b = bindings(gw)[("1003", lobby_uri)]
    assert b["expires"] == "static" and b["q"] == 0.5, b
    answered_and_cleared(ctl, gw, lobby, "+12125551003")

    # a registered phone, then a reload of a file without 1004's contact: only that goes
    phone = register_1001(tmp_path, gw)
    assert bindings(gw)[("1001", phone)]["expires"] != "static"
    gwmod.edit(gw.cfg, (with_contact, USER_1004))
    rc, reply, err = tctl(gw, "reload")
    assert rc == 0, (reply, err)
    b = bindings(gw)
    assert ("1004", desk_uri) not in b, b
    assert ("1003", lobby_uri) in b and ("1001", phone) in b, b
    assert "static bindings from the file: 0 set, 1 removed" in gw.output()
    absent(ctl, gw, "+12125551004")

    rc, reply, err = tctl(gw, "unbind", "aor=1003", f"uri={lobby_uri}")
    assert rc == 0, (reply, err)
    assert ("1003", lobby_uri) not in bindings(gw)
    absent(ctl, gw, "+12125551003")

    # SIGHUP with the contact back: the file's binding returns
    gwmod.edit(gw.cfg, (USER_1004, with_contact))
    gw.proc.p.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while gw.output().count("static bindings from the file: 1 set, 0 removed") < 2:
        assert time.monotonic() < deadline, gw.output()[-3000:]
        time.sleep(0.05)
    assert bindings(gw)[("1004", desk_uri)]["expires"] == "static"
    assert ("1001", phone) in bindings(gw)


def test_bad_contact_refuses_start_and_reload(tmp_path, procs):
    """A bad URI in contacts: tandemd --check names FILE:LINE:COL; a reload keeps the old config."""
    gw = gwmod.start(tmp_path, procs)
    text = open(gw.cfg).read()
    line = text.splitlines().index(USER_1004.rstrip("\n")) + 1
    bad = USER_1004.replace(" }", ', contacts: ["tel:+12125551004"] }')
    open(gw.cfg, "w").write(text.replace(USER_1004, bad))
    r = subprocess.run([binary("tandemd"), "-c", gw.cfg, "--check"], capture_output=True,
                       text=True, timeout=10)
    col = bad.index('"tel:') + 1
    assert r.returncode == 1 and f"{gw.cfg}:{line}:{col}: contact 'tel:+12125551004' is not" \
        in r.stderr, r.stderr
    rc, reply, err = tctl(gw, "reload")
    assert rc == 1 and f":{line}:{col}: contact" in reply["error"], (reply, err)
    assert gw.proc.alive()
