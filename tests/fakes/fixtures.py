"""Pytest fixtures for the fake provider servers, plus loaders for the captured payloads.

In a conftest: ``from tests.fakes.fixtures import fake_telegram, fake_twilio``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest_asyncio

from .telegram_api import FakeTelegramApi
from .twilio_api import FakeTwilioApi

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramApi]:
    """A running :class:`FakeTelegramApi`; ``Bot(token, base_url=fake_telegram.base_url)``."""
    async with FakeTelegramApi() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilioApi]:
    """A running :class:`FakeTwilioApi` (account ``twilio_api.ACCOUNT_SID`` /
    ``twilio_api.AUTH_TOKEN``); see ``twilio_api.twilio_client_for(fake_twilio.base_url, ...)``."""
    async with FakeTwilioApi() as fake:
        yield fake


def telegram_update(name: str) -> dict[str, Any]:
    """A captured Update from ``tests/fixtures/telegram/<name>.json``, as a dict."""
    return json.loads((FIXTURES_DIR / "telegram" / f"{name}.json").read_text(encoding="utf-8"))


def twilio_form(name: str) -> bytes:
    """The raw URL-encoded webhook body from ``tests/fixtures/twilio/<name>.form``."""
    return (FIXTURES_DIR / "twilio" / f"{name}.form").read_bytes()


def twilio_params(name: str) -> dict[str, str]:
    """The same body decoded into a dict (blank values kept)."""
    return dict(parse_qsl(twilio_form(name).decode("ascii"), keep_blank_values=True))
