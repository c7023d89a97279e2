"""Vous avez dit, nous avons fait: an action told to the participants whose answers carry
one of its themes, who asked to hear back and never stopped, through the feedback outbox."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from storage import audit, participants, plan
from storage.tables import Answer, FeedbackMessage, OutboxMessage
from tests.admin import people
from tests.admin.conftest import NOW, form_token
from tests.bot.conversation import incoming

add_person = people.add_person
configs, web = people.configs, people.web  # fixtures: an app whose admin config tests change

TEXT = "La Région ajoute des cars le samedi sur les lignes rurales."


async def _action(db, themes=("desserte_rurale", "prix"), consultation="mobilite") -> int:
    async with db.transaction() as tx:
        row = await plan.create(tx, plan.Fields("Cars du samedi", status="en_cours",
                                                consultation_id=consultation, themes=themes,
                                                public=True), "o", NOW)
    return row.id


async def _post(client, action_id: int, **data):
    path = f"/admin/plan/actions/{action_id}"
    token = await form_token(client, path)
    return await client.post(path + "/notification", data={"csrf": token, **data},
                             allow_redirects=False)


def _total(body: str) -> int:
    return int(re.search(r'id="total-destinataires">([\d\u202f]+)<', body).group(1)
               .replace("\u202f", ""))


async def test_only_those_who_spoke_of_its_themes_asked_and_never_stopped(as_role, db):
    told = [(await add_person(db, opt_in=True, themes=("desserte_rurale",)))[0],
            (await add_person(db, opt_in=True, themes=("prix", "velo")))[0],
            (await add_person(db, channel="sms", opt_in=True, themes=("prix",)))[0]]
    await add_person(db, opt_in=True, themes=("velo",))  # another theme
    await add_person(db, opt_in=False, themes=("prix",))  # did not ask
    await add_person(db, opt_in=None, themes=("prix",))  # never said
    await add_person(db, opt_in=True, stopped=True, status="stopped", themes=("prix",))
    await add_person(db, opt_in=True, stopped=True, themes=("prix",))  # blocked the bot
    await add_person(db, opt_in=True, themes=("prix",), consultation="jeunesse")
    action_id = await _action(db)
    client = await as_role("official")
    preview = await _post(client, action_id, texte=TEXT, action="apercu")
    body = await preview.text()
    assert preview.status == 200 and _total(body) == 3
    assert "https://relais.example.org/suivi/mobilite" in body  # the link, in the preview
    async with db.read() as tx:
        assert await tx.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    unconfirmed = await _post(client, action_id, texte=TEXT, action="envoyer")
    assert unconfirmed.status == 400
    sent = await _post(client, action_id, texte=TEXT, action="envoyer", confirmer="oui")
    assert sent.status == 303
    again = await _post(client, action_id, texte=TEXT, action="envoyer", confirmer="oui")
    assert "deja=1" in again.headers["Location"]  # a second click sends nothing more
    async with db.read() as tx:
        rows = list(await tx.execute(select(OutboxMessage.participant_id, OutboxMessage.kind,
                                            OutboxMessage.text)))
        message = await tx.scalar(select(FeedbackMessage))
        entries = [e.action for e in await audit.entries(tx, "plan.participants")]
    assert sorted(pid for pid, _, _ in rows) == sorted(told)
    assert {kind for _, kind, _ in rows} == {"feedback"}
    assert rows[0][2] == TEXT + "\nSuivi : https://relais.example.org/suivi/mobilite"
    assert (message.action_id, message.recipients, message.theme) == (action_id, 3, None)
    assert entries == ["plan.participants_notified"]
    page = await (await client.get(f"/admin/plan/actions/{action_id}")).text()
    assert "Messages envoyés à propos de cette action" in page


async def test_an_action_without_themes_notifies_nobody(as_role, db):
    await add_person(db, opt_in=True, themes=("prix",))
    action_id = await _action(db, themes=())
    client = await as_role("official")
    response = await _post(client, action_id, texte=TEXT, action="apercu")
    assert response.status == 400
    assert "Liez d&#39;abord l&#39;action à des thèmes" in await response.text()


async def test_a_participant_receives_it_and_the_reply_is_stored(as_role, relais):
    async with relais.db.transaction() as tx:
        found = await participants.ids_of(tx, relais.vault, {("web", "alice")}, NOW)
    pid = found[("web", "alice")]
    await add_person(relais.db, channel="web", opt_in=True, participant_id=pid,
                     themes=("prix",))
    action_id = await _action(relais.db)
    client = await as_role("official")
    assert (await _post(client, action_id, texte=TEXT, action="envoyer",
                        confirmer="oui")).status == 303
    monday = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    relais.delivery.clock = lambda: monday
    await relais.delivery.run_once()
    async with relais.db.read() as tx:
        status = await tx.scalar(select(OutboxMessage.status))
        feedback_id = await tx.scalar(select(FeedbackMessage.id))
    assert status == "sent"
    await relais.inbox.receive(incoming("Enfin ! Merci.", "alice",
                                        at=monday + timedelta(minutes=5)))
    await relais.processor.run_once()
    async with relais.db.read() as tx:
        answer = await tx.scalar(select(Answer).where(Answer.participant_id == pid,
                                                      Answer.question_id.like("retour_%")))
    assert answer.question_id == f"retour_{feedback_id}" and answer.raw_text == "Enfin ! Merci."
    page = await (await client.get(f"/admin/plan/actions/{action_id}")).text()
    row = page.split("Messages envoyés à propos de cette action")[1].split("</tr>")[1]
    # recipients, accepted, delivered, failed, pending, replies
    assert re.findall(r'<td class="nombre">(\d+)</td>', row) == ["1", "1", "0", "0", "0", "1"]
