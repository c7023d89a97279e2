"""A running Relais with both provider channels pointed at the fake APIs on 127.0.0.1."""

import asyncio
import json
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.app import build, create_web_app
from tests.fakes import telegram_api, twilio_api

PUBLIC_URL = "https://relais.example.org"
WEBHOOK_SECRET = "s3cr3t-webhook-token_0123456789"
SMS_NUMBER = "+33937001234"


@pytest.fixture
def provider_settings(settings, fake_telegram, fake_twilio, tmp_path):
    """Settings with Telegram and Twilio configured against the fakes."""
    return replace(
        settings, public_url=PUBLIC_URL, telegram_bot_token=telegram_api.DEFAULT_TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET, telegram_api_base_url=fake_telegram.base_url,
        telegram_bot_username="relais_hdf_bot", twilio_account_sid=twilio_api.ACCOUNT_SID,
        twilio_auth_token=twilio_api.AUTH_TOKEN, twilio_from=SMS_NUMBER,
        twilio_api_base_url=fake_twilio.base_url, spool_dir=tmp_path / "spool",
        sms_per_second=100.0)


@pytest.fixture
async def app_relais(provider_settings, db):
    """Relais built on the provider settings, flows published."""
    system = build(provider_settings)
    await system.prepare()
    yield system
    await system.stop()


@pytest.fixture
async def web(aiohttp_client, app_relais):
    """An HTTP client on the running server (processor and delivery running)."""
    return await aiohttp_client(create_web_app(app_relais))


def signature(path: str, params, token: str = twilio_api.AUTH_TOKEN,
              base: str = PUBLIC_URL) -> str:
    """Signs a form the way Twilio does, for the public URL."""
    return RequestValidator(token).compute_signature(base + path, params)


async def post_sms(web, params: dict, path: str = "/webhooks/twilio/sms", sign: bool = True,
                   headers: dict | None = None):
    """Posts a Twilio form, correctly signed unless told otherwise."""
    all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if sign:
        all_headers.setdefault("X-Twilio-Signature", signature(path, params))
    return await web.post(path, data=urlencode(params), headers=all_headers)


async def post_update(web, update: dict, secret: str | None = WEBHOOK_SECRET,
                      content_type: str = "application/json"):
    """Posts a Telegram update with the secret-token header."""
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await web.post("/webhooks/telegram", data=json.dumps(update), headers=headers)


async def rows(relais, model, *where):
    """Reads rows of a table."""
    async with relais.db.read() as tx:
        return list(await tx.scalars(select(model).where(*where)))


async def settle(relais, seconds: float = 5.0) -> None:
    """Waits until every stored message is processed and every reply is delivered or ended."""
    from storage.tables import InboundMessage, OutboxMessage

    async with asyncio.timeout(seconds):
        while True:
            busy = [True] if relais.spool.pending() else []
            busy += await rows(relais, InboundMessage, InboundMessage.status == "pending")
            busy += await rows(relais, OutboxMessage,
                               OutboxMessage.status.in_(("pending", "sending")),
                               OutboxMessage.not_before.is_(None))
            if not busy:
                return
            relais.inbox.arrived.set()
            await asyncio.sleep(0.05)
