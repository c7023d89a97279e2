"""Long polling without a public address, several processors at once, and graceful shutdown."""

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bot.app import build
from storage.tables import Answer, InboundMessage, OutboxMessage
from tests.bot.conversation import incoming
from tests.channels.conftest import PUBLIC_URL, SMS_NUMBER, rows, settle, signature
from tests.channels.test_kill import Server, form, free_port
from tests.fakes import twilio_api
from tests.fakes.fixtures import telegram_update

ROOT = Path(__file__).parents[2]


async def test_without_public_url_telegram_is_polled_and_confirmed_once_stored(
        provider_settings, db, fake_telegram):
    settings = replace(provider_settings, public_url=None, twilio_account_sid=None)
    relais = build(settings)
    await relais.prepare()
    await relais.start()
    try:
        pushed = fake_telegram.push_update(telegram_update("text_message"))
        await fake_telegram.wait_for_calls("sendMessage", 2, within=10)
        await settle(relais)
        assert len(await rows(relais, InboundMessage)) == 1
        assert "Région Hauts-de-France" in fake_telegram.sent_texts()[0]
        assert fake_telegram.calls_to("deleteWebhook")  # getUpdates needs no webhook
        # The next poll confirms the stored update: it is never delivered twice.
        for _ in range(50):
            polls = fake_telegram.calls_to("getUpdates")
            if len(polls) >= 2:
                break
            await asyncio.sleep(0.1)
        assert polls[-1].params["offset"] == pushed["update_id"] + 1
    finally:
        await relais.stop()
    assert len(await rows(relais, InboundMessage)) == 1


async def test_two_processors_share_the_work_and_keep_each_participants_order(settings, db):
    first, second = build(settings), build(settings)
    await first.prepare()
    texts = ["Bonjour", "oui", "80000", "2", "1"]
    for text in texts:
        for person in range(20):
            await first.inbox.receive(incoming(text, address=f"person-{person}"))
    # In turns: each takes the 7 participants waiting longest that the other left.
    assert await first.processor.run_once(batch=7) == 35  # 7 people, their 5 messages each
    assert await second.processor.run_once(batch=7) == 35  # the next 7
    # Then side by side, on the last 6: a participant locked by one is skipped by the other.
    handled = await asyncio.gather(*(relais.processor.run_once(batch=7)
                                     for _ in range(12) for relais in (first, second)))
    while left := await first.processor.run_once() + await second.processor.run_once():
        handled.append(left)
    assert sum(handled) == 30  # no message handled twice
    messages = await rows(first, InboundMessage)
    assert {m.status for m in messages} == {"processed"} and len(messages) == 100
    answers = await rows(first, Answer)
    # In order, each person answered the postcode, the age band, then the ways of travel.
    assert sorted((a.question_id, str(a.value)) for a in answers) == sorted(
        [("territoire", "80"), ("age", "a30_44"), ("modes", "['train']")] * 20)
    replies = await rows(first, OutboxMessage)
    assert len({(r.inbound_id, r.position) for r in replies}) == len(replies)
    await first.stop()
    await second.stop()


def requests_taken(pid: int, port: int) -> int:
    """Counts the connections to `port` that process `pid` has accepted and read to the end."""
    sockets = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                sockets.add(target[len("socket:["):-1])
    taken = 0
    with open("/proc/net/tcp", encoding="ascii") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, state, queues, inode = fields[1], fields[3], fields[4], fields[9]
            unread = int(queues.split(":")[1], 16)
            if int(local.split(":")[1], 16) == port and state == "01" and inode in sockets \
                    and unread == 0:
                taken += 1
    return taken


async def test_sigterm_lets_requests_in_flight_finish(fake_twilio, tmp_path):
    port = free_port()
    database = tmp_path / "r.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
           "RELAIS_SECRET_KEY": "k" * 40, "RELAIS_PUBLIC_URL": PUBLIC_URL,
           "TWILIO_ACCOUNT_SID": twilio_api.ACCOUNT_SID, "TWILIO_AUTH_TOKEN": twilio_api.AUTH_TOKEN,
           "TWILIO_FROM": SMS_NUMBER, "TWILIO_API_BASE_URL": fake_twilio.base_url,
           "RELAIS_SPOOL_DIR": str(tmp_path / "spool"),
           # The database intake, whose webhooks wait for the database: the lock below keeps
           # them in flight (the journal intake would acknowledge them at once).
           "RELAIS_INTAKE": "database"}
    server = Server(env, ROOT, port)
    await server.start()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        async with asyncio.timeout(60):
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.1)

        async def post(number: int) -> int:
            # The whole request in one write, so that once the server has read its socket
            # to the end it holds the request, not half of it.
            params = form(number)
            body = urlencode(params).encode()
            head = (f"POST /webhooks/twilio/sms HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"X-Twilio-Signature: {signature('/webhooks/twilio/sms', params)}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(head.encode() + body)
                await writer.drain()
                status_line = await reader.readline()
                return int(status_line.split()[1])
            finally:
                writer.close()

        # The database stuck behind another connection's lock keeps every request in flight
        # (for the 3 s a webhook waits for it) until SIGTERM has arrived.
        lock = sqlite3.connect(database, isolation_level=None, timeout=30)
        lock.execute("BEGIN EXCLUSIVE")
        # And one client that never sends the end of its body: a request that would hold
        # the shutdown forever, were it not cut off after 10 s.
        _, never_ending = await asyncio.open_connection("127.0.0.1", port)
        never_ending.write(b"POST /webhooks/twilio/sms HTTP/1.1\r\nHost: relais\r\n"
                           b"Content-Type: application/x-www-form-urlencoded\r\n"
                           b"Content-Length: 1000\r\n\r\nAccountSid=")
        await never_ending.drain()
        try:
            requests = [asyncio.create_task(post(n)) for n in range(40)]
            async with asyncio.timeout(30):
                while True:
                    if requests_taken(server.process.pid, port) == 41:
                        break
                    await asyncio.sleep(0.02)
            assert not any(request.done() for request in requests)
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            statuses = await asyncio.gather(*requests, return_exceptions=True)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        try:
            exit_code = await asyncio.wait_for(server.process.wait(), 40)
        finally:
            if server.process.returncode is None:  # still up: leave nothing behind
                await server.kill()
        stopped_after = time.monotonic() - signalled
        never_ending.close()
    assert statuses == [200] * 40  # every request in flight was answered, none cut off
    assert exit_code == 0
    # The README's 10 s: not less (the never-ending request had them), and not forever.
    assert stopped_after >= 9.5, stopped_after
    with sqlite3.connect(database) as connection:
        stored = {sid for (sid,) in connection.execute(
            "SELECT provider_id FROM inbound_messages")}
    spool = tmp_path / "spool"
    spooled = {json.loads(line)["provider_id"] for path in spool.glob("*")
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert stored | spooled == {form(n)["MessageSid"] for n in range(40)}


async def test_stop_waits_for_the_shared_writes_a_cancelled_caller_left_in_flight(settings, db):
    # One commit serves many webhooks, so it is not cancelled with the webhook that started
    # it; stop must still wait for it, or it would write after the database is closed.
    relais = build(settings)
    await relais.prepare()
    caller = asyncio.create_task(relais.inbox.receive(incoming("Bonjour", address="gone")))
    await asyncio.sleep(0)  # the message is submitted, its commit not yet done
    caller.cancel()
    await relais.stop()
    assert relais.db.engine.pool.checkedout() == 0
    assert [m.text for m in await rows(relais, InboundMessage)] == ["Bonjour"]
