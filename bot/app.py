"""The composition root: builds every part of Relais from the settings, and nowhere else."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bot import web as routes
from bot.channels.base import Channel
from bot.channels.local import WebChannel
from bot.consultations import FLOWS_DIR, default_paths, describe, load_flows
from bot.delivery import Delivery
from bot.engine import Flow
from bot.inbox import Inbox
from bot.processor import Processor, utcnow
from bot.settings import Settings
from storage import audit, catalog, migrate
from storage.database import Database
from storage.vault import Vault

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024  # webhooks and forms are small; bigger bodies get 413
RELAIS = web.AppKey("relais", "Relais")


class NotMigrated(Exception):
    """The database schema is behind the code; the operator must run `relais db upgrade`."""


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
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def prepare(self) -> None:
        """Migrates the embedded database (or checks a server's) and publishes the flows."""
        if self.db.dialect == "sqlite":
            await migrate.upgrade(self.db)
        elif missing := await migrate.pending(self.db):
            raise NotMigrated(f"la base n'est pas à jour ({len(missing)} migration(s) "
                              "en attente) : lancez « relais db upgrade »")
        async with self.db.transaction() as tx:
            for flow in self.flows.values():
                changed = await catalog.publish(
                    tx, consultation_id=flow.id, title=flow.title, audience=flow.audience,
                    version=flow.version, retention_days=flow.retention_days,
                    definition=describe(flow), at=utcnow())
                if changed:
                    audit.record(tx, actor="system", action="consultation.published",
                                 target=flow.id, details={"version": flow.version},
                                 at=utcnow())

    def start(self) -> None:
        """Starts the background processor and sender."""
        self.tasks = [asyncio.create_task(self.processor.run(), name="processor"),
                      asyncio.create_task(self.delivery.run(), name="delivery")]

    async def stop(self) -> None:
        """Stops the background work and closes the database."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        await self.db.close()


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
    processor = Processor(db, flows, settings.default_consultation, inbox.arrived,
                          replies_queued)
    registry: dict[str, Channel] = {WebChannel.name: WebChannel()}
    registry.update({channel.name: channel for channel in channels})
    delivery = Delivery(db, vault, registry, replies_queued)
    return Relais(settings, db, vault, flows, inbox, processor, delivery)


def create_web_app(relais: Relais) -> web.Application:
    """Returns the aiohttp application serving webhooks, health checks and the simulator."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES,
                          middlewares=[routes.security_headers])
    app[RELAIS] = relais
    routes.setup(app, relais)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        relais.start()
        yield
        await relais.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
