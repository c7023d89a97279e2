"""Provider webhooks: authenticate, persist, then acknowledge; never the other way round."""

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.base import Ignored, WebhookError
from bot.channels.telegram import Telegram
from bot.channels.twilio_sms import TwilioSms
from storage import outbox, participants
from storage.database import UNAVAILABLE

if TYPE_CHECKING:
    from bot.app import Relais

log = logging.getLogger(__name__)

DATABASE_WAIT_SECONDS = 3.0  # past this the database counts as down: spool or 503


def _refused(error: WebhookError) -> web.Response:
    # The reason helps whoever configured the provider; it reveals nothing about the data.
    log.warning("webhook refusé (%s) : %s", error.status, error.reason)
    return web.json_response({"error": error.reason}, status=error.status)


def setup(app: web.Application, relais: "Relais") -> None:
    """Registers the webhook routes of the configured channels."""
    if relais.telegram is not None:
        app.router.add_post("/webhooks/telegram", _telegram_handler(relais, relais.telegram))
    if relais.sms is not None:
        app.router.add_post("/webhooks/twilio/sms", _sms_handler(relais, relais.sms))
        app.router.add_post("/webhooks/twilio/status", _status_handler(relais, relais.sms))


def _telegram_handler(relais: "Relais", telegram: Telegram):
    async def handle(request: web.Request) -> web.Response:
        try:
            read = await telegram.read_webhook(request)
        except WebhookError as error:
            return _refused(error)
        if isinstance(read, Ignored):
            return web.json_response({"ignored": read.reason})
        try:
            async with asyncio.timeout(DATABASE_WAIT_SECONDS):
                await relais.accept(read)
        except UNAVAILABLE as error:
            # Telegram keeps the update and sends it again: nothing is lost by a 503.
            log.error("base indisponible, mise à jour Telegram refusée (%s)", type(error).__name__)
            return web.json_response({"error": "stockage indisponible"}, status=503)
        relais.spawn(telegram.acknowledge_button(read))
        return web.json_response({"ok": True})

    return handle


def _sms_handler(relais: "Relais", sms: TwilioSms):
    async def handle(request: web.Request) -> web.Response:
        try:
            read = await sms.read_webhook(request)
        except WebhookError as error:
            return _refused(error)
        if isinstance(read, Ignored):
            return sms.acknowledge()
        try:
            async with asyncio.timeout(DATABASE_WAIT_SECONDS):
                await relais.accept(read)
        except UNAVAILABLE as error:
            # Twilio does not resend an SMS answered 5xx: keep it on disk, then say 200.
            log.error("base indisponible, SMS mis en attente sur disque (%s)",
                      type(error).__name__)
            try:
                await asyncio.to_thread(relais.spool.append, read)
            except OSError:
                log.critical("ni la base ni le spool ne peuvent enregistrer un SMS")
                return web.json_response({"error": "stockage indisponible"}, status=503)
            relais.spool_waiting.set()
        return sms.acknowledge()

    return handle


def _status_handler(relais: "Relais", sms: TwilioSms):
    async def handle(request: web.Request) -> web.Response:
        try:
            report = await sms.read_status(request)
        except WebhookError as error:
            return _refused(error)
        try:
            async with relais.db.transaction() as tx:
                participant_id = await outbox.record_delivery_status(
                    tx, report.provider_id, report.status, report.error_code,
                    order=sms.status_order)
                if participant_id is not None and report.error_code == str(sms.unsubscribed):
                    await participants.set_stopped(tx, participant_id, relais.clock())
        except UNAVAILABLE:
            return web.json_response({"error": "stockage indisponible"}, status=503)
        return sms.acknowledge()

    return handle
