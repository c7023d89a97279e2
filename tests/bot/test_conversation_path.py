"""Whole conversations through inbox → processor → outbox → channel, on a real database."""

import asyncio

import pytest
from sqlalchemy import select

from bot.app import build
from bot.channels.base import DeliveryError
from storage.tables import (
    Answer,
    AuditEntry,
    ConsultationSession,
    Identity,
    InboundMessage,
    OutboxMessage,
    Participant,
)
from tests.bot.conversation import RecordingChannel, incoming, say


@pytest.fixture
async def wired(settings, db):
    """Relais whose web channel records deliveries."""
    channel = RecordingChannel("web")
    system = build(settings, channels=[channel])
    await system.prepare()
    yield system, channel
    await system.stop()


async def rows(db, model, *where):
    async with db.read() as tx:
        return list(await tx.scalars(select(model).where(*where)))


MOBILITE = ["Bonjour", "oui", "59000", "2", "1, 3", "2", "Le prix",
            "Les TER sont souvent en retard le matin", "Plus de trains le soir vers Lille",
            "oui"]
JEUNESSE = ["Salut", "OUI", "80 000", "passer"]


async def test_a_whole_mobilite_consultation_is_stored_and_answered(wired):
    relais, channel = wired
    await say(relais, *MOBILITE, consultation="mobilite")
    session = (await rows(relais.db, ConsultationSession))[0]
    assert session.status == "completed" and session.territory == "59"
    assert session.age_band == "a30_44"
    answers = {a.question_id: a.value for a in await rows(relais.db, Answer)}
    assert answers["territoire"] == "59" and answers["modes"] == ["train", "velo"]
    replies = channel.texts("alice")
    assert "Région Hauts-de-France" in replies[0]
    assert len(await rows(relais.db, OutboxMessage, OutboxMessage.status != "sent")) == 0
    inbound = await rows(relais.db, InboundMessage)
    assert {m.status for m in inbound} == {"processed"} and len(inbound) == len(MOBILITE)


async def test_a_whole_jeunesse_consultation_runs_to_its_closing(wired):
    relais, channel = wired
    flow = relais.flows["jeunesse"]
    await say(relais, *JEUNESSE, consultation="jeunesse")
    # Answer every remaining question with its first choice or a sentence, whatever it is.
    for _ in range(30):
        async with relais.db.read() as tx:
            session = await tx.scalar(select(ConsultationSession))
        if session.status != "active":
            break
        question = flow.question(session.state["question"])
        reply = "1" if question.choices or question.type.value in ("scale", "yes_no") else \
            "Il faudrait plus de places en apprentissage près de chez moi"
        await say(relais, "oui" if question.type.value == "yes_no" else reply)
    assert session.status == "completed"
    assert channel.texts("alice")[-1] == flow.closing_for({"retour": True})  # said yes
    assert "vous recevrez ici" in flow.closing_for({"retour": True}).lower()
    assert len(await rows(relais.db, Answer)) >= 5


async def test_a_redelivered_message_is_stored_and_answered_once(wired):
    relais, channel = wired
    first = incoming("Bonjour", provider_id="SM-same")
    assert await relais.inbox.receive(first) is not None
    assert await relais.inbox.receive(first) is None
    await relais.processor.run_once()
    await relais.delivery.run_once()
    assert len(channel.sent) == 2  # notice + consent question, once
    assert await relais.inbox.receive(first) is None
    await relais.processor.run_once()
    await relais.delivery.run_once()
    assert len(channel.sent) == 2


async def test_fifty_concurrent_copies_of_one_message_store_one_row(wired):
    relais, _ = wired
    message = incoming("Bonjour", address="bob", provider_id="SM-burst")
    results = await asyncio.gather(*(relais.inbox.receive(message) for _ in range(50)))
    assert sum(r is not None for r in results) == 1
    assert len(await rows(relais.db, InboundMessage)) == 1
    assert len(await rows(relais.db, Participant)) == 1


async def test_fifty_new_participants_at_once_each_get_one_row(wired):
    relais, _ = wired
    await asyncio.gather(*(relais.inbox.receive(incoming("Bonjour", address=f"p{i}"))
                           for i in range(50)))
    assert len(await rows(relais.db, Participant)) == 50
    assert len(await rows(relais.db, Identity)) == 50


async def test_messages_are_processed_in_the_order_received(wired):
    relais, _channel = wired
    for text in ["Bonjour", "oui", "80000"]:
        await relais.inbox.receive(incoming(text))
    await relais.processor.run_once()
    await relais.delivery.run_once()
    answers = await rows(relais.db, Answer)
    assert [(a.question_id, a.value) for a in answers] == [("territoire", "80")]


async def test_addresses_are_only_in_the_identity_table_and_encrypted(wired):
    relais, _ = wired
    await say(relais, "Bonjour", address="+33612345678")
    participant = (await rows(relais.db, Participant))[0]
    identity = (await rows(relais.db, Identity))[0]
    assert "33612345678" not in participant.pseudonym + identity.address_ciphertext
    assert relais.vault.open(identity.address_ciphertext) == "+33612345678"


async def test_stop_cancels_everything_and_nothing_more_is_sent(wired):
    relais, channel = wired
    await say(relais, "Bonjour")
    # "oui" is processed but its replies not yet delivered when STOP comes in.
    await relais.inbox.receive(incoming("oui"))
    await relais.processor.run_once()
    waiting = await rows(relais.db, OutboxMessage, OutboxMessage.status == "pending")
    assert waiting
    await relais.inbox.receive(incoming("STOP"))
    await relais.processor.run_once()
    for reply in waiting:  # cancelled with the STOP itself, before any sender runs
        (again,) = await rows(relais.db, OutboxMessage, OutboxMessage.id == reply.id)
        assert (again.status, again.error) == ("cancelled", "participant stopped")
    await relais.delivery.run_once()
    texts = channel.texts("alice")
    assert len(texts) == 3 and "START" in texts[-1]  # notice, consent, then only the STOP
    sent = len(channel.sent)
    await say(relais, "Ce que je pense du TER", "80000")
    assert len(channel.sent) == sent
    assert (await rows(relais.db, Participant))[0].stopped_at is not None
    await say(relais, "START")
    assert (await rows(relais.db, Participant))[0].stopped_at is None
    assert len(channel.sent) > sent


async def test_my_data_lists_what_is_held_and_erasure_removes_it(wired):
    relais, channel = wired
    await say(relais, "Bonjour", "oui", "59000", "MES DONNEES")
    assert any("59000" in text for text in channel.texts("alice")[-2:])
    await say(relais, "SUPPRIMER", "OUI")
    assert await rows(relais.db, Answer) == []
    assert await rows(relais.db, ConsultationSession) == []
    assert {m.text for m in await rows(relais.db, InboundMessage)} == {""}
    erasures = await rows(relais.db, AuditEntry, AuditEntry.action == "participant.erased")
    assert len(erasures) == 1 and erasures[0].target.startswith("participant:")


async def test_a_message_that_keeps_failing_is_set_aside_and_others_go_on(wired, monkeypatch):
    relais, _channel = wired
    from bot import engine

    real_advance = engine.advance

    def fragile(flow, session, inbound):
        if inbound.text == "boum":
            raise RuntimeError("poison")
        return real_advance(flow, session, inbound)

    monkeypatch.setattr(engine, "advance", fragile)
    await relais.inbox.receive(incoming("boum", address="carol"))
    await relais.inbox.receive(incoming("Bonjour", address="dave"))
    for _ in range(3):
        await relais.processor.run_once()
    statuses = {m.text: (m.status, m.attempts) for m in await rows(relais.db, InboundMessage)}
    assert statuses == {"boum": ("failed", 3), "Bonjour": ("processed", 0)}


async def test_a_batch_redone_one_by_one_records_each_turn_in_full(wired, monkeypatch):
    relais, _channel = wired
    from datetime import UTC, datetime

    from bot import engine

    real_advance = engine.advance

    def fragile(flow, session, inbound):
        if inbound.text == "boum":
            raise RuntimeError("poison")
        return real_advance(flow, session, inbound)

    monkeypatch.setattr(engine, "advance", fragile)
    at = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    relais.processor.clock = lambda: at
    await relais.inbox.receive(incoming("boum", address="carol", channel="telegram"))
    await relais.inbox.receive(incoming("Bonjour", address="dave", channel="telegram"))
    # The batch fails, then one by one: the poison is tried three times and set aside.
    assert await relais.processor.run_once() == 4
    carol, dave = sorted(await rows(relais.db, InboundMessage), key=lambda m: m.id)
    assert (carol.status, carol.attempts, carol.processed_at) == ("failed", 3, None)
    assert "poison" in carol.error
    # The good message went through alone, as fully as in a batch: stamped, its words not
    # kept (the answers hold the one copy), its replies queued.
    assert (dave.status, dave.attempts, dave.error) == ("processed", 0, None)
    assert dave.processed_at == at and dave.text == ""
    replies = await rows(relais.db, OutboxMessage, OutboxMessage.inbound_id == dave.id)
    assert sorted(r.position for r in replies) == [0, 1]
    assert await relais.processor.process_next(dave.participant_id) is False  # nothing left


class FlakyChannel(RecordingChannel):
    """Fails the way a provider does, as scripted."""

    def __init__(self, *failures: DeliveryError) -> None:
        super().__init__("web")
        self.failures = list(failures)

    async def send(self, address, message):
        if self.failures:
            raise self.failures.pop(0)
        return await super().send(address, message)


@pytest.mark.parametrize(("failure", "status", "stopped"), [
    (DeliveryError("503 from provider"), "pending", False),
    (DeliveryError("too many requests", retry_after=30), "pending", False),
    (DeliveryError("invalid number", permanent=True), "failed", False),
    (DeliveryError("blocked by user", permanent=True, recipient_stopped=True), "failed", True),
    (RuntimeError("a bug in the provider's client"), "pending", False),  # retried, but logged
])
async def test_delivery_failures_are_retried_or_ended(settings, db, failure, status, stopped):
    relais = build(settings, channels=[FlakyChannel(failure)])
    await relais.prepare()
    await relais.inbox.receive(incoming("Bonjour"))
    await relais.processor.run_once()
    await relais.delivery.run_once()
    first = (await rows(db, OutboxMessage, OutboxMessage.position == 0))[0]
    assert first.status == status and first.attempts == 1
    assert str(failure) in first.error
    if status == "pending":
        assert first.not_before is not None
        waited = (first.not_before - relais.delivery.clock()).total_seconds()
        assert waited >= (getattr(failure, "retry_after", None) or 1) - 0.5  # minus the test's time
    participant = (await rows(db, Participant))[0]
    assert (participant.stopped_at is not None) is stopped
    await relais.stop()


async def test_an_expired_lease_is_taken_over_after_a_crash(wired):
    relais, channel = wired
    from datetime import timedelta

    from storage import outbox

    await relais.inbox.receive(incoming("Bonjour"))
    await relais.processor.run_once()
    now = relais.delivery.clock()
    async with relais.db.transaction() as tx:  # a sender claims, then dies
        claimed = await outbox.claim(tx, ["web"], now, timedelta(seconds=60), 10)
    assert len(claimed) == 2
    assert await relais.delivery.run_once() == 0  # leased to the dead sender
    relais.delivery.clock = lambda: now + timedelta(seconds=61)
    assert await relais.delivery.run_once() == 2
    assert len(channel.sent) == 2


async def test_each_participant_takes_one_consultation_at_a_time(wired):
    relais, channel = wired
    await say(relais, "Bonjour", "oui", "59000", consultation="mobilite")
    asked = channel.texts("alice")[-1]
    await say(relais, "Bonjour", consultation="jeunesse")  # mid-way: mobilite goes on
    (session,) = await rows(relais.db, ConsultationSession)
    assert (session.consultation_id, session.status) == ("mobilite", "active")
    assert session.state["question"] == "age"  # still where the person was
    assert channel.texts("alice")[-1].endswith(asked)  # asked again, no jeunesse welcome
    assert not any("Jeunesse" in text for text in channel.texts("alice"))
    answers = await rows(relais.db, Answer)
    assert [(a.consultation_id, a.question_id) for a in answers] == [("mobilite", "territoire")]


async def test_bot_initiated_messages_wait_for_allowed_hours_but_replies_do_not(wired):
    from datetime import UTC, datetime

    from storage import outbox

    relais, channel = wired
    await say(relais, "Bonjour", address="eve")
    participant = (await rows(relais.db, Participant))[0]
    sunday = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)  # 10:00 in Paris, a Sunday
    relais.delivery.clock = lambda: sunday
    async with relais.db.transaction() as tx:
        outbox.enqueue(tx, participant_id=participant.id, channel="web", at=sunday,
                       text="Voici ce que la Région a retenu.", kind="feedback")
        outbox.enqueue(tx, participant_id=participant.id, channel="web", at=sunday,
                       text="Une réponse à votre message.", kind="reply")
    await relais.delivery.run_once()
    assert channel.texts("eve")[-1] == "Une réponse à votre message."  # not held back
    feedback = (await rows(relais.db, OutboxMessage, OutboxMessage.kind == "feedback"))[0]
    assert feedback.status == "pending"
    assert feedback.not_before == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # Monday 08:00 Paris
    relais.delivery.clock = lambda: datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    await relais.delivery.run_once()
    assert channel.texts("eve")[-1] == "Voici ce que la Région a retenu."


async def test_a_reply_at_night_goes_out_at_once(wired):
    from datetime import UTC, datetime

    relais, channel = wired
    relais.delivery.clock = lambda: datetime(2026, 3, 7, 22, 30, tzinfo=UTC)  # Sat 23:30
    await say(relais, "Bonjour", address="night")
    assert len(channel.texts("night")) == 2


async def test_stop_as_a_first_message_can_be_undone_with_start(wired):
    relais, channel = wired
    await say(relais, "STOP", address="zoe")
    assert (await rows(relais.db, Participant))[0].stopped_at is not None
    assert len(channel.texts("zoe")) == 1 and "START" in channel.texts("zoe")[0]
    await say(relais, "START", address="zoe")
    assert (await rows(relais.db, Participant))[0].stopped_at is None
    assert "Région Hauts-de-France" in channel.texts("zoe")[1]


async def test_my_data_quotes_each_answer_in_full_lines(wired):
    relais, channel = wired
    await say(relais, "Bonjour", "MES DONNEES")
    assert channel.texts("alice")[-2] == (
        "Nous ne gardons aucune réponse de vous. Votre numéro ou compte est conservé chiffré, "
        "seulement pour vous répondre.")
    long_answer = "Le TER " + "x" * 100
    await say(relais, *MOBILITE[1:7], long_answer, "MES DONNEES")
    summary = channel.texts("alice")[-2]  # then the question is asked again
    # Short labels and the choices' words, the title once, a long answer whole off SMS.
    assert summary.split("\n") == [
        "Vos réponses enregistrées :",
        "Mobilités du quotidien",
        "- Code postal : 59000",
        "- Âge : 30-44 ans",
        "- Vos déplacements : Le train (TER), Le vélo",
        "- Note du TER : 2 sur 5",
        "- Priorité pour la Région : Des prix plus bas",
        f"- Plus gros problème : {long_answer}",
        "Envoyez SUPPRIMER pour tout effacer.",
    ]


async def test_the_feedback_wish_is_kept_on_the_session(wired):
    relais, _channel = wired
    await say(relais, *MOBILITE, consultation="mobilite")
    (session,) = await rows(relais.db, ConsultationSession)
    assert session.feedback_opt_in is True
    await say(relais, *MOBILITE[:-1], "non", consultation="mobilite", address="bob")
    second = [s for s in await rows(relais.db, ConsultationSession) if s.id != session.id]
    assert [s.feedback_opt_in for s in second] == [False]


async def test_choices_go_out_with_the_question_they_answer(wired):
    relais, channel = wired
    await say(relais, "Bonjour")
    address, consent = channel.sent[-1]
    assert address == "alice"
    assert consent.question == "_consentement"
    assert consent.choices == (("oui", "Oui"), ("non", "Non"))


async def test_a_reply_to_an_erased_address_fails_for_good_and_says_why(wired):
    relais, channel = wired
    from storage.tables import Identity

    await relais.inbox.receive(incoming("Bonjour"))
    await relais.processor.run_once()
    async with relais.db.transaction() as tx:
        await tx.execute(Identity.__table__.delete())
    assert await relais.delivery.run_once() == 2
    replies = await rows(relais.db, OutboxMessage)
    assert [(r.status, r.error) for r in replies] == [("failed", "address erased")] * 2
    assert channel.sent == []


async def test_a_reply_on_a_channel_not_configured_waits_untouched(wired):
    relais, channel = wired
    # An SMS stored while Relais has no Twilio account: its replies wait for the channel.
    await relais.inbox.receive(incoming("Bonjour", channel="sms", address="+33612345678"))
    await relais.processor.run_once()
    assert await relais.delivery.run_once() == 0
    replies = await rows(relais.db, OutboxMessage)
    assert [(r.status, r.attempts) for r in replies] == [("pending", 0)] * 2
    assert channel.sent == []


async def test_a_batch_goes_through_in_one_transaction_and_forgets_the_words(wired, caplog):
    relais, _channel = wired
    import logging

    for who in ("erin", "frank"):
        await relais.inbox.receive(incoming("Bonjour", address=who, channel="telegram"))
    with caplog.at_level(logging.WARNING, logger="bot.processor"):
        assert await relais.processor.run_once() == 2
    assert "un par un" not in caplog.text  # not redone one by one: the batch itself worked
    stored = await rows(relais.db, InboundMessage)
    assert [(m.status, m.text) for m in stored] == [("processed", "")] * 2
    replies = await rows(relais.db, OutboxMessage)
    assert len(replies) == 4
