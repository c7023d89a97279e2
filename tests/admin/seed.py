"""Seeds consultation sessions and answers straight into the tables, as the bot stores them."""

import itertools
from datetime import datetime

from storage import search, tallies
from storage.tables import Answer, AnswerTheme, ConsultationSession, Participant
from tests.admin.conftest import NOW

_numbers = itertools.count(1)


async def add_session(db, *, consultation: str = "mobilite", status: str = "completed",
                      channel: str = "telegram", association_id: int | None = None,
                      territory: str | None = None, age_band: str | None = None,
                      started_at: datetime = NOW, consented: bool | None = None,
                      answers: tuple[dict, ...] = ()) -> int:
    """Stores a participant, one session of theirs and its answers; returns the session id.
    An answer is a dict with at least `question`; `text`, `value`, `redacted`, `theme`,
    `score`, `source` and `at` are optional."""
    if consented is None:
        consented = status not in ("consent", "refused")
    async with db.transaction() as tx:
        person = Participant(pseudonym=f"p{next(_numbers):06d}", channel=channel,
                             created_at=started_at, association_id=association_id)
        tx.add(person)
        await tx.flush()
        session = ConsultationSession(
            participant_id=person.id, consultation_id=consultation, status=status,
            state={"consented": consented, "status": status}, territory=territory,
            age_band=age_band, started_at=started_at, updated_at=started_at,
            completed_at=started_at if status == "completed" else None)
        tx.add(session)
        await tallies.touch_records(tx, [session])  # as the product's writes do
        await tx.flush()
        for answer in answers:
            source = answer.get("source", "model" if answer.get("theme") else None)
            row = Answer(
                session_id=session.id, participant_id=person.id, consultation_id=consultation,
                question_id=answer["question"], raw_text=answer.get("text", ""),
                value=answer.get("value"), valid=True, answered_at=answer.get("at", started_at),
                redacted_text=answer.get("redacted", answer.get("text")), channel=channel,
                # As the worker stores it beside the redacted text, for text search.
                search_text=search.fold(answer.get("redacted", answer.get("text"))),
                association_id=association_id, territory=territory,
                theme=answer.get("theme"), theme_score=answer.get("score"),
                theme_source=source, excluded=answer.get("excluded"))
            tx.add(row)
            await tx.flush()
            # Every theme that counts, the main one first (an answer may raise several).
            themes = answer.get("themes") or ([answer["theme"]] if answer.get("theme") else [])
            for position, theme in enumerate(themes):
                tx.add(AnswerTheme(answer_id=row.id, theme=theme, consultation_id=consultation,
                                   question_id=answer["question"], source=source,
                                   score=answer.get("score") if position == 0 else None))
        return session.id
