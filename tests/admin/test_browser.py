"""A real browser on the real server: an official signs in, reads, reviews and exports."""

import csv
import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from storage import conversations, labels, participants, review
from tests.admin.browser import NEEDS_BROWSER, chromium, serving, tab_on
from tests.admin.conftest import NOW, PASSWORD, add_user

pytestmark = NEEDS_BROWSER

EMAIL = "elue.navigateur@region.example.fr"
HOSTILE = "<img src=x onerror=alert(1)>"
MODEL = "mobilite-navigateur-1"
# (redacted answer, the model's theme, its confidence): the least sure comes first in review.
ANSWERS = [
    ("Le TER est trop cher pour aller travailler tous les jours.", "prix", 0.93),
    ("Il n'y a plus de car après 19 h dans mon village.", "frequence_horaires", 0.41),
    ("Pas de piste cyclable entre chez moi et la gare.", "velo", 0.88),
    (HOSTILE, "autre", 0.22),
]


def artefacts() -> Path:
    """Returns the folder for the screenshots, created if needed."""
    folder = Path(os.environ.get("RELAIS_ARTEFACTS")
                  or Path(__file__).resolve().parents[2] / "artefacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def seeded(relais, db):
    """An official, and answers to an open question with the themes a model gave them."""
    await add_user(db, EMAIL, "official")
    async with db.transaction() as tx:
        await labels.register_model(tx, version=MODEL, consultation_id="mobilite",
                                    path="models/navigateur", training_rows=200,
                                    scores={}, at=NOW)
        ids = []
        for n, (text, _, _) in enumerate(ANSWERS):
            at = NOW - timedelta(days=n)
            people = await participants.ids_of(tx, relais.vault,
                                               {("telegram", f"personne-{n}")}, at)
            session = await conversations.open_session(
                tx, people["telegram", f"personne-{n}"], "mobilite", {}, "completed", at)
            await conversations.set_territory(tx, session, "80")
            await conversations.record_answer(tx, session, "probleme", text, None, True, at,
                                              channel="telegram")
            ids.append(await conversations.answer_id(tx, session.id, "probleme"))
        pairs = list(zip(ids, ANSWERS, strict=True))
        await labels.set_redacted(tx, [(i, text) for i, (text, _, _) in pairs])
        await labels.record_model_labels(
            tx, [(i, [(theme, score)]) for i, (_, theme, score) in pairs], MODEL, NOW)
    return ids


@pytest.fixture
async def tab(relais, seeded):
    """A headless Chromium page on the whole application, recording dialogs and console
    errors."""
    async with serving(relais) as server, chromium() as browser, \
            tab_on(browser, server) as tab:
        yield tab


async def snapshot(page, name: str) -> None:
    """Saves a full-page screenshot as a test artefact."""
    await page.screenshot(path=str(artefacts() / f"{name}.png"), full_page=True)


async def test_an_official_signs_in_reads_reviews_and_exports(tab, db, seeded):
    page = tab.page
    cheap, unsure, cycling, _ = ANSWERS
    # Sign in through the form, with the keyboard.
    await page.goto("/admin/connexion")
    await page.get_by_label("Adresse e-mail").fill(EMAIL)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await snapshot(page, "01-connexion")
    await page.get_by_label("Mot de passe").press("Enter")
    await page.wait_for_url("**/admin/")
    await snapshot(page, "02-accueil")

    # The overview of a consultation.
    await page.get_by_role("link", name="Mobilités du quotidien").click()
    await page.wait_for_url("**/admin/consultations/mobilite")
    assert "Mobilités du quotidien" in await page.locator("h1").inner_text()
    await snapshot(page, "03-vue-ensemble")

    # An open question: the hostile answer is text, nothing runs.
    await page.get_by_role("link", name="Questions", exact=True).click()
    await page.get_by_role("link", name=re.compile("plus gros problème")).first.click()
    await page.wait_for_url("**/admin/consultations/mobilite/questions/probleme")
    await page.get_by_text(HOSTILE, exact=True).first.wait_for()
    assert await page.locator("img[src=x]").count() == 0
    await snapshot(page, "04-question-ouverte")

    # The review queue: nothing ticked in advance; one proposal validated and one theme
    # chosen with the keyboard, one answer validated with a click, one left untouched.
    await page.get_by_role("link", name="Revue", exact=True).click()
    await page.wait_for_url("**/admin/consultations/mobilite/revue")
    await page.get_by_text(HOSTILE, exact=True).wait_for()
    assert await page.locator("form.revue input:checked").count() == 0
    first = page.locator("fieldset", has_text=HOSTILE)
    await first.get_by_label(re.compile("La proposition est juste")).focus()
    await page.keyboard.press("Space")
    rural = page.locator("fieldset", has_text=unsure[0]).get_by_label(
        "Desserte des territoires ruraux", exact=False)
    await rural.focus()
    await page.keyboard.press("Space")
    await page.locator("fieldset", has_text=cheap[0]).get_by_label(
        re.compile("La proposition est juste")).check()
    await snapshot(page, "05-revue")
    await page.get_by_role("button", name="Enregistrer").click()
    await page.get_by_role("status").filter(has_text="3 réponses enregistrées").wait_for()
    await snapshot(page, "06-revue-enregistree")
    async with db.read() as tx:
        readings = await review.official_labels(tx, "mobilite")
    actor = f"official:{EMAIL}"
    assert readings == {seeded[0]: [(actor, cheap[1])], seeded[1]: [(actor, "desserte_rurale")],
                        seeded[3]: [(actor, "autre")]}

    # An export of the answers, downloaded as a person would.
    await page.get_by_role("link", name="Exports", exact=True).click()
    await page.wait_for_url("**/admin/consultations/mobilite/exports")
    await snapshot(page, "07-exports")
    async with page.expect_download() as waiting:
        await page.locator("a[href*='/exports/reponses.csv']").first.click()
    download = await waiting.value
    saved = artefacts() / "reponses.csv"
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text("utf-8-sig")),
                               delimiter=_delimiter(saved)))
    assert len(rows) == len(ANSWERS)
    by_text = {row["texte"]: row for row in rows}
    assert set(by_text) == {text for text, _, _ in ANSWERS}
    assert (by_text[unsure[0]]["thème"], by_text[unsure[0]]["source"]) == \
        ("Desserte des territoires ruraux", "agent")
    assert by_text[cycling[0]]["source"] == "modèle"

    assert tab.dialogs == []
    assert not [e for e in tab.errors if re.search(r"Content.Security.Policy", e, re.I)], \
        tab.errors


def _delimiter(path: Path) -> str:
    """Returns the separator of a CSV file: a comma, or a semicolon for French spreadsheets."""
    header = path.read_text("utf-8-sig").splitlines()[0]
    return ";" if header.count(";") > header.count(",") else ","
