"""What the admin view needs from the outside, given by the composition root."""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from storage.clock import utcnow
from storage.database import Database


@dataclass(frozen=True)
class InviteCard:
    """What an association hands out for one invite code."""

    telegram_link: str | None  # deep link, when a Telegram bot is configured
    sms_instruction: str | None  # "Envoyez CODE au 06 …", when a number can receive SMS
    qr_content: str | None  # what the flyer's QR code holds
    text: str  # the invitation, ready to copy into an e-mail or a message


def _random_key_tag() -> Callable[[str], str]:
    """Returns an HMAC-SHA256 under a key drawn now: failed sign-ins counted in this process
    only, when the composition root gives no key of the secret."""
    key = secrets.token_bytes(32)
    return lambda text: hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@dataclass
class AdminConfig:
    """The admin view's dependencies and settings."""

    db: Database
    production: bool = False  # Secure cookies, HSTS, no details on errors
    clock: Callable[[], datetime] = utcnow
    idle_timeout: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    # Builds the card of (association name, consultation title, code): the bot knows its
    # channels; and draws a fresh invite code.
    invite_card: Callable[[str, str, str], InviteCard] | None = None
    new_invite_code: Callable[[], str] | None = None
    # Counts the SMS segments of a text (GSM-7 or UCS-2), for feedback cost estimates.
    sms_segments: Callable[[str], int] | None = None
    # The parts a phone receives, one per SMS segment, after the SMS alphabet's replacements.
    sms_parts: Callable[[str], list[str]] | None = None
    sms_segment_price_eur: float = 0.08
    # The public address of the server, for links in messages (the follow-up page).
    public_url: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (sign-in throttling per address).
    trusted_proxies: frozenset[str] = frozenset()
    # Second factor (TOTP): "optional", or "required" for officials and admins.
    second_factor: str = "optional"
    # Encrypts and decrypts second-factor secrets at rest (keys from the secret key);
    # without them, nobody can turn the second factor on.
    seal: Callable[[str], str] | None = None
    unseal: Callable[[str], str] | None = None
    # The keyed hash under which failed sign-ins of a typed e-mail are counted (a key from
    # the secret key, so that every process counts alike and the table reveals nothing).
    sign_in_tag: Callable[[str], str] = field(default_factory=_random_key_tag)


CONFIG = web.AppKey("admin_config", AdminConfig)
