"""The composition root: builds every part of Relais from the settings, and nowhere else."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot import heartbeat
from bot.channels.base import Channel, IncomingMessage
from bot.channels.local import WebChannel
from bot.channels.telegram import Telegram
from bot.channels.twilio_sms import TwilioSms
from bot.classification import Classification
from bot.consultations import FLOWS_DIR, default_paths, describe, load_flows
from bot.delivery import Delivery
from bot.engine import Flow
from bot.heartbeat import Heartbeat
from bot.inbox import Inbox
from bot.my_data import MyData
from bot.processor import Processor, utcnow
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from bot.spool import Spool
from bot.tallying import Tallying
from bot.workers import wait_until
from storage import audit, catalog, migrate, outbox, participants
from storage.database import UNAVAILABLE, Database
from storage.vault import Vault

if TYPE_CHECKING:
    from admin.config import AdminConfig

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024  # webhooks and forms are small; bigger bodies get 413
# A client has this long to send a request's headers, from the moment it connects or since
# the previous answer on the same connection, and as long again to send the body: webhooks
# and forms are small, and a client trickling bytes must not hold a connection for ever.
HEADER_SECONDS = 10.0
BODY_SECONDS = 10.0
# What `relais serve` gives aiohttp's connection handler. keepalive_timeout is the header
# bound above: aiohttp arms it when a connection opens and after each answer, and closes a
# connection still waiting for a whole request when it fires. lingering_time is how long
# the rest of an unread body is still read and dropped after an early answer (a 408, a 413),
# so that the client gets that answer: 2 s instead of 10. The parser's limits are aiohttp's
# own defaults for a line and a header, with fewer headers than its 128.
SERVER_OPTIONS = {"keepalive_timeout": HEADER_SECONDS, "lingering_time": 2.0,
                  "max_line_size": 8190, "max_field_size": 8190, "max_headers": 64}
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
SPOOL_CHECK_SECONDS = 5.0
MIGRATION_WAIT_SECONDS = 120.0  # a supervised worker waits this long for the server's migration
RELAIS = web.AppKey("relais", "Relais")
# Telegram: at most one message a second per chat and 30 a second in all.
TELEGRAM_LIMITS = {"per_address_interval": 1.0, "per_second": 30.0}


class NotMigrated(RuntimeError):
    """The database schema is behind the code; the operator must run `relais db upgrade`
    (a RuntimeError: the command line prints its message as it is)."""


@dataclass
class Relais:
    """The running system's parts, built once."""

    settings: Settings
    db: Database
    vault: Vault
    flows: dict[str, Flow]
    inbox: Inbox
    processor: Processor
    delivery: Delivery
    spool: Spool
    classification: Classification | None = None
    tallying: Tallying | None = None
    telegram: Telegram | None = None
    sms: TwilioSms | None = None
    clock: Callable[[], datetime] = utcnow
    spool_waiting: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task] = field(default_factory=set)
    heartbeat: Heartbeat | None = None  # when this process works (processes and delivers)

    async def prepare(self, migrate_sqlite: bool = True) -> None:
        """Migrates the embedded database (or checks a server's) and publishes the flows; with
        `migrate_sqlite` false, waits for another process to migrate it instead."""
        if self.db.dialect == "sqlite" and migrate_sqlite:
            await migrate.upgrade(self.db)
        elif self.db.dialect == "sqlite":
            for _ in range(int(MIGRATION_WAIT_SECONDS / 0.5)):
                if not await migrate.pending(self.db):
                    break
                await asyncio.sleep(0.5)
        elif missing := await migrate.pending(self.db):
            raise NotMigrated(f"la base n'est pas à jour ({len(missing)} migration(s) "
                              "en attente) : lancez « relais db upgrade »")
        async with self.db.transaction() as tx:
            for flow in self.flows.values():
                changed = await catalog.publish(
                    tx, consultation_id=flow.id, title=flow.title, audience=flow.audience,
                    version=flow.version, retention_days=flow.retention_days,
                    definition=describe(flow), at=self.clock())
                if changed:
                    audit.record(tx, actor="system", action="consultation.published",
                                 target=flow.id, details={"version": flow.version},
                                 at=self.clock())

    @property
    def channels(self) -> list:
        """The provider channels configured (Telegram, SMS)."""
        return [c for c in (self.telegram, self.sms) if c is not None]

    async def start(self, work: bool = True, parent_pid: int | None = None) -> None:
        """Opens the provider clients and starts the background work (unless another process
        does it: `relais worker`), as a worker with a heartbeat; a supervised worker stops
        when `parent_pid` is no longer its parent."""
        for channel in self.channels:
            await channel.start()
        self.spawn(self._drain_spool_forever())
        if not work:
            return
        self.heartbeat = Heartbeat(self.db, self.clock,
                                   taken_back=lambda _: self.delivery.wake.set(),
                                   parent_pid=parent_pid)
        self.spawn(self._work())
        if self.telegram is not None and not self.settings.public_url:
            log.info("pas de RELAIS_PUBLIC_URL : Telegram en interrogation régulière (polling)")
            self.spawn(self.telegram.poll(self.inbox.receive))

    async def _work(self) -> None:
        """Registers this worker, then starts processing, delivery and classification; waits
        for the database when it is down at start rather than failing."""
        while True:
            try:
                # First of all: what a crashed worker was sending is taken back at once.
                self.delivery.worker_id = await self.heartbeat.register()
                break
            except UNAVAILABLE as error:
                log.error("base indisponible au démarrage du worker (%s) : nouvel essai",
                          type(error).__name__)
                await asyncio.sleep(heartbeat.BEAT_SECONDS)
        self.spawn(self.heartbeat.run())
        self.spawn(self.processor.run())
        self.spawn(self.delivery.run())
        self.spawn(self.classification.run())
        self.spawn(self.tallying.run())
        from bot import measuring  # the follow-up indicators, measured once a day

        self.spawn(measuring.run(self.db, lambda: self.clock()))

    async def accept(self, message: IncomingMessage) -> None:
        """Stores what a webhook received, durably, before it is acknowledged."""
        if self.settings.intake == "journal":
            # An fsync'd local journal, moved into the database in batches: the answer to
            # the provider waits for one file flush, not for the database's write lock.
            await self.spool.write(message)
            self.spool_waiting.set()
            return
        await self.inbox.receive(message)

    async def converse(self, message: IncomingMessage, seconds: float) -> None:
        """Stores a local channel's message, then waits until its replies are delivered."""
        inbound_id = await self.inbox.receive(message)
        if inbound_id is None or not await self.processor.wait_processed(inbound_id, seconds):
            return
        pseudonym = self.vault.pseudonym(message.channel, message.address)
        async with self.db.read() as tx:
            participant = await participants.by_pseudonym(tx, pseudonym)

        async def delivered() -> bool:
            async with self.db.read() as tx:
                return await outbox.undelivered(tx, participant.id) == 0

        await wait_until(delivered, self.delivery.sent, seconds)

    def spawn(self, work: Coroutine) -> asyncio.Task:
        """Runs work in the background, kept until it ends or Relais stops."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def stop(self) -> None:
        """Stops the background work, closes the provider clients and the database."""
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Their writers are not tied to any caller's task (one commit serves many): a write
        # left running would reopen the database after it is closed, and hold its lock.
        await self.spool.close()
        await self.inbox.close()
        await self.delivery.close()
        if self.heartbeat is not None:
            with contextlib.suppress(*UNAVAILABLE):
                await self.heartbeat.stop()
        for channel in self.channels:
            await channel.close()
        await self.db.close()

    async def _drain_spool_forever(self) -> None:
        while True:
            self.spool_waiting.clear()  # before draining: a write meanwhile wakes us again
            if self.spool.pending():
                try:
                    drained = await self.spool.drain(self.inbox.receive)
                    if drained:
                        log.info("%s SMS repris du spool", drained)
                except UNAVAILABLE:
                    pass  # still down: the next round tries again
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.spool_waiting.wait(), SPOOL_CHECK_SECONDS)


def build(settings: Settings, channels: Iterable[Channel] = (),
          flow_paths: Iterable[Path] | None = None) -> Relais:
    """Builds Relais; raises InvalidConsultations when a consultation file is wrong."""
    if flow_paths is None:
        flow_paths = default_paths(settings.flows_dir or FLOWS_DIR)
    flows = load_flows(flow_paths, settings.privacy_url)
    if settings.default_consultation not in flows:
        raise ValueError(f"consultation par défaut inconnue : {settings.default_consultation}")
    db = Database(settings.database_url)
    vault = Vault(settings.secret_key)
    inbox = Inbox(db, vault)
    replies_queued = asyncio.Event()
    answers_stored = asyncio.Event()  # the processor wakes the classification with it
    classification = Classification(db, flows, answers_stored, utcnow)
    my_data = MyData(flows, settings.secret_key, settings.public_url)
    processor = Processor(db, flows, settings.default_consultation, inbox.arrived,
                          replies_queued, answers_stored, my_data, guess=classification.guess)
    telegram = sms = None
    if settings.telegram_bot_token:
        telegram = Telegram(settings.telegram_bot_token, settings.telegram_webhook_secret,
                            settings.telegram_api_base_url, settings.telegram_bot_username)
    if settings.twilio_account_sid:
        sms = TwilioSms(settings.twilio_account_sid, settings.twilio_auth_token,
                        settings.twilio_from, settings.public_url,
                        settings.twilio_api_base_url)
    registry: dict[str, Channel] = {WebChannel.name: WebChannel()}
    registry.update({c.name: c for c in (telegram, sms) if c is not None})
    registry.update({channel.name: channel for channel in channels})
    limits = {WebChannel.name: RateLimiter(None, None)}
    if telegram is not None:
        limits[telegram.name] = RateLimiter(**TELEGRAM_LIMITS)
    if sms is not None:
        limits[sms.name] = RateLimiter(None, settings.sms_per_second)
    delivery = Delivery(db, vault, registry, replies_queued, limits=limits,
                        lease=timedelta(seconds=settings.outbox_lease_seconds))
    return Relais(settings, db, vault, flows, inbox, processor, delivery,
                  Spool(settings.spool_dir), classification, Tallying(db, flows, utcnow),
                  telegram, sms)


# What only the web process needs is imported in the two functions below, not at the top: a
# worker process never serves pages, and those imports (the admin view, the web chat, the
# holidays of the quiet hours…) would only delay its start, which citizens wait for.


def admin_config(relais: Relais) -> "AdminConfig":
    """Returns what the admin view needs: the database and what only the bot knows."""
    from admin.config import AdminConfig, InviteCard
    from bot import gsm7
    from bot import invites as cards

    settings = relais.settings

    def card(association: str, title: str, code: str) -> InviteCard:
        username = relais.telegram.username if relais.telegram is not None else None
        number = cards.receiving_number(settings.twilio_from) if relais.sms else None
        return cards.card(association, title, code, username, number)

    return AdminConfig(db=relais.db, production=settings.production,
                       clock=lambda: relais.clock(),
                       invite_card=card, new_invite_code=cards.new_code,
                       sms_segments=lambda text: gsm7.segments(gsm7.normalise(text)).count,
                       sms_parts=lambda text: gsm7.split(gsm7.normalise(text)),
                       sms_segment_price_eur=settings.sms_price_eur,
                       public_url=settings.public_url or "",
                       trusted_proxies=settings.trusted_proxies,
                       second_factor=settings.admin_second_factor,
                       seal=relais.vault.seal_secret,
                       unseal=relais.vault.open_secret,
                       sign_in_tag=relais.vault.sign_in_tag)


@web.middleware
async def body_deadline(request: web.Request, handler) -> web.StreamResponse:
    """Reads a request's body within BODY_SECONDS (408 otherwise), before any handler: aiohttp
    itself puts no time limit on it. Handlers then read it from memory."""
    if request.body_exists:
        try:
            async with asyncio.timeout(BODY_SECONDS):
                if request.content_type in FORMS:
                    await request.post()
                else:
                    await request.read()
        except TimeoutError:
            raise web.HTTPRequestTimeout(
                text="La requête arrive trop lentement : elle a été abandonnée.") from None
        except ValueError:  # a form that cannot be read, e.g. a broken multipart body
            raise web.HTTPBadRequest(text="Formulaire illisible.") from None
    return await handler(request)


def create_web_app(relais: Relais, work: bool = True) -> web.Application:
    """Returns the aiohttp application serving webhooks, health checks and the simulator."""
    from admin import app as admin_app
    from bot import web as routes
    from bot import webhooks

    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[body_deadline])
    app.on_response_prepare.append(routes.security_headers)
    app[RELAIS] = relais
    routes.setup(app, relais)
    webhooks.setup(app, relais)
    app.add_subapp("/admin", admin_app.create_app(admin_config(relais)))

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await relais.start(work)
        yield
        await relais.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
