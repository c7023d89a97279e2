"""Question pages: closed questions counted per choice, open ones by theme with their
answers, paginated; hostile answers stay inert."""

import re
from datetime import timedelta

import pytest

from storage import answer_queries, labels
from storage.answer_queries import AnswerFilter
from tests.admin.conftest import NOW
from tests.admin.seed import add_session

BASE = "/admin/consultations/mobilite/questions"


def row(body: str, header: str) -> str:
    start = body.index(f'<th scope="row">{header}</th>')
    return body[start:body.index("</tr>", start)]


async def answered(db, *answers, **session):
    await add_session(db, answers=tuple(answers), **session)


@pytest.mark.parametrize(("question", "values", "expected"), [
    ("priorite", ["prix", "prix", "velo", None],
     {"Des prix plus bas": ("2", "66,7"), "Plus de pistes cyclables": ("1", "33,3"),
      "Moins de retards": ("0", "0,0")}),
    ("modes", [["train", "velo"], ["train"], ["voiture"], []],
     {"Le train (TER)": ("2", "66,7"), "Le vélo": ("1", "33,3"), "La voiture": ("1", "33,3")}),
    ("retour", [True, True, False, True],
     {"Oui": ("3", "75,0"), "Non": ("1", "25,0")}),
    ("note_ter", [5, 4, 4, 1],
     {"4": ("2", "50,0"), "5": ("1", "25,0"), "1": ("1", "25,0"), "2": ("0", "0,0")}),
])
async def test_closed_questions_count_each_value(as_role, db, question, values, expected):
    for value in values:
        await answered(db, {"question": question, "value": value, "text": str(value)})
    web = await as_role("official")
    response = await web.get(f"{BASE}/{question}")
    assert response.status == 200
    body = await response.text()
    for label, (count, percent) in expected.items():
        line = row(body, label)
        assert f'"nombre">{count}<' in line, label
        assert f"{percent}\u00a0%" in line, label
    assert body.count('role="img"') == 1
    assert body.index("</figure>") < body.index("<table>")


async def test_closed_counts_follow_the_filters(as_role, db):
    await answered(db, {"question": "priorite", "value": "prix"}, territory="80")
    await answered(db, {"question": "priorite", "value": "prix"}, territory="59")
    await answered(db, {"question": "priorite", "value": "velo"}, territory="80",
                   channel="sms")
    web = await as_role("official")
    body = await (await web.get(f"{BASE}/priorite?territoire=80")).text()
    assert '"nombre">1<' in row(body, "Des prix plus bas")
    assert "50,0\u00a0%" in row(body, "Des prix plus bas")
    body = await (await web.get(f"{BASE}/priorite?territoire=80&canal=sms")).text()
    assert '"nombre">0<' in row(body, "Des prix plus bas")
    assert "100,0\u00a0%" in row(body, "Plus de pistes cyclables")


async def seed_open(db, association_id=None):
    themes = ["prix"] * 3 + ["fiabilite"] * 2 + [None]
    for index, theme in enumerate(themes):
        await answered(db, {"question": "probleme", "text": f"réponse {index}",
                            "theme": theme, "score": 0.5 + index / 20,
                            "at": NOW - timedelta(days=index * 3)},
                       territory="80" if index % 2 else "62",
                       association_id=association_id if index < 2 else None)


async def test_open_questions_show_themes_with_share_and_trend(as_role, db, relais):
    relais.clock = lambda: NOW + timedelta(hours=1)
    await seed_open(db)
    web = await as_role("official")
    body = await (await web.get(f"{BASE}/probleme")).text()
    prix = row(body, "Prix et tarifs")  # answered 0, 3 and 6 days ago
    # Three answers in a first week are no trend: nothing says "en hausse".
    assert '"nombre">3<' in prix and "50,0\u00a0%" in prix and "trop peu de réponses" in prix
    fiabilite = row(body, "Retards et suppressions")  # 9 and 12 days ago
    assert '"nombre">2<' in fiabilite and "trop peu de réponses" in fiabilite
    assert '"nombre">1<' in row(body, "Pas encore classées")
    assert "6 réponses" in body and "en hausse" not in body


@pytest.mark.parametrize(("last_week", "week_before", "said"), [
    (15, 6, "en hausse (+9)"), (4, 16, "en baisse (−12)"), (10, 10, "stable"),
    (16, 3, "trop peu de réponses"),  # fewer than 5 the week before
    (12, 7, "trop peu de réponses"),  # fewer than 20 over the two weeks
])
async def test_a_trend_is_said_only_on_enough_answers(as_role, db, relais, last_week,
                                                     week_before, said):
    relais.clock = lambda: NOW + timedelta(hours=1)
    for days, count in ((1, last_week), (10, week_before)):
        for index in range(count):
            await answered(db, {"question": "probleme", "text": f"réponse {days}-{index}",
                                "theme": "prix", "score": 0.8,
                                "at": NOW - timedelta(days=days)})
    web = await as_role("official")
    body = await (await web.get(f"{BASE}/probleme")).text()
    assert said in row(body, "Prix et tarifs")


async def test_an_answer_with_several_themes_counts_in_each(as_role, db):
    await answered(db, {"question": "probleme", "text": "cher et en retard", "theme": "prix",
                        "themes": ["prix", "fiabilite"], "score": 0.6})
    await answered(db, {"question": "probleme", "text": "trop cher", "theme": "prix",
                        "score": 0.9})
    web = await as_role("official")
    body = await (await web.get(f"{BASE}/probleme")).text()
    assert '"nombre">2<' in row(body, "Prix et tarifs") and "100,0" in row(body, "Prix et tarifs")
    assert '"nombre">1<' in row(body, "Retards et suppressions")
    assert "2 réponses." in body and "leur somme dépasse ici 100" in body
    assert "Prix et tarifs + Retards et suppressions" in body  # the answer's two themes
    only = await (await web.get(f"{BASE}/probleme?theme=fiabilite")).text()
    assert "cher et en retard" in only and "trop cher<" not in only


async def test_theme_summaries_show_terms_and_redacted_examples(as_role, db):
    await seed_open(db)
    async with db.read() as tx:
        first = (await answer_queries.page(tx, AnswerFilter("mobilite", "probleme",
                                                            themes=("prix",)),
                                           offset=0, limit=1))[0]
    async with db.transaction() as tx:
        await labels.save_summaries(tx, "mobilite", "v1", {
            ("probleme", "prix"): (3, [["billet", 12], ["abonnement", 7]], [first.id])}, NOW)
    web = await as_role("official")
    body = await (await web.get(f"{BASE}/probleme")).text()
    assert "<bdi>billet</bdi> (12)" in body
    assert f'<blockquote class="citation">{first.text}</blockquote>' in body
    assert 'href="?theme=prix#reponses"' in body


async def test_the_answer_list_shows_redacted_text_theme_and_facts(as_role, db, association):
    await answered(db, {"question": "probleme", "text": "Appelez Jean au 0612345678",
                        "redacted": "Appelez [NOM] au [TÉLÉPHONE]", "theme": "prix",
                        "score": 0.42}, territory="80", channel="sms",
                   association_id=association.id)
    await answered(db, {"question": "probleme", "text": "Mon voisin Paul Martin", "redacted": None})
    web = await as_role("official")
    body = await (await web.get(f"{BASE}/probleme")).text()
    assert "Appelez [NOM] au [TÉLÉPHONE]" in body
    assert "0612345678" not in body and "Paul Martin" not in body
    assert "en attente d'anonymisation" in body
    line = body[body.index("Appelez [NOM]"):]
    line = line[:line.index("</tr>")]
    for fact in ("Prix et tarifs", "42,0\u00a0%", "modèle", "Somme", "Les Amis du Vélo", "SMS",
                 "20/11/2026 11:00"):
        assert fact in line, fact
    assert 'href="/admin/consultations/mobilite/revue"' in body
    assert 'href="/admin/consultations/mobilite/exports/reponses.csv?question=probleme"' in body


async def test_pagination_keeps_the_filters(as_role, db):
    for index in range(120):
        await answered(db, {"question": "probleme", "text": f"avis n°{index:03d}",
                            "theme": "prix" if index % 2 else "velo", "score": 0.9},
                       territory="80")
    web = await as_role("official")
    first = await (await web.get(f"{BASE}/probleme?territoire=80&theme=prix")).text()
    assert "60 réponses, page 1 sur 2." in first
    assert "avis n°119" in first and "avis n°021" in first and "avis n°019" not in first
    assert 'href="?territoire=80&amp;theme=prix&amp;page=2#reponses"' in first
    assert "Page précédente" not in first
    second = await (await web.get(f"{BASE}/probleme?territoire=80&theme=prix&page=2")).text()
    assert "avis n°019" in second and "avis n°001" in second and "avis n°021" not in second
    assert len(re.findall(r'class="reponse"', second)) == 10
    assert 'href="?territoire=80&amp;theme=prix&amp;page=1#reponses"' in second
    assert "Page suivante" not in second
    assert "exports/reponses.csv?territoire=80&amp;theme=prix&amp;question=probleme" in second


async def test_a_page_past_the_last_says_so(as_role, db):
    await seed_open(db)
    web = await as_role("official")
    response = await web.get(f"{BASE}/probleme?page=7")
    assert response.status == 200
    body = await response.text()
    assert "Cette page n'existe pas : la dernière est la page 1." in body
    assert 'class="reponse"' not in body


HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "{{7*7}}",
           "{% raw %}", "\u202eevil\u202c", "' OR 1=1 --", "%", "100% </td></tr><b>x"]


async def test_hostile_answers_render_as_text(as_role, db):
    for text in HOSTILE:
        await answered(db, {"question": "probleme", "text": text, "theme": "prix",
                            "score": 0.7})
    web = await as_role("official")
    response = await web.get(f"{BASE}/probleme")
    body = await response.text()
    assert response.status == 200
    assert "<script>" not in body and "<img" not in body and "<b>x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "{{7*7}}" in body and "49" not in body.split("Réponses")[-1].split("</table>")[0]
    assert "{% raw %}" in body
    assert "&#39; OR 1=1 --" in body
    assert '<span class="reponse">\u202eevil\u202c</span>' in body
    assert "9 réponses" not in body and "8 réponses" in body


async def test_a_question_list_counts_answers(as_role, db):
    await seed_open(db)
    web = await as_role("official")
    body = await (await web.get(BASE)).text()
    line = row(body, '<a href="/admin/consultations/mobilite/questions/probleme">'
                     "Quel est le plus gros problème dans vos trajets de tous les jours ? "
                     "Expliquez avec vos mots.</a>")
    assert '"nombre">6<' in line


async def test_an_unknown_question_is_404(as_role):
    web = await as_role("official")
    assert (await web.get(f"{BASE}/inconnue")).status == 404
