"""Telegram: webhook updates and long polling to IncomingMessage, replies through PTB's Bot."""

import asyncio
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.channels.base import DeliveryError, Ignored, IncomingMessage, OutgoingMessage, WebhookError

log = logging.getLogger(__name__)

NAME = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
MAX_TEXT = 4096  # Bot API limit for one message
POLL_SECONDS = 25
CALLBACK_SEPARATOR = "|"
# Content a citizen may send instead of text: answered politely, never downloaded.
MEDIA = ("sticker", "photo", "voice", "video", "video_note", "audio", "document", "animation",
         "location", "venue", "contact", "poll", "dice", "story")


class Telegram:
    """The Telegram channel: one bot, its webhook secret and its API address."""

    name = NAME

    def __init__(self, token: str, webhook_secret: str | None, api_base_url: str,
                 username: str | None = None, clock: Callable[[], datetime] | None = None) -> None:
        self.bot = Bot(token, base_url=api_base_url)
        self.webhook_secret = webhook_secret
        self.username = username
        self.clock = clock or (lambda: datetime.now(UTC))

    async def start(self) -> None:
        """Opens the HTTP client, and learns the bot's username when it was not configured."""
        await self.bot.initialize()
        self.username = self.username or self.bot.username

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self.bot.shutdown()

    # -- inbound

    async def read_webhook(self, request: web.Request) -> IncomingMessage | Ignored:
        """Checks the secret token and reads one update; raises WebhookError on bad requests."""
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.webhook_secret or ""
        # Constant time: the comparison must not tell how much of a guess was right.
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookError(403, "jeton secret Telegram absent ou invalide")
        if request.content_type != "application/json":
            raise WebhookError(415, "le corps doit être en application/json")
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise WebhookError(400, "corps JSON invalide") from error
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            raise WebhookError(400, "update_id manquant ou invalide")
        try:
            update = Update.de_json(data, None)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise WebhookError(400, "mise à jour Telegram illisible") from error
        return self.read_update(update)

    def read_update(self, update: Update) -> IncomingMessage | Ignored:
        """Translates one update into a message, or says why it is ignored."""
        provider_id = str(update.update_id)
        if update.edited_message is not None:
            return Ignored("message modifié : la réponse enregistrée ne change pas")
        if update.callback_query is not None:
            return self._callback(provider_id, update)
        if update.my_chat_member is not None:
            member = update.my_chat_member
            if member.chat.type != "private":
                return Ignored("groupe ou canal : non pris en charge")
            if member.new_chat_member.status == "kicked":
                return self._incoming(provider_id, member.chat.id, "", {"event": "blocked"})
            return Ignored(f"statut du membre : {member.new_chat_member.status}")
        message = update.message
        if message is None:
            return Ignored("type de mise à jour non pris en charge")
        if message.chat.type != "private":
            return Ignored("groupe ou canal : non pris en charge")
        if message.text is not None:
            return self._incoming(provider_id, message.chat.id, message.text,
                                  _start_payload(message.text))
        kind = next((k for k in MEDIA if getattr(message, k, None)), None)
        if kind is not None:
            return self._incoming(provider_id, message.chat.id, message.caption or "",
                                  {"media": kind})
        return Ignored("message sans texte ni contenu")

    def _callback(self, provider_id: str, update: Update) -> IncomingMessage | Ignored:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return Ignored("groupe ou canal : non pris en charge")
        question, _, value = (query.data or "").rpartition(CALLBACK_SEPARATOR)
        payload = {"callback_query_id": query.id, "question": question or None}
        return self._incoming(provider_id, chat.id if chat else query.from_user.id, value,
                              payload)

    def _incoming(self, provider_id: str, chat_id: int, text: str,
                  payload: dict) -> IncomingMessage:
        return IncomingMessage(channel=NAME, address=str(chat_id), provider_id=provider_id,
                               text=text, received_at=self.clock(), payload=payload)

    async def acknowledge_button(self, message: IncomingMessage) -> None:
        """Stops the spinner on a pressed button; failing to do so loses nothing."""
        query_id = message.payload.get("callback_query_id")
        if not query_id:
            return
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:
            log.warning("answerCallbackQuery a échoué : %s", type(error).__name__)

    async def poll(self, receive: Callable[[IncomingMessage], Awaitable[object]]) -> None:
        """Long polling for a laptop without public address; an update is confirmed once stored."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset = None
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_SECONDS, read_timeout=POLL_SECONDS + 10,
                    allowed_updates=list(ALLOWED_UPDATES))
            except TelegramError as error:
                log.warning("getUpdates a échoué (%s) ; nouvel essai", type(error).__name__)
                await asyncio.sleep(5)
                continue
            for update in updates:
                read = self.read_update(update)
                if isinstance(read, IncomingMessage):
                    await receive(read)  # raises if not stored: the offset stays, Telegram resends
                    await self.acknowledge_button(read)
                offset = update.update_id + 1

    async def set_webhook(self, url: str) -> None:
        """Registers the webhook with its secret token and the update types Relais reads."""
        await self.bot.set_webhook(url=url, secret_token=self.webhook_secret,
                                   allowed_updates=list(ALLOWED_UPDATES),
                                   drop_pending_updates=False)

    # -- outbound

    async def send(self, address: str, message: OutgoingMessage) -> str | None:
        """Sends a message, with inline buttons for its choices."""
        markup = None
        if message.choices:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label[:64], callback_data=_callback_data(message, value))]
                 for value, label in message.choices])
        try:
            sent = await self.bot.send_message(chat_id=int(address), text=message.text[:MAX_TEXT],
                                               reply_markup=markup)
        except RetryAfter as error:
            raise DeliveryError("Telegram : trop de messages", retry_after=_seconds(error)) \
                from error
        except Forbidden as error:
            raise DeliveryError(f"Telegram : {error}", permanent=True,
                                recipient_stopped=True) from error
        except (BadRequest, InvalidToken) as error:
            raise DeliveryError(f"Telegram : {error}", permanent=True) from error
        except TelegramError as error:  # network errors and timeouts: worth another try
            raise DeliveryError(f"Telegram : {type(error).__name__}") from error
        return str(sent.message_id)


def _start_payload(text: str) -> dict:
    """Reads `/start CODE` (deep link) or a bare `/start`."""
    command, _, argument = text.strip().partition(" ")
    if command.split("@", 1)[0].lower() != "/start":
        return {}
    code = argument.strip()
    return {"invite": code} if code else {"start": True}


def _callback_data(message: OutgoingMessage, value: str) -> str:
    # Buttons say which question they answer, so a button pressed late is not misread.
    return f"{message.question or ''}{CALLBACK_SEPARATOR}{value}"[:64]


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the type will become a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
