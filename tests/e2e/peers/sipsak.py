"""sipsak (Debian 0.9.8.1) registering a contact with digest authentication (MD5 only)."""
import shutil
import subprocess

SIPSAK = shutil.which("sipsak") or "/usr/bin/sipsak"


def sipsak(port, user, password, contact_port, expires, transport="udp"):
    """Registers sip:USER@127.0.0.1:contact_port at 127.0.0.1:port; the CompletedProcess."""
    args = [SIPSAK, "-U", "-i", "-C", f"sip:{user}@127.0.0.1:{contact_port}",
            "-s", f"sip:{user}@127.0.0.1", "-r", str(port), "-u", user, "-a", password,
            "-x", str(expires), "--transport", transport]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)
