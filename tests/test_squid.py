"""A real Squid (Debian's) on loopback, asking postguard's helper: clause B at the proxy.

An unauthorised department computer gets 403 and postguard's page naming the
clause for a catalogue site; an authorised one reaches a local test origin;
a site outside the catalogue passes. Names resolve to the origin through
Squid's own hosts_file, so nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from postguard.keys import init_key
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry

SQUID = shutil.which("squid") or ("/usr/sbin/squid" if Path("/usr/sbin/squid").exists() else None)
NCSA = Path("/usr/lib/squid/basic_ncsa_auth")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        SQUID is None or not NCSA.exists(),
        reason="Debian's squid is not installed ('make test' installs it)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from the local origin\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def _python_for(user: str | None) -> str:
    """An interpreter the helper's user can run, able to load this venv's packages."""
    if user is None:
        return sys.executable
    ours = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run(
            [
                "runuser",
                "-u",
                user,
                "--",
                candidate,
                "-c",
                "import sys; print(f'{sys.version_info.major}.{sys.version_info.minor}')",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == ours:
            return candidate
    pytest.skip(f"no Python {ours} that the '{user}' user can run for the helper")


@pytest.fixture
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    work = Path("/tmp") / f"postguard-squid-{uuid.uuid4().hex[:8]}"
    work.mkdir(mode=0o777)
    os.chmod(work, 0o777)
    user = "proxy" if os.geteuid() == 0 else None
    db_url = f"sqlite:///{work / 'registry.db'}"
    db = Database(db_url, create=True)
    db.upgrade()
    registry = Registry(db, origin="test")
    init_key(work / "keys", "commissioner", "squid test passphrase")
    registry.bootstrap(service_number="1001", name="Ada Admin")
    registry.add_member("1001", service_number="3003", name="Pat PIO", roles="pio")
    registry.add_member("1001", service_number="4004", name="Una Officer", roles="officer")
    registry.add_computer("1001", asset_tag="PC-LOOP", addresses=["127.0.0.1"])
    Grants(registry, work / "keys").authorise(
        "1001",
        member="3003",
        computer="PC-LOOP",
        scope="category",
        target="social-networking",
        reason="press office",
    )
    for path in work.rglob("*"):
        path.chmod(0o777 if path.is_dir() else 0o666)
    origin = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    port = _free_port()
    passwords = []
    for number, secret in (("3003", "pw3"), ("4004", "pw4")):
        hashed = subprocess.run(
            ["openssl", "passwd", "-apr1", secret], capture_output=True, text=True, check=True
        ).stdout.strip()
        passwords.append(f"{number}:{hashed}")
    (work / "passwords").write_text("\n".join(passwords) + "\n")
    (work / "hosts").write_text("127.0.0.1 facebook.com www.facebook.com origin.test\n")
    site_packages = sysconfig.get_paths()["purelib"]
    src = Path(__file__).resolve().parent.parent / "src"
    helper = work / "helper.sh"
    helper.write_text(
        "#!/bin/sh\n"
        f"export PYTHONPATH={src}:{site_packages} POSTGUARD_DATABASE_URL={db_url} "
        f"POSTGUARD_KEYS_DIR={work / 'keys'} HOME={work}\n"
        f"exec {_python_for(user)} -m postguard squid-helper --ttl 2\n"
    )
    helper.chmod(0o755)
    subprocess.run(
        [sys.executable, "-m", "postguard", "squid-errors", str(work / "errors")],
        check=True,
        capture_output=True,
    )
    for path in (work / "errors").iterdir():
        path.chmod(0o644)
    name = f"pgt{uuid.uuid4().hex[:6]}"
    conf = work / "squid.conf"
    conf.write_text(f"""
http_port 127.0.0.1:{port}
pid_filename {work}/squid.pid
cache_log {work}/cache.log
{"cache_effective_user " + user if user else ""}
cache deny all
coredump_dir {work}
hosts_file {work}/hosts
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
auth_param basic program {NCSA} {work}/passwords
acl authenticated proxy_auth REQUIRED
external_acl_type postguard ttl=1 negative_ttl=1 concurrency=100 children-max=1 children-startup=1 \\
    %LOGIN %SRC %DST {helper}
acl social_media_ok external postguard
error_directory {work}/errors
deny_info 403:ERR_POSTGUARD_DENIED social_media_ok
logformat postguard %ts.%03tu %>a %un %rm %ru %>Hs %ea
access_log stdio:{work}/access.log postguard
http_access deny !authenticated
http_access deny !social_media_ok
http_access allow all
""")
    assert SQUID is not None
    started = subprocess.run(
        [SQUID, "-n", name, "-f", str(conf)], capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    try:
        yield {"port": port, "origin": origin.server_address[1], "work": work}
    finally:
        subprocess.run(
            [SQUID, "-n", name, "-f", str(conf), "-k", "shutdown"], capture_output=True, check=False
        )
        time.sleep(1.5)
        subprocess.run(["pkill", "-f", "--", f"squid -n {name}"], check=False)
        origin.shutdown()
        origin.server_close()
        db.engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


def _get(proxy: dict[str, object], url: str, login: str | None) -> tuple[int, str]:
    handler = urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{proxy['port']}"})
    opener = urllib.request.build_opener(handler)
    request = urllib.request.Request(url)
    if login:
        import base64

        request.add_header("Proxy-Authorization", "Basic " + base64.b64encode(login.encode()).decode())
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        exc.close()
        return exc.code, body


def test_squid_enforces_clause_b(proxy: dict[str, object]) -> None:
    origin = proxy["origin"]
    status, body = _get(proxy, f"http://facebook.com:{origin}/", "4004:pw4")
    assert status == 403, body[:500]
    assert "clause B" in body and "no current authorisation covers 4004" in body
    status, body = _get(proxy, f"http://facebook.com:{origin}/", "3003:pw3")
    assert status == 200 and "local origin" in body
    status, body = _get(proxy, f"http://origin.test:{origin}/", "4004:pw4")
    assert status == 200 and "local origin" in body
    log = (Path(str(proxy["work"])) / "access.log").read_text()
    assert "postguard%20B%20deny" in log and "postguard%20B%20allow%20AU-0001" in log
