"""RFC 3263 server location (gateway/sip/dns) through build/siplookup, against a
real DNS server: Debian's dnsmasq on 127.0.0.1, a free port, serving a
private zone (tandem.test) from its command line only."""
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import Proc, binary, free_port

ZONE = "tandem.test"
DNSMASQ = "/usr/sbin/dnsmasq"

RECORDS = [
    # NAPTR -> SRV -> A, listed out of order: TCP (pref 10) must come before UDP (pref 20);
    # SCTP is not ours; SIPS (order 20) comes last and is all that a sips lookup keeps.
    "--naptr-record=naptr.tandem.test,10,20,s,SIP+D2U,,_sip._udp.naptr.tandem.test",
    "--naptr-record=naptr.tandem.test,10,10,s,SIP+D2T,,_sip._tcp.naptr.tandem.test",
    "--naptr-record=naptr.tandem.test,5,10,s,SIP+D2S,,_sip._sctp.naptr.tandem.test",
    "--naptr-record=naptr.tandem.test,20,10,s,SIPS+D2T,,_sips._tcp.naptr.tandem.test",
    "--srv-host=_sip._tcp.naptr.tandem.test,tcp2.tandem.test,5072,20,0",
    "--srv-host=_sip._tcp.naptr.tandem.test,tcp1.tandem.test,5070,10,0",
    "--srv-host=_sip._udp.naptr.tandem.test,udp1.tandem.test,5080,10,0",
    "--srv-host=_sip._sctp.naptr.tandem.test,sctp.tandem.test,5090,10,0",
    "--srv-host=_sips._tcp.naptr.tandem.test,tls1.tandem.test,5091,10,0",
    "--host-record=tcp1.tandem.test,127.0.1.1",
    "--host-record=tcp2.tandem.test,127.0.1.2",
    "--host-record=udp1.tandem.test,127.0.1.3",
    "--host-record=tls1.tandem.test,127.0.1.4",
    "--host-record=sctp.tandem.test,127.0.1.5",
    # SRV only (no NAPTR): TCP and UDP offered, UDP by two equal-weight servers
    "--srv-host=_sip._tcp.srvonly.tandem.test,tcp3.tandem.test,5071,10,0",
    "--srv-host=_sip._udp.srvonly.tandem.test,udpa.tandem.test,5090,10,50",
    "--srv-host=_sip._udp.srvonly.tandem.test,udpb.tandem.test,5092,10,50",
    "--host-record=tcp3.tandem.test,127.0.2.1",
    "--host-record=udpa.tandem.test,127.0.2.2",
    "--host-record=udpb.tandem.test,127.0.2.3",
    "--host-record=srvonly.tandem.test,127.0.2.9",
    # address records only
    "--host-record=aonly.tandem.test,127.0.3.1",
    "--host-record=v6.tandem.test,::1",
    "--host-record=dual.tandem.test,127.0.4.1,::1",
]


def _wait_answering(port, proc, timeout=10.0):
    """dnsmasq answers once its log says so; poll a real query to be sure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            break
        r = subprocess.run([binary("siplookup"), "-s", f"127.0.0.1:{port}", "-T", "200",
                            "aonly.tandem.test:1"], capture_output=True, text=True, timeout=10)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail("dnsmasq did not come up:\n" + proc.output())


@pytest.fixture(scope="module")
def dns(tmp_path_factory, request):
    if not os.access(DNSMASQ, os.X_OK):
        pytest.fail(f"{DNSMASQ} missing: run packaging/deps.sh (dnsmasq-base)")
    port = free_port()
    args = [DNSMASQ, "--keep-in-foreground", f"--port={port}", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-poll",
            "--conf-file=/dev/null", "--pid-file=", f"--local=/{ZONE}/", "--log-queries",
            "--log-facility=-"]
    if os.geteuid() == 0:
        args.append("--user=root")  # no user switch: "dnsmasq"/"nobody" may not exist
    proc = Proc(args + RECORDS, str(tmp_path_factory.mktemp("dns") / "dnsmasq.log"))
    request.addfinalizer(proc.stop)
    _wait_answering(port, proc)
    proc.port = port
    return proc


def lookup(dns, *args, timeout_ms=1000):
    r = subprocess.run([binary("siplookup"), "-s", f"127.0.0.1:{dns.port}", "-T",
                        str(timeout_ms), *args], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout.splitlines(), r.stderr


def queries(dns, qtype, name):
    return len(re.findall(rf"query\[{qtype}\] {re.escape(name)} from", dns.output()))


def test_naptr_srv_a_chain(dns):
    rc, out, err = lookup(dns, "naptr.tandem.test")
    assert rc == 0, err
    assert out == [
        "TCP 127.0.1.1 5070",  # NAPTR order 10 pref 10, SRV priority 10
        "TCP 127.0.1.2 5072",  # same NAPTR, SRV priority 20
        "UDP 127.0.1.3 5080",  # NAPTR order 10 pref 20
        "TLS 127.0.1.4 5091",  # NAPTR order 20
    ]
    assert queries(dns, "SRV", "_sip._sctp.naptr.tandem.test") == 0


def test_sips_keeps_tls_only(dns):
    rc, out, err = lookup(dns, "--sips", "naptr.tandem.test")
    assert rc == 0, err
    assert out == ["TLS 127.0.1.4 5091"]
    rc, out, err = lookup(dns, "--sips", "aonly.tandem.test")
    assert rc == 0, err
    assert out == ["TLS 127.0.3.1 5061"]
    rc, out, err = lookup(dns, "--sips", "-t", "udp", "aonly.tandem.test")
    assert rc == 1 and out == [] and "EINVAL" in err


def test_srv_only(dns):
    orders = set()
    for _ in range(30):
        rc, out, err = lookup(dns, "srvonly.tandem.test")
        assert rc == 0, err
        assert out[0] == "TCP 127.0.2.1 5071"  # _sip._tcp before _sip._udp
        assert sorted(out[1:]) == ["UDP 127.0.2.2 5090", "UDP 127.0.2.3 5092"]
        orders.add(tuple(out[1:]))
        if len(orders) == 2:
            break
    # equal weights: both orders show up (p of missing one in 30 runs ~ 2e-9)
    assert len(orders) == 2
    assert "127.0.2.9" not in "".join(out)  # SRV found: the host's A is not used


def test_a_only_default_port(dns):
    rc, out, err = lookup(dns, "aonly.tandem.test")
    assert rc == 0, err
    assert out == ["UDP 127.0.3.1 5060"]
    rc, out, err = lookup(dns, "-t", "tcp", "aonly.tandem.test")
    assert rc == 0, err
    assert out == ["TCP 127.0.3.1 5060"]
    rc, out, err = lookup(dns, "-t", "tls", "aonly.tandem.test")
    assert rc == 0, err
    assert out == ["TLS 127.0.3.1 5061"]


def test_port_skips_naptr_and_srv(dns):
    naptr0 = queries(dns, "NAPTR", "srvonly.tandem.test")
    srv0 = queries(dns, "SRV", "_sip._udp.srvonly.tandem.test")
    rc, out, err = lookup(dns, "srvonly.tandem.test:5999")
    assert rc == 0, err
    assert out == ["UDP 127.0.2.9 5999"]
    assert queries(dns, "NAPTR", "srvonly.tandem.test") == naptr0
    assert queries(dns, "SRV", "_sip._udp.srvonly.tandem.test") == srv0
    rc, out, err = lookup(dns, "-t", "tcp", "naptr.tandem.test:6000")
    assert rc == 1 and out == [] and "ENOENT" in err  # no address for that name itself


def test_aaaa(dns):
    rc, out, err = lookup(dns, "v6.tandem.test")
    assert rc == 0, err
    assert out == ["UDP ::1 5060"]
    rc, out, err = lookup(dns, "dual.tandem.test:5070")
    assert rc == 0, err
    assert sorted(out) == ["UDP 127.0.4.1 5070", "UDP ::1 5070"]


def test_numeric_needs_no_dns(dns):
    before = dns.output().count("query[")
    rc, out, err = lookup(dns, "[::1]:5080")
    assert rc == 0, err
    assert out == ["UDP ::1 5080"]
    rc, out, err = lookup(dns, "--sips", "127.0.0.1")
    assert out == ["TLS 127.0.0.1 5061"]
    assert dns.output().count("query[") == before


def test_nxdomain(dns):
    rc, out, err = lookup(dns, "nothere.tandem.test")
    assert rc == 1
    assert out == []
    assert "ENOENT" in err
    assert queries(dns, "A", "nothere.tandem.test") >= 1  # every fallback was tried


def test_timeout():
    """A server that never answers: ETIMEDOUT, bounded by the configured timeout."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        t0 = time.monotonic()
        r = subprocess.run([binary("siplookup"), "-s", f"127.0.0.1:{port}", "-T", "200",
                            "naptr.tandem.test"], capture_output=True, text=True, timeout=30)
        elapsed = time.monotonic() - t0
    assert r.returncode == 1
    assert r.stdout == ""
    assert "ETIMEDOUT" in r.stderr
    assert elapsed < 5
