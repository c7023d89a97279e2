"""Signed SMS webhooks against Relais on SQLite, and against a bare signature-checking handler.

One command: starts both servers on loopback, drives each with the same load, and prints
acknowledged messages/s, p50/p99 latency, processed turns/s and the ratio to the bare handler.
"""

import argparse
import asyncio
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "c" * 32
PUBLIC_URL = "https://relais.example.org"
PATH = "/webhooks/twilio/sms"

BARE_HANDLER = f'''
import sys
from aiohttp import web
from twilio.request_validator import RequestValidator
validator = RequestValidator({AUTH_TOKEN!r})

async def handle(request):
    form = await request.post()
    expected = validator.compute_signature({PUBLIC_URL!r} + request.path_qs, form)
    if expected != request.headers.get("X-Twilio-Signature"):
        return web.Response(status=403)
    return web.Response(text='<?xml version="1.0" encoding="UTF-8"?><Response/>',
                        content_type="text/xml")

app = web.Application()
app.router.add_post({PATH!r}, handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
'''

FAKE_TWILIO = f'''
import itertools, sys
from aiohttp import web
ids = itertools.count()

async def create(request):
    await request.post()
    return web.json_response({{"sid": f"SM{{next(ids):032x}}", "status": "queued"}}, status=201)

app = web.Application()
app.router.add_post("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", create)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forms(count: int, participants: int) -> list[tuple[str, str]]:
    """Signed bodies: `participants` numbers each sending their share of a conversation."""
    validator = RequestValidator(AUTH_TOKEN)
    replies = ["Bonjour", "oui", "80000", "2", "1, 3", "4", "Le prix", "Trop de retards",
               "Plus de trains le soir", "oui"]
    bodies = []
    for n in range(count):
        params = {"AccountSid": ACCOUNT_SID, "MessageSid": f"SM{n:032x}",
                  "From": f"+336{10000000 + n % participants:08d}", "To": "+33937001234",
                  "Body": replies[(n // participants) % len(replies)], "NumMedia": "0"}
        bodies.append((urlencode(params), validator.compute_signature(PUBLIC_URL + PATH,
                                                                       params)))
    return bodies


async def drive(port: int, bodies: list[tuple[str, str]], concurrency: int) -> tuple[float, list]:
    """Posts every body with `concurrency` requests in flight; returns (seconds, latencies)."""
    url = f"http://127.0.0.1:{port}{PATH}"
    latencies: list[float] = []
    queue = list(reversed(bodies))
    failures = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while queue:
            body, signature = queue.pop()
            began = time.perf_counter()
            async with session.post(url, data=body, headers={
                    "X-Twilio-Signature": signature,
                    "Content-Type": "application/x-www-form-urlencoded"}) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{failures} requests were not acknowledged with 200")
    return elapsed, latencies


async def wait_ready(port: int, path: str = "/healthz", seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    if response.status in (200, 404, 405):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def processed(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM inbound_messages WHERE status != 'pending'").fetchone()[0]


def report(name: str, count: int, elapsed: float, latencies: list[float]) -> float:
    quantiles = statistics.quantiles(latencies, n=100)
    rate = count / elapsed
    print(f"{name:>14}: {rate:8,.0f} acknowledged/s   p50 {quantiles[49] * 1000:6.1f} ms   "
          f"p99 {quantiles[98] * 1000:6.1f} ms")
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--participants", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--intake", choices=["journal", "database"], default="journal",
                        help="RELAIS_INTAKE: first durable write to a local journal, or "
                             "straight to the database")
    parser.add_argument("--single-process", action="store_true",
                        help="one `relais serve` doing everything, instead of `relais serve "
                             "--web-only` plus `relais worker`")
    args = parser.parse_args()
    bodies = forms(args.messages, args.participants)
    workdir = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    database = workdir / "bench.db"
    bare_port, relais_port, twilio_port = free_port(), free_port(), free_port()
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
           "RELAIS_SECRET_KEY": "k" * 40, "RELAIS_PUBLIC_URL": PUBLIC_URL,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM": "+33937001234", "TWILIO_API_BASE_URL": f"http://127.0.0.1:{twilio_port}",
           "RELAIS_SMS_PER_SECOND": "100000", "RELAIS_SPOOL_DIR": str(workdir / "spool"),
           "RELAIS_INTAKE": args.intake}
    commands = [["-c", BARE_HANDLER, str(bare_port)], ["-c", FAKE_TWILIO, str(twilio_port)],
                ["-m", "bot", "serve", "--port", str(relais_port),
                 *([] if args.single_process else ["--web-only"])]]
    if not args.single_process:
        commands.append(["-m", "bot", "worker"])
    servers = [await asyncio.create_subprocess_exec(
        sys.executable, *command, env=env, cwd=workdir, stderr=subprocess.DEVNULL)
        for command in commands]
    try:
        await wait_ready(bare_port, PATH)
        await wait_ready(relais_port)
        layout = "one process" if args.single_process else "web process + worker process"
        print(f"{args.messages:,} signed SMS webhooks from {args.participants:,} numbers, "
              f"{args.concurrency} in flight; Relais as {layout}, intake {args.intake}\n")
        elapsed, latencies = await drive(bare_port, bodies, args.concurrency)
        bare = report("bare handler", args.messages, elapsed, latencies)
        began = time.perf_counter()
        elapsed, latencies = await drive(relais_port, bodies, args.concurrency)
        relais = report("Relais", args.messages, elapsed, latencies)
        while processed(database) < args.messages:  # noqa: ASYNC110 - another process's data
            await asyncio.sleep(0.1)
        turns = args.messages / (time.perf_counter() - began)
        print(f"{'processed':>14}: {turns:8,.0f} turns/s (from first request to last turn)")
        print(f"{'ratio':>14}: {relais / bare:8.2f} of the bare handler")
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            await server.wait()


if __name__ == "__main__":
    asyncio.run(main())
