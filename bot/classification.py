"""Redacts free-text answers, gives them themes and sums themes up, off the event loop."""

import asyncio
import importlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.engine import Flow
from bot.workers import drain_forever
from storage import feedback, labels
from storage.database import Database

# spaCy and the models are imported on first use, in the worker's threads: importing them
# takes seconds, and a restarted worker must answer citizens before it sorts their answers.
if TYPE_CHECKING:
    from nlp.model import Classifier
    from nlp.redaction import Redactor

log = logging.getLogger(__name__)

BATCH = 1000
IDLE_POLL_SECONDS = 5.0
ACTIVE_MODELS_TTL = 5.0  # a newly trained model is used for guesses within this many seconds


@lru_cache(maxsize=1)  # once per process: read-only, and seconds to load
def shared_redactor() -> "Redactor":
    """Returns the process's redactor."""
    from nlp.redaction import Redactor

    return Redactor.load()


@lru_cache(maxsize=1)
def shared_analyser():
    """Returns the process's French pipeline for theme summaries."""
    from nlp.summaries import load_analyser

    return load_analyser()


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
        self._redactor: Redactor | None = None
        self._active: dict = {}
        self._active_read = float("-inf")
        self._analyser = None

    async def run(self) -> None:
        """Classifies until cancelled; answers stay stored, unclassified, while no model works."""
        await drain_forever(self.run_once, self.wake, IDLE_POLL_SECONDS, "classification")

    def _free_text(self) -> dict[str, list[str]]:
        return {flow.id: [q.id for q in flow.questions if q.classify]
                for flow in self.flows.values()}

    async def redact_once(self, batch: int = BATCH) -> int:
        """Stores the redacted form of free-text answers that have none yet."""
        async with self.db.read() as tx:
            todo = await labels.unredacted(tx, self._free_text(), batch,
                                           prefix=feedback.REPLY_PREFIX)
        if not todo:
            return 0
        if self._redactor is None:
            self._redactor = await asyncio.to_thread(shared_redactor)
        redacted = await asyncio.to_thread(self._redactor.redact_many, [w.text for w in todo])
        async with self.db.transaction() as tx:
            await labels.set_redacted(tx, [(w.answer_id, text) for w, text in
                                           zip(todo, redacted, strict=True)])
        return len(todo)

    async def run_once(self, batch: int = BATCH) -> int:
        """Redacts and classifies what waits now, then refreshes the summaries it changed;
        returns how many answers were handled."""
        done = await self.redact_once(batch)
        async with self.db.read() as tx:
            active = await labels.active_models(tx)
        changed = set()
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
            found = await asyncio.to_thread(classifier.themes_of, [w.text for w in todo])
            async with self.db.transaction() as tx:
                await labels.record_model_labels(
                    tx, [(w.answer_id, [(f.theme, f.score) for f in themes])
                         for w, themes in zip(todo, found, strict=True)],
                    row.version, self.clock())
            done += len(todo)
            changed.add(consultation_id)
        async with self.db.read() as tx:
            requested = await labels.summary_requests(tx)
        for consultation_id in changed | set(requested):
            model = active.get(consultation_id)
            await self.summarise(consultation_id, model.version if model else "")
            if consultation_id in requested:
                async with self.db.transaction() as tx:
                    await labels.clear_summary_request(tx, consultation_id,
                                                       requested[consultation_id])
        return done + len(requested)

    async def summarise(self, consultation_id: str, model_version: str) -> None:
        """Recomputes a consultation's theme summaries from its redacted answers in each theme
        that counts for them (answers set aside left out)."""
        async with self.db.read() as tx:
            answers = await labels.labelled_answers(tx, consultation_id)
        groups: dict[tuple[str, str], list[labels.Labelled]] = {}
        for answer in answers:
            groups.setdefault((answer.question_id, answer.theme), []).append(answer)
        if self._analyser is None and groups:
            self._analyser = await asyncio.to_thread(shared_analyser)

        def compute() -> dict:
            from nlp.summaries import summarise

            result = {}
            for key, group in groups.items():
                # People's themes carry no score: they are the surest of all.
                summary = summarise(self._analyser, [a.text for a in group],
                                    [1.0 if a.score is None else a.score for a in group])
                result[key] = (len(group), summary.terms,
                               [group[i].answer_id for i in summary.examples])
            return result

        summaries = await asyncio.to_thread(compute)
        async with self.db.transaction() as tx:
            await labels.save_summaries(tx, consultation_id, model_version, summaries,
                                        self.clock())

    async def guess(self, consultation_id: str, text: str) -> tuple[str, ...]:
        """Returns the themes the active model sees in one text, the likeliest first, or
        nothing without a model."""
        now = time.monotonic()
        if now - self._active_read > ACTIVE_MODELS_TTL:  # not one query per message
            async with self.db.read() as tx:
                self._active = await labels.active_models(tx)
            self._active_read = now
        row = self._active.get(consultation_id)
        classifier = await self._classifier(row.path, row.version) if row else None
        if classifier is None:
            return ()
        (ranked,) = await asyncio.to_thread(classifier.rank, [text])
        return tuple(label.theme for label in ranked)

    async def _classifier(self, path: str, version: str) -> "Classifier | None":
        if version in self._loaded:
            return self._loaded[version]
        if version in self._broken:
            return None
        # Imported in a thread: spaCy's import alone would hold the event loop for seconds.
        model = await asyncio.to_thread(importlib.import_module, "nlp.model")
        try:
            classifier = await asyncio.to_thread(model.load, Path(path))
        except model.ModelError as error:
            self._broken.add(version)
            log.error("modèle %s inutilisable : %s ; les réponses restent enregistrées sans "
                      "thème", version, error)
            return None
        self._loaded = {version: classifier, **{v: c for v, c in self._loaded.items()
                                                if v != version}}
        return classifier
