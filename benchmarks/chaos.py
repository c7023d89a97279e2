"""Chaos: whole conversations by SMS and Telegram while Relais's processes are killed.

One command. Fake Twilio and Telegram APIs run on loopback; a few hundred senders each go
through a whole consultation, sending their next message once Relais has answered the last
(as people do), and resending a webhook until it is acknowledged (as providers and load
balancers do). Meanwhile the web process, the worker process, or both are killed with
SIGKILL at random moments and started again. Then it prints what was acknowledged, stored,
lost, processed twice, who was left without an answer, which replies reached the provider
twice, and how long after each restart the first reply went out.

On SQLite (default) Relais runs as `make run` starts it: `relais serve`, whose worker is a
supervised child process. On PostgreSQL (`--url postgresql+asyncpg://…`, the database is
emptied) it runs 2 `relais serve --web-only` and 2 `relais worker` processes.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the project, not this folder (whose nlp.py would hide the package)

from storage.database import Database  # noqa: E402
from tests.fakes import telegram_api, twilio_api  # noqa: E402

PUBLIC_URL = "https://relais.example.org"
SMS_NUMBER = "+33937001234"
WEBHOOK_SECRET = "chaos-webhook-secret_0123456789"
SCRIPT = ["Bonjour", "oui", "80000", "2", "1 3", "4", "3",
          "Le TER est trop cher et souvent en retard le matin", "Plus de trains le soir",
          "oui"]
REPLY_WAIT_SECONDS = 60.0  # a sender waiting longer than this for an answer gives up


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """Returns the child processes of a process (Linux)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Process:
    """One Relais process the benchmark starts, kills and starts again."""

    def __init__(self, args: list[str], env: dict, cwd: Path, port: int | None = None) -> None:
        self.args, self.env, self.cwd, self.port = args, env, cwd, port
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *self.args, env=self.env, cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> None:
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.kill()
                await self.process.wait()


@dataclass
class Sender:
    """One person answering a consultation, on one channel."""

    number: int
    channel: str  # "sms" or "telegram"
    acknowledged: list[str] = field(default_factory=list)  # provider ids, in order
    gave_up: bool = False

    @property
    def address(self) -> str:
        return f"+3368{self.number:07d}" if self.channel == "sms" else str(8_000_000 + self.number)


class Chaos:
    """The fakes, the Relais processes, the senders and the killer of one run."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.twilio = twilio_api.FakeTwilioApi()
        self.telegram = telegram_api.FakeTelegramApi()
        self.webs: list[Process] = []
        self.workers: list[Process] = []
        self.restarts: list[float] = []  # monotonic times of the restarts
        self.kills: list[str] = []
        self.update_ids = iter(range(900_000_000, 2_000_000_000))
        self.validator = RequestValidator(twilio_api.AUTH_TOKEN)
        self.streaming = True

    # -- what the providers received

    def replies_to(self, sender: Sender) -> int:
        if sender.channel == "sms":
            return sum(1 for c in self.twilio.message_calls()
                       if c.status == 201 and c.params.get("To") == sender.address)
        return sum(1 for c in self.telegram.calls_to("sendMessage")
                   if c.status == 200 and str(c.params.get("chat_id")) == sender.address)

    def reply_times(self) -> list[float]:
        sms = [c.time for c in self.twilio.message_calls() if c.status == 201]
        telegram = [c.time for c in self.telegram.calls_to("sendMessage") if c.status == 200]
        return sorted(sms + telegram)

    # -- sending

    async def post(self, session: aiohttp.ClientSession, sender: Sender, text_: str,
                   step: int) -> None:
        """Posts one message until a web process acknowledges it with 200."""
        if sender.channel == "sms":
            sid = f"SM{sender.number:08d}{step:04d}{'0' * 20}"
            params = {"AccountSid": twilio_api.ACCOUNT_SID, "MessageSid": sid,
                      "From": sender.address, "To": SMS_NUMBER, "Body": text_,
                      "NumMedia": "0"}
            path = "/webhooks/twilio/sms"
            body = urlencode(params)
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": self.validator.compute_signature(
                           PUBLIC_URL + path, params)}
            provider_id = sid
        else:
            update_id = next(self.update_ids)
            user = {"id": int(sender.address), "is_bot": False, "first_name": "Chaos"}
            update = {"update_id": update_id, "message": {
                "message_id": step + 1, "from": user,
                "chat": {"id": int(sender.address), "first_name": "Chaos", "type": "private"},
                "date": int(time.time()), "text": text_}}
            path = "/webhooks/telegram"
            body = json.dumps(update)
            headers = {"Content-Type": "application/json",
                       "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            provider_id = str(update_id)
        attempt = 0
        while True:
            web = self.webs[(sender.number + attempt) % len(self.webs)]  # a balancer
            attempt += 1
            try:
                async with session.post(f"http://127.0.0.1:{web.port}{path}", data=body,
                                        headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=5)) as response:
                    await response.read()
                    if response.status == 200:
                        sender.acknowledged.append(provider_id)
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)

    async def converse(self, session: aiohttp.ClientSession, sender: Sender) -> None:
        """Goes through the consultation, each message once the last one was answered."""
        await asyncio.sleep(self.rng.uniform(0, self.options.ramp))
        for step, message in enumerate(SCRIPT):
            before = self.replies_to(sender)
            await self.post(session, sender, message, step)
            deadline = time.monotonic() + REPLY_WAIT_SECONDS
            while self.replies_to(sender) <= before:
                if time.monotonic() > deadline:
                    sender.gave_up = True
                    return
                await asyncio.sleep(0.05)
            await asyncio.sleep(self.rng.uniform(0.05, self.options.think))

    # -- killing

    async def kill_one(self, what: str) -> None:
        """Kills the web process, the worker or both with SIGKILL, then has them started."""
        self.kills.append(what)
        web = self.rng.choice(self.webs)
        if self.options.database == "sqlite":  # `relais serve` and its supervised worker
            worker_pids = children(web.process.pid)
            if what in ("worker", "both"):
                for pid in worker_pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            if what in ("web", "both"):
                web.kill()
                await web.wait()
                await web.start()  # as systemd would; the orphaned worker stops by itself
            # else: the server's supervisor starts a new worker
        else:
            if what in ("worker", "both"):
                worker = self.rng.choice(self.workers)
                worker.kill()
                await worker.wait()
                await worker.start()
            if what in ("web", "both"):
                web.kill()
                await web.wait()
                await web.start()
        self.restarts.append(time.monotonic())

    async def killer(self) -> None:
        await asyncio.sleep(self.options.warmup)
        modes = ["web", "worker", "both"]
        for n in range(self.options.kills):
            if not self.streaming:
                return
            await self.kill_one(modes[n % len(modes)])
            await asyncio.sleep(self.rng.uniform(*self.options.gap))

    # -- the run

    async def start_relais(self, workdir: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "RELAIS_DATABASE_URL": self.options.url, "RELAIS_SECRET_KEY": "k" * 40,
               "RELAIS_PUBLIC_URL": PUBLIC_URL, "RELAIS_ENV": "development",
               "TWILIO_ACCOUNT_SID": twilio_api.ACCOUNT_SID,
               "TWILIO_AUTH_TOKEN": twilio_api.AUTH_TOKEN, "TWILIO_FROM": SMS_NUMBER,
               "TWILIO_API_BASE_URL": self.twilio.base_url,
               "TELEGRAM_BOT_TOKEN": telegram_api.DEFAULT_TOKEN,
               "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "TELEGRAM_API_BASE_URL": self.telegram.base_url,
               "TELEGRAM_BOT_USERNAME": "relais_chaos_bot", "RELAIS_SMS_PER_SECOND": "1000",
               "RELAIS_SPOOL_DIR": str(workdir / "spool"), "RELAIS_MODELS_DIR":
                   str(workdir / "models")}
        if self.options.database == "sqlite":
            self.webs = [Process(["serve", "--port", str(port)], env, workdir, port)
                         for port in [free_port()]]
        else:
            subprocess_env = dict(env)
            upgrade = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "db", "upgrade", env=subprocess_env, cwd=workdir,
                stdout=asyncio.subprocess.DEVNULL)
            await upgrade.wait()
            self.webs = [Process(["serve", "--web-only", "--port", str(port)], env, workdir,
                                 port) for port in (free_port(), free_port())]
            self.workers = [Process(["worker"], env, workdir) for _ in range(2)]
        for process in self.webs + self.workers:
            await process.start()
        await self.wait_ready()

    async def wait_ready(self) -> None:
        async with aiohttp.ClientSession() as session:
            for web in self.webs:
                for _ in range(600):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"http://127.0.0.1:{web.port}/readyz") as r:
                            if r.status == 200:
                                break
                    await asyncio.sleep(0.1)
                else:
                    raise SystemExit(f"Relais did not become ready on port {web.port}")

    async def settle(self, db: Database) -> None:
        """Waits until everything stored is processed and every reply is sent (or gives up
        after a minute)."""
        for _ in range(600):
            async with db.read() as tx:
                pending = await tx.scalar(text(
                    "SELECT count(*) FROM inbound_messages WHERE status = 'pending'"))
                unsent = await tx.scalar(text(
                    "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"))
            if not pending and not unsent and not any(
                    (Path(self.workdir) / "spool").glob("*.jsonl*")):
                return
            await asyncio.sleep(0.1)

    async def run(self) -> dict:
        await self.twilio.start()
        await self.telegram.start()
        self.workdir = Path(tempfile.mkdtemp(prefix="relais-chaos-"))
        db = Database(self.options.url)
        if self.options.database == "postgresql":
            async with db.engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        senders = [Sender(n, "telegram" if n % 5 == 0 else "sms")
                   for n in range(self.options.senders)]
        try:
            await self.start_relais(self.workdir)
            began = time.monotonic()
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=200)) as session:
                killer = asyncio.create_task(self.killer())
                await asyncio.gather(*(self.converse(session, s) for s in senders))
                self.streaming = False
                await killer
            streamed = time.monotonic() - began
            await self.settle(db)
            report = await self.report(db, senders, streamed)
        finally:
            for process in self.workers + self.webs:
                await process.stop()
            await db.close()
            await self.twilio.stop()
            await self.telegram.stop()
        return report

    async def report(self, db: Database, senders: list[Sender], streamed: float) -> dict:
        acknowledged = {(s.channel, p) for s in senders for p in s.acknowledged}
        async with db.read() as tx:
            stored = {(c, p) for c, p in (await tx.execute(text(
                "SELECT channel, provider_id FROM inbound_messages"))).all()}
            # A message processed twice would move its session one turn too far.
            rows = (await tx.execute(text(
                "SELECT s.state, (SELECT count(*) FROM inbound_messages m "
                "WHERE m.participant_id = s.participant_id) "
                "FROM consultation_sessions s"))).all()
            sent = await tx.scalar(text("SELECT count(*) FROM outbox WHERE status = 'sent'"))
        twice = 0
        for state, messages in rows:
            state = json.loads(state) if isinstance(state, str) else state
            twice += max(0, state.get("turns", 0) - (messages - 1))
        received = len(self.reply_times())
        unanswered = [s for s in senders
                      if s.gave_up or self.replies_to(s) < len(s.acknowledged) + 1]
        times = self.reply_times()
        first_replies = []
        for restart in self.restarts:
            after = [t for t in times if t >= restart]
            first_replies.append(round(after[0] - restart, 2) if after else None)
        return {
            "database": self.options.database, "senders": len(senders),
            "messages_acknowledged": len(acknowledged), "stored": len(acknowledged & stored),
            "lost": len(acknowledged - stored), "processed_twice": twice,
            "senders_unanswered": len(unanswered), "replies_sent": sent,
            "replies_received_by_providers": received,
            "replies_delivered_twice": max(0, received - sent), "kills": self.kills,
            "first_reply_after_restart_s": first_replies,
            "stream_seconds": round(streamed, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a PostgreSQL database (emptied); default: a SQLite file")
    parser.add_argument("--senders", type=int, default=300)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--short", action="store_true",
                        help="the test suite's version: kills close together, quick senders")
    options = parser.parse_args()
    options.database = "postgresql" if options.url else "sqlite"
    if not options.url:
        options.url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='relais-chaos-')}/c.db"
    # Senders start over `ramp` seconds and pause up to `think` seconds between messages.
    options.ramp = min(10.0, options.senders / 30)
    options.think = 0.3 if options.short else 1.0
    options.warmup = 2.0 if options.short else 3.0
    options.gap = (1.0, 2.5) if options.short else (2.0, 5.0)
    report = asyncio.run(Chaos(options).run())
    if options.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:>32}: {value}")
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


if __name__ == "__main__":
    main()
