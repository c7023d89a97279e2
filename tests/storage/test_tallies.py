"""The tallies the admin pages read give the same counts as the rows, through every change."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from storage import (
    catalog,
    conversations,
    curation,
    invites,
    labels,
    participants,
    purge,
    tallies,
)
from storage.conversations import SessionRecord
from storage.tables import (
    Answer,
    AnswerTheme,
    ConsultationSession,
    Participant,
    SessionTally,
    TallyMark,
)

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
LIMITS = {"idle_timeout": timedelta(minutes=30), "session_lifetime": timedelta(hours=12)}


@pytest.fixture(autouse=True)
async def published(db):
    async with db.transaction() as tx:
        await catalog.publish(tx, consultation_id="mobilite", title="Mobilités", audience="tous",
                              version=1, retention_days=30, definition={"id": "mobilite"},
                              at=NOW - timedelta(days=90))


async def person(db, name: str, channel: str = "sms", association_id: int | None = None) -> int:
    async with db.transaction() as tx:
        row = Participant(pseudonym=name, channel=channel, created_at=NOW,
                          association_id=association_id)
        tx.add(row)
        await tx.flush()
        return row.id


async def conversation(db, participant_id: int, started: datetime, status: str = "completed",
                       answers: dict | None = None, territory: str | None = "80",
                       consultation: str = "mobilite") -> SessionRecord:
    """Stores a session and its answers through the product's write path."""
    record = SessionRecord(participant_id=participant_id, consultation_id=consultation,
                           status=status, state={"consented": status != "refused"},
                           started_at=started, updated_at=started, territory=territory)
    async with db.transaction() as tx:
        await conversations.insert_sessions(tx, [record])
        await conversations.record_answers(tx, [
            {"session_id": record.id, **conversations.answer_values(
                record, question, "texte", value, True, started, channel="sms",
                association_id=None)}
            for question, value in (answers or {}).items()])
    return record


async def from_the_rows(db, consultation: str = "mobilite") -> tuple[Counter, Counter, Counter]:
    """Counts sessions, answers and themes by reading every row: the oracle the tallies must
    match."""
    sessions, answers, themes = Counter(), Counter(), Counter()
    async with db.read() as tx:
        rows = await tx.execute(select(ConsultationSession, Participant)
                                .join(Participant,
                                      Participant.id == ConsultationSession.participant_id)
                                .where(ConsultationSession.consultation_id == consultation))
        for session, who in rows:
            went_on = session.status in ("active", "completed") or (
                session.status in ("stopped", "erased", "failed")
                and bool(session.state.get("consented")))
            sessions[tallies.SessionKey(who.channel, who.association_id, session.territory,
                                        session.age_band, session.status, went_on,
                                        session.feedback_opt_in)] += 1
        for answer in await tx.scalars(select(Answer).where(
                Answer.consultation_id == consultation, Answer.excluded.is_(None))):
            value = json.dumps(answer.value, ensure_ascii=False, separators=(",", ":"))
            answers[tallies.AnswerKey(answer.channel, answer.question_id, value,
                                      answer.valid)] += 1
        for theme, answer in await tx.execute(
                select(AnswerTheme, Answer).join(Answer, Answer.id == AnswerTheme.answer_id)
                .where(Answer.consultation_id == consultation, Answer.excluded.is_(None))):
            themes[tallies.ThemeKey(answer.channel, answer.question_id, theme.theme,
                                    theme.source, theme.theme == answer.theme)] += 1
    return sessions, answers, themes


async def read(db, consultation: str = "mobilite") -> tuple[Counter, Counter, Counter]:
    async with db.read() as tx:
        return (await tallies.session_counts(tx, consultation),
                await tallies.answer_counts(tx, consultation),
                await tallies.theme_counts(tx, consultation))


async def assert_exact(db) -> None:
    """The tallies match the rows before the worker's pass and after it."""
    assert await read(db) == await from_the_rows(db)
    await tallies.refresh(db, "mobilite", NOW)
    assert await read(db) == await from_the_rows(db)
    async with db.read() as tx:  # the pass cleared the marks it counted
        assert await tx.scalar(select(TallyMark.id).limit(1)) is None


async def test_counts_match_the_rows_through_every_change(db):
    async with db.transaction() as tx:
        association = await invites.add_association(tx, "Les Amis du Rail", "80", NOW)
    ann, bob, cyd = [await person(db, name) for name in ("ann", "bob", "cyd")]
    # Days apart, one of them across midnight in Paris (23:30 UTC is the next day there).
    await conversation(db, ann, NOW - timedelta(days=60),
                       answers={"mode": "train", "note": 4, "probleme": "trop cher"})
    await conversation(db, bob, NOW.replace(hour=23, minute=30) - timedelta(days=3),
                       answers={"mode": "bus", "modes": ["bus", "velo"]})
    await conversation(db, cyd, NOW - timedelta(days=1), status="refused", territory=None)
    first = await from_the_rows(db)
    assert sum(first[0].values()) == 3 and sum(first[1].values()) == 5
    await assert_exact(db)

    # Themes: a model's two, then the participant rejects one, then an official settles it.
    async with db.read() as tx:
        said = await tx.scalar(select(Answer.id).where(Answer.question_id == "probleme"))
    async with db.transaction() as tx:
        await labels.record_model_labels(tx, [(said, [("prix", 0.8), ("fiabilite", 0.4)])],
                                         "v1", NOW)
    await assert_exact(db)
    async with db.transaction() as tx:
        await labels.record_person_label(tx, said, "prix", labels.PARTICIPANT, None, NOW,
                                         negative=True)
    await assert_exact(db)
    async with db.transaction() as tx:
        await labels.record_person_label(tx, said, ["prix", "confort"], labels.OFFICIAL,
                                         "agent@region.fr", NOW)
    themes = (await from_the_rows(db))[2]
    assert sorted((key.theme, key.source, key.main) for key in themes) == [
        ("confort", "official", False), ("prix", "official", True)]
    await assert_exact(db)

    # A new conversation, and one going on: their days are recounted.
    dan = await person(db, "dan", channel="telegram")
    going = await conversation(db, dan, NOW, status="active", answers={"mode": "velo"})
    await assert_exact(db)
    async with db.transaction() as tx:
        going.take_state({"consented": True}, "completed", NOW)
        await conversations.update_sessions(tx, [going])
    await assert_exact(db)

    # An association found later: bob's session now counts for it.
    async with db.transaction() as tx:
        await participants.set_referral(tx, bob, association_id=association.id)
    await assert_exact(db)

    # An answer set aside, then brought back.
    async with db.read() as tx:
        answer_id = await tx.scalar(select(Answer.id).where(Answer.question_id == "note"))
    async with db.transaction() as tx:
        await curation.set_aside(tx, answer_id, "test", "agent@region.fr", NOW)
    await assert_exact(db)
    async with db.transaction() as tx:
        await curation.set_aside(tx, answer_id, None, "agent@region.fr", NOW)
    await assert_exact(db)

    # SUPPRIMER: every session and answer of bob's goes, and from the counts.
    async with db.transaction() as tx:
        await conversations.erase_participant(tx, bob, NOW)
    await assert_exact(db)

    # The retention: ann's conversation, 60 days old, goes with the purge.
    async with db.transaction() as tx:
        await purge.purge(tx, NOW, **LIMITS)
    sessions, answers, themes = await from_the_rows(db)
    assert sum(sessions.values()) == 2 and sum(answers.values()) == 1  # dan's and cyd's
    assert not themes  # ann's answer went, and its themes
    await assert_exact(db)


async def test_a_page_reads_the_totals_not_the_rows_once_counted(db):
    ann = await person(db, "ann")
    await conversation(db, ann, NOW - timedelta(days=5), answers={"mode": "train"})
    await tallies.refresh(db, "mobilite", NOW)
    # Were the totals read, a change made behind the tallies' back (no mark) is not seen;
    # were the rows counted on every request, it would be.
    async with db.transaction() as tx:
        await tx.execute(update(ConsultationSession).values(status="stopped"))
    sessions, _, _ = await read(db)
    assert [key.status for key in sessions] == ["completed"]
    # The day's mark brings the rows back into the count, before any pass.
    async with db.transaction() as tx:
        await tallies.touch_participants(tx, [ann])
    sessions, _, _ = await read(db)
    assert [key.status for key in sessions] == ["stopped"]


async def test_a_pass_counts_only_the_days_marked_since_the_last(db):
    ann, bob = await person(db, "ann"), await person(db, "bob")
    await conversation(db, ann, NOW - timedelta(days=9))
    await conversation(db, bob, NOW - timedelta(days=2))
    assert await tallies.refresh(db, "mobilite", NOW) == 2  # a first pass: every day
    assert await tallies.refresh(db, "mobilite", NOW) == 0  # nothing since
    cyd = await person(db, "cyd")
    await conversation(db, cyd, NOW)
    assert await tallies.refresh(db, "mobilite", NOW) == 1
    async with db.read() as tx:
        days = set(await tx.scalars(select(SessionTally.day).distinct()))
    assert days == {tallies.day_of(NOW - timedelta(days=9)),
                    tallies.day_of(NOW - timedelta(days=2)), tallies.day_of(NOW), None}


async def test_sessions_per_day_are_paris_days(db):
    ann, bob = await person(db, "ann"), await person(db, "bob", channel="web")
    late = datetime(2027, 3, 14, 23, 30, tzinfo=UTC)  # 00:30 on the 15th in Paris
    await conversation(db, ann, late)
    await conversation(db, bob, late, status="active")
    for refreshed in (False, True):
        if refreshed:
            await tallies.refresh(db, "mobilite", NOW)
        async with db.read() as tx:
            days = await tallies.sessions_per_day(tx, "mobilite")
            shown = await tallies.sessions_per_day(tx, "mobilite", hidden_channels=("web",))
        assert days == {late.date() + timedelta(days=1): (2, 1)}
        assert shown == {late.date() + timedelta(days=1): (1, 1)}
    cyd = await person(db, "cyd", channel="web")
    await conversation(db, cyd, NOW - timedelta(days=3))  # a day of trials only
    async with db.read() as tx:
        shown = await tallies.sessions_per_day(tx, "mobilite", hidden_channels=("web",))
    assert shown == {late.date() + timedelta(days=1): (1, 1)}
