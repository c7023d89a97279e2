"""`relais purge`: what outlives each consultation's retention is deleted, the rest is kept."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage import audit, catalog, labels, purge, users
from storage.database import Database
from storage.tables import (
    AdminSession,
    Answer,
    AnswerLabel,
    AuditEntry,
    ConsultationSession,
    Identity,
    InboundMessage,
    LoginFailure,
    OutboxMessage,
    Participant,
    ThemeSummary,
)
from tests.conftest import SECRET, empty

NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
LIMITS = {"idle_timeout": timedelta(minutes=30), "session_lifetime": timedelta(hours=12)}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def publish(db, consultation_id: str, retention_days: int) -> None:
    async with db.transaction() as tx:
        await catalog.publish(tx, consultation_id=consultation_id, title=consultation_id,
                              audience="tous", version=1, retention_days=retention_days,
                              definition={"id": consultation_id}, at=ago(800))


async def person(db, name: str, created: datetime, sessions=(), messages=()) -> int:
    """Stores a participant with sessions [(consultation, last update, answers)] and messages
    [(received, status)], each inbound message answered by one outbox message."""
    async with db.transaction() as tx:
        row = Participant(pseudonym=name, channel="sms", created_at=created)
        tx.add(row)
        await tx.flush()
        tx.add(Identity(participant_id=row.id, address_ciphertext="chiffré"))
        for consultation_id, updated, answers in sessions:
            session = ConsultationSession(participant_id=row.id, consultation_id=consultation_id,
                                          status="completed", state={}, started_at=updated,
                                          updated_at=updated)
            tx.add(session)
            await tx.flush()
            for index in range(answers):
                answer = Answer(session_id=session.id, participant_id=row.id,
                                consultation_id=consultation_id, question_id=f"q{index}",
                                raw_text="mon avis", valid=True, answered_at=updated)
                tx.add(answer)
                await tx.flush()
                tx.add(AnswerLabel(answer_id=answer.id, theme="prix", source="model",
                                   score=0.9, created_at=updated))
        for index, (received, status) in enumerate(messages):
            inbound = InboundMessage(channel="sms", provider_id=f"{name}-{index}",
                                     participant_id=row.id, text="mon avis", payload={"a": 1},
                                     received_at=received, status=status)
            tx.add(inbound)
            await tx.flush()
            tx.add(OutboxMessage(participant_id=row.id, channel="sms", inbound_id=inbound.id,
                                 text="Merci !", created_at=received,
                                 status="pending" if status == "pending" else "sent"))
        return row.id


async def counts(db) -> dict[str, int]:
    async with db.read() as tx:
        found = {}
        for model in (ConsultationSession, Answer, AnswerLabel, Participant, Identity,
                      LoginFailure, AdminSession, ThemeSummary):
            found[model.__tablename__] = await tx.scalar(
                select(func.count()).select_from(model))
        for model in (InboundMessage, OutboxMessage):
            found[model.__tablename__ + "_texts"] = await tx.scalar(
                select(func.count()).select_from(model).where(model.text != ""))
        return found


@pytest.fixture
async def stored(db):
    """Two consultations kept 30 and 365 days, and people of every age."""
    await publish(db, "courte", 30)
    await publish(db, "longue", 365)
    ids = {
        # Both sessions are past their retention; nothing recent: the person goes.
        "gone": await person(db, "gone", ago(420), [("courte", ago(40), 2),
                                                    ("longue", ago(400), 1)],
                             [(ago(400), "processed")]),
        # Only the short consultation's session goes; their messages are still recent.
        "partly": await person(db, "partly", ago(100), [("courte", ago(31), 1),
                                                        ("longue", ago(100), 3)],
                               [(ago(100), "processed")]),
        # Nothing old enough: everything stays.
        "recent": await person(db, "recent", ago(20), [("courte", ago(10), 2)],
                               [(ago(20), "processed")]),
        # Old messages only, but one still waiting to be processed: kept, and its text too.
        "waiting": await person(db, "waiting", ago(500), [], [(ago(500), "processed"),
                                                              (ago(499), "pending")]),
        # An old first message and nothing else: the words and the person go.
        "silent": await person(db, "silent", ago(500), [], [(ago(500), "processed")]),
    }
    async with db.transaction() as tx:
        await users.record_failure(tx, ["address:1", "address:2"], ago(2))
        await users.record_failure(tx, ["address:3"], NOW - timedelta(hours=1))
        account = await users.create(tx, email="elue@region.example.fr", role="official",
                                     password_hash="x", at=ago(10))
        await users.open_session(tx, token="vieille", user_id=account.id, csrf_token="c",
                                 at=NOW - timedelta(hours=2))
        await users.open_session(tx, token="fraiche", user_id=account.id, csrf_token="c",
                                 at=NOW - timedelta(minutes=5))
    return ids


async def test_purge_applies_each_consultations_retention(db, stored):
    before = await counts(db)
    async with db.transaction() as tx:
        result = await purge.purge(tx, NOW, **LIMITS)
    assert result.as_dict() == {
        "sessions": 3, "answers": 4, "labels": 4, "inbound_texts": 3, "outbox_texts": 3,
        "participants": 2, "identities": 2, "login_failures": 2, "admin_sessions": 1}
    after = await counts(db)
    assert after["consultation_sessions"] == before["consultation_sessions"] - 3 == 2
    assert after["answers"] == 5 and after["answer_labels"] == 5
    assert after["participants"] == 3 and after["identities"] == 3
    assert after["login_failures"] == 1 and after["admin_sessions"] == 1
    async with db.read() as tx:
        left = set(await tx.scalars(select(Participant.pseudonym)))
        texts = dict((await tx.execute(select(InboundMessage.provider_id,
                                              InboundMessage.text))).all())
        sessions = set((await tx.execute(select(ConsultationSession.participant_id,
                                                ConsultationSession.consultation_id))).all())
    assert left == {"partly", "recent", "waiting"}
    assert texts == {"partly-0": "mon avis", "recent-0": "mon avis", "waiting-0": "",
                     "waiting-1": "mon avis"}
    assert sessions == {(stored["partly"], "longue"), (stored["recent"], "courte")}


async def test_a_second_purge_finds_nothing_more(db, stored):
    async with db.transaction() as tx:
        await purge.purge(tx, NOW, **LIMITS)
    async with db.transaction() as tx:
        again = await purge.purge(tx, NOW, **LIMITS)
    assert set(again.as_dict().values()) == {0}


async def test_a_day_later_the_next_session_goes(db, stored):
    async with db.transaction() as tx:
        await purge.purge(tx, NOW, **LIMITS)
    async with db.transaction() as tx:
        later = await purge.purge(tx, NOW + timedelta(days=21), **LIMITS)
    assert (later.sessions, later.answers) == (1, 2)  # "recent"'s session, 31 days old now


def test_the_command_counts_in_a_dry_run_then_purges_with_an_audit_entry(
        database_url, monkeypatch, capsys):
    from bot import cli, processor

    monkeypatch.setenv("RELAIS_DATABASE_URL", database_url)
    monkeypatch.setenv("RELAIS_SECRET_KEY", SECRET)
    monkeypatch.setenv("RELAIS_ENV", "test")
    monkeypatch.setattr(processor, "utcnow", lambda: NOW)

    async def seed() -> None:
        db = Database(database_url)
        await empty(db)
        await publish(db, "mobilite", 365)  # the command publishes the real file over it
        await person(db, "ancien", ago(500), [("mobilite", ago(400), 2)],
                     [(ago(400), "processed")])
        async with db.transaction() as tx:  # a summary quoting the answers about to go
            await labels.register_model(tx, version="v1", consultation_id="mobilite",
                                        path="models/v1", training_rows=9, scores={},
                                        at=ago(500))
            await labels.save_summaries(tx, "mobilite", "v1", {
                ("q0", "prix"): (2, [["avis", 2]], ["mon avis"])}, ago(400))
        await db.close()

    async def measure() -> tuple[dict, list]:
        db = Database(database_url)
        try:
            found = await counts(db)
            async with db.read() as tx:
                entries = list(await tx.scalars(select(AuditEntry).where(
                    AuditEntry.action == "purge")))
            return found, entries
        finally:
            await db.close()

    asyncio.run(seed())
    before, _ = asyncio.run(measure())
    assert cli.main(["purge", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "simulation" in dry and "        1  sessions de consultation supprimées" in dry
    assert "        2  réponses supprimées" in dry
    unchanged, entries = asyncio.run(measure())
    assert unchanged == before and entries == []
    assert cli.main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "simulation" not in out and "        1  participants supprimés" in out
    after, entries = asyncio.run(measure())
    assert after["consultation_sessions"] == after["participants"] == 0
    assert after["theme_summaries"] == 0  # no quote of a purged answer is left
    assert [(e.actor, e.details["sessions"], e.details["answers"]) for e in entries] == [
        ("cli", 1, 2)]


async def test_audit_is_untouched_by_a_purge(db, stored):
    async with db.transaction() as tx:
        audit.record(tx, actor="cli", action="invite.created", at=ago(1000))
    async with db.transaction() as tx:
        await purge.purge(tx, NOW, **LIMITS)
    async with db.read() as tx:
        assert await tx.scalar(select(func.count()).select_from(AuditEntry)) == 1
