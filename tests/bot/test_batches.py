"""A batch of turns writes exactly what the same messages write one at a time, the rare paths
included: theme confirmations, MES DONNEES, restart, refused consent, erasure, STOP and
START, invites, the referral question and replies to feedback."""

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.themes import train_consultation
from storage import feedback, inbox, invites, labels
from storage.tables import (
    Answer,
    AnswerLabel,
    AnswerTheme,
    Association,
    AuditEntry,
    ConsultationSession,
    InboundMessage,
    OutboxMessage,
    Participant,
    SummaryRequest,
    ThemeModel,
)
from tests.bot.conversation import incoming
from tests.conftest import empty

AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
# Completes the mobilite consultation by SMS, asking for feedback.
COMPLETED = ["Bonjour", "oui", "59000", "2", "1, 3", "2", "Le prix",
             "Les TER sont souvent en retard le matin", "Plus de trains le soir", "oui"]
# (address, channel, payload of the first message, messages), all stored before processing.
SCRIPTS = [
    ("alice", "web", {"consultation": "mobilite"},
     ["Bonjour", "oui", "80000", "passer", "4", "2",
      "Le billet de TER est hors de prix pour un smicard", "non", "1", "Des cars le dimanche",
      "MES DONNEES"]),
    ("bob", "web", {}, ["Bonjour", "oui", "80000", "2", "RECOMMENCER", "oui", "02000"]),
    ("carol", "web", {}, ["Bonjour", "oui", "59000", "SUPPRIMER", "OUI", "STOP", "Bonjour"]),
    ("dave", "sms", {}, ["STOP", "Bonjour", "START", "oui", "62000"]),
    ("erin", "web", {}, ["Bonjour", "non", "Bonjour", "oui"]),
    ("frank", "web", {}, ["Bonjour", "oui", "STOP"]),
    ("heidi", "sms", {}, ["K7M2QX", "oui", "80000"]),
    ("ivan", "web", {"start": True}, ["/start", "1", "oui", "60000"]),
    ("zoe", "sms", {}, ["Merci, et les bus du soir ?", "Et le vélo aussi.", "MES DONNEES",
                        "Encore merci"]),
]


async def prepare(relais, model: ThemeModel | None, models_dir) -> ThemeModel:
    """An association and its invite, zoe's completed consultation and its feedback delivered,
    and a theme model (the same each time), so that answers on the web get "did I understand
    you?"."""
    async with relais.db.transaction() as tx:
        association = await invites.add_association(tx, "Les Amis du Rail", "80", AT)
        await invites.create_invite(tx, association.id, "jeunesse", "K7M2QX", AT)
    for number, text in enumerate(COMPLETED):
        await relais.inbox.receive(incoming(text, "zoe", "sms", f"zoe-before-{number}",
                                            AT + timedelta(seconds=number)))
        await relais.processor.run_once()
    async with relais.db.transaction() as tx:
        await feedback.send(tx, feedback.Audience("mobilite"), "La Région ajoute des TER.",
                            "agent@hautsdefrance.fr", AT)
        await tx.execute(update(OutboxMessage).where(OutboxMessage.kind == feedback.KIND)
                         .values(status="sent", sent_at=AT + timedelta(minutes=30)))
    if model is None:
        await train_consultation(relais.db, relais.flows["mobilite"], models_dir, lambda _: None)
    else:
        async with relais.db.transaction() as tx:
            await labels.register_model(tx, version=model.version, consultation_id="mobilite",
                                        path=model.path, training_rows=model.training_rows,
                                        scores=model.scores, at=AT)
    async with relais.db.read() as tx:
        return await tx.scalar(select(ThemeModel))


async def store_scripts(relais) -> int:
    at = AT + timedelta(hours=1)
    count = 0
    for address, channel, first, texts in SCRIPTS:
        for number, text in enumerate(texts):
            at += timedelta(seconds=1)
            payload = first if number == 0 else {}
            await relais.inbox.receive(incoming(text, address, channel, f"{address}-{number}",
                                                at, **payload))
            count += 1
    return count


async def one_at_a_time(relais) -> None:
    async with relais.db.read() as tx:
        waiting = await inbox.pending_participants(tx, 100)
    for participant_id in waiting:
        while await relais.processor.process_next(participant_id):
            pass


async def snapshot(db) -> dict:
    """What the turns wrote, without ids and clock times, by pseudonym."""
    async with db.read() as tx:
        who = dict((await tx.execute(select(Participant.id, Participant.pseudonym))).all())
        names = dict((await tx.execute(select(Association.id, Association.name))).all())
        sessions = (await tx.execute(select(ConsultationSession)
                                     .order_by(ConsultationSession.id))).scalars()
        answers = (await tx.execute(select(Answer).order_by(Answer.id))).scalars()
        questions = dict((await tx.execute(select(Answer.id, Answer.question_id))).all())
        owners = dict((await tx.execute(select(Answer.id, Answer.participant_id))).all())
        inbound = dict((await tx.execute(select(InboundMessage.id,
                                                InboundMessage.provider_id))).all())
        return {
            "participants": sorted(
                (p.pseudonym, p.stopped_at is not None, p.invite_code,
                 names.get(p.association_id), p.asked_association_at is not None)
                for p in (await tx.scalars(select(Participant)))),
            # Each participant's sessions in the order they opened them.
            "sessions": sorted(
                ((who[s.participant_id], s.consultation_id, s.status, s.state, s.territory,
                  s.age_band, s.feedback_opt_in, s.completed_at is None) for s in sessions),
                key=lambda session: session[0]),
            "answers": sorted(
                (who[a.participant_id], a.consultation_id, a.question_id, a.raw_text, str(a.value),
                 a.valid, a.channel, names.get(a.association_id), a.territory, a.theme,
                 a.theme_source, a.disputed) for a in answers),
            "labels": sorted(
                (who[owners[label.answer_id]], questions[label.answer_id], label.theme,
                 label.source, label.negative)
                for label in await tx.scalars(select(AnswerLabel))),
            "themes": sorted((who[owners[t.answer_id]], t.question_id, t.theme, t.source)
                             for t in await tx.scalars(select(AnswerTheme))),
            "outbox": sorted(
                (who[m.participant_id], inbound.get(m.inbound_id) or "", m.position, m.kind,
                 m.status, m.text, str(m.choices), m.question_id or "")
                for m in await tx.scalars(select(OutboxMessage))),
            "inbound": sorted((m.provider_id, m.status, m.text, str(m.payload), m.attempts)
                              for m in await tx.scalars(select(InboundMessage))),
            "audit": sorted((e.actor, e.action) for e in await tx.scalars(select(AuditEntry))),
            "summary_requests": sorted(await tx.scalars(select(SummaryRequest.consultation_id))),
        }


async def test_a_batch_writes_what_one_message_at_a_time_writes(relais, db, tmp_path, caplog):
    found, model = {}, None
    for mode in ("batch", "one at a time"):
        await empty(db)
        await relais.prepare()
        model = await prepare(relais, model, tmp_path)
        stored = await store_scripts(relais)
        if mode == "batch":
            with caplog.at_level(logging.WARNING, logger="bot.processor"):
                assert await relais.processor.run_once() == stored  # one batch, all of them
            assert caplog.records == []  # not redone one by one
        else:
            await one_at_a_time(relais)
        found[mode] = await snapshot(db)
    batch, single = found["batch"], found["one at a time"]
    for table in batch:
        assert batch[table] == single[table], table
    # What the scripts must have gone through, for the comparison to mean something.
    assert ("participant", "participant.erased") in batch["audit"]
    assert {(source, negative) for _, _, _, source, negative in batch["labels"]} >= {
        (labels.PARTICIPANT, True), (labels.PARTICIPANT, False)}  # a no, then a choice
    assert {kind for _, _, _, kind, *_ in batch["outbox"]} >= {"data", "opt_out_confirmation"}
    assert any(question.startswith(feedback.REPLY_PREFIX) and raw.count("\n") == 2
               for _, _, question, raw, *_ in batch["answers"])  # three replies, one answer
    assert sum(association == "Les Amis du Rail" for *_, association, _ in
               batch["participants"]) == 2  # by the invite and by the referral question
    assert all(status == "processed" for _, status, *_ in batch["inbound"])
