"""The shared action plan in the admin view: officials build it, associations propose and
comment, every write is checked, journaled and kept in the action's history."""

from sqlalchemy import func, select

from storage import audit, plan
from storage.plan_tables import Action, ActionComment
from tests.admin.conftest import NOW, add_user, form_token, sign_in

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>{{7*7}}\u202e'


async def _create(web, **fields) -> int:
    token = await form_token(web, "/admin/plan")
    data = {"csrf": token, "titre": "Plus de TER le soir", "statut": "a_lancer",
            "consultation": "mobilite", "poids": "1", **fields}
    response = await web.post("/admin/plan/actions", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()
    return int(response.headers["Location"].split("/")[-1].split("?")[0])


async def _action(db, action_id: int) -> Action:
    async with db.read() as tx:
        return await plan.action(tx, action_id)


async def test_an_official_builds_the_plan_and_each_write_is_journaled(as_role, db):
    web = await as_role("official")
    parent = await _create(web, titre="Desserte rurale", themes=["mobilite:desserte_rurale"])
    child = await _create(web, titre="Cars du samedi", parent=str(parent), avancement="40",
                          poids="3", debut="2027-01-05", fin="2027-06-30", public="oui",
                          porteur="Direction des transports")
    await _create(web, titre="Navette", parent=str(parent), avancement="80")
    page = await (await web.get("/admin/plan/consultations/mobilite")).text()
    assert "Desserte rurale" in page and "Cars du samedi" in page
    assert "50 %" in page  # (40 × 3 + 80 × 1) / 4, computed for the parent
    row = await _action(db, child)
    assert (row.parent_id, row.progress, row.weight, row.public, row.owner) == (
        parent, 40, 3, True, "Direction des transports")
    async with db.read() as tx:
        assert [e.action for e in await audit.entries(tx, "plan.")] == \
            ["plan.action_created"] * 3


async def test_an_edit_is_kept_in_the_history_and_a_milestone_added(as_role, db):
    web = await as_role("official")
    action_id = await _create(web)
    path = f"/admin/plan/actions/{action_id}"
    token = await form_token(web, path)
    response = await web.post(path, data={
        "csrf": token, "titre": "Plus de TER le soir", "statut": "en_cours",
        "avancement": "30", "poids": "1", "consultation": "mobilite"}, allow_redirects=False)
    assert response.status == 303
    response = await web.post(path + "/jalons", data={
        "csrf": token, "date": "2027-02-01", "titre": "Premier train à 22 h", "texte": "Lille"},
        allow_redirects=False)
    assert response.status == 303
    page = await (await web.get(path)).text()
    assert "Premier train à 22 h" in page and "01/02/2027" in page
    assert "a_lancer" in page and "en_cours" in page  # the history: old → new
    async with db.read() as tx:
        fields = [c.field for c in await plan.history(tx, action_id)]
        actions = [e.action for e in await audit.entries(tx, "plan.")]
    assert sorted(fields) == ["création", "jalon", "progress", "status"]
    assert set(actions) == {"plan.action_created", "plan.action_changed",
                            "plan.milestone_added"}


async def test_bad_fields_change_nothing_and_say_why(as_role, db):
    web = await as_role("official")
    first = await _create(web, titre="Parent")
    second = await _create(web, titre="Enfant", parent=str(first))
    token = await form_token(web, "/admin/plan")
    response = await web.post(f"/admin/plan/actions/{first}", data={
        "csrf": token, "titre": "Parent", "statut": "inexistant", "avancement": "120",
        "poids": "1", "parent": str(second), "themes": ["mobilite:nulle_part"],
        "consultation": "mobilite"})
    assert response.status == 400
    page = await response.text()
    for reason in ("statut inconnu", "avancement hors de 0–100", "cycle de parents",
                   "thème inconnu"):
        assert reason in page
    row = await _action(db, first)
    assert (row.status, row.progress, row.parent_id) == ("a_lancer", None, None)


async def test_an_association_proposes_and_reads_the_decision(web, db, association):
    await add_user(db, "asso@exemple.fr", "association", association.id)
    await add_user(db, "elu@region.example.fr", "official")
    await sign_in(web, "asso@exemple.fr")
    token = await form_token(web, "/admin/plan")
    response = await web.post("/admin/plan/propositions", data={
        "csrf": token, "titre": "Navette du marché", "description": "Le samedi matin",
        "consultation": "mobilite", "themes": ["mobilite:desserte_rurale"],
        "statut": "realisee", "public": "oui", "avancement": "100"}, allow_redirects=False)
    assert response.status == 303
    proposal = int(response.headers["Location"].split("/")[-1].split("?")[0])
    row = await _action(db, proposal)
    # Only what a proposal may say: status, progress and publicity are officials' to set.
    assert (row.status, row.proposer_association_id, row.public, row.progress) == (
        "proposee", association.id, False, None)
    await web.post(f"/admin/plan/actions/{proposal}/commentaires",
                   data={"csrf": token, "texte": "Nous pouvons la porter."})
    web.session.cookie_jar.clear()
    await sign_in(web, "elu@region.example.fr")
    token = await form_token(web, f"/admin/plan/actions/{proposal}")
    refused = await web.post(f"/admin/plan/actions/{proposal}/decision",
                             data={"csrf": token, "decision": "merged", "motif": "Doublon"})
    assert refused.status == 400  # merged into nothing
    response = await web.post(f"/admin/plan/actions/{proposal}/decision", data={
        "csrf": token, "decision": "accepted", "motif": "Retenue pour 2027"},
        allow_redirects=False)
    assert response.status == 303
    await web.post(f"/admin/plan/actions/{proposal}/commentaires",
                   data={"csrf": token, "texte": "Merci !"})
    web.session.cookie_jar.clear()
    await sign_in(web, "asso@exemple.fr")
    page = await (await web.get(f"/admin/plan/actions/{proposal}")).text()
    assert "Retenue pour 2027" in page and "acceptée" in page
    assert "Les Amis du Vélo" in page and "Région" in page  # comments signed by role
    assert "elu@region.example.fr" not in page  # never an official's e-mail
    assert (await _action(db, proposal)).status == "a_lancer"
    async with db.read() as tx:
        assert {e.action for e in await audit.entries(tx, "plan.")} == {
            "plan.action_proposed", "plan.comment_added", "plan.proposal_decided"}


async def test_hostile_text_is_inert_everywhere_in_the_plan(as_role, db):
    web = await as_role("official")
    action_id = await _create(web, titre=HOSTILE[:190], description=HOSTILE, porteur=HOSTILE)
    token = await form_token(web, "/admin/plan")
    await web.post(f"/admin/plan/actions/{action_id}/commentaires",
                   data={"csrf": token, "texte": HOSTILE})
    await web.post(f"/admin/plan/actions/{action_id}/jalons",
                   data={"csrf": token, "date": "2027-01-01", "titre": HOSTILE[:190],
                         "texte": HOSTILE})
    for path in ("/admin/plan", f"/admin/plan/actions/{action_id}"):
        page = await (await web.get(path)).text()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page and "{{7*7}}" in page


async def test_a_write_without_its_csrf_token_is_refused_and_stores_nothing(as_role, db):
    web = await as_role("official")
    action_id = await _create(web)
    for path, data in (("/admin/plan/actions", {"titre": "Sans jeton"}),
                       (f"/admin/plan/actions/{action_id}/commentaires", {"texte": "x"}),
                       (f"/admin/plan/actions/{action_id}", {"titre": "Changé"}),
                       (f"/admin/plan/actions/{action_id}/jalons",
                        {"date": "2027-01-01", "titre": "x"})):
        for token in (None, "faux"):
            sent = data if token is None else {**data, "csrf": token}
            assert (await web.post(path, data=sent)).status == 403, path
    async with db.read() as tx:
        assert await tx.scalar(select(func.count()).select_from(Action)) == 1
        assert await tx.scalar(select(func.count()).select_from(ActionComment)) == 0
        assert (await plan.action(tx, action_id)).title == "Plus de TER le soir"


async def test_an_unknown_action_is_404(as_role):
    web = await as_role("association")
    for path in ("/admin/plan/actions/999", "/admin/plan/actions/abc",
                 "/admin/plan/actions/99999999999"):
        assert (await web.get(path)).status == 404


async def test_the_plan_is_a_page_of_everyone_who_may_see_it(as_role, db):
    async with db.transaction() as tx:
        await plan.create(tx, plan.Fields("Existe déjà", consultation_id="mobilite"), "o", NOW)
    web = await as_role("association")
    page = await (await web.get("/admin/plan")).text()
    assert "Existe déjà" in page and "Proposer une action" in page
    assert "Ajouter l'action" not in page and "/admin/plan/import" not in page
