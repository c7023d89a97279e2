"""Killed with SIGKILL under a stream of signed SMS, Relais loses nothing it acknowledged."""

import asyncio
import os
import random
import signal
import socket
import sqlite3
import stat
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.channels.conftest import PUBLIC_URL, SMS_NUMBER, signature
from tests.fakes import twilio_api

pytestmark = pytest.mark.slow

MESSAGES = 400
KILLS = 4
ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`relais serve` as a separate process that the test can kill and start again."""

    def __init__(self, env: dict, cwd: Path, port: int) -> None:
        self.env, self.cwd, self.port = env, cwd, port
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--port", str(self.port), env=self.env,
            cwd=self.cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


def form(number: int) -> dict:
    return {"AccountSid": twilio_api.ACCOUNT_SID, "MessageSid": f"SM{number:032x}",
            "From": f"+3363998{number:04d}", "To": SMS_NUMBER, "Body": "Bonjour",
            "NumMedia": "0"}


@pytest.mark.parametrize("intake", ["database", "journal"])
async def test_nothing_acknowledged_is_lost_when_killed(fake_twilio, tmp_path, intake):
    port = free_port()
    database = tmp_path / "relais.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RELAIS_DATABASE_URL":
           f"sqlite+aiosqlite:///{database}", "RELAIS_SECRET_KEY": "k" * 40,
           "RELAIS_PUBLIC_URL": PUBLIC_URL, "TWILIO_ACCOUNT_SID": twilio_api.ACCOUNT_SID,
           "TWILIO_AUTH_TOKEN": twilio_api.AUTH_TOKEN, "TWILIO_FROM": SMS_NUMBER,
           "TWILIO_API_BASE_URL": fake_twilio.base_url, "RELAIS_SMS_PER_SECOND": "1000",
           "RELAIS_OUTBOX_LEASE_SECONDS": "3", "RELAIS_SPOOL_DIR": str(tmp_path / "spool"),
           "RELAIS_INTAKE": intake}
    server = Server(env, tmp_path, port)
    await server.start()
    acknowledged: set[str] = set()
    url = f"http://127.0.0.1:{port}/webhooks/twilio/sms"
    rng = random.Random(7)

    async def sender(numbers: list[int], session: aiohttp.ClientSession) -> None:
        for number in numbers:
            params = form(number)
            for _ in range(600):  # like a provider that retries until it gets an answer
                try:
                    async with session.post(url, data=urlencode(params), headers={
                            "Content-Type": "application/x-www-form-urlencoded",
                            "X-Twilio-Signature": signature("/webhooks/twilio/sms", params)},
                            timeout=aiohttp.ClientTimeout(total=5)) as response:
                        if response.status == 200:
                            acknowledged.add(params["MessageSid"])
                            break
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.05)

    async def killer() -> None:
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(1.0, 2.5))
            await server.kill()
            await server.start()

    async with aiohttp.ClientSession() as session:
        chunks = [list(range(n, MESSAGES, 8)) for n in range(8)]
        await asyncio.gather(killer(), *(sender(chunk, session) for chunk in chunks))
    assert len(acknowledged) == MESSAGES

    def counts() -> tuple[int, int, int]:
        with sqlite3.connect(database) as connection:
            stored = connection.execute("SELECT count(*) FROM inbound_messages").fetchone()[0]
            pending = connection.execute(
                "SELECT count(*) FROM inbound_messages WHERE status != 'processed'").fetchone()[0]
            unsent = connection.execute(
                "SELECT count(*) FROM outbox WHERE status != 'sent'").fetchone()[0]
        return stored, pending, unsent

    # Polled until everything is stored, processed and sent (leases of killed senders run
    # out after 3 s); the deadline only bounds a run that would never get there.
    async with asyncio.timeout(120):
        while True:
            stored, pending, unsent = counts()
            if stored == MESSAGES and not pending and not unsent:
                break
            await asyncio.sleep(0.1)
    await server.stop()
    with sqlite3.connect(database) as connection:
        stored = {sid for (sid,) in connection.execute(
            "SELECT provider_id FROM inbound_messages")}
        replies = connection.execute(
            "SELECT inbound_id, count(*) FROM outbox GROUP BY inbound_id").fetchall()
        unsent = connection.execute("SELECT count(*) FROM outbox WHERE status != 'sent'"
                                    ).fetchone()[0]
    assert stored == acknowledged  # every acknowledged message, once (unique constraint)
    assert len(replies) == MESSAGES and {count for _, count in replies} == {2}
    assert unsent == 0
    # Each newcomer gets the notice and the consent question; a kill between the provider's
    # answer and our mark may send one again, never more than what was in flight.
    received = [call.params["To"] for call in fake_twilio.message_calls()
                if call.status == 201]
    assert set(received) == {form(n)["From"] for n in range(MESSAGES)}
    duplicates = len(received) - 2 * MESSAGES
    assert 0 <= duplicates <= KILLS * 100, duplicates
    # The journal holds what citizens wrote: its folder and files are the owner's alone.
    spool = tmp_path / "spool"
    for path in [spool, *spool.rglob("*")] if spool.exists() else []:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name
    assert spool.exists() or intake == "database"
    print(f"\nintake {intake}: {MESSAGES} messages, {KILLS} kills: 0 lost, "
          f"{duplicates} SMS sent twice")
