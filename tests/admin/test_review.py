"""The review queue: officials confirm or correct themes, blind double readings, agreement."""

import re

import pytest
from sqlalchemy import select

from admin.indicators import agree
from storage import conversations, labels
from storage.tables import Answer, AuditEntry
from tests.admin.conftest import NOW, form_token
from tests.admin.seed import add_session

QUEUE = "/admin/consultations/mobilite/revue"
MODEL = "modele-test"


async def answer(db, text: str, theme: str | None = None, score: float | None = None,
                 consultation: str = "mobilite", question: str = "probleme",
                 also: tuple[tuple[str, float], ...] = ()) -> int:
    """Stores a free-text answer with the model's theme (and `also` others); returns its id."""
    session_id = await add_session(db, consultation=consultation, answers=(
        {"question": question, "text": text, "redacted": text},))
    async with db.transaction() as tx:
        answer_id = await conversations.answer_id(tx, session_id, question)
        if theme is not None:
            await labels.record_model_labels(tx, [(answer_id, [(theme, score), *also])],
                                             MODEL, NOW)
    return answer_id


def checked(page: str) -> list[str]:
    """Returns the names of the check boxes and radio buttons ticked on a page."""
    return re.findall(r'<input type="(?:checkbox|radio)" name="([^"]+)"[^>]* checked', page)


async def row(db, answer_id: int) -> Answer:
    async with db.read() as tx:
        return await tx.get(Answer, answer_id)


async def audit_rows(db, action_prefix: str = "theme.") -> list[AuditEntry]:
    async with db.read() as tx:
        return list(await tx.scalars(select(AuditEntry).where(
            AuditEntry.action.startswith(action_prefix)).order_by(AuditEntry.id)))


async def test_disputed_then_least_sure_answers_come_first_and_nothing_is_ticked(as_role, db):
    sure = await answer(db, "Le TER est trop cher", "prix", 0.95)
    unsure = await answer(db, "bof les trains", "fiabilite", 0.31)
    middling = await answer(db, "pas de car le dimanche", "frequence_horaires", 0.55)
    other = await answer(db, "je ne sais pas quoi dire", "autre", 0.9)
    await answer(db, "pas encore classée")  # no theme yet: nothing to review
    doubtful = await answer(db, "euh", "autre", 0.8)
    confirmed = await answer(db, "trop cher le train", "prix", 0.2)
    disputed = await answer(db, "des trains le soir svp", "confort_securite", 0.97)
    async with db.transaction() as tx:  # participants said yes to "autre" and to "prix"
        await labels.record_person_label(tx, doubtful, "autre", "participant", None, NOW)
        await labels.record_person_label(tx, confirmed, "prix", "participant", None, NOW)
        # …and no to "confort et sécurité"
        await labels.record_person_label(tx, disputed, "confort_securite", "participant",
                                         None, NOW, negative=True)
    web = await as_role("official")
    page = await (await web.get(QUEUE)).text()
    order = [m for m in re.findall(r'name="theme-(\d+)"', page)]
    assert list(dict.fromkeys(map(int, order))) == \
        [disputed, doubtful, unsure, middling, other, sure]
    assert checked(page) == []  # no guess is ever pre-selected
    assert "Le participant n'est pas d'accord" in page
    assert "ce n'est pas « Confort et sécurité »" in page
    assert f'name="valider-{unsure}" value="fiabilite"' in page
    assert "confiance 31,0" in page and "Rien n'est coché d'avance" in page
    # The participant's no took the model's theme off the answer.
    assert (await row(db, disputed)).theme is None


async def test_only_what_the_official_chose_is_saved(as_role, db):
    """Ten answers on a page, six corrected, one validated, three untouched: seven saved."""
    ids = [await answer(db, f"réponse numéro {n}", "prix", 0.47 + n / 100) for n in range(10)]
    web = await as_role("official")
    page = await (await web.get(QUEUE)).text()
    assert all(f'name="theme-{i}"' in page for i in ids)
    token = await form_token(web, QUEUE)
    form = {"csrf": token, f"valider-{ids[6]}": "prix"}
    form.update({f"theme-{i}": "velo" for i in ids[:6]})
    response = await web.post(QUEUE, data=form, allow_redirects=False)
    assert response.headers["Location"].endswith("revue?enregistres=7")
    for i in ids[:6]:
        assert ((await row(db, i)).theme, (await row(db, i)).theme_source) == ("velo", "official")
    assert ((await row(db, ids[6])).theme, (await row(db, ids[6])).theme_source) == \
        ("prix", "official")
    for i in ids[7:]:
        assert (await row(db, i)).theme_source == "model"
    async with db.read() as tx:
        taught = await labels.training_rows(tx, "mobilite")
    assert sorted(theme for _, theme in taught) == ["prix"] + ["velo"] * 6


async def test_an_official_can_give_several_themes_and_validate_two(as_role, db):
    two = await answer(db, "trop cher et toujours en retard", "prix", 0.6,
                       also=(("fiabilite", 0.4),))
    three = await answer(db, "pas de piste cyclable ni de car dans mon village", "velo", 0.5)
    web = await as_role("official")
    page = await (await web.get(QUEUE)).text()
    assert f'name="valider-{two}" value="prix|fiabilite"' in page
    assert "Prix et tarifs + Retards et suppressions" in page
    token = await form_token(web, QUEUE)
    response = await web.post(QUEUE, data=[
        ("csrf", token), (f"valider-{two}", "prix|fiabilite"),
        (f"theme-{three}", "velo"), (f"theme-{three}", "desserte_rurale")])
    assert "2 réponses enregistrées" in await response.text()
    async with db.read() as tx:
        themes = await labels.themes_of_answers(tx, [two, three])
        taught = await labels.training_rows(tx, "mobilite")
    assert themes == {two: ["prix", "fiabilite"], three: ["desserte_rurale", "velo"]} or \
        themes == {two: ["prix", "fiabilite"], three: ["velo", "desserte_rurale"]}
    assert sorted(t for _, t in taught) == ["desserte_rurale", "fiabilite", "prix", "velo"]
    entries = await audit_rows(db)
    assert entries[0].details["before"] == ["prix", "fiabilite"]
    assert entries[0].action == "theme.confirmed"


async def test_an_answer_can_be_set_aside_from_the_queue(as_role, db):
    test = await answer(db, "test test 123", "autre", 0.3)
    web = await as_role("official")
    token = await form_token(web, QUEUE)
    response = await web.post(QUEUE, data={"csrf": token, f"ecarter-{test}": "test"},
                              allow_redirects=False)
    assert response.headers["Location"].endswith("enregistres=1")
    stored = await row(db, test)
    assert (stored.excluded, stored.excluded_by) == ("test", "official:official@region.example.fr")
    assert [e.action for e in await audit_rows(db, "answer.")] == ["answer.set_aside"]
    assert f"theme-{test}" not in await (await web.get(QUEUE)).text()


async def test_confirming_and_changing_themes_teach_the_model_and_are_audited(as_role, db):
    confirmed = await answer(db, "Le TER est trop cher", "prix", 0.4)
    changed = await answer(db, "plus de pistes", "prix", 0.3)
    skipped = await answer(db, "je passe", "autre", 0.2)
    web = await as_role("official")
    token = await form_token(web, QUEUE)
    response = await web.post(QUEUE, data={
        "csrf": token, f"valider-{confirmed}": "prix", f"theme-{changed}": "velo",
        f"ecarter-{skipped}": ""}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].endswith("revue?enregistres=2")
    for answer_id, theme in ((confirmed, "prix"), (changed, "velo")):
        stored = await row(db, answer_id)
        assert (stored.theme, stored.theme_source, stored.theme_score) == \
            (theme, "official", None)
    assert (await row(db, skipped)).theme_source == "model"
    entries = await audit_rows(db)
    assert [(e.action, e.target, e.actor) for e in entries] == [
        ("theme.confirmed", f"reponse:{confirmed}", "official:official@region.example.fr"),
        ("theme.changed", f"reponse:{changed}", "official:official@region.example.fr")]
    assert entries[1].details == {"consultation": "mobilite", "before": ["prix"],
                                  "after": ["velo"]}
    async with db.read() as tx:
        taught = await labels.training_rows(tx, "mobilite")
    assert sorted(theme for _, theme in taught) == ["prix", "velo"]
    page = await (await web.get(QUEUE)).text()
    assert f"theme-{confirmed}" not in page and f"theme-{skipped}" in page


@pytest.mark.parametrize(("case", "status"), [
    ("other_consultation", 404), ("missing_answer", 404), ("closed_question", 404),
    ("unknown_theme", 400), ("bad_answer_id", 400), ("arabic_indic_digit", 400),
    ("superscript_digit", 400), ("huge_id", 400), ("past_integer_column", 400),
    ("unknown_reason", 400),
    ("validated_unknown_theme", 400)])
async def test_bad_labels_are_refused_and_nothing_is_written(as_role, db, case, status):
    good = await answer(db, "trop cher", "prix", 0.4)
    elsewhere = await answer(db, "rien pour les jeunes", "prix", 0.4, consultation="jeunesse",
                             question="besoin")
    closed = await answer(db, "1", consultation="mobilite", question="priorite")
    form = {"other_consultation": {f"theme-{elsewhere}": "prix"},
            "missing_answer": {"theme-999999": "prix"},
            "closed_question": {f"theme-{closed}": "prix"},
            "unknown_theme": {f"theme-{good}": "inconnu"},
            "bad_answer_id": {"theme-12a": "prix"},
            "arabic_indic_digit": {"theme-\u0663": "prix"},
            "superscript_digit": {"theme-\u00b2": "prix"},
            "huge_id": {"theme-" + "9" * 24: "prix"},
            "past_integer_column": {"theme-9999999999": "prix"},
            "unknown_reason": {f"ecarter-{good}": "pas_beau"},
            "validated_unknown_theme": {f"valider-{good}": "prix|inconnu"}}[case]
    web = await as_role("official")
    token = await form_token(web, QUEUE)
    response = await web.post(QUEUE, data={"csrf": token, f"theme-{good}": "velo", **form},
                              allow_redirects=False)
    assert response.status == status
    assert (await row(db, good)).theme == "prix"
    assert (await row(db, good)).excluded is None
    assert (await row(db, elsewhere)).theme_source == "model"
    assert (await row(db, closed)).theme is None
    assert await audit_rows(db) == []


async def test_a_form_without_its_token_is_refused(as_role, db):
    answer_id = await answer(db, "trop cher", "prix", 0.4)
    web = await as_role("official")
    response = await web.post(QUEUE, data={f"theme-{answer_id}": "velo"})
    assert response.status == 403
    assert (await row(db, answer_id)).theme_source == "model"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_associations_cannot_review(as_role, db, method):
    answer_id = await answer(db, "trop cher", "prix", 0.4)
    web = await as_role("association")
    if method == "GET":
        response = await web.get(QUEUE)
    else:
        token = await form_token(web, "/admin/")
        response = await web.post(QUEUE, data={"csrf": token, f"theme-{answer_id}": "velo"})
    assert response.status == 403
    assert (await row(db, answer_id)).theme_source == "model"


async def test_an_unknown_consultation_is_404(as_role):
    web = await as_role("official")
    assert (await web.get("/admin/consultations/inconnue/revue")).status == 404


async def test_double_reading_hides_the_other_officials_choice(as_role, db):
    read = await answer(db, "les cars ne passent jamais", "fiabilite", 0.9)
    unread = await answer(db, "trop cher", "prix", 0.2)
    async with db.transaction() as tx:
        await labels.record_person_label(tx, read, "desserte_rurale", "official",
                                         actor="official:autre@region.example.fr", at=NOW)
    web = await as_role("official")
    page = await (await web.get(QUEUE + "?mode=double")).text()
    assert f'name="theme-{read}"' in page and f'name="theme-{unread}"' not in page
    assert checked(page) == [] and f"valider-{read}" not in page
    assert "proposé" not in page  # neither the model's nor the colleague's theme
    # The first reading settled the theme: the plain queue no longer offers it.
    assert f'name="theme-{read}"' not in await (await web.get(QUEUE)).text()

    token = await form_token(web, QUEUE + "?mode=double")
    response = await web.post(QUEUE, data={"csrf": token, "mode": "double",
                                           f"theme-{read}": "fiabilite"})
    page = await response.text()
    assert response.url.query.get("mode") == "double"
    assert "1 réponse enregistrée" in page
    assert "Aucune réponse ne vous attend en double lecture" in page
    assert "0,0\u00a0% (0 / 1)" in page  # share of agreement: the two officials disagreed


@pytest.mark.parametrize(("pairs", "share", "kappa"), [
    # 50 answers, yes/no: 20 both yes, 5 yes/no, 10 no/yes, 15 both no (the textbook case).
    ([("oui", "oui")] * 20 + [("oui", "non")] * 5 + [("non", "oui")] * 10
     + [("non", "non")] * 15, 0.7, 0.4),
    # 10 answers, three themes: 8 agree; first reader 5/3/2, second 4/3/3; chance 0.35.
    ([("prix", "prix")] * 3 + [("prix", "velo")] + [("velo", "velo")] * 2
     + [("velo", "autre")] + [("autre", "autre")] * 2 + [("prix", "prix")], 0.8, 0.45 / 0.65),
    ([("prix", "prix")] * 4, 1.0, None),  # one theme only: kappa undefined
    ([], None, None),
])
def test_agreement_and_cohens_kappa(pairs, share, kappa):
    result = agree(pairs)
    assert result.answers == len(pairs)
    assert result.share == (pytest.approx(share) if share is not None else None)
    assert result.kappa == (pytest.approx(kappa) if kappa is not None else None)


async def test_the_queue_page_shows_agreement_between_officials(as_role, db):
    ids = [await answer(db, f"réponse {n}", "prix", 0.5) for n in range(4)]
    first, second = "official:a@region.example.fr", "official:b@region.example.fr"
    themes = [("prix", "prix"), ("velo", "velo"), ("prix", "velo"), ("autre", "autre")]
    async with db.transaction() as tx:
        for answer_id, (a, b) in zip(ids, themes, strict=True):
            await labels.record_person_label(tx, answer_id, a, "official", first, NOW)
            await labels.record_person_label(tx, answer_id, b, "official", second, NOW)
    web = await as_role("official")
    page = await (await web.get(QUEUE)).text()
    # 3 of 4 agree; first reader prix 2, velo 1, autre 1; second prix 1, velo 2, autre 1:
    # chance (2·1 + 1·2 + 1·1) / 16 = 5/16, kappa (0.75 − 0.3125) / 0.6875 = 0.64.
    assert "75,0" in page and "(3 / 4)" in page
    assert ">0,64<" in page
    assert "Kappa de Cohen" in page and "hasard" in page


async def test_hostile_answers_are_inert_in_the_queue(as_role, db):
    await answer(db, '<script>alert(1)</script><img src=x onerror=alert(2)> {{ 7*7 }}', "autre",
                 0.1)
    web = await as_role("official")
    page = await (await web.get(QUEUE)).text()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "{{ 7*7 }}" in page
