"""Signed SMS webhooks against Relais, and against a bare signature-checking handler, in one run.

One command: starts a bare aiohttp handler that only validates the Twilio signature, a minimal
fake Twilio REST API and Relais, then:

1. a burst: `--messages` signed webhooks (whole conversations from `--participants` numbers)
   as fast as `--concurrency` requests in flight allow, against the bare handler then against
   Relais: acknowledged/s, p50/p99, and their ratio;
2. paced: `--rate` webhooks a second for `--seconds`, sent while Relais still processes the
   backlog of the burst: p50/p99 acknowledgement;
3. turns/s: messages processed from the first request to the last turn.

Relais runs as `make run` starts it (`relais serve`, its worker a supervised child process,
the journal intake on SQLite) unless told otherwise: `--single-process`, or `--web N --workers
M` (N `relais serve --web-only` on N ports, which the generator balances, and M `relais
worker`). `--url postgresql+asyncpg://…` runs on PostgreSQL (the database is emptied).
"""

import argparse
import asyncio
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the project, not this folder (whose nlp.py would hide the package)

from sqlalchemy import text  # noqa: E402

from storage.database import Database  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "c" * 32
PUBLIC_URL = "https://relais.example.org"
PATH = "/webhooks/twilio/sms"
REPLIES = ["Bonjour", "oui", "80000", "2", "1, 3", "4", "Le prix", "Trop de retards",
           "Plus de trains le soir", "oui"]

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


def forms(first: int, count: int, participants: int) -> list[tuple[str, str]]:
    """Signed bodies: `participants` numbers each sending their share of a conversation."""
    validator = RequestValidator(AUTH_TOKEN)
    bodies = []
    for n in range(first, first + count):
        params = {"AccountSid": ACCOUNT_SID, "MessageSid": f"SM{n:032x}",
                  "From": f"+336{10000000 + n % participants:08d}", "To": "+33937001234",
                  "Body": REPLIES[(n // participants) % len(REPLIES)], "NumMedia": "0"}
        bodies.append((urlencode(params), validator.compute_signature(PUBLIC_URL + PATH,
                                                                       params)))
    return bodies


async def post(session: aiohttp.ClientSession, port: int, body: str, signature: str) -> float:
    """Posts one webhook; returns its latency, or raises when it is not acknowledged."""
    began = time.perf_counter()
    async with session.post(f"http://127.0.0.1:{port}{PATH}", data=body, headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"}) as response:
        await response.read()
        if response.status != 200:
            raise SystemExit(f"a webhook was answered {response.status}")
    return time.perf_counter() - began


async def burst(ports: list[int], bodies: list[tuple[str, str]],
                concurrency: int) -> tuple[float, list[float]]:
    """Posts every body with `concurrency` requests in flight, balanced over the ports."""
    latencies: list[float] = []
    queue = list(reversed(bodies))

    async def worker(session: aiohttp.ClientSession, index: int) -> None:
        while queue:
            body, signature = queue.pop()
            latencies.append(await post(session, ports[index % len(ports)], body, signature))

    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session, i) for i in range(concurrency)))
        elapsed = time.perf_counter() - began
    return elapsed, latencies


async def paced(ports: list[int], bodies: list[tuple[str, str]], rate: float) -> list[float]:
    """Posts the bodies at `rate` a second, each on time whatever the others' latency."""
    latencies: list[float] = []
    began = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def one(index: int, body: str, signature: str) -> None:
            await asyncio.sleep(max(0.0, began + index / rate - time.perf_counter()))
            latencies.append(await post(session, ports[index % len(ports)], body, signature))

        await asyncio.gather(*(one(i, b, s) for i, (b, s) in enumerate(bodies)))
    return latencies


async def wait_ready(port: int, path: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    if response.status in (200, 405):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"server on port {port} did not become ready")


async def processed(db: Database) -> int:
    async with db.read() as tx:
        return await tx.scalar(text(
            "SELECT count(*) FROM inbound_messages WHERE status != 'pending'")) or 0


def quantiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def line(name: str, count: int, elapsed: float | None, latencies: list[float]) -> float:
    p50, p99 = quantiles(latencies)
    rate = count / elapsed if elapsed else 0.0
    shown = f"{rate:8,.0f} acknowledged/s" if elapsed else f"{'':>8} {'':>14}"
    print(f"{name:>22}: {shown}   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=40_000, help="of the burst")
    parser.add_argument("--participants", type=int, default=4_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=300.0, help="paced webhooks a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="of the paced phase")
    parser.add_argument("--url", help="PostgreSQL (emptied); default: a new SQLite file")
    parser.add_argument("--intake", choices=["journal", "database"],
                        help="RELAIS_INTAKE (default: Relais's own for the database)")
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument("--single-process", action="store_true",
                        help="one `relais serve --single-process` doing everything")
    layout.add_argument("--web", type=int, help="web processes (`relais serve --web-only`)")
    parser.add_argument("--workers", type=int, default=1, help="with --web: `relais worker`s")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    url = args.url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    db = Database(url)
    if db.dialect == "postgresql":
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    bare_port, twilio_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RELAIS_DATABASE_URL": url,
           "RELAIS_SECRET_KEY": "k" * 40, "RELAIS_PUBLIC_URL": PUBLIC_URL,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM": "+33937001234", "TWILIO_API_BASE_URL": f"http://127.0.0.1:{twilio_port}",
           "RELAIS_SMS_PER_SECOND": "100000", "RELAIS_SPOOL_DIR": str(workdir / "spool")}
    if args.intake:
        env["RELAIS_INTAKE"] = args.intake
    if db.dialect == "postgresql":
        upgrade = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "db", "upgrade", env=env, cwd=workdir,
            stdout=asyncio.subprocess.DEVNULL)
        await upgrade.wait()
    commands = [["-c", BARE_HANDLER, str(bare_port)], ["-c", FAKE_TWILIO, str(twilio_port)]]
    if args.web:
        ports = [free_port() for _ in range(args.web)]
        commands += [["-m", "bot", "serve", "--web-only", "--port", str(p)] for p in ports]
        commands += [["-m", "bot", "worker"]] * args.workers
        layout = f"{args.web} web + {args.workers} worker processes"
    else:
        ports = [free_port()]
        commands.append(["-m", "bot", "serve", "--port", str(ports[0]),
                         *(["--single-process"] if args.single_process else [])])
        layout = "one process" if args.single_process else \
            "relais serve (web + supervised worker), as make run starts it"
    servers = [await asyncio.create_subprocess_exec(
        sys.executable, *command, env=env, cwd=workdir, stderr=asyncio.subprocess.DEVNULL)
        for command in commands]
    try:
        await wait_ready(bare_port, PATH)
        for port in ports:
            await wait_ready(port, "/readyz")
        paced_count = int(args.rate * args.seconds)
        print(f"Relais on {db.dialect}, {layout}, intake "
              f"{args.intake or ('journal' if db.dialect == 'sqlite' else 'database')}; "
              f"burst of {args.messages:,} signed SMS webhooks from {args.participants:,} "
              f"numbers, {args.concurrency} in flight, then {args.rate:.0f}/s for "
              f"{args.seconds:.0f} s\n")
        bodies = forms(0, args.messages, args.participants)
        elapsed, latencies = await burst([bare_port], bodies, args.concurrency)
        bare = line("bare handler, burst", args.messages, elapsed, latencies)
        began = time.perf_counter()
        elapsed, latencies = await burst(ports, bodies, args.concurrency)
        relais = line("Relais, burst", args.messages, elapsed, latencies)
        print(f"{'ratio':>22}: {relais / bare:8.2f} of the bare handler")
        backlog = args.messages - await processed(db)
        more = forms(args.messages, paced_count, args.participants)
        latencies = await paced(ports, more, args.rate)
        line(f"Relais, {args.rate:.0f}/s paced", paced_count, None, latencies)
        print(f"{'backlog when it began':>22}: {backlog:8,} messages still to process")
        total = args.messages + paced_count
        while await processed(db) < total:  # noqa: ASYNC110 - another process's data
            await asyncio.sleep(0.1)
        turns = total / (time.perf_counter() - began)
        print(f"{'processed':>22}: {turns:8,.0f} turns/s (first request to last turn)")
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            await server.wait()
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
