"""A real browser on what a first real week showed: search, the map, charts at phone width and
their download links, the review queue at phone width."""

import re

import pytest

from tests.admin.browser import NEEDS_BROWSER
from tests.admin.test_accessibility import MOBILITE, check, site  # noqa: F401 - the fixture
from tests.admin.test_browser import artefacts

pytestmark = [*NEEDS_BROWSER, pytest.mark.asyncio(loop_scope="module")]
PHONE = {"width": 390, "height": 844}


async def test_search_finds_answers_from_the_question_page(site):  # noqa: F811
    page = site[1]["official"].page
    await page.goto(f"{MOBILITE}/questions/probleme")
    await page.get_by_label("Rechercher dans les réponses").fill("CHER")
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url(re.compile(r".*[?&]q=CHER"))
    await page.screenshot(path=str(artefacts() / "10-recherche.png"), full_page=True)
    rows = page.locator("table:has(#tableau-reponses) tbody tr")
    assert await rows.count() >= 1
    for text in await rows.all_inner_texts():
        assert "cher" in text.lower(), text
    await page.screenshot(path=str(artefacts() / "10-recherche.png"), full_page=True)
    await check(page)


async def test_at_phone_width_charts_keep_readable_letters_and_the_map_fits(site):  # noqa: F811
    page = site[1]["official"].page
    await page.set_viewport_size(PHONE)
    try:
        await page.goto(MOBILITE)
        await page.locator("svg.carte").scroll_into_view_if_needed()
        smallest = await page.evaluate("""() => Math.min(...[...document.querySelectorAll(
            "svg.graphique text")].map(t => t.getBoundingClientRect().height)
            .filter(h => h > 0))""")
        assert smallest >= 9, f"chart letters {smallest:.1f} px high at 390 px"
        fits = await page.evaluate("""() => document.querySelector("svg.carte")
            .getBoundingClientRect().right <= window.innerWidth""")
        assert fits
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await page.screenshot(path=str(artefacts() / "11-vue-ensemble-telephone.png"),
                              full_page=True)
        await page.goto(f"{MOBILITE}/revue")
        await page.screenshot(path=str(artefacts() / "12-revue-telephone.png"),
                              full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        await page.set_viewport_size({"width": 1280, "height": 900})


async def test_each_chart_can_be_downloaded_as_svg_and_png(site):  # noqa: F811
    page = site[1]["official"].page
    await page.goto(MOBILITE)
    links = page.locator("p.telecharger").first
    svg_link = links.get_by_role("link", name="SVG")
    assert (await svg_link.get_attribute("href")).startswith("data:image/svg+xml")
    async with page.expect_download() as waiting:
        await links.get_by_role("link", name="PNG").click()
    download = await waiting.value
    saved = artefacts() / download.suggested_filename
    await download.save_as(saved)
    assert saved.suffix == ".png" and saved.read_bytes().startswith(b"\x89PNG")
