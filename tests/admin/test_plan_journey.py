"""The issue's whole journey through the web: an official builds the plan for mobilite, an
association proposes and comments, the official accepts, starts an action with a milestone,
records an indicator and tells the participants; the public page shows it all, a citizen who
asked for feedback receives the message and their reply is stored."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import create_web_app
from storage import participants, plan_indicators
from storage.tables import Answer, OutboxMessage
from tests.admin import people
from tests.admin.conftest import NOW, add_user, form_token, sign_in
from tests.bot.conversation import incoming

add_person = people.add_person
configs, web = people.configs, people.web


def _id(response) -> int:
    return int(response.headers["Location"].split("/")[-1].split("?")[0])


async def test_from_what_citizens_said_to_what_the_region_does_and_back(
        web, relais, association, aiohttp_client):
    db = relais.db
    async with db.transaction() as tx:
        found = await participants.ids_of(tx, relais.vault, {("web", "camille")}, NOW)
    camille = found[("web", "camille")]
    await add_person(db, channel="web", opt_in=True, participant_id=camille,
                     themes=("desserte_rurale",))
    await add_person(db, opt_in=False, themes=("desserte_rurale",))  # did not ask
    await add_user(db, "elue@region.example.fr", "official")
    await add_user(db, "asso@exemple.fr", "association", association.id)

    await sign_in(web, "elue@region.example.fr")
    token = await form_token(web, "/admin/plan")
    action = _id(await web.post("/admin/plan/actions", allow_redirects=False, data={
        "csrf": token, "titre": "Cars ruraux le samedi", "statut": "a_lancer", "poids": "1",
        "consultation": "mobilite", "themes": ["mobilite:desserte_rurale"], "public": "oui"}))

    web.session.cookie_jar.clear()
    await sign_in(web, "asso@exemple.fr")
    token = await form_token(web, "/admin/plan")
    proposal = _id(await web.post("/admin/plan/propositions", allow_redirects=False, data={
        "csrf": token, "titre": "Navette du marché", "consultation": "mobilite",
        "themes": ["mobilite:desserte_rurale"]}))
    await web.post(f"/admin/plan/actions/{action}/commentaires",
                   data={"csrf": token, "texte": "Nos bénévoles peuvent relayer."})

    web.session.cookie_jar.clear()
    await sign_in(web, "elue@region.example.fr")
    token = await form_token(web, "/admin/plan")
    await web.post(f"/admin/plan/actions/{proposal}/decision", data={
        "csrf": token, "decision": "accepted", "motif": "Complète les cars du samedi"})
    await web.post(f"/admin/plan/actions/{action}", data={
        "csrf": token, "titre": "Cars ruraux le samedi", "statut": "en_cours",
        "avancement": "40", "poids": "1", "consultation": "mobilite",
        "themes": ["mobilite:desserte_rurale"], "public": "oui"})
    await web.post(f"/admin/plan/actions/{action}/jalons", data={
        "csrf": token, "date": "2026-11-15", "titre": "Premier car en service"})
    await web.post("/admin/plan/indicateurs", data={
        "csrf": token, "nom": "Communes desservies le samedi", "niveau": "realisation",
        "type": "quantitatif", "methode": "enquete", "cible": "120",
        "consultation": "mobilite"})
    async with db.read() as tx:
        indicator = (await plan_indicators.indicators(tx, "mobilite"))[0]
    await web.post(f"/admin/plan/indicateurs/{indicator.id}/mesures", data={
        "csrf": token, "date": "2026-11-18", "valeur": "45"})
    async with db.read() as tx:
        measured = (await plan_indicators.measurements(tx, [indicator.id]))[indicator.id][0]
    await web.post(f"/admin/plan/indicateurs/{indicator.id}/mesures/{measured.id}/validation",
                   data={"csrf": token})
    sent = await web.post(f"/admin/plan/actions/{action}/notification", data={
        "csrf": token, "texte": "Les cars ruraux roulent le samedi.", "action": "envoyer",
        "confirmer": "oui"}, allow_redirects=False)
    assert sent.status == 303

    public = await aiohttp_client(create_web_app(relais, work=False))
    page = await (await public.get("/suivi/mobilite")).text()
    for shown in ("Cars ruraux le samedi", "En cours", 'value="40"', "Premier car en service",
                  "Communes desservies le samedi", "<td>45 ", "<td>120 "):
        assert shown in page, shown
    assert "Navette du marché" not in page  # accepted, but not made public
    assert "Nos bénévoles" not in page and "elue@" not in page

    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    relais.delivery.clock = lambda: monday
    await relais.delivery.run_once()
    async with db.read() as tx:
        delivered = list(await tx.execute(select(OutboxMessage.participant_id,
                                                 OutboxMessage.status)))
    assert delivered == [(camille, "sent")]
    await relais.inbox.receive(incoming("Super, merci !", "camille",
                                        at=monday + timedelta(minutes=3)))
    await relais.processor.run_once()
    async with db.read() as tx:
        reply = await tx.scalar(select(Answer.raw_text).where(
            Answer.participant_id == camille, Answer.question_id.like("retour_%")))
    assert reply == "Super, merci !"
