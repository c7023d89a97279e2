"""The fakes, driven by the real python-telegram-bot and twilio clients."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import os
import re
import time
from pathlib import Path

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning
from twilio.base.exceptions import TwilioRestException

from . import telegram_api as tg
from . import twilio_api as tw
from .fixtures import (
    FIXTURES_DIR,
    fake_telegram,
    fake_twilio,
    telegram_update,
    twilio_form,
    twilio_params,
)

# The fixtures are used by name below; this keeps the imports from looking unused.
__all__ = ["fake_telegram", "fake_twilio"]

CHAT = 5123456789
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Moins de 25 ans", callback_data="1")],
        [InlineKeyboardButton("25 à 64 ans", callback_data="2")],
    ]
)


def seconds(value: int | float | dtm.timedelta) -> float:
    """RetryAfter.retry_after is an int, or a timedelta with PTB_TIMEDELTA=true."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture
async def bot(fake_telegram: tg.FakeTelegramApi):
    async with telegram.Bot(tg.DEFAULT_TOKEN, base_url=fake_telegram.base_url) as bot:
        yield bot


@pytest.fixture
async def twilio_client(fake_twilio: tw.FakeTwilioApi):
    client = tw.twilio_client_for(fake_twilio.base_url, tw.ACCOUNT_SID, tw.AUTH_TOKEN, timeout=2)
    yield client
    await client.http_client.close()


# ------------------------------------------------------------------------------ Telegram


async def test_get_me_and_send_message_with_inline_keyboard(fake_telegram, bot):
    assert fake_telegram.base_url.startswith("http://127.0.0.1:")
    assert fake_telegram.base_url.endswith("/bot")
    # `async with Bot` already called getMe (Bot.initialize).
    me = await bot.get_me()
    assert me.username == "relais_hdf_bot"
    assert me.is_bot
    assert [c.method for c in fake_telegram.calls] == ["getMe", "getMe"]

    before = time.monotonic()
    first = await bot.send_message(CHAT, "Quel âge avez-vous ?", reply_markup=KEYBOARD)
    second = await bot.send_message(CHAT, "<b>Merci</b> !", parse_mode="HTML")
    assert second.message_id == first.message_id + 1
    assert first.chat.id == CHAT and first.chat.type == "private"
    assert first.from_user.id == tg.BOT_USER["id"]
    assert first.reply_markup == KEYBOARD
    assert second.reply_markup is None

    call = fake_telegram.calls_to("sendMessage")[0]
    assert call.time >= before
    assert call.token == tg.DEFAULT_TOKEN
    assert call.content_type == "application/x-www-form-urlencoded"  # what PTB 22 sends
    assert call.params == {
        "chat_id": CHAT,
        "text": "Quel âge avez-vous ?",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Moins de 25 ans", "callback_data": "1"}],
                [{"text": "25 à 64 ans", "callback_data": "2"}],
            ]
        },
    }
    assert fake_telegram.calls_to("sendMessage")[1].params["parse_mode"] == "HTML"
    assert fake_telegram.sent_texts() == ["Quel âge avez-vous ?", "<b>Merci</b> !"]
    assert fake_telegram.sent_texts(chat_id=str(CHAT)) == fake_telegram.sent_texts(CHAT)
    assert fake_telegram.sent_texts(chat_id=42) == []


async def test_answer_callback_query_and_edit_reply_markup(fake_telegram, bot):
    assert await bot.answer_callback_query("2200983407219475113", text="C'est noté")
    call = fake_telegram.calls_to("answerCallbackQuery")[0]
    assert call.params == {"callback_query_id": "2200983407219475113", "text": "C'est noté"}

    sent = await bot.send_message(CHAT, "Quel âge avez-vous ?", reply_markup=KEYBOARD)
    edited = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    assert isinstance(edited, telegram.Message)
    assert edited.reply_markup is None and edited.edit_date is not None
    # Editing again to the same (empty) keyboard is refused, as by the real API.
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    # A message the fake never sent (e.g. from a fixture) can be edited too.
    edited = await bot.edit_message_reply_markup(CHAT, 1851, reply_markup=KEYBOARD)
    assert edited.reply_markup == KEYBOARD


async def test_webhook_lifecycle_and_conflict_with_get_updates(fake_telegram, bot):
    assert await bot.set_webhook(
        "https://relais.example.org/telegram/webhook",
        secret_token="s3cr3t-Token_42",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=True,
    )
    params = fake_telegram.calls_to("setWebhook")[0].params
    assert params["secret_token"] == "s3cr3t-Token_42"
    assert params["allowed_updates"] == ["message", "callback_query"]
    assert params["drop_pending_updates"] is True

    info = await bot.get_webhook_info()
    assert info.url == "https://relais.example.org/telegram/webhook"
    assert info.allowed_updates == ("message", "callback_query")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    with pytest.raises(BadRequest, match=r"(?i)unallowed characters"):
        await bot.set_webhook("https://relais.example.org/x", secret_token="pas de blancs")

    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_webhook_delivery_to_a_loopback_receiver(fake_telegram, bot, aiohttp_server):
    received = []

    async def receive(request: aiohttp.web.Request) -> aiohttp.web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return aiohttp.web.Response()

    app = aiohttp.web.Application()
    app.router.add_post("/telegram/webhook", receive)
    server = await aiohttp_server(app, host="127.0.0.1")
    await bot.set_webhook(str(server.make_url("/telegram/webhook")), secret_token="abc_123")
    status, _ = await fake_telegram.post_to_webhook(telegram_update("text_message"))
    assert status == 200
    assert received == [("abc_123", telegram_update("text_message"))]


async def test_get_updates_offset_limit_and_allowed_updates(fake_telegram, bot):
    queued = [
        fake_telegram.push_update(telegram_update(name))
        for name in ("text_message", "callback_query", "start_with_code")
    ]
    ids = [u["update_id"] for u in queued]
    assert ids == sorted(ids) and len(set(ids)) == 3

    updates = await bot.get_updates(limit=2)
    assert [u.update_id for u in updates] == ids[:2]
    assert updates[0].message.text == "Bonjour"
    assert updates[1].callback_query.data == "2"

    # Not confirmed yet: the same updates come back.
    assert [u.update_id for u in await bot.get_updates()] == ids
    # offset confirms everything below it.
    updates = await bot.get_updates(offset=ids[1] + 1)
    assert [u.update_id for u in updates] == [ids[2]]
    assert updates[0].message.text == "/start K7M2QX"
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert fake_telegram.updates == []

    # allowed_updates filters the kinds returned.
    fake_telegram.push_update(telegram_update("callback_query"))
    last = fake_telegram.push_update(telegram_update("text_message"))
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.update_id for u in updates] == [last["update_id"]]
    call = fake_telegram.calls_to("getUpdates")[-1]
    assert call.params["allowed_updates"] == ["message"]


async def test_get_updates_long_polling(fake_telegram, bot):
    # Nothing queued: waits `timeout` seconds, then answers [].
    start = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - start >= 0.9  # it waited, then said there was nothing
    assert fake_telegram.calls_to("getUpdates")[-1].params["timeout"] == 1

    # An update pushed during the wait is returned at once.
    async def push_later() -> None:
        await asyncio.sleep(0.2)
        fake_telegram.push_update(telegram_update("text_message"))

    pusher = asyncio.create_task(push_later())
    # Answered as the update comes: well before the 30 s the poll may last.
    updates = await asyncio.wait_for(bot.get_updates(timeout=30), 20)
    await pusher
    assert [u.message.text for u in updates] == ["Bonjour"]


async def test_scripted_telegram_failures_raise_ptb_exceptions(fake_telegram, bot):
    fake_telegram.script(
        "sendMessage",
        tg.too_many_requests(retry_after=7),
        tg.forbidden(),
        tg.server_error(),
        tg.server_error(502, html=True),
        tg.bad_request("Bad Request: chat not found"),
    )
    # PTB >= 22.2 warns on every RetryAfter (even when created) unless PTB_TIMEDELTA=true,
    # in which case retry_after is a timedelta.
    timedelta_mode = os.getenv("PTB_TIMEDELTA", "").strip().lower() in {"true", "1"}

    def warns():
        return contextlib.nullcontext() if timedelta_mode else pytest.warns(PTBDeprecationWarning)

    with warns(), pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(CHAT, "un")
    with warns():
        assert seconds(excinfo.value.retry_after) == 7
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "deux")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT, "trois")
    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
        await bot.send_message(CHAT, "quatre")
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(CHAT, "cinq")
    # Script consumed: back to normal.
    await bot.send_message(CHAT, "six")
    assert [c.status for c in fake_telegram.calls_to("sendMessage")] == [
        429,
        403,
        502,
        502,
        400,
        200,
    ]
    assert fake_telegram.sent_texts() == ["six"]


async def test_raw_error_bodies_are_the_bot_api_ones(fake_telegram):
    fake_telegram.script("sendMessage", tg.too_many_requests(retry_after=3))
    async with aiohttp.ClientSession() as session:
        url = f"{fake_telegram.base_url}{tg.DEFAULT_TOKEN}/sendMessage"
        async with session.post(url, json={"chat_id": CHAT, "text": "x"}) as resp:
            assert resp.status == 429
            assert await resp.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }
        async with session.post(url, json={"chat_id": CHAT, "text": ""}) as resp:
            assert resp.status == 400
            assert (await resp.json())["description"] == "Bad Request: message text is empty"
        async with session.post(f"{fake_telegram.base_url}{tg.DEFAULT_TOKEN}/nope") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_hang_times_out_in_ptb(fake_telegram, bot):
    fake_telegram.script("sendMessage", tg.hang(3))
    with pytest.raises(TimedOut):  # the fake would have answered after 3 s: the timeout won
        await bot.send_message(CHAT, "allô ?", read_timeout=0.2)
    assert issubclass(TimedOut, NetworkError)
    # A shorter hang only delays the normal answer.
    fake_telegram.script("sendMessage", tg.hang(0.3))
    start = time.monotonic()
    await bot.send_message(CHAT, "toujours là")
    assert time.monotonic() - start >= 0.3
    assert fake_telegram.sent_texts() == ["toujours là"]


async def test_json_multipart_and_query_requests_are_parsed(fake_telegram):
    base = f"{fake_telegram.base_url}{tg.DEFAULT_TOKEN}"
    markup = {"inline_keyboard": [[{"text": "Oui", "callback_data": "oui"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/sendmessage",
            json={"chat_id": str(CHAT), "text": "json", "reply_markup": markup},
        ) as resp:
            body = await resp.json()
            assert body["ok"] and body["result"]["reply_markup"] == markup
        form = aiohttp.FormData()
        form.add_field("chat_id", str(CHAT))
        form.add_field("text", "multipart")
        form.add_field("reply_markup", json.dumps(markup))
        form.add_field("document", b"%PDF-1.4", filename="cr.pdf", content_type="application/pdf")
        async with session.post(f"{base}/sendMessage", data=form) as resp:
            assert resp.status == 200
        async with session.get(f"{base}/getUpdates", params={"offset": "-1", "limit": "5"}) as r:
            assert (await r.json()) == {"ok": True, "result": []}

    json_call, multipart_call, get_call = fake_telegram.calls
    assert json_call.method == "sendMessage"  # method names are case-insensitive
    assert json_call.content_type == "application/json"
    assert json_call.params == {"chat_id": CHAT, "text": "json", "reply_markup": markup}
    assert multipart_call.content_type == "multipart/form-data"
    assert multipart_call.params == {"chat_id": CHAT, "text": "multipart", "reply_markup": markup}
    assert multipart_call.files["document"] == {
        "filename": "cr.pdf",
        "content_type": "application/pdf",
        "data": b"%PDF-1.4",
    }
    assert get_call.http_method == "GET"
    assert get_call.params == {"offset": -1, "limit": 5}


async def test_token_check_and_wrong_token(fake_telegram):
    fake_telegram.token = tg.DEFAULT_TOKEN
    bot = telegram.Bot("1234:wrong", base_url=fake_telegram.base_url)
    with pytest.raises(telegram.error.InvalidToken):
        await bot.get_me()


async def test_wait_for_calls(fake_telegram, bot):
    async def later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(CHAT, "plus tard")

    task = asyncio.create_task(later())
    calls = await fake_telegram.wait_for_calls("sendMessage", within=2)
    await task
    assert calls[0].params["text"] == "plus tard"
    with pytest.raises(AssertionError):
        await fake_telegram.wait_for_calls("sendMessage", count=2, within=0.1)


# ------------------------------------------------------------------------------ Twilio


async def test_twilio_create_message(fake_twilio, twilio_client):
    msg = await twilio_client.messages.create_async(
        to="+33639980012",
        from_="+33937001234",
        body="Bonjour ! Répondez OUI pour participer.",
        status_callback="https://relais.example.org/sms/status",
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", msg.sid)
    assert msg.status == "queued"
    assert msg.to == "+33639980012" and msg.from_ == "+33937001234"
    assert msg.account_sid == tw.ACCOUNT_SID
    assert msg.direction == "outbound-api"
    assert msg.num_segments == "1"
    assert msg.error_code is None
    assert isinstance(msg.date_created, dtm.datetime)

    (call,) = fake_twilio.calls
    assert call.method == "messages.create"
    assert call.path == f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages.json"
    assert call.auth == (tw.ACCOUNT_SID, tw.AUTH_TOKEN)
    assert call.status == 201
    assert call.params == {
        "To": "+33639980012",
        "From": "+33937001234",
        "Body": "Bonjour ! Répondez OUI pour participer.",
        "StatusCallback": "https://relais.example.org/sms/status",
    }
    assert fake_twilio.messages[msg.sid]["body"] == call.params["Body"]
    assert fake_twilio.sent_bodies() == ["Bonjour ! Répondez OUI pour participer."]
    assert fake_twilio.sent_bodies(to="+33600000000") == []

    fetched = await twilio_client.messages(msg.sid).fetch_async()
    assert fetched.sid == msg.sid


async def test_twilio_messaging_service_and_segments(fake_twilio, twilio_client):
    body = "Voilà la question n°2 : êtes-vous d’accord ? " * 4
    msg = await twilio_client.messages.create_async(
        to="+33639980012", messaging_service_sid=tw.MESSAGING_SERVICE_SID, body=body
    )
    assert msg.status == "accepted"
    assert msg.from_ is None
    assert msg.messaging_service_sid == tw.MESSAGING_SERVICE_SID
    assert msg.num_segments == str(tw.sms_segments(body)) == "3"  # UCS-2: 180 chars / 67
    assert "From" not in fake_twilio.calls[0].params
    assert tw.sms_segments("a" * 160) == 1
    assert tw.sms_segments("é" * 161) == 2  # é is GSM-7


async def test_twilio_scripted_errors_raise_twilio_rest_exception(fake_twilio, twilio_client):
    fake_twilio.script(
        "messages",
        tw.rate_limited(),
        tw.unsubscribed(),
        tw.error(400, 21211, "Invalid 'To' Phone Number: +3363998"),
        tw.server_error(500),
        tw.server_error(503),
    )
    expected = [(429, 20429), (400, 21610), (400, 21211), (500, 20500), (503, 20503)]
    for status, code in expected:
        with pytest.raises(TwilioRestException) as excinfo:
            await twilio_client.messages.create_async(
                to="+33639980012", from_="+33937001234", body="Bonjour"
            )
        assert (excinfo.value.status, excinfo.value.code) == (status, code)
    assert "unsubscribed recipient" in fake_twilio.calls[1].response["message"]
    msg = await twilio_client.messages.create_async(
        to="+33639980012", from_="+33937001234", body="Bonjour"
    )
    assert msg.status == "queued"
    assert [c.status for c in fake_twilio.calls] == [429, 400, 400, 500, 503, 201]


async def test_twilio_validation_and_unsubscribed_numbers(fake_twilio, twilio_client):
    async def send(**kwargs) -> TwilioRestException:
        with pytest.raises(TwilioRestException) as excinfo:
            await twilio_client.messages.create_async(**kwargs)
        return excinfo.value

    exc = await send(to="06 39 98 00 12", from_="+33937001234", body="x")
    assert (exc.status, exc.code) == (400, 21211)
    assert "Invalid 'To' Phone Number" in exc.msg
    exc = await send(to="+33639980012", body="x")
    assert exc.code == 21603
    exc = await send(to="+33639980012", from_="+33937001234", body="x" * 1601)
    assert exc.code == 21617
    fake_twilio.unsubscribed.add("+33639980047")
    exc = await send(to="+33639980047", from_="+33937001234", body="x")
    assert (exc.status, exc.code) == (400, 21610)
    assert fake_twilio.sent_bodies() == []


async def test_twilio_bad_credentials(fake_twilio):
    client = tw.twilio_client_for(fake_twilio.base_url, tw.ACCOUNT_SID, "wrong-token")
    try:
        with pytest.raises(TwilioRestException) as excinfo:
            await client.messages.create_async(to="+33639980012", from_="+33937001234", body="x")
    finally:
        await client.http_client.close()
    assert (excinfo.value.status, excinfo.value.code) == (401, 20003)
    assert fake_twilio.calls[0].auth == (tw.ACCOUNT_SID, "wrong-token")


async def test_twilio_hang(fake_twilio):
    client = tw.twilio_client_for(fake_twilio.base_url, tw.ACCOUNT_SID, tw.AUTH_TOKEN, timeout=0.2)
    try:
        fake_twilio.script("messages", tw.hang(3))
        with pytest.raises(TimeoutError):  # the fake would have answered after 3 s
            await client.messages.create_async(to="+33639980012", from_="+33937001234", body="x")
        # A hang shorter than the timeout only delays the answer.
        fake_twilio.script("messages", tw.hang(0.1))
        msg = await client.messages.create_async(to="+33639980012", from_="+33937001234", body="y")
        assert msg.status == "queued"
    finally:
        await client.http_client.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # aiohttp 3.14 vs twilio auth=
async def test_plain_async_twilio_http_client_ignores_its_timeout(fake_twilio):
    """Documents a twilio 9.x pitfall that twilio_client_for works around."""
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    client = Client(tw.ACCOUNT_SID, tw.AUTH_TOKEN, http_client=AsyncTwilioHttpClient(timeout=0.1))
    client.api.base_url = fake_twilio.base_url
    try:
        fake_twilio.script("messages", tw.hang(0.5))
        start = time.monotonic()
        msg = await client.messages.create_async(to="+33639980012", from_="+33937001234", body="x")
        assert time.monotonic() - start >= 0.5  # no TimeoutError after 0.1 s
        assert msg.status == "queued"
        # The caller must bound it itself, e.g. with asyncio.timeout().
        fake_twilio.script("messages", tw.hang(3))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.messages.create_async(
                    to="+33639980012", from_="+33937001234", body="x"
                )
    finally:
        await client.http_client.close()


# ------------------------------------------------------------------------------ payload fixtures

TELEGRAM_KINDS = {
    "text_message": "message",
    "start_with_code": "message",
    "start_bare": "message",
    "callback_query": "callback_query",
    "edited_message": "edited_message",
    "sticker": "message",
    "photo": "message",
    "voice": "message",
    "document": "message",
    "location": "message",
    "contact": "message",
    "my_chat_member_kicked": "my_chat_member",
    "my_chat_member_member": "my_chat_member",
    "channel_post": "channel_post",
    "group_message": "message",
    "supergroup_message": "message",
    "group_callback_query": "callback_query",
    "my_chat_member_group": "my_chat_member",
    "long_text_4096": "message",
    "unknown_future_field": "message",
}


def test_telegram_fixture_files_are_all_listed():
    names = {p.stem for p in (FIXTURES_DIR / "telegram").glob("*.json")}
    assert names == set(TELEGRAM_KINDS)


@pytest.mark.parametrize("name", sorted(TELEGRAM_KINDS))
async def test_telegram_fixtures_parse_with_ptb(name, bot):
    data = telegram_update(name)
    update = Update.de_json(data, bot)
    assert update.update_id == data["update_id"]
    assert TELEGRAM_KINDS[name] in data
    assert getattr(update, TELEGRAM_KINDS[name]) is not None
    if name == "unknown_future_field":
        assert "guest_reaction_summary" in update.api_kwargs
        assert update.message.text == "Merci !"
    else:
        assert update.api_kwargs == {}


def test_telegram_fixture_details():
    start = Update.de_json(telegram_update("start_with_code"), None).message
    assert start.text == "/start K7M2QX"
    assert start.parse_entities(["bot_command"]) == {start.entities[0]: "/start"}
    assert start.from_user.language_code == "fr"
    cb = Update.de_json(telegram_update("callback_query"), None).callback_query
    assert cb.data == "2" and cb.message.reply_markup.inline_keyboard[1][0].callback_data == "2"
    kicked = Update.de_json(telegram_update("my_chat_member_kicked"), None).my_chat_member
    assert kicked.new_chat_member.status == "kicked"
    member = Update.de_json(telegram_update("my_chat_member_member"), None).my_chat_member
    assert member.new_chat_member.status == "member"
    photo = Update.de_json(telegram_update("photo"), None).message.photo
    assert len(photo) == 4 and photo[-1].width == 1280
    long_text = telegram_update("long_text_4096")["message"]["text"]
    assert len(long_text) == 4096
    assert "\u200d" in long_text  # emoji ZWJ sequences
    assert len(long_text.encode("utf-16-le")) // 2 > 4096
    post = Update.de_json(telegram_update("channel_post"), None).channel_post
    assert post.parse_entities(["mention"]) == {post.entities[0]: "@relais_hdf_bot"}


TWILIO_INBOUND = [
    "inbound_text",
    "inbound_keyword",
    "inbound_stop",
    "inbound_arret_accent",
    "inbound_mms",
    "inbound_empty_body",
    "inbound_1600_chars",
    "inbound_alphanumeric_from",
]
TWILIO_STATUS = [
    "status_sent",
    "status_delivered",
    "status_failed_21610",
    "status_undelivered_30003",
]
INBOUND_KEYS = {
    "ToCountry", "ToState", "SmsMessageSid", "NumMedia", "ToCity", "FromZip", "SmsSid",
    "FromState", "SmsStatus", "FromCity", "Body", "FromCountry", "To", "MessagingServiceSid",
    "ToZip", "NumSegments", "MessageSid", "AccountSid", "From", "ApiVersion",
}  # fmt: skip


def test_twilio_fixture_files_are_all_listed():
    names = {p.stem for p in (FIXTURES_DIR / "twilio").glob("*.form")}
    assert names == set(TWILIO_INBOUND + TWILIO_STATUS)


@pytest.mark.parametrize("name", TWILIO_INBOUND)
def test_twilio_inbound_fixtures(name):
    raw = twilio_form(name)
    assert not raw.endswith(b"\n")  # byte-exact webhook body
    p = twilio_params(name)
    assert set(p) >= INBOUND_KEYS
    assert p["AccountSid"] == tw.ACCOUNT_SID
    assert p["MessageSid"] == p["SmsSid"] == p["SmsMessageSid"]
    assert re.fullmatch(r"(SM|MM)[0-9a-f]{32}", p["MessageSid"])
    assert re.fullmatch(r"MG[0-9a-f]{32}", p["MessagingServiceSid"])
    assert p["To"].startswith("+339") and p["SmsStatus"] == "received"
    assert p["ApiVersion"] == "2010-04-01"
    n = int(p["NumMedia"])
    assert all(f"MediaUrl{i}" in p and f"MediaContentType{i}" in p for i in range(n))
    assert int(p["NumSegments"]) == tw.sms_segments(p["Body"])


def test_twilio_fixture_details():
    assert twilio_params("inbound_text")["Body"] == "Bonjour"
    assert twilio_params("inbound_keyword")["Body"] == "K7M2QX"
    assert twilio_params("inbound_stop")["Body"] == "STOP"
    assert twilio_params("inbound_arret_accent")["Body"] == "Arrêt"
    assert b"Body=Arr%C3%AAt&" in twilio_form("inbound_arret_accent")
    assert twilio_params("inbound_empty_body")["Body"] == ""
    assert len(twilio_params("inbound_1600_chars")["Body"]) == 1600
    assert twilio_params("inbound_alphanumeric_from")["From"] == "INFOSMS"
    mms = twilio_params("inbound_mms")
    assert mms["NumMedia"] == "2" and mms["MessageSid"].startswith("MM")
    assert mms["MediaUrl1"].startswith(
        f"https://api.twilio.com/2010-04-01/Accounts/{tw.ACCOUNT_SID}/"
    )
    assert twilio_params("status_delivered")["MessageStatus"] == "delivered"
    assert twilio_params("status_sent")["MessageStatus"] == "sent"
    failed = twilio_params("status_failed_21610")
    assert (failed["MessageStatus"], failed["ErrorCode"]) == ("failed", "21610")
    undelivered = twilio_params("status_undelivered_30003")
    assert (undelivered["MessageStatus"], undelivered["ErrorCode"]) == ("undelivered", "30003")
    for name in TWILIO_STATUS:
        p = twilio_params(name)
        assert p["MessageSid"] == p["SmsSid"] and p["SmsStatus"] == p["MessageStatus"]
        assert p["AccountSid"] == tw.ACCOUNT_SID and p["From"] == "+33937001234"


def test_fixture_dir_location():
    assert Path(__file__).resolve().parent.parent / "fixtures" == FIXTURES_DIR
