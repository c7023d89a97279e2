"""Officials pin quotes and set answers aside: reversible, audited, for officials only, and
shown where they count (question page, bilan)."""

import pytest
from sqlalchemy import select

from storage import conversations
from storage.tables import Answer, AuditEntry, PinnedQuote
from tests.admin.conftest import form_token
from tests.admin.seed import add_session

QUESTION = "/admin/consultations/mobilite/questions/probleme"
ANSWERS = "/admin/consultations/mobilite/reponses"


async def answer(db, text: str, theme: str | None = "prix", question: str = "probleme",
                 consultation: str = "mobilite", **extra) -> int:
    session_id = await add_session(db, consultation=consultation, answers=(
        {"question": question, "text": text, "theme": theme, "score": 0.7, **extra},))
    async with db.read() as tx:
        return await conversations.answer_id(tx, session_id, question)


async def actions(db) -> list[tuple[str, str]]:
    async with db.read() as tx:
        rows = await tx.scalars(select(AuditEntry).where(
            AuditEntry.action.startswith("quote.") | AuditEntry.action.startswith("answer."))
            .order_by(AuditEntry.id))
        return [(e.action, e.target) for e in rows]


async def test_an_official_pins_and_unpins_a_quote(as_role, db):
    chosen = await answer(db, "Le TER coûte 40 euros l'aller-retour, c'est trop pour un smicard")
    web = await as_role("official")
    token = await form_token(web, QUESTION)
    response = await web.post(f"{ANSWERS}/{chosen}/epingler", allow_redirects=False, data={
        "csrf": token, "theme": "prix", "retour": "?territoire=80"})
    assert response.status == 303
    assert response.headers["Location"] == f"{QUESTION}?territoire=80#reponses"
    page = await (await web.get(QUESTION)).text()
    assert '<span class="etiquette">citation choisie</span> Le TER coûte 40 euros' in page
    assert "Retirer des citations" in page
    await web.post(f"{ANSWERS}/{chosen}/epingler", data={"csrf": token, "theme": "prix",
                                                         "retirer": "1"})
    assert "citation choisie</span>" not in await (await web.get(QUESTION)).text()
    assert await actions(db) == [("quote.pinned", f"reponse:{chosen}"),
                                 ("quote.unpinned", f"reponse:{chosen}")]


async def test_an_answer_set_aside_leaves_counts_and_quotes_and_comes_back(as_role, db):
    kept = await answer(db, "Les trains sont trop chers pour les familles")
    test = await answer(db, "test test")
    web = await as_role("official")
    token = await form_token(web, QUESTION)
    await web.post(f"{ANSWERS}/{test}/epingler", data={"csrf": token, "theme": "prix"})
    response = await web.post(f"{ANSWERS}/{test}/ecarter", allow_redirects=False,
                              data={"csrf": token, "motif": "test"})
    assert response.status == 303
    page = await (await web.get(QUESTION)).text()
    assert "1 réponse." in page and "test test" not in page
    async with db.read() as tx:  # a quote set aside is no quote any more
        assert list(await tx.scalars(select(PinnedQuote))) == []
    shown = await (await web.get(QUESTION + "?ecartees=1")).text()
    assert "2 réponses." in shown and "écartée : message de test" in shown
    assert "Rétablir" in shown
    await web.post(f"{ANSWERS}/{test}/ecarter", data={"csrf": token, "motif": ""})
    assert "2 réponses." in await (await web.get(QUESTION)).text()
    async with db.read() as tx:
        row = await tx.get(Answer, test)
    assert (row.excluded, row.excluded_by) == (None, None)
    assert [a for a, _ in await actions(db)] == ["quote.pinned", "answer.set_aside",
                                                "answer.restored"]
    assert kept


@pytest.mark.parametrize(("path", "form", "status"), [
    ("{a}/epingler", {"theme": "inconnu"}, 400),
    ("{a}/epingler", {"theme": "velo"}, 409),  # not one of the answer's themes
    ("{a}/ecarter", {"motif": "moche"}, 400),
    ("999999/epingler", {"theme": "prix"}, 404),
    ("{other}/epingler", {"theme": "prix"}, 404),  # another consultation's answer
    ("{closed}/ecarter", {"motif": "test"}, 404),  # a closed question's answer
    ("\u00b2/ecarter", {"motif": "test"}, 404),
    ("\u0663/ecarter", {"motif": "test"}, 404),
    ("99999999999999999999999/ecarter", {"motif": "test"}, 404),
])
async def test_bad_requests_change_nothing(as_role, db, path, form, status):
    mine = await answer(db, "trop cher")
    other = await answer(db, "pas de stage", consultation="jeunesse", question="besoin")
    closed = await answer(db, "1", theme=None, question="priorite", value="prix")
    web = await as_role("official")
    token = await form_token(web, QUESTION)
    url = f"{ANSWERS}/{path.format(a=mine, other=other, closed=closed)}"
    response = await web.post(url, data={"csrf": token, **form}, allow_redirects=False)
    assert response.status == status, await response.text()
    assert await actions(db) == []
    async with db.read() as tx:
        assert {a.excluded for a in await tx.scalars(select(Answer))} == {None}


async def test_a_hostile_return_address_stays_on_the_page(as_role, db):
    mine = await answer(db, "trop cher")
    web = await as_role("official")
    token = await form_token(web, QUESTION)
    for sent in ("https://evil.example/", "//evil.example", "?a=1\r\nSet-Cookie: x=1"):
        response = await web.post(f"{ANSWERS}/{mine}/ecarter", allow_redirects=False,
                                  data={"csrf": token, "motif": "", "retour": sent})
        assert response.headers["Location"] == f"{QUESTION}#reponses"


@pytest.mark.parametrize("role", ["association", "admin"])
async def test_only_officials_curate(as_role, db, role):
    mine = await answer(db, "trop cher")
    web = await as_role(role)
    token = await form_token(web, "/admin/")
    for path, form in (("epingler", {"theme": "prix"}), ("ecarter", {"motif": "test"})):
        response = await web.post(f"{ANSWERS}/{mine}/{path}", data={"csrf": token, **form})
        assert response.status == 403
    assert await actions(db) == []


async def test_without_its_token_a_form_is_refused(as_role, db):
    mine = await answer(db, "trop cher")
    web = await as_role("official")
    response = await web.post(f"{ANSWERS}/{mine}/ecarter", data={"motif": "test"})
    assert response.status == 403
    assert await actions(db) == []
