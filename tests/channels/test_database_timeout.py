"""A database that stops answering: after 3 s an SMS is spooled and answered 200, a Telegram
update gets 503. The database really is stuck: another connection holds its write lock."""

import asyncio
import contextlib
import sqlite3
import time

import pytest
from sqlalchemy import make_url, text

from storage.database import Database
from storage.tables import InboundMessage
from tests.channels.conftest import post_sms, post_update, rows
from tests.channels.test_sms import is_empty_twiml, sms, spooled
from tests.fakes.fixtures import telegram_update

WAIT = 3.0  # the README: "If the database does not answer within 3 s"
# Far below what a stuck database costs without the 3 s rule (SQLite's 10 s busy timeout, or
# forever on PostgreSQL), far above 3 s on a loaded machine.
SLOWEST_ANSWER = 9.0


@contextlib.asynccontextmanager
async def stuck(database_url: str):
    """Holds the write lock of the test database from another connection until exit."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None, timeout=30,
                                     check_same_thread=False)
        try:
            # In a thread: waiting for the lock must not stop the event loop, or a write
            # the application has begun could never reach its COMMIT (a deadlock of 30 s).
            await asyncio.to_thread(connection.execute, "BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text(
                "LOCK TABLE participants, identities, inbound_messages IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await connection.rollback()
    finally:
        await database.close()


async def timed(request) -> tuple[object, float]:
    """Awaits a request; returns its response and how long it took."""
    started = time.monotonic()
    async with asyncio.timeout(SLOWEST_ANSWER):
        response = await request
    return response, time.monotonic() - started


async def eventually(check, seconds: float = 20.0):
    """Polls an async check until it returns something true, or fails after `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            if found := await check():
                return found
            await asyncio.sleep(0.05)


async def test_an_sms_waits_3_s_for_a_stuck_database_then_is_spooled_and_answered_200(
        web, app_relais, provider_settings, database_url):
    params = sms("Bonjour, la base ne répond plus ?")
    async with stuck(database_url):
        response, took = await timed(post_sms(web, params))
        assert response.status == 200 and is_empty_twiml(await response.text())
        assert WAIT - 0.1 <= took < SLOWEST_ANSWER, took
        (waiting,) = spooled(provider_settings.spool_dir)
        assert (waiting["provider_id"], waiting["text"]) == (params["MessageSid"],
                                                             params["Body"])

    async def stored_once_and_spool_drained():
        found = await rows(app_relais, InboundMessage,
                           InboundMessage.provider_id == params["MessageSid"])
        return len(found) == 1 and not app_relais.spool.pending()

    # The database is back: the SMS is stored once (the spool's copy is a redelivery).
    await eventually(stored_once_and_spool_drained)
    assert len(await rows(app_relais, InboundMessage)) == 1


async def test_a_telegram_update_waits_3_s_for_a_stuck_database_then_gets_503(
        web, app_relais, provider_settings, database_url):
    async with stuck(database_url):
        response, took = await timed(post_update(web, telegram_update("text_message")))
        assert response.status == 503
        assert WAIT - 0.1 <= took < SLOWEST_ANSWER, took
    # Telegram sends it again: nothing went to the SMS spool.
    assert spooled(provider_settings.spool_dir) == []
    response = await post_update(web, telegram_update("text_message"))
    assert response.status == 200
    assert len(await rows(app_relais, InboundMessage)) == 1


@pytest.mark.parametrize("channel", ["sms", "telegram"])
async def test_a_database_that_answers_in_time_is_waited_for(web, app_relais, database_url,
                                                             provider_settings, channel):
    # Stuck for 1 s, well within the 3 s: the message is stored, nothing is spooled.
    async def release_later(held: asyncio.Event):
        async with stuck(database_url):
            held.set()
            await asyncio.sleep(1.0)

    held = asyncio.Event()
    holder = asyncio.create_task(release_later(held))
    await held.wait()
    if channel == "sms":
        response = await post_sms(web, sms("Bonjour"))
        assert response.status == 200
    else:
        response = await post_update(web, telegram_update("text_message"))
        assert response.status == 200
    await holder
    assert len(await rows(app_relais, InboundMessage)) == 1
    assert spooled(provider_settings.spool_dir) == []
