"""The reverse-proxy configuration of the README (docs/deploy/nginx.conf), run with nginx in
front of Relais on loopback: requests pass, X-Forwarded-For reaches Relais, slow and greedy
clients are cut off."""

import asyncio
import datetime
import os
import shutil
import signal
import socket
import ssl
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from admin.auth import client_address
from bot.app import SERVER_OPTIONS, create_web_app

CONFIG = Path(__file__).parents[2] / "docs" / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin")
HEADER_SECONDS = 2  # the test's client_header_timeout, instead of 10 s
CLIENT = "127.0.0.2"  # the test's browser: not the proxy's own address

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed here "
                                "(apt-get install nginx-light): the proxy configuration "
                                "of docs/deploy/nginx.conf cannot be run")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """Writes a certificate and key for 127.0.0.1; returns their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relais.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def templated(folder: Path, relais_port: int, http_port: int, https_port: int) -> Path:
    """Writes the README's configuration with the test's ports, files and a short header
    timeout; every change must find its line, so the test follows the file."""
    cert, key = self_signed(folder)
    text = CONFIG.read_text(encoding="utf-8")
    temporary = " ".join(f"{kind}_temp_path {folder / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    for old, new in [
        ("worker_processes auto;", "worker_processes 1;"
         + ("\nuser root;" if os.geteuid() == 0 else "")),  # to read the test's folder
        ("access_log /var/log/nginx/relais.access.log;",
         f"access_log {folder / 'access.log'}; {temporary}"),
        ("client_header_timeout 10s;", f"client_header_timeout {HEADER_SECONDS}s;"),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{relais_port};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("ssl_certificate /etc/letsencrypt/live/relais.example.org/fullchain.pem;",
         f"ssl_certificate {cert};"),
        ("ssl_certificate_key /etc/letsencrypt/live/relais.example.org/privkey.pem;",
         f"ssl_certificate_key {key};"),
    ]:
        assert text.count(old) == 1, f"{CONFIG.name} no longer has « {old} »"
        text = text.replace(old, new)
    path = folder / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings(settings):
    """Settings of this module: nginx, on 127.0.0.1, is a trusted reverse proxy."""
    return replace(settings, trusted_proxies=frozenset({"127.0.0.1"}))


@pytest.fixture
async def proxy(aiohttp_server, relais, tmp_path):
    """nginx with the README's configuration in front of Relais; yields its HTTPS port,
    its HTTP port and what Relais saw of the last request to /entetes-vues."""
    seen: dict[str, str | None] = {}
    app = create_web_app(relais, work=False)

    async def headers_seen(request: web.Request) -> web.Response:  # the test's window
        seen.update(forwarded_for=request.headers.get("X-Forwarded-For"),
                    forwarded_proto=request.headers.get("X-Forwarded-Proto"),
                    address=client_address(request, relais.settings.trusted_proxies))
        return web.Response(text="vu")

    app.router.add_get("/entetes-vues", headers_seen)
    server = await aiohttp_server(app, **SERVER_OPTIONS)
    http_port, https_port = free_port(), free_port()
    config = templated(tmp_path, server.port, http_port, https_port)
    process = await asyncio.create_subprocess_exec(
        NGINX, "-p", str(tmp_path), "-c", str(config), "-g",
        f"daemon off; pid {tmp_path / 'nginx.pid'}; error_log {tmp_path / 'error.log'};",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with asyncio.timeout(20):
            while True:
                assert process.returncode is None, (tmp_path / "error.log").read_text()
                try:
                    _reader, writer = await asyncio.open_connection("127.0.0.1", https_port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break
        yield https_port, http_port, seen
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def insecure() -> ssl.SSLContext:
    """Trusts the test's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.fixture
async def browser():
    """An HTTP client from another loopback address than the proxy's."""
    connector = aiohttp.TCPConnector(ssl=insecure(), local_addr=(CLIENT, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def test_requests_pass_with_the_clients_address(proxy, browser):
    https_port, _http_port, seen = proxy
    base = f"https://127.0.0.1:{https_port}"
    async with browser.get(f"{base}/healthz") as response:
        assert response.status == 200 and (await response.json())["status"] == "ok"
        assert response.headers["X-Content-Type-Options"] == "nosniff"  # Relais's own
        assert "nginx/" not in response.headers.get("Server", "")
    # What the client claims comes first; the address nginx saw, last, is the one counted.
    async with browser.get(f"{base}/entetes-vues",
                           headers={"X-Forwarded-For": "203.0.113.9"}) as response:
        assert response.status == 200
    assert seen == {"forwarded_for": f"203.0.113.9, {CLIENT}", "forwarded_proto": "https",
                    "address": CLIENT}


async def test_plain_http_is_sent_to_https(proxy, browser):
    _https_port, http_port, _seen = proxy
    async with browser.get(f"http://127.0.0.1:{http_port}/healthz",
                           allow_redirects=False) as response:
        assert response.status == 301
        assert response.headers["Location"].startswith("https://")


async def test_bodies_over_64_kib_are_refused_by_the_proxy(proxy, browser):
    https_port, _http_port, _seen = proxy
    async with browser.post(f"https://127.0.0.1:{https_port}/simulateur",
                            data={"text": "x" * 100_000}) as response:
        assert response.status == 413


async def test_a_client_trickling_its_headers_is_cut_off(proxy):
    https_port, _http_port, _seen = proxy
    reader, writer = await asyncio.open_connection("127.0.0.1", https_port, ssl=insecure(),
                                                   local_addr=(CLIENT, 0))
    loop = asyncio.get_running_loop()
    opened = loop.time()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: relais.example.org\r\nX-Lent: ")

    async def drip() -> None:
        while True:
            await asyncio.sleep(0.5)
            writer.write(b"a")

    dripping = asyncio.create_task(drip())
    try:
        answer = await asyncio.wait_for(reader.read(), 30)
    except (ConnectionError, ssl.SSLError):
        answer = b""  # cut off without a TLS goodbye
    finally:
        dripping.cancel()
        writer.close()
    seconds = loop.time() - opened
    assert HEADER_SECONDS - 0.5 < seconds < HEADER_SECONDS + 3, seconds
    assert b"200 OK" not in answer
