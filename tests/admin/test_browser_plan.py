"""A real browser through the action plan: an association proposes, the official accepts,
starts the action with a milestone and makes it public; a citizen reads it on /suivi at phone
width."""

import re

import pytest

from tests.admin.browser import NEEDS_BROWSER
from tests.admin.test_accessibility import check, site  # noqa: F401 - the fixture
from tests.admin.test_browser import artefacts

pytestmark = [*NEEDS_BROWSER, pytest.mark.asyncio(loop_scope="module")]
PHONE = {"width": 390, "height": 844}
TITLE = "Covoiturage solidaire vers le CFA de Beauvais"


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(artefacts() / f"{name}.png"), full_page=True)


async def test_a_proposal_becomes_a_public_action_a_citizen_can_follow(site):  # noqa: F811
    _, tabs = site
    association, official, citizen = tabs["association"].page, tabs["official"].page, \
        tabs[None].page

    # The association proposes, linked to a theme of the answers.
    await association.goto("/admin/plan")
    await association.get_by_label("Titre", exact=True).fill(TITLE)
    await association.get_by_label("Description").fill("Des trajets partagés le lundi matin.")
    await association.get_by_label("Consultation", exact=True).select_option("mobilite")
    await association.locator("#proposition-theme-mobilite-prix").check()
    await association.get_by_role("button", name="Proposer").click()
    await association.get_by_role("status").filter(has_text="Proposition enregistrée").wait_for()
    action_url = association.url
    assert re.search(r"/admin/plan/actions/\d+", action_url)
    await shot(association, "20-plan-proposition")

    # The official accepts it with a reason, starts it, adds a milestone, makes it public.
    await official.goto(action_url)
    await official.get_by_label("Accepter").check()
    await official.get_by_label("Motif, lu par l'association").fill(
        "Retenue : la Région la finance avec le réseau des CFA.")
    await official.get_by_role("button", name="Enregistrer la décision").click()
    await official.get_by_role("status").filter(has_text="Décision enregistrée").wait_for()
    await official.get_by_label("Date (AAAA-MM-JJ)").fill("2027-01-11")
    await official.get_by_label("Titre", exact=True).first.fill("Premiers trajets")
    await official.get_by_role("button", name="Ajouter le jalon").click()
    await official.get_by_role("status").filter(has_text="Jalon ajouté").wait_for()
    await official.locator("#action-statut").select_option("en_cours")
    await official.locator("#action-public").check()
    await official.get_by_role("button", name="Enregistrer", exact=True).click()
    await official.get_by_role("status").filter(has_text="Modifications enregistrées").wait_for()
    figures = " ".join((await official.locator("ul.chiffres").inner_text()).split())
    assert "En cours" in figures and "Publique : oui" in figures, figures
    await shot(official, "21-plan-action-acceptee")
    await check(official)

    # The association reads the decision and its reason.
    await association.reload()
    assert "Retenue : la Région la finance" in await association.locator("main").inner_text()

    # A citizen, signed in nowhere, follows it on the public page, on a phone.
    await citizen.set_viewport_size(PHONE)
    try:
        await citizen.goto("/suivi/mobilite")
        page_text = await citizen.locator("main").inner_text()
        assert TITLE in page_text and "Premiers trajets" in page_text, page_text
        assert await citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await shot(citizen, "22-suivi-telephone")
        await check(citizen)
    finally:
        await citizen.set_viewport_size({"width": 1280, "height": 900})
