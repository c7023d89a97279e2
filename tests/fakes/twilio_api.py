"""A fake Twilio REST API (Programmable Messaging), for driving the real ``twilio.rest.Client``.

Usage::

    from tests.fakes import twilio_api as tw

    async with tw.FakeTwilioApi() as fake:
        client = tw.twilio_client_for(fake.base_url, tw.ACCOUNT_SID, tw.AUTH_TOKEN)
        try:
            fake.script("messages", tw.rate_limited())
            msg = await client.messages.create_async(to=..., from_=..., body=...)
        finally:
            await client.http_client.close()

Served (on 127.0.0.1, free port):

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` -- form fields ``To``, ``From`` or
  ``MessagingServiceSid``, ``Body``, ``StatusCallback``, ``MediaUrl`` (repeatable)... Checks HTTP
  basic auth (account SID + auth token) and answers 201 with a realistic Message resource.
* ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`` -- a message created earlier.

Errors use Twilio's (legacy) JSON error body ``{"code", "message", "more_info", "status"}``,
which twilio-python turns into ``twilio.base.exceptions.TwilioRestException`` with ``.status``
(HTTP status) and ``.code`` (Twilio error code); ``.msg`` is "Unable to create record: <message>".
"""

from __future__ import annotations

import asyncio
import base64
import math
import re
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web
from twilio.rest import Client

from bot.channels.twilio_sms import TimeoutTwilioHttpClient

ACCOUNT_SID = "ACf00dfeedf00dfeedf00dfeedf00dfeed"
AUTH_TOKEN = "5eb63bbbe01eeed093cb22bb8f5acdc3"
MESSAGING_SERVICE_SID = "MGc0ffeec0ffeec0ffeec0ffeec0ffee00"
API_VERSION = "2010-04-01"

_E164_RE = re.compile(r"\+[1-9]\d{6,14}")
_CHANNEL_RE = re.compile(r"(whatsapp|messenger|rcs):.+")
_MAX_BODY = 1600

# GSM 03.38 basic character set and extension table (extension chars cost 2 septets).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def sms_segments(body: str) -> int:
    """Number of SMS segments Twilio bills for ``body`` (GSM-7: 160/153, else UCS-2: 70/67)."""
    if not body:
        return 1
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in body):
        septets = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    """How the fake answers one request. Build them with the functions below."""

    status: int = 201
    body: dict[str, Any] | str | None = None
    """Full JSON body; ``None`` means "create the message normally"."""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def ok() -> Outcome:
    """Create the message (201, status "queued", or "accepted" with a Messaging Service)."""
    return Outcome()


def error(status: int, code: int, message: str) -> Outcome:
    """A Twilio REST error, e.g. ``error(400, 21610, "Attempt to send to unsubscribed
    recipient")`` -> ``TwilioRestException(status=400, code=21610)``."""
    return Outcome(
        status=status,
        body={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def rate_limited() -> Outcome:
    """HTTP 429, Twilio error 20429 "Too Many Requests"."""
    return error(429, 20429, "Too Many Requests")


def unsubscribed() -> Outcome:
    """HTTP 400, error 21610: the recipient replied STOP."""
    return error(400, 21610, "Attempt to send to unsubscribed recipient")


def invalid_to(number: str) -> Outcome:
    """HTTP 400, error 21211: the 'To' number is not a valid phone number."""
    return error(400, 21211, f"Invalid 'To' Phone Number: {number}")


def server_error(status: int = 500) -> Outcome:
    """HTTP 500 (error 20500) or 503 (error 20503)."""
    messages = {500: "Internal Server Error", 503: "Service Unavailable"}
    return error(status, 20000 + status, messages.get(status, "Internal Server Error"))


def hang(seconds: float, then: Outcome | None = None) -> Outcome:
    """Sleep ``seconds`` before answering with ``then`` (default: create normally).

    NB: ``AsyncTwilioHttpClient`` has no effective timeout by default (see
    :func:`twilio_client_for`); without one the caller waits the whole ``seconds``.
    """
    return replace(then or ok(), delay=seconds)


# --------------------------------------------------------------------------- records


@dataclass
class TwilioCall:
    """One request received by the fake."""

    method: str
    """``"messages.create"``, ``"messages.fetch"`` or ``"<HTTP method> <path>"``."""
    params: dict[str, Any]
    """Form fields (``To``, ``From``, ``Body``...); a repeated field (``MediaUrl``) is a list."""
    time: float
    """``time.monotonic()`` when the request arrived."""
    path: str = ""
    auth: tuple[str, str] | None = None
    """Decoded HTTP basic credentials, or ``None``."""
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    """HTTP status the fake answered (``None`` while still in progress)."""
    response: dict[str, Any] | None = None


# --------------------------------------------------------------------------- the fake


class FakeTwilioApi:
    """Fake Twilio REST API on 127.0.0.1. Use ``async with`` or ``start()`` / ``stop()``.

    Attributes after start:
        base_url: ``"http://127.0.0.1:PORT"`` -- assign to ``client.api.base_url``.
    """

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: list[TwilioCall] = []
        self.messages: dict[str, dict[str, Any]] = {}
        """Created Message resources by SID, in creation order."""
        self.unsubscribed: set[str] = set()
        """Numbers that replied STOP: sending to them answers 400 / 21610, as Twilio does."""
        self._scripts: dict[str, deque[Outcome]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ----------------------------------------------------------------- lifecycle

    def make_app(self) -> web.Application:
        app = web.Application()
        prefix = f"/{API_VERSION}/Accounts/{{account_sid}}"
        app.router.add_post(f"{prefix}/Messages.json", self._create_message)
        app.router.add_get(f"{prefix}/Messages/{{sid}}.json", self._fetch_message)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def start(self) -> FakeTwilioApi:
        self._runner = web.AppRunner(
            self.make_app(), handle_signals=False, shutdown_timeout=0.5, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTwilioApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- test API

    def script(self, endpoint: str, *outcomes: Outcome) -> None:
        """Queue outcomes for the next calls to ``endpoint``: ``"messages"`` (create) or
        ``"*"`` (any). Once consumed, the fake answers normally again."""
        self._scripts[endpoint].extend(outcomes)

    def message_calls(self) -> list[TwilioCall]:
        return [c for c in self.calls if c.method == "messages.create"]

    def sent_bodies(self, to: str | None = None) -> list[str]:
        """Bodies of the successfully created (201) messages, optionally to one number."""
        return [
            c.params.get("Body", "")
            for c in self.message_calls()
            if c.status == 201 and (to is None or c.params.get("To") == to)
        ]

    async def wait_for_calls(self, count: int = 1, within: float = 2.0) -> list[TwilioCall]:
        """Wait until messages.create has been answered ``count`` times, at most ``within``
        seconds (then ``AssertionError``)."""
        deadline = time.monotonic() + within
        while True:
            done = [c for c in self.message_calls() if c.status is not None]
            if len(done) >= count:
                return done
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"messages.create answered {len(done)} time(s), expected {count}"
                )
            await asyncio.sleep(0.01)

    # ----------------------------------------------------------------- HTTP

    async def _record(self, request: web.Request, method: str) -> TwilioCall:
        params: dict[str, Any] = {}
        if request.body_exists:
            form = await request.post()
            for name in form:
                values = [v for v in form.getall(name) if isinstance(v, str)]
                params[name] = values[0] if len(values) == 1 else values
        call = TwilioCall(
            method=method,
            params=params,
            time=time.monotonic(),
            path=request.path,
            auth=_basic_auth(request.headers.get("Authorization", "")),
            headers=dict(request.headers),
        )
        self.calls.append(call)
        return call

    def _check_auth(self, call: TwilioCall, account_sid: str) -> Outcome | None:
        if call.auth != (self.account_sid, self.auth_token):
            outcome = error(401, 20003, "Authenticate")
            assert isinstance(outcome.body, dict)
            outcome.body["detail"] = "Your AccountSid or AuthToken was incorrect."
            return replace(outcome, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if account_sid != self.account_sid:
            return error(404, 20404, f"The requested resource {call.path} was not found")
        return None

    def _next_outcome(self, endpoint: str) -> Outcome:
        for key in (endpoint, "*"):
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
        return ok()

    async def _create_message(self, request: web.Request) -> web.Response:
        call = await self._record(request, "messages.create")
        account_sid = request.match_info["account_sid"]
        outcome = self._check_auth(call, account_sid) or self._next_outcome("messages")
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        if outcome.body is None:
            outcome = self._validate(call.params) or self._created(call.params)
        return self._respond(call, outcome)

    async def _fetch_message(self, request: web.Request) -> web.Response:
        call = await self._record(request, "messages.fetch")
        account_sid = request.match_info["account_sid"]
        outcome = self._check_auth(call, account_sid)
        if outcome is None:
            message = self.messages.get(request.match_info["sid"])
            outcome = (
                Outcome(status=200, body=message)
                if message
                else error(404, 20404, f"The requested resource {request.path} was not found")
            )
        return self._respond(call, outcome)

    async def _not_found(self, request: web.Request) -> web.Response:
        call = await self._record(request, f"{request.method} {request.path}")
        return self._respond(
            call, error(404, 20404, f"The requested resource {request.path} was not found")
        )

    def _respond(self, call: TwilioCall, outcome: Outcome) -> web.Response:
        call.status = outcome.status
        call.response = outcome.body if isinstance(outcome.body, dict) else None
        headers = {"Twilio-Request-Id": "RQ" + secrets.token_hex(16), **outcome.headers}
        if isinstance(outcome.body, str):
            return web.Response(status=outcome.status, text=outcome.body, headers=headers)
        return web.json_response(outcome.body, status=outcome.status, headers=headers)

    def _validate(self, p: dict[str, Any]) -> Outcome | None:
        to = p.get("To")
        if not to:
            return error(400, 21604, "A 'To' phone number is required.")
        if not p.get("From") and not p.get("MessagingServiceSid"):
            return error(400, 21603, "A 'From' phone number is required.")
        if not p.get("Body") and not p.get("MediaUrl") and not p.get("ContentSid"):
            return error(400, 21602, "Message body is required.")
        if not (_E164_RE.fullmatch(to) or _CHANNEL_RE.fullmatch(to)):
            return invalid_to(to)
        if len(p.get("Body", "")) > _MAX_BODY:
            return error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in self.unsubscribed:
            return unsubscribed()
        return None

    def _created(self, p: dict[str, Any]) -> Outcome:
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC).replace(microsecond=0))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        media = p.get("MediaUrl") or []
        media = [media] if isinstance(media, str) else media
        body = p.get("Body", "")
        from_ = p.get("From")
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": p.get("MessagingServiceSid"),
            "num_media": str(len(media)),
            "num_segments": str(sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if from_ else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": p["To"],
            "uri": f"{uri}.json",
        }
        self.messages[sid] = message
        return Outcome(status=201, body=message)


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
    except ValueError:
        return None
    return user, password


# --------------------------------------------------------------------------- client


def twilio_client_for(
    base_url: str, account_sid: str, auth_token: str, *, timeout: float | None = 10.0
) -> Client:
    """A real ``twilio.rest.Client`` on aiohttp whose REST API calls go to ``base_url``.

    Call it inside a running event loop (the aiohttp session is created here) and close it
    with ``await client.http_client.close()``. What it does, for production code to copy:

    * ``AsyncTwilioHttpClient`` makes ``client.messages.create_async(...)`` usable; twilio
      9.x ignores the ``timeout`` given to its constructor (``request()`` only uses the
      per-call timeout, which the generated resources never pass, and aiohttp then gets
      ``ClientTimeout(total=None)``: no timeout at all), so the production client
      (``bot.channels.twilio_sms.TimeoutTwilioHttpClient``)
      applies it (and sends the basic-auth header itself, avoiding aiohttp 3.14's
      ``BasicAuth`` deprecation warnings).
    * ``client.api.base_url`` is the ``Domain.base_url`` of api.twilio.com (default
      ``"https://api.twilio.com"``); paths like ``/2010-04-01/Accounts/AC.../Messages.json``
      are appended to it.
    * ``edge``/``region`` are cleared: when set (also via ``TWILIO_EDGE``/``TWILIO_REGION`` in
      the environment) the client rewrites the host name, which would break a local URL.
    """
    client = Client(
        account_sid, auth_token, http_client=TimeoutTwilioHttpClient(timeout=timeout)
    )
    client.edge = None
    client.region = None
    client.api.base_url = base_url.rstrip("/")
    return client
