"""Text search in answers: every word, accents and case aside, combined with the other filters,
on both databases; the search reads redacted text only."""

from html import unescape

import pytest

from storage import conversations, labels
from tests.admin.seed import add_session

URL = "/admin/consultations/mobilite/questions/probleme"
ANSWERS = [
    ("Le TER est trop cher pour aller à Amiens", "80"),
    ("Les trains sont toujours en RETARD le matin", "59"),
    ("Un abonnement moins cher pour les étudiants", "80"),
    ("La gare d'Abbeville n'a pas d'ascenseur", "80"),
    ("Appelez Jean Dupont au 06 12 34 56 78, il connait bien la ligne", "62"),
]


@pytest.fixture
async def seeded(db):
    for text, territory in ANSWERS:
        session_id = await add_session(db, territory=territory, answers=(
            {"question": "probleme", "text": text, "redacted": None},))
        async with db.transaction() as tx:
            answer_id = await conversations.answer_id(tx, session_id, "probleme")
            redacted = text.replace("Jean Dupont", "[personne]").replace(
                "06 12 34 56 78", "[téléphone]")
            # As the worker stores it: the redacted text and its folded copy for search.
            await labels.set_redacted(tx, [(answer_id, redacted)])


def shown(body: str) -> set[str]:
    return {text for text, _ in ANSWERS if text[:20] in unescape(body)}


@pytest.mark.parametrize(("query", "expected"), [
    ("cher", {0, 2}),
    ("CHER amiens", {0}),
    ("etudiant", {2}),  # no accent typed, start of "étudiants"
    ("ÉTUDIANTS", {2}),
    ("retard matin", {1}),
    ("abbeville ascenseur", {3}),
    ("bus", set()),
    ("jean", set()),  # the name was redacted: searching cannot find it
    ("06", set()),
    ("cher&territoire=80", {0, 2}),
    ("cher&territoire=59", set()),
])
async def test_search_finds_every_word_without_accents_or_case(as_role, seeded, query,
                                                              expected):
    web = await as_role("official")
    q, _, rest = query.partition("&")
    response = await web.get(f"{URL}?q={q}" + (f"&{rest}" if rest else ""))
    assert response.status == 200
    body = await response.text()
    listed = body[body.index('id="reponses"'):]
    assert shown(listed) == {ANSWERS[i][0] for i in expected}
    assert f'name="q" type="search" maxlength="200" value="{q}"' in body


async def test_a_hostile_or_too_long_search_is_answered_plainly(as_role, seeded):
    web = await as_role("official")
    for query in ('"cher" OR *', "NEAR(cher retard)", "cher)", "'; DROP TABLE answers; --"):
        response = await web.get(URL, params={"q": query})
        assert response.status == 200, query
    assert "&#34;cher&#34; OR *" in await (await web.get(URL, params={"q": '"cher" OR *'})).text()
    too_long = await web.get(URL, params={"q": "a" * 201})
    assert too_long.status == 400 and "Recherche trop longue" in await too_long.text()
