"""Filters of the question page: they combine, apply to the theme counts and the answers,
stay in the URL and the form, and refuse values that make no sense."""

from datetime import timedelta

import pytest

from tests.admin.conftest import NOW
from tests.admin.seed import add_session

URL = "/admin/consultations/mobilite/questions/probleme"

# (text, theme, score, territory, channel, with the association, days before NOW)
ANSWERS = [
    ("alpha", "prix", 0.95, "80", "sms", True, 0),
    ("bravo", "prix", 0.40, "80", "telegram", True, 2),
    ("charlie", "prix", 0.90, "59", "sms", False, 5),
    ("delta", "velo", 0.85, "80", "sms", True, 0),
    ("echo", "velo", 0.30, "02", "web", False, 20),
    ("foxtrot", None, None, None, "sms", False, 1),
]


@pytest.fixture
async def seeded(db, association):
    for text, theme, score, territory, channel, relayed, days in ANSWERS:
        await add_session(db, territory=territory, channel=channel,
                          association_id=association.id if relayed else None,
                          started_at=NOW - timedelta(days=days),
                          answers=({"question": "probleme", "text": text, "theme": theme,
                                    "score": score},))
    return association


def shown(body: str) -> set[str]:
    """Returns the answers listed on a page."""
    return {text for text, *_ in ANSWERS if f'<span class="reponse">{text}</span>' in body}


@pytest.mark.parametrize(("query", "expected"), [
    # "echo" came through the web simulator: a trial, counted only when asked for.
    ("", {"alpha", "bravo", "charlie", "delta", "foxtrot"}),
    ("essais=1", {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}),
    ("canal=web", {"echo"}),
    ("essais=1&confiance_max=50", {"bravo", "echo"}),
    ("theme=prix", {"alpha", "bravo", "charlie"}),
    ("territoire=80", {"alpha", "bravo", "delta"}),
    ("canal=sms", {"alpha", "charlie", "delta", "foxtrot"}),
    ("association={a}", {"alpha", "bravo", "delta"}),
    ("confiance_min=80", {"alpha", "charlie", "delta"}),
    ("confiance_max=50", {"bravo"}),
    ("confiance_min=80&confiance_max=92,5", {"charlie", "delta"}),
    ("du=2026-11-18", {"alpha", "bravo", "delta", "foxtrot"}),
    ("au=2026-11-15", {"charlie"}),
    ("du=2026-11-18&au=2026-11-19", {"bravo", "foxtrot"}),
    ("theme=prix&territoire=80&canal=sms", {"alpha"}),
    ("theme=prix&theme=velo&territoire=80", {"alpha", "bravo", "delta"}),
    ("territoire=80&association={a}&canal=telegram&confiance_max=50", {"bravo"}),
    ("theme=velo&territoire=59", set()),
])
async def test_filters_combine(as_role, seeded, query, expected):
    web = await as_role("official")
    response = await web.get(f"{URL}?{query.format(a=seeded.id)}")
    assert response.status == 200
    body = await response.text()
    assert shown(body) == expected
    if expected:
        noun = "réponse" if len(expected) == 1 else "réponses"
        assert f"{len(expected)} {noun}, page 1 sur 1." in body
    else:
        assert "Aucune réponse ne correspond à ces filtres." in body


async def test_filters_apply_to_theme_counts_and_stay_in_the_form(as_role, seeded):
    web = await as_role("official")
    body = await (await web.get(f"{URL}?territoire=80&canal=sms&du=2026-11-01")).text()
    prix = body[body.index('<th scope="row">Prix et tarifs</th>'):]
    assert prix.startswith('<th scope="row">Prix et tarifs</th><td class="nombre">1<')
    velo = body[body.index('<th scope="row">Vélo et pistes cyclables</th>'):]
    assert velo.startswith('<th scope="row">Vélo et pistes cyclables</th><td class="nombre">1<')
    assert '<option value="80" selected>Somme</option>' in body
    assert '<option value="sms" selected>SMS</option>' in body
    assert 'name="du" type="date" value="2026-11-01"' in body
    assert "Filtres appliqués" in body
    assert 'href="?territoire=80&amp;canal=sms&amp;du=2026-11-01"' in body  # to share


async def test_a_theme_link_replaces_the_theme_filter(as_role, seeded, db):
    from storage import labels
    async with db.transaction() as tx:
        await labels.save_summaries(tx, "mobilite", "v1", {
            ("probleme", "velo"): (2, [["piste", 3]], [])}, NOW)
    web = await as_role("official")
    body = await (await web.get(f"{URL}?theme=prix&territoire=80&page=1")).text()
    assert "Vélo et pistes cyclables" in body
    body = await (await web.get(f"{URL}?territoire=80")).text()
    assert 'href="?territoire=80&amp;theme=velo#reponses"' in body


@pytest.mark.parametrize(("query", "reason"), [
    ("theme=inconnu", "Valeur inconnue pour le filtre thème."),
    ("territoire=75", "Valeur inconnue pour le filtre territoire."),
    ("canal=pigeon", "Valeur inconnue pour le filtre canal."),
    ("essais=oui", "« essais » vaut 0 ou 1."),
    ("ecartees=2", "« ecartees » vaut 0 ou 1."),
    ("association=abc", "Association invalide dans les filtres."),
    ("association=-1", "Association invalide dans les filtres."),
    ("association=99999999999999999999", "Association invalide dans les filtres."),
    ("du=2026-13-01", "Date invalide pour « du »"),
    ("au=hier", "Date invalide pour « au »"),
    ("du=20261101", "Date invalide pour « du »"),
    ("du=2026-11-20&au=2026-11-01", "La date de fin précède la date de début."),
    ("confiance_min=abc", "Nombre invalide pour « confiance_min »."),
    ("confiance_min=nan", "« confiance_min » va de 0 à 100."),
    ("confiance_max=150", "« confiance_max » va de 0 à 100."),
    ("confiance_min=-5", "« confiance_min » va de 0 à 100."),
    ("confiance_min=80&confiance_max=20", "La confiance maximale est inférieure à la minimale."),
    ("page=0", "Numéro de page invalide."),
    ("page=deux", "Numéro de page invalide."),
    ("page=%27%20OR%201=1%20--", "Numéro de page invalide."),
    ("theme=%3Cscript%3E", "Valeur inconnue pour le filtre thème."),
])
async def test_bad_filter_values_are_refused_with_a_reason(as_role, seeded, query, reason):
    web = await as_role("official")
    response = await web.get(f"{URL}?{query}")
    assert response.status == 400
    body = await response.text()
    assert reason.replace("'", "&#39;") in body
    assert "<script>" not in body


async def test_unknown_parameters_are_ignored_and_not_kept(as_role, seeded):
    web = await as_role("official")
    body = await (await web.get(f"{URL}?territoire=80&x=%3Cb%3E")).text()
    assert shown(body) == {"alpha", "bravo", "delta"}
    assert "x=%3Cb" not in body and "&amp;x=" not in body and "?x=" not in body


async def test_closed_questions_take_the_same_filters(as_role, db, association):
    await add_session(db, territory="80", association_id=association.id,
                      answers=({"question": "retour", "value": True},))
    await add_session(db, territory="59", answers=({"question": "retour", "value": False},))
    web = await as_role("official")
    body = await (await web.get("/admin/consultations/mobilite/questions/retour"
                                f"?association={association.id}")).text()
    assert '<th scope="row">Oui</th><td class="nombre">1<' in body
    assert '<th scope="row">Non</th><td class="nombre">0<' in body
    assert 'name="confiance_min"' not in body and 'name="theme"' not in body
