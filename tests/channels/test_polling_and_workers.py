"""Long polling without a public address, several processors at once, and graceful shutdown."""

import asyncio
import os
import signal
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
    await asyncio.gather(*(relais.processor.run_once(batch=7)
                           for relais in (first, second) for _ in range(12)))
    while await first.processor.run_once() + await second.processor.run_once():
        pass
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


async def test_sigterm_lets_requests_in_flight_finish(fake_twilio, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/r.db",
           "RELAIS_SECRET_KEY": "k" * 40, "RELAIS_PUBLIC_URL": PUBLIC_URL,
           "TWILIO_ACCOUNT_SID": twilio_api.ACCOUNT_SID, "TWILIO_AUTH_TOKEN": twilio_api.AUTH_TOKEN,
           "TWILIO_FROM": SMS_NUMBER, "TWILIO_API_BASE_URL": fake_twilio.base_url,
           "RELAIS_SPOOL_DIR": str(tmp_path / "spool")}
    server = Server(env, tmp_path, port)
    await server.start()
    url = f"http://127.0.0.1:{port}/webhooks/twilio/sms"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)

        async def post(number: int) -> int:
            params = form(number)
            async with session.post(url, data=urlencode(params), headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature("/webhooks/twilio/sms", params)}) as resp:
                return resp.status

        requests = [asyncio.create_task(post(n)) for n in range(40)]
        await asyncio.sleep(0.02)
        server.process.send_signal(signal.SIGTERM)
        statuses = await asyncio.gather(*requests, return_exceptions=True)
        exit_code = await asyncio.wait_for(server.process.wait(), 15)
    answered = [s for s in statuses if isinstance(s, int)]
    assert answered and set(answered) == {200}  # none cut off half-way with an error
    assert exit_code == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "r.db") as connection:
        stored = connection.execute("SELECT count(*) FROM inbound_messages").fetchone()[0]
    assert stored >= len(answered)
    print(f"\nSIGTERM: {len(answered)} of 40 requests answered 200, {stored} stored, exit 0")


