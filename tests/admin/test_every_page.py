"""Every page of every consultation opens, empty and after real conversations."""

import pytest

from bot.consultations import FLOWS_DIR, load_flows
from tests.bot.conversation import say
from tests.bot.test_conversation_path import JEUNESSE, MOBILITE

FLOWS = load_flows(sorted(FLOWS_DIR.glob("*.yaml")), "https://relais.example.org")
TABS = ["", "/questions", "/representativite", "/revue", "/revue?mode=double", "/indicateurs",
        "/retours", "/exports", "/bilan", "/bilan.md", "/exports/reponses.csv",
        "/exports/themes.json", "/exports/indicateurs.csv"]
PAGES = [(c, tab) for c in sorted(FLOWS) for tab in TABS] + [
    (c, f"/questions/{q.id}") for c in sorted(FLOWS) for q in FLOWS[c].questions]


@pytest.mark.parametrize(("consultation", "tab"), PAGES)
async def test_every_page_opens_on_an_empty_consultation(as_role, consultation, tab):
    web = await as_role("official")
    response = await web.get(f"/admin/consultations/{consultation}{tab}")
    assert response.status == 200, await response.text()


async def test_every_page_opens_after_real_conversations(as_role, relais):
    await say(relais, *MOBILITE, consultation="mobilite")
    await say(relais, *JEUNESSE, consultation="jeunesse", address="bob")
    await relais.classification.redact_once()
    web = await as_role("official")
    for consultation, tab in PAGES:
        response = await web.get(f"/admin/consultations/{consultation}{tab}")
        assert response.status == 200, (consultation, tab, await response.text())
    # The conversations went through the web simulator: trials, counted when asked for.
    body = await (await web.get("/admin/consultations/mobilite")).text()
    assert "Nord : 0 commencée</title>" in body and "1 conversation d'essai" in body
    assert '<th scope="row">Nord</th>' not in body
    body = await (await web.get("/admin/consultations/mobilite?essais=1")).text()
    # The conversation's postcode, 59000, is counted, on the map and in the table.
    assert "Nord : 1 commencée</title>" in body and '<th scope="row">Nord</th>' in body
