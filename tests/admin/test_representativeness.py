"""Representativeness: participants per département and age band against INSEE figures."""

import pytest

from admin.views import representativeness as page
from tests.admin.seed import add_session

URL = "/admin/consultations/mobilite/representativite"


def row(body: str, header: str) -> str:
    start = body.index(f'<th scope="row">{header}</th>')
    return body[start:body.index("</tr>", start)]


def test_the_shipped_figures_add_up_and_name_their_source():
    figures = page.population()
    departements = figures["departements"]
    assert set(departements["population"]) == set(page.REGION)
    assert sum(departements["population"].values()) == departements["region"]
    for code, structure in departements["age_structure"].items():
        assert sum(structure) == departements["population"][code]
    for block in (departements, figures["age_region"]):
        assert block["year"] and "INSEE" in block["source"] and block["url"].startswith("https://")


@pytest.mark.parametrize(("counts", "population", "expected"), [
    ({"a": 30, "b": 30}, {"a": 100, "b": 300}, [(0.5, 0.25, 2.0, "sur-représenté"),
                                                 (0.5, 0.75, 2 / 3, "sous-représenté")]),
    ({"a": 27, "b": 33}, {"a": 1, "b": 1}, [(0.45, 0.5, 0.9, "proche de la population"),
                                            (0.55, 0.5, 1.1, "proche de la population")]),
    # The same shares on 20 participants: too few to conclude anything.
    ({"a": 10, "b": 10}, {"a": 100, "b": 300},
     [(0.5, 0.25, 2.0, "trop peu de participants pour conclure"),
      (0.5, 0.75, 2 / 3, "trop peu de participants pour conclure")]),
    # 40 participants, a ratio of 0.73 whose interval still holds the population's share.
    ({"a": 11, "b": 29}, {"a": 3, "b": 7}, [(0.275, 0.3, 11 / 12, "proche de la population"),
                                            (0.725, 0.7, 0.725 / 0.7,
                                             "proche de la population")]),
    ({"a": 9, "b": 31}, {"a": 3, "b": 7}, [(0.225, 0.3, 0.75, "écart possiblement dû au hasard"),
                                           (0.775, 0.7, 0.775 / 0.7,
                                            "proche de la population")]),
    ({}, {"a": 1, "b": 1}, [(None, 0.5, None, "non calculable")] * 2),
    ({"a": 3}, {}, [(1.0, None, None, "non calculable"), (0.0, None, None, "non calculable")]),
])
def test_compare_gives_shares_ratios_and_verdicts(counts, population, expected):
    lines = page.compare(counts, {"a": "A", "b": "B"}, population)
    for line, (share, population_share, ratio, verdict) in zip(lines, expected, strict=True):
        assert line.participant_share == pytest.approx(share)
        assert line.population_share == pytest.approx(population_share)
        assert line.ratio == pytest.approx(ratio)
        assert line.verdict == verdict


@pytest.mark.parametrize(("successes", "total", "low", "high"), [
    (0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0),
    (30, 100, 0.2189, 0.3958)])
def test_wilson_interval_matches_published_values(successes, total, low, high):
    found = page.wilson(successes, total)
    assert found == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
    assert page.wilson(0, 0) is None


async def seed_people(db, scale: int = 1):
    # 5 in the Somme (9.4 % of the population), none in the Nord (43.6 %), per 10.
    for territory, age, n in [("80", "a15_29", 3), ("80", "a75_plus", 2), ("62", "a30_44", 2),
                              ("02", None, 2), ("60", "a15_29", 1), ("hors_region", None, 1)]:
        for _ in range(n * scale):
            await add_session(db, territory=territory, age_band=age)
    await add_session(db, status="refused")  # said nothing: not counted
    await add_session(db, territory="59", channel="web")  # a trial: not counted


async def test_a_small_sample_is_said_to_be_too_small(as_role, db):
    await seed_people(db)
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    assert "Échantillon trop petit pour conclure :" in body
    assert "10 participants avec un département connu, il en faut au moins 30" in body
    somme = row(body, "Somme (80)")
    assert "5,31" in somme and "trop peu de participants pour conclure" in somme
    assert "sur-représenté" not in body.split("<h2")[2]
    assert "23,7\u00a0% à 76,3\u00a0%" in somme  # Wilson interval of 5 in 10
    assert '"nombre">0<' in row(body, "Nord (59)")  # the trial in the Nord is left out


async def test_the_page_flags_under_represented_departements(as_role, db):
    await seed_people(db, scale=4)  # 40 participants in the region, 32 with an age
    web = await as_role("official")
    response = await web.get(URL)
    assert response.status == 200
    body = await response.text()
    assert "Échantillon trop petit" not in body
    somme = row(body, "Somme (80)")
    assert '"nombre">20<' in somme and "50,0\u00a0%" in somme and "9,4\u00a0%" in somme
    assert "5,31" in somme and "sur-représenté" in somme
    nord = row(body, "Nord (59)")
    assert '"nombre">0<' in nord and "43,6\u00a0%" in nord
    assert '<strong class="sous-represente">sous-représenté</strong>' in nord
    assert "Hors région : 4" in body
    assert '"nombre">16<' in row(body, "15-29 ans")
    assert "50,0\u00a0%" in row(body, "15-29 ans")  # 16 of the 32 who gave their age
    assert "Sans âge connu : 12" in body
    # 16 of 32 aged 15-29 against 1,102,448 of the region's 4,851,056 people of 15 or more
    assert "2,20" in row(body, "15-29 ans") and "sur-représenté" in row(body, "15-29 ans")
    assert "sous-représenté" in row(body, "45-59 ans")
    assert "Pas de ratio par âge" not in body
    assert "Estimations localisées de population" in body and "RP2020" in body
    assert body.count('role="img"') == 2 and "style=" not in body
    # Participants and population differ in colour and in pattern, with a legend.
    assert "<pattern" in body and 'fill="url(#hachures-' in body
    assert ">Participants</text>" in body and ">Population</text>" in body


async def test_age_ratios_appear_when_sourced_band_figures_are_shipped(as_role, db,
                                                                       monkeypatch):
    figures = dict(page.population())
    figures["age_bands"] = {"a15_29": 100, "a30_44": 100, "a45_59": 100, "a60_74": 100,
                            "a75_plus": 100}
    monkeypatch.setattr(page, "population", lambda: figures)
    for age in ["a15_29"] * 30 + ["a75_plus"] * 10:
        await add_session(db, territory="80", age_band=age)
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    assert "3,75" in row(body, "15-29 ans") and "sur-représenté" in row(body, "15-29 ans")
    assert "sous-représenté" in row(body, "30-44 ans")
    assert "Pas de ratio par âge" not in body


async def test_a_consultation_without_an_age_question_says_so(as_role):
    web = await as_role("official")
    body = await (await web.get("/admin/consultations/diagnostic/representativite")).text()
    assert "Cette consultation ne demande pas l'âge." in body
