"""The Telegram adapter alone: a captured update in, a message, a reason to ignore it or a refusal
out; no database, no application."""

import asyncio
import copy
import json
from datetime import UTC, datetime

import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request

from bot.channels.base import Ignored, IncomingMessage, WebhookError
from bot.channels.telegram import Telegram
from tests.fakes import telegram_api
from tests.fakes.fixtures import telegram_update

SECRET = "s3cr3t-webhook-token_0123456789"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
# Nothing listens on port 9: an adapter that called the Bot API while reading (to download a
# photo, say) would fail the case instead of passing unnoticed.
NO_API = "http://127.0.0.1:9/bot"
GROUP = Ignored("groupe ou canal : non pris en charge")
FORGED = ("refused", 403, "jeton secret Telegram absent ou invalide")
NOT_JSON = ("refused", 415, "le corps doit être en application/json")


def received(update_id: int, chat: int, text: str, payload: dict | None = None) -> IncomingMessage:
    """What the adapter should hand over, written out in full."""
    return IncomingMessage(channel="telegram", address=str(chat), provider_id=str(update_id),
                           text=text, received_at=NOW, payload=payload or {})


def edited(name: str, change) -> dict:
    """A captured update with one change applied to a copy."""
    update = copy.deepcopy(telegram_update(name))
    change(update)
    return update


def request(body: bytes, headers: dict[str, str]):
    """A real aiohttp request carrying the body, as the server hands it to a handler."""
    loop = asyncio.get_running_loop()
    payload = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    payload.feed_data(body)
    payload.feed_eof()
    return make_mocked_request("POST", "/webhooks/telegram",
                               headers={**headers, "Content-Length": str(len(body))},
                               payload=payload)


async def read(adapter: Telegram, body: bytes, secret: str | None = SECRET,
               content_type: str = "application/json"):
    """The adapter's verdict on one request; a refusal as ("refused", status, reason)."""
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    try:
        return await adapter.read_webhook(request(body, headers))
    except WebhookError as error:
        return ("refused", error.status, error.reason)


@pytest.fixture
def adapter() -> Telegram:
    return Telegram(telegram_api.DEFAULT_TOKEN, SECRET, NO_API, clock=lambda: NOW)


# (case, the update as Telegram posts it, what the adapter makes of it)
UPDATES = [
    ("text_message", telegram_update("text_message"),
     received(734218843, 5123456789, "Bonjour")),
    ("long_text_4096", telegram_update("long_text_4096"),
     received(734218857, 5893120067, telegram_update("long_text_4096")["message"]["text"])),
    ("unknown_future_field", telegram_update("unknown_future_field"),
     received(734218858, 5123456789, "Merci !")),
    ("start_bare", telegram_update("start_bare"),
     received(734218845, 1289354471, "/start", {"start": True})),
    ("start_with_code", telegram_update("start_with_code"),
     received(734218844, 6034118275, "/start K7M2QX", {"invite": "K7M2QX"})),
    ("start with the bot's name, no code",
     edited("start_bare", lambda u: u["message"].update(text="/START@relais_hdf_bot")),
     received(734218845, 1289354471, "/START@relais_hdf_bot", {"start": True})),
    ("a button of no question (captured)", telegram_update("callback_query"),
     received(734218846, 5123456789, "2",
              {"callback_query_id": "2200983407219475113", "question": None})),
    ("a button naming its question",
     edited("callback_query", lambda u: u["callback_query"].update(data="_consentement|oui")),
     received(734218846, 5123456789, "oui",
              {"callback_query_id": "2200983407219475113", "question": "_consentement"})),
    # Media is answered with a request for text: what is read is its kind, and its caption.
    ("sticker", telegram_update("sticker"),
     received(734218848, 7260917734, "", {"media": "sticker"})),
    ("photo", telegram_update("photo"),
     received(734218849, 5893120067, "Le trottoir devant l'école, rue Jules-Barni",
              {"media": "photo"})),
    ("voice", telegram_update("voice"), received(734218850, 1047782913, "", {"media": "voice"})),
    ("document", telegram_update("document"),
     received(734218851, 1289354471, "Pour info", {"media": "document"})),
    ("location", telegram_update("location"),
     received(734218852, 7260917734, "", {"media": "location"})),
    ("contact", telegram_update("contact"),
     received(734218853, 6034118275, "", {"media": "contact"})),
    ("my_chat_member_kicked", telegram_update("my_chat_member_kicked"),
     received(734218854, 5123456789, "", {"event": "blocked"})),
    ("my_chat_member_member", telegram_update("my_chat_member_member"),
     Ignored("statut du membre : member")),
    ("edited_message", telegram_update("edited_message"),
     Ignored("message modifié : la réponse enregistrée ne change pas")),
    # Groups and channels: the sender may well be a participant (Camille, 5123456789, writes
    # in the group), what is said there is still not an answer.
    ("group_message", telegram_update("group_message"), GROUP),
    ("supergroup_message", telegram_update("supergroup_message"), GROUP),
    ("group_callback_query", telegram_update("group_callback_query"), GROUP),
    ("my_chat_member_group", telegram_update("my_chat_member_group"), GROUP),  # no one stops
    ("channel_post", telegram_update("channel_post"),
     Ignored("type de mise à jour non pris en charge")),
    ("a message with neither text nor content",
     edited("text_message", lambda u: u["message"].pop("text")),
     Ignored("message sans texte ni contenu")),
]


@pytest.mark.parametrize(("update", "expected"), [pytest.param(u, e, id=n) for n, u, e in UPDATES])
async def test_each_captured_update(adapter, update, expected):
    assert await read(adapter, json.dumps(update).encode()) == expected


# (case, secret header, content type, raw body, the refusal or what is read)
REQUESTS = [
    ("the right secret", SECRET, "application/json", None,
     received(734218843, 5123456789, "Bonjour")),
    ("no secret", None, "application/json", None, FORGED),
    ("a wrong secret", "wrong-secret-0123456789", "application/json", None, FORGED),
    ("the secret in capitals", SECRET.upper(), "application/json", None, FORGED),
    ("the secret and one character more", SECRET + "x", "application/json", None, FORGED),
    ("the start of the secret", SECRET[:14], "application/json", None, FORGED),
    ("plain text", SECRET, "text/plain", None, NOT_JSON),
    ("a form", SECRET, "application/x-www-form-urlencoded", None, NOT_JSON),
    ("forged and not JSON: the secret is checked first", None, "text/plain", "{not json",
     FORGED),
    ("not JSON", SECRET, "application/json", "{not json", ("refused", 400, "corps JSON invalide")),
    ("not UTF-8", SECRET, "application/json", b'{"update_id": 1, "x": "\xff"}',
     ("refused", 400, "corps JSON invalide")),
    ("nested too deep", SECRET, "application/json", "[" * 10000 + "]" * 10000,
     ("refused", 400, "corps JSON invalide")),
    ("a list", SECRET, "application/json", "[1, 2]",
     ("refused", 400, "update_id manquant ou invalide")),
    ("no update_id", SECRET, "application/json", '{"message": {}}',
     ("refused", 400, "update_id manquant ou invalide")),
    ("update_id as a string", SECRET, "application/json", '{"update_id": "12"}',
     ("refused", 400, "update_id manquant ou invalide")),
    ("update_id as a boolean", SECRET, "application/json", '{"update_id": true}',
     ("refused", 400, "update_id manquant ou invalide")),
    ("a message Telegram would never send", SECRET, "application/json",
     '{"update_id": 12, "message": {"text": "x"}}',
     ("refused", 400, "mise à jour Telegram illisible")),
]


@pytest.mark.parametrize(("secret", "content_type", "body", "expected"),
                         [pytest.param(s, c, b, e, id=n) for n, s, c, b, e in REQUESTS])
async def test_forged_or_malformed_requests_are_refused_with_the_reason(
        adapter, secret, content_type, body, expected):
    raw = json.dumps(telegram_update("text_message")) if body is None else body
    raw = raw.encode() if isinstance(raw, str) else raw
    assert await read(adapter, raw, secret, content_type) == expected


@pytest.mark.parametrize("given", [None, "", SECRET])
async def test_without_a_configured_secret_every_update_is_refused(given):
    adapter = Telegram(telegram_api.DEFAULT_TOKEN, None, NO_API, clock=lambda: NOW)
    body = json.dumps(telegram_update("text_message")).encode()
    assert await read(adapter, body, given) == FORGED
