"""Exports of a consultation as CSV or JSON, written as they are read: constant memory.

CSV is UTF-8 with every cell quoted, `,` or `;` between cells, and any cell a spreadsheet
would run as a formula made inert. JSON is one array, streamed element by element.
Answers are exported redacted and pseudonymous: the "répondant" is the number of the
conversation, never the participant's, and free text only as redacted.
"""

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from admin import indicators
from admin.consultations import CHANNELS, DEPARTEMENTS, PARIS, Consultation
from storage import answer_queries, stats
from storage import indicators as queries
from storage.answer_queries import AnswerFilter
from storage.database import Database

WHATS = ("reponses", "themes", "indicateurs")
FORMATS = ("csv", "json")
SEPARATORS = {"virgule": ",", "point-virgule": ";"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500
# Who chose an answer's theme, in the words of the pages and the exports.
SOURCES = {"model": "modèle", "official": "agent", "participant": "participant"}
COLUMNS = {
    "reponses": ("répondant", "question", "valeur", "texte", "thème", "thèmes", "confiance",
                 "source", "territoire", "association", "canal", "date"),
    "themes": ("question", "thème", "libellé", "réponses", "part"),
    "indicateurs": ("indicateur", "libellé", "valeur", "unité", "affiché", "définition"),
}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


def neutralise(cell: str) -> str:
    """Prefixes a cell a spreadsheet would read as a formula with ' (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


@dataclass
class Export:
    """One export: what, in which format, for which answers; counts the rows it wrote."""

    db: Database
    consultation: Consultation
    what: str
    format: str
    answers: AnswerFilter
    separator: str = ","
    bom: bool = False
    rows: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.what not in WHATS or self.format not in FORMATS:
            raise ValueError(f"export inconnu : {self.what}.{self.format}")
        if self.separator not in SEPARATORS.values():
            raise ValueError("séparateur : « , » ou « ; »")

    def filename(self, today: datetime) -> str:
        """Returns the file's French name, e.g. reponses-mobilite-2026-11-20.csv."""
        day = today.astimezone(PARIS).date().isoformat()
        return f"{self.what}-{self.consultation.id}-{day}.{self.format}"

    @property
    def media_type(self) -> str:
        """Returns the Content-Type of the file."""
        return MEDIA_TYPES[self.format]

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yields the file, a few hundred rows at a time."""
        records = {"reponses": self._answers, "themes": self._themes,
                   "indicateurs": self._indicators}[self.what]()
        write = self._csv if self.format == "csv" else self._json
        async for chunk in write(records):
            yield chunk.encode("utf-8")

    async def _csv(self, records: AsyncIterator[dict]) -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.separator, quoting=csv.QUOTE_ALL,
                            lineterminator="\r\n")
        if self.bom:
            buffer.write("\ufeff")
        columns = COLUMNS[self.what]
        writer.writerow(columns)
        async for record in records:
            writer.writerow(self._cell(record[c]) for c in columns)
            self.rows += 1
            if self.rows % ROWS_PER_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    def _cell(self, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            text = f"{value:.3f}"
            return text.replace(".", ",") if self.separator == ";" else text
        if isinstance(value, int):
            return str(value)
        return neutralise(str(value))

    async def _json(self, records: AsyncIterator[dict]) -> AsyncIterator[str]:
        parts = ["["]
        async for record in records:
            parts.append(("\n" if self.rows == 0 else ",\n")
                         + json.dumps(record, ensure_ascii=False))
            self.rows += 1
            if self.rows % ROWS_PER_CHUNK == 0:
                yield "".join(parts)
                parts = []
        parts.append("\n]\n")
        yield "".join(parts)

    async def _answers(self) -> AsyncIterator[dict]:
        questions = {q.id: q for q in self.consultation.questions}
        async with self.db.read() as tx:
            names = await stats.association_names(tx)
            async for row in answer_queries.stream(tx, self.answers):
                question = questions.get(row.question_id)
                yield {
                    "répondant": row.session_id,
                    "question": row.question_id,
                    "valeur": _value(question, row.value),
                    # Only free text is redacted: a postcode's digits stay out.
                    "texte": row.text if question is None or question.type == "text" else None,
                    "thème": self.consultation.theme_labels.get(row.theme, row.theme),
                    # Every theme of an answer raising several subjects, the main one first.
                    "thèmes": " | ".join(self.consultation.theme_labels.get(t, t)
                                         for t in row.themes) or None,
                    "confiance": row.theme_score,
                    "source": SOURCES.get(row.theme_source, row.theme_source),
                    "territoire": DEPARTEMENTS.get(row.territory, row.territory),
                    "association": names.get(row.association_id),
                    "canal": CHANNELS.get(row.channel, row.channel),
                    "date": row.answered_at.astimezone(PARIS).isoformat(timespec="seconds"),
                }

    async def _themes(self) -> AsyncIterator[dict]:
        async with self.db.read() as tx:
            counts = await queries.theme_counts(tx, self.answers)
            # Shares of the answers to each question: an answer with several themes counts in
            # each, so a question's shares may add up to more than 1.
            totals = await stats.answers_per_question(tx, self.answers)
        for question_id, theme, n in counts:
            yield {"question": question_id, "thème": theme,
                   "libellé": self.consultation.theme_labels.get(theme, theme), "réponses": n,
                   "part": round(n / totals[question_id], 4)}

    async def _indicators(self) -> AsyncIterator[dict]:
        report = await indicators.compute(self.db, self.consultation)
        for item in report.items:
            value = item.value.total_seconds() / 3600 if hasattr(item.value, "total_seconds") \
                else item.value
            yield {"indicateur": item.key, "libellé": item.label,
                   "valeur": value,
                   "unité": "heures" if item.unit == "durée" else item.unit,
                   "affiché": item.shown, "définition": item.definition}
        for reach in report.associations:
            yield {"indicateur": "participants_association", "libellé": reach.name,
                   "valeur": reach.participants, "unité": "nombre",
                   "affiché": indicators.shown(reach.participants, "nombre"),
                   "définition": "Participants venus par les invitations de cette association."}


def _value(question, value: object) -> str | int | None:
    """Returns a closed answer as its labels; other values (free text, postcode) are left out:
    they may hold what redaction removes."""
    if question is None or value is None:
        return None
    if question.closed:
        values = value if isinstance(value, list) else [value]
        keys = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
        return " | ".join(question.choice_labels.get(k, k) for k in keys)
    if question.type == "number" and isinstance(value, int | float):
        return value
    return None
