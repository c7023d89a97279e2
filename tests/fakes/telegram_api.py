"""A fake Telegram Bot API server, for driving the real ``telegram.Bot`` offline.

Usage::

    from tests.fakes import telegram_api as tg

    async with tg.FakeTelegramApi() as fake:
        async with telegram.Bot(tg.DEFAULT_TOKEN, base_url=fake.base_url) as bot:
            fake.script("sendMessage", tg.too_many_requests(3), tg.ok())
            ...

The server listens on 127.0.0.1 on a free port and serves ``/bot<token>/<method>`` the way
api.telegram.org does: GET or POST, with parameters in the query string, a JSON body, an
``application/x-www-form-urlencoded`` body (what PTB 22 sends, every value a string and
objects such as ``reply_markup`` JSON-encoded) or a ``multipart/form-data`` body (what PTB
sends when a file is uploaded). Method names are case-insensitive, as in the real API.

Every request is recorded in :attr:`FakeTelegramApi.calls` as a :class:`TelegramCall`
(canonical method name, decoded params, ``time.monotonic()`` of arrival, HTTP status answered).
Each method has a queue of scripted :class:`Outcome` (see :meth:`FakeTelegramApi.script`);
when the queue is empty the method answers like the real API would.

Error bodies are the real ones: ``{"ok": false, "error_code": ..., "description": ...}``.
PTB maps them by HTTP status (see ``telegram/request/_baserequest.py``): a ``parameters``
object with ``retry_after`` -> ``RetryAfter`` (any status), 403 -> ``Forbidden``,
400 -> ``BadRequest``, 401/404 -> ``InvalidToken``, 409 -> ``Conflict``, anything else
(502, ...) -> ``NetworkError``; a client-side timeout -> ``TimedOut`` (a ``NetworkError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web

DEFAULT_TOKEN = "7412345678:AAHfDx9kR2uVq3LmN8pZt0YcW5sJb6EoG4a"
"""A token of the real shape (``<bot id>:<35 chars>``); the fake accepts any token by default."""

BOT_USER: dict[str, Any] = {
    "id": 7412345678,
    "is_bot": True,
    "first_name": "Relais",
    "username": "relais_hdf_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
"""What ``getMe`` returns (a ``User`` with the bot-only capability fields)."""

MAX_TEXT_LENGTH = 4096

# Parameter types, used to decode form values (which PTB sends as strings, JSON for objects).
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "user_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "cache_time",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "drop_pending_updates",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
_INT_RE = re.compile(r"-?\d+")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

_NGINX_HTML = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)

_UNSET: Any = object()


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    """How the fake answers one request. Build them with the functions below."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    """Full response body; ``None`` means "let the method handler answer"."""
    result: Any = _UNSET
    """For ``ok(result=...)``: answer ``{"ok": true, "result": result}`` instead."""
    delay: float = 0.0
    """Seconds to sleep before answering (``hang``)."""
    content_type: str = "application/json"


def ok(result: Any = _UNSET) -> Outcome:
    """Answer normally (a realistic result), or with exactly ``result`` if given."""
    return Outcome(result=result)


def error(status: int, description: str, parameters: dict[str, Any] | None = None) -> Outcome:
    """A Bot API error, e.g. ``error(400, "Bad Request: chat not found")``."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Outcome(status=status, body=body)


def too_many_requests(retry_after: int = 5) -> Outcome:
    """HTTP 429 flood control -> ``telegram.error.RetryAfter`` (``retry_after`` seconds)."""
    return error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def forbidden(description: str = "Forbidden: bot was blocked by the user") -> Outcome:
    """HTTP 403 -> ``telegram.error.Forbidden``. Other real descriptions:
    "Forbidden: user is deactivated", "Forbidden: bot was kicked from the group chat",
    "Forbidden: bot can't initiate conversation with a user"."""
    return error(403, description)


def bad_request(description: str = "Bad Request: chat not found") -> Outcome:
    """HTTP 400 -> ``telegram.error.BadRequest``."""
    return error(400, description)


def server_error(status: int = 502, *, html: bool = False) -> Outcome:
    """A 5xx -> ``telegram.error.NetworkError``.

    ``html=True`` answers the nginx HTML page Telegram's front end sometimes returns instead of
    JSON (PTB then raises ``NetworkError("Bad Gateway (502). Parsing the server response ...")``).
    """
    phrase = HTTPStatus(status).phrase
    if html:
        return Outcome(
            status=status,
            body=_NGINX_HTML.format(status=status, phrase=phrase),
            content_type="text/html",
        )
    return error(status, phrase)


def hang(seconds: float, then: Outcome | None = None) -> Outcome:
    """Sleep ``seconds`` before answering with ``then`` (default: a normal answer).

    With a client read timeout shorter than ``seconds``, PTB raises ``telegram.error.TimedOut``.
    """
    return replace(then or ok(), delay=seconds)


# --------------------------------------------------------------------------- records


@dataclass
class TelegramCall:
    """One request received by the fake."""

    method: str
    """Canonical Bot API method name, e.g. ``"sendMessage"`` (whatever case was used)."""
    params: dict[str, Any]
    """Decoded parameters: ints, bools and JSON objects (``reply_markup``...) decoded."""
    time: float
    """``time.monotonic()`` when the request arrived."""
    token: str = ""
    http_method: str = "POST"
    content_type: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Multipart file parts: ``{name: {"filename", "content_type", "data"}}``."""
    status: int | None = None
    """HTTP status the fake answered (``None`` while still in progress)."""


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.outcome = error(status, description)


# --------------------------------------------------------------------------- the fake


class FakeTelegramApi:
    """Fake Bot API on 127.0.0.1. Use ``async with`` or ``await start()`` / ``await stop()``.

    Attributes after start:
        base_url: what to pass to ``telegram.Bot(token, base_url=...)``:
            ``"http://127.0.0.1:PORT/bot"`` (PTB appends the token).
        url: ``"http://127.0.0.1:PORT"``.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_user: dict[str, Any] | None = None,
        max_poll_wait: float | None = None,
        max_text_length: int = MAX_TEXT_LENGTH,
    ) -> None:
        """
        Args:
            token: if given, any other token gets 401 ``Unauthorized`` (-> ``InvalidToken``).
            bot_user: overrides :data:`BOT_USER`.
            max_poll_wait: caps the ``getUpdates`` long-poll wait (``None``: honour ``timeout``).
            max_text_length: ``sendMessage`` texts longer than this (in code points) get
                400 "Bad Request: message is too long".
        """
        self.token = token
        self.bot_user = dict(bot_user or BOT_USER)
        self.max_poll_wait = max_poll_wait
        self.max_text_length = max_text_length

        self.calls: list[TelegramCall] = []
        self.chats: dict[int | str, dict[str, Any]] = {}
        """Optional ``Chat`` objects by chat_id, used in returned messages."""
        self.messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        """Messages the fake "sent", by (chat_id, message_id) (editMessageReplyMarkup uses it)."""
        self.updates: list[dict[str, Any]] = []
        """Queued, not yet confirmed updates (getUpdates confirms them via ``offset``)."""
        self.webhook: dict[str, Any] | None = None
        """Last setWebhook params (``url``, ``secret_token``, ...) or ``None``."""
        self.allowed_updates: list[str] = []

        self._scripts: dict[str, deque[Outcome]] = defaultdict(deque)
        self._next_message_id = 1
        self._next_update_id = 734_219_001
        self._poll_generation = 0
        self._wakeup = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.base_url = ""

        self._handlers = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
        }
        self._canonical = {name.lower(): name for name in self._handlers}

    # ----------------------------------------------------------------- lifecycle

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def start(self) -> FakeTelegramApi:
        self._runner = web.AppRunner(
            self.make_app(), handle_signals=False, shutdown_timeout=0.5, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.url}/bot"
        return self

    async def stop(self) -> None:
        self._poll_generation += 1
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- test API

    def script(self, method: str, *outcomes: Outcome) -> None:
        """Queue outcomes for the next calls of ``method`` (``"*"``: any method without its
        own queued outcome). Once consumed, the method answers normally again."""
        key = "*" if method == "*" else self._canonical.get(method.lower(), method)
        self._scripts[key].extend(outcomes)

    def push_update(self, update: dict[str, Any], *, keep_update_id: bool = False) -> dict:
        """Queue an Update (e.g. a fixture from tests/fixtures/telegram) for getUpdates.

        A fresh increasing ``update_id`` is assigned unless ``keep_update_id``. Returns the
        queued dict. Wakes any pending long poll.
        """
        queued = dict(update)
        if keep_update_id and "update_id" in queued:
            self._next_update_id = max(self._next_update_id, queued["update_id"] + 1)
        else:
            queued["update_id"] = self._next_update_id
            self._next_update_id += 1
        self.updates.append(queued)
        self._wake()
        return queued

    def calls_to(self, method: str) -> list[TelegramCall]:
        name = self._canonical.get(method.lower(), method)
        return [c for c in self.calls if c.method == name]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of the successful (HTTP 200) sendMessage calls, optionally for one chat."""
        wanted = None if chat_id is None else _norm_chat_id(chat_id)
        return [
            c.params.get("text", "")
            for c in self.calls_to("sendMessage")
            if c.status == 200 and (wanted is None or c.params.get("chat_id") == wanted)
        ]

    async def wait_for_calls(
        self, method: str, count: int = 1, within: float = 2.0
    ) -> list[TelegramCall]:
        """Wait until ``method`` has been called (and answered) ``count`` times, at most
        ``within`` seconds (then ``AssertionError``)."""
        deadline = time.monotonic() + within
        while True:
            done = [c for c in self.calls_to(method) if c.status is not None]
            if len(done) >= count:
                return done
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{method} answered {len(done)} time(s), expected {count} within {within}s"
                )
            await asyncio.sleep(0.01)

    async def post_to_webhook(self, update: dict[str, Any]) -> tuple[int, str]:
        """POST ``update`` to the URL given to setWebhook, as Telegram does (JSON body,
        ``X-Telegram-Bot-Api-Secret-Token`` header if a secret was set). Loopback URLs only."""
        if not self.webhook:
            raise RuntimeError("no webhook set")
        url = self.webhook["url"]
        if urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise RuntimeError(f"refusing to POST outside the loopback: {url}")
        headers = {"Content-Type": "application/json"}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with (
            ClientSession(timeout=ClientTimeout(total=10)) as session,
            session.post(url, data=json.dumps(update, ensure_ascii=False), headers=headers) as r,
        ):
            return r.status, await r.text()

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        method = self._canonical.get(raw_method.lower(), raw_method)
        params, files = await _read_params(request)
        call = TelegramCall(
            method=method,
            params=params,
            time=time.monotonic(),
            token=token,
            http_method=request.method,
            content_type=request.content_type if request.body_exists else "",
            files=files,
        )
        self.calls.append(call)

        if self.token is not None and token != self.token:
            outcome = error(401, "Unauthorized")
        elif method not in self._handlers:
            outcome = error(404, "Not Found")
        else:
            outcome = self._next_outcome(method)

        if outcome.delay:
            await asyncio.sleep(outcome.delay)

        if outcome.body is None:
            if outcome.result is not _UNSET:
                outcome = replace(outcome, body={"ok": True, "result": outcome.result})
            else:
                try:
                    result = await self._handlers[method](params)
                except _ApiError as exc:
                    outcome = exc.outcome
                else:
                    outcome = replace(outcome, body=_ok_body(result))

        call.status = outcome.status
        body = outcome.body
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        return web.Response(
            status=outcome.status, text=text, content_type=outcome.content_type, charset="utf-8"
        )

    def _next_outcome(self, method: str) -> Outcome:
        for key in (method, "*"):
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
        return ok()

    # ----------------------------------------------------------------- methods

    async def _get_me(self, params: dict[str, Any]) -> Any:
        return dict(self.bot_user)

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _ApiError(400, "Bad Request: chat_id is empty")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > self.max_text_length:
            raise _ApiError(400, "Bad Request: message is too long")
        chat = self._chat(chat_id)
        message: dict[str, Any] = {
            "message_id": self._next_message_id,
            "from": self._bot_from(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        self._next_message_id += 1
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    async def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        return True

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if chat_id in (None, "") or message_id in (None, ""):
            raise _ApiError(400, "Bad Request: message to edit not found")
        chat = self._chat(chat_id)
        key = (chat["id"], message_id)
        markup = params.get("reply_markup")
        keyboard = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        stored = self.messages.get(key)
        if stored is None:  # permissive: a message the fake never sent (e.g. from a fixture)
            stored = {
                "message_id": message_id,
                "from": self._bot_from(),
                "chat": chat,
                "date": int(time.time()) - 60,
            }
            self.messages[key] = stored
        elif (stored.get("reply_markup") or {}).get("inline_keyboard") == (keyboard or None):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        if keyboard:
            stored["reply_markup"] = {"inline_keyboard": keyboard}
        else:
            stored.pop("reply_markup", None)
        stored["edit_date"] = int(time.time())
        return dict(stored)

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        already = self.webhook is not None and self.webhook.get("url") == url
        self.webhook = dict(params)
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])
        self._poll_generation += 1  # a pending getUpdates ends with 409 Conflict
        self._wake()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        was_set = self.webhook is not None
        self.webhook = None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["ip_address"] = "127.0.0.1"
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
        return info

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if self.max_poll_wait is not None:
            timeout = min(timeout, self.max_poll_wait)
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])

        # Confirm: offset > 0 forgets updates with a smaller id; offset < 0 keeps the last -offset.
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older pending poll is terminated with 409, as on the real API
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = [u for u in self.updates if self._allowed(u)][:limit]
            if batch:
                return batch
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            wakeup = self._wakeup
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)

    # ----------------------------------------------------------------- helpers

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _allowed(self, update: dict[str, Any]) -> bool:
        if not self.allowed_updates:
            return True
        return any(kind in update for kind in self.allowed_updates)

    def _bot_from(self) -> dict[str, Any]:
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        if chat_id in self.chats:
            return dict(self.chats[chat_id])
        if isinstance(chat_id, str):  # "@channelusername"
            return {
                "id": -1001987654321,
                "title": chat_id[1:],
                "username": chat_id[1:],
                "type": "channel",
            }
        if chat_id > 0:
            return {"id": chat_id, "first_name": "Camille", "type": "private"}
        if str(chat_id).startswith("-100"):
            return {"id": chat_id, "title": "Groupe Relais", "type": "supergroup"}
        return {"id": chat_id, "title": "Groupe Relais", "type": "group"}


@dataclass(frozen=True)
class _Described:
    """A result the real API sends with a ``description`` next to it (setWebhook...)."""

    result: Any
    description: str


def _ok_body(result: Any) -> dict[str, Any]:
    if isinstance(result, _Described):
        return {"ok": True, "result": result.result, "description": result.description}
    return {"ok": True, "result": result}


def _norm_chat_id(value: Any) -> Any:
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        return int(value)
    return value


def _decode(name: str, value: Any) -> Any:
    if name == "chat_id" or name == "from_chat_id":
        return _norm_chat_id(value)
    if not isinstance(value, str):
        return value
    if name in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    if name in _BOOL_PARAMS:
        return value.strip().lower() in {"true", "1"}
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, dict]]:
    """Query string + JSON / urlencoded / multipart body, decoded like the Bot API does."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, dict[str, Any]] = {}
    if request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "data": value.file.read(),
                    }
                else:
                    raw[name] = value
    return {name: _decode(name, value) for name, value in raw.items()}, files
