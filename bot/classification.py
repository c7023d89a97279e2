"""Gives themes to free-text answers with each consultation's active model, off the event loop."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.engine import Flow
from bot.workers import drain_forever
from nlp.model import Classifier, ModelError, load
from storage import labels
from storage.database import Database

log = logging.getLogger(__name__)

BATCH = 1000
IDLE_POLL_SECONDS = 5.0


class Classification:
    """Labels answers in batches, in a worker thread, with the model version and score."""

    def __init__(self, db: Database, flows: dict[str, Flow], wake: asyncio.Event,
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.flows = flows
        self.wake = wake
        self.clock = clock
        self._loaded: dict[str, Classifier] = {}
        self._broken: set[str] = set()  # model folders already reported unusable

    async def run(self) -> None:
        """Classifies until cancelled; answers stay stored, unclassified, while no model works."""
        await drain_forever(self.run_once, self.wake, IDLE_POLL_SECONDS, "classification")

    async def run_once(self, batch: int = BATCH) -> int:
        """Classifies what waits now; returns how many answers got a theme."""
        async with self.db.read() as tx:
            active = await labels.active_models(tx)
        done = 0
        for consultation_id, row in active.items():
            flow = self.flows.get(consultation_id)
            questions = [q.id for q in flow.questions if q.classify] if flow else []
            classifier = await self._classifier(row.path, row.version) if questions else None
            if classifier is None:
                continue
            async with self.db.read() as tx:
                todo = await labels.waiting(tx, consultation_id, questions, row.version, batch)
            if not todo:
                continue
            # spaCy and numpy work in a thread, so webhooks keep being answered meanwhile.
            found = await asyncio.to_thread(classifier.classify, [w.text for w in todo])
            async with self.db.transaction() as tx:
                await labels.record_model_labels(
                    tx, [(w.answer_id, f.theme, f.score) for w, f in zip(todo, found,
                                                                          strict=True)],
                    row.version, self.clock())
            done += len(todo)
        return done

    async def _classifier(self, path: str, version: str) -> Classifier | None:
        if version in self._loaded:
            return self._loaded[version]
        if version in self._broken:
            return None
        try:
            classifier = await asyncio.to_thread(load, Path(path))
        except ModelError as error:
            self._broken.add(version)
            log.error("modèle %s inutilisable : %s ; les réponses restent enregistrées sans "
                      "thème", version, error)
            return None
        self._loaded = {version: classifier, **{v: c for v, c in self._loaded.items()
                                                if v != version}}
        return classifier
