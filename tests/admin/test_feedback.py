"""Feedback to participants: preview, sending once through the outbox, delivery hours, replies."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage import participants
from storage.tables import Answer, AuditEntry, FeedbackMessage, OutboxMessage, Participant
from tests.admin import people
from tests.admin.conftest import NOW, form_token
from tests.bot.conversation import incoming

add_person = people.add_person
configs, web = people.configs, people.web  # fixtures: an app whose admin config tests change

PAGE = "/admin/consultations/mobilite/retours"
TEXT = "Voici ce que la Région a retenu de vos réponses sur les transports."


async def post(client, data: dict, token: str | None = None):
    token = token or await form_token(client, PAGE)
    return await client.post(PAGE, data={"csrf": token, **data}, allow_redirects=False)


def total(body: str) -> int:
    return int(re.search(r'id="total-destinataires">([\d\u202f]+)<', body).group(1)
               .replace("\u202f", ""))


def channel_count(body: str, label: str) -> int:
    return int(re.search(rf'<th scope="row">{label}</th><td class="nombre">(\d+)<',
                         body).group(1))


async def count(db, model, *where) -> int:
    async with db.read() as tx:
        return await tx.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
async def audience(db):
    """Three people on Telegram and two by SMS who asked for feedback, and those who must
    never receive it."""
    for channel in ("telegram",) * 3 + ("sms",) * 2:
        await add_person(db, channel=channel, opt_in=True, territory="59")
    await add_person(db, opt_in=False)  # said no to feedback
    await add_person(db, opt_in=None, status="refused")  # never consented
    await add_person(db, opt_in=True, stopped=True, status="stopped")  # sent STOP
    await add_person(db, opt_in=True, stopped=True)  # blocked the bot after completing
    await add_person(db, opt_in=True, consultation="jeunesse")  # another consultation


async def test_the_preview_counts_only_who_asked_and_did_not_stop(as_role, db, audience):
    client = await as_role("official")
    response = await post(client, {"texte": TEXT, "action": "apercu"})
    body = await response.text()
    assert response.status == 200
    assert total(body) == 5
    assert channel_count(body, "Telegram") == 3 and channel_count(body, "SMS") == 2
    assert 'name="confirmer"' in body and 'value="envoyer"' in body
    assert await count(db, FeedbackMessage) == 0 and await count(db, OutboxMessage) == 0


@pytest.mark.parametrize(("theme", "territory", "expected"), [
    ("", "", 4),
    ("prix", "", 2),
    ("", "62", 2),
    ("prix", "62", 1),
    ("fiabilite", "80", 0),
])
async def test_theme_and_departement_narrow_the_recipients(as_role, db, theme, territory,
                                                           expected):
    await add_person(db, opt_in=True, territory="59", themes=("prix", "fiabilite"))
    await add_person(db, opt_in=True, territory="62", themes=("prix",))
    await add_person(db, opt_in=True, territory="62", themes=("fiabilite",))
    await add_person(db, opt_in=True, territory="59")
    await add_person(db, opt_in=False, territory="62", themes=("prix",))
    client = await as_role("official")
    response = await post(client, {"texte": TEXT, "theme": theme, "territoire": territory,
                                   "action": "apercu"})
    body = await response.text()
    assert response.status == 200, body
    assert total(body) == expected
    assert ('value="envoyer"' in body) is (expected > 0)


@pytest.mark.parametrize(("text", "segments", "cost", "warned"), [
    ("a" * 160, "1", "0,16", False),  # 1 segment × 2 SMS recipients × 0,08 €
    ("a" * 200, "2", "0,32", False),
    ("a" * 400, "3", "0,48", True),
    ("中" * 71, "2", "0,32", False),  # not GSM-7: UCS-2 segments of 67 characters
])
async def test_sms_segments_and_cost_are_estimated(as_role, audience, text, segments, cost,
                                                  warned):
    client = await as_role("official")
    body = await (await post(client, {"texte": text, "action": "apercu"})).text()
    assert re.search(r'id="segments">(\d+)<', body).group(1) == segments
    assert re.search(r'id="cout">([\d,]+)', body).group(1) == cost
    assert ("dépasse 2 SMS" in body) is warned


async def test_without_a_segment_counter_the_page_says_so(as_role, audience, configs):
    configs[0].sms_segments = None
    client = await as_role("official")
    body = await (await post(client, {"texte": TEXT, "action": "apercu"})).text()
    assert re.search(r'id="segments">([^<]+)<', body).group(1) == "—"
    assert re.search(r'id="cout">([^<]+)<', body).group(1) == "—"


@pytest.mark.parametrize(("data", "message"), [
    ({"texte": "  "}, "Écrivez le message"),
    ({"texte": "x" * 1601}, "dépasse 1600"),
    ({"texte": TEXT, "theme": "inconnu"}, "Thème inconnu"),
    ({"texte": TEXT, "territoire": "75"}, "Département inconnu"),
    ({"texte": TEXT, "action": "envoyer"}, "Cochez la case"),
])
async def test_wrong_forms_send_nothing(as_role, db, audience, data, message):
    client = await as_role("official")
    response = await post(client, data)
    assert response.status == 400
    assert message in await response.text()
    assert await count(db, OutboxMessage) == 0 and await count(db, FeedbackMessage) == 0


async def test_nobody_to_send_to_sends_nothing(as_role, db):
    client = await as_role("official")
    response = await post(client, {"texte": TEXT, "action": "envoyer", "confirmer": "oui"})
    assert response.status == 400
    assert await count(db, FeedbackMessage) == 0


async def test_sending_queues_one_message_per_recipient_once(as_role, db, audience):
    client = await as_role("official")
    token = await form_token(client, PAGE)
    form = {"texte": TEXT, "territoire": "59", "action": "envoyer", "confirmer": "oui"}
    first = await post(client, form, token)
    second = await post(client, form, token)  # a double click, or the form sent again
    assert first.status == second.status == 303
    async with db.read() as tx:
        (message,) = list(await tx.scalars(select(FeedbackMessage)))
        rows = list(await tx.scalars(select(OutboxMessage)))
        entries = list(await tx.scalars(select(AuditEntry).where(
            AuditEntry.action == "feedback.sent")))
    assert first.headers["Location"] == f"{PAGE}?envoye={message.id}"
    assert second.headers["Location"] == f"{PAGE}?envoye={message.id}&deja=1"
    assert len(rows) == 5 == message.recipients
    assert {(r.kind, r.feedback_id, r.status, r.text) for r in rows} == {
        ("feedback", message.id, "pending", TEXT)}
    assert sorted(r.channel for r in rows) == ["sms", "sms"] + ["telegram"] * 3
    assert message.territory == "59" and message.theme is None
    assert message.author == "official@region.example.fr"
    assert [(e.actor, e.target, e.details["recipients"]) for e in entries] == [
        ("official:official@region.example.fr", f"feedback:{message.id}", 5)]
    page = await (await client.get(second.headers["Location"])).text()
    assert "pas été envoyé une seconde fois" in page
    assert f'id="retour-{message.id}"' in page and TEXT in page


async def test_sending_needs_the_form_token(as_role, db, audience):
    client = await as_role("official")
    response = await client.post(PAGE, data={"texte": TEXT, "action": "envoyer",
                                             "confirmer": "oui"}, allow_redirects=False)
    assert response.status == 403
    assert await count(db, OutboxMessage) == 0


@pytest.mark.parametrize("method", ["get", "post"])
async def test_associations_cannot_use_the_feedback_page(as_role, db, audience, method):
    client = await as_role("association")
    token = await form_token(client, "/admin/")
    response = await getattr(client, method)(
        PAGE, data={"csrf": token, "texte": TEXT, "action": "envoyer", "confirmer": "oui"},
        allow_redirects=False)
    assert response.status == 403
    assert await count(db, OutboxMessage) == 0


async def add_reachable(relais, address: str) -> int:
    """Stores a web participant who completed the consultation and asked for feedback, whom
    the bot can really write to; returns their id."""
    async with relais.db.transaction() as tx:
        found = await participants.ids_of(tx, relais.vault, {("web", address)}, NOW)
    pid = found[("web", address)]
    await add_person(relais.db, channel="web", opt_in=True, participant_id=pid)
    return pid


async def send_feedback(client, text: str = TEXT) -> None:
    response = await post(client, {"texte": text, "action": "envoyer", "confirmer": "oui"})
    assert response.status == 303


async def test_a_feedback_queued_on_sunday_waits_for_monday_8_am(as_role, relais):
    await add_reachable(relais, "dimanche")
    client = await as_role("official")
    await send_feedback(client)
    relais.delivery.clock = lambda: datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # Sunday 16:00
    await relais.delivery.run_once()
    (row,) = [r async for r in _outbox(relais.db)]
    assert row.status == "pending" and row.sent_at is None
    assert row.not_before == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris
    relais.delivery.clock = lambda: datetime(2026, 3, 9, 6, 59, tzinfo=UTC)
    await relais.delivery.run_once()
    assert [r.status async for r in _outbox(relais.db)] == ["pending"]
    relais.delivery.clock = lambda: datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    await relais.delivery.run_once()
    assert [r.status async for r in _outbox(relais.db)] == ["sent"]


async def _outbox(db):
    async with db.read() as tx:
        for row in await tx.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
            yield row


async def test_a_reply_to_feedback_is_stored_as_an_answer(as_role, relais):
    pid = await add_reachable(relais, "alice")
    client = await as_role("official")
    await send_feedback(client)
    monday = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    relais.delivery.clock = lambda: monday
    await relais.delivery.run_once()
    async with relais.db.read() as tx:
        feedback_id = await tx.scalar(select(FeedbackMessage.id))
    for minutes, text in ((5, "Merci, et les bus du soir ?"),
                          (6, "Et le vélo aussi, rappelez-moi au 06 12 34 56 78."),
                          (7, "MES DONNEES")):
        await relais.inbox.receive(incoming(text, "alice", at=monday + timedelta(minutes=minutes)))
        await relais.processor.run_once()
    async with relais.db.read() as tx:
        answer = await tx.scalar(select(Answer).where(Answer.participant_id == pid))
        replies = list(await tx.scalars(select(OutboxMessage.text).where(
            OutboxMessage.kind != "feedback").order_by(OutboxMessage.id)))
    assert answer.question_id == f"retour_{feedback_id}"
    assert answer.raw_text == ("Merci, et les bus du soir ?\n"
                               "Et le vélo aussi, rappelez-moi au 06 12 34 56 78.")
    assert await relais.classification.redact_once() == 1  # officials read it redacted
    async with relais.db.read() as tx:
        redacted = (await tx.get(Answer, answer.id)).redacted_text
    assert "06 12" not in redacted and redacted.startswith("Merci, et les bus du soir ?")
    assert answer.consultation_id == "mobilite" and answer.channel == "web"
    assert replies[0] == "Merci, votre réponse a bien été transmise à la Région."
    assert len(replies) == 2 and "Vos réponses enregistrées" in replies[1]  # thanked once
    assert "- Votre réponse à un message de la Région : Merci" in replies[1]  # no code
    page = await (await client.get(PAGE)).text()
    row = re.search(rf'id="retour-{feedback_id}">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="nombre">(\d+)</td>', row) == ["1", "1", "0", "0", "0", "0",
                                                                 "1"]
    await relais.inbox.receive(incoming("STOP", "alice", at=monday + timedelta(minutes=8)))
    await relais.processor.run_once()
    async with relais.db.read() as tx:
        assert (await tx.get(Participant, pid)).stopped_at is not None


async def test_without_feedback_a_completed_participant_gets_the_usual_answer(relais):
    pid = await add_reachable(relais, "bob")
    await relais.inbox.receive(incoming("Bonjour encore", "bob"))
    await relais.processor.run_once()
    async with relais.db.read() as tx:
        assert await tx.scalar(select(Answer).where(Answer.participant_id == pid)) is None
        text = await tx.scalar(select(OutboxMessage.text))
    assert text.startswith("Vous avez déjà répondu")
