"""Every admin page, in a real browser with realistic data, passes axe's WCAG 2.1 A and AA rules."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.app import build
from bot.settings import Settings
from storage import curation, feedback, invites, labels, plan
from storage.database import Database
from storage.tables import Answer
from tests.admin import people
from tests.admin.browser import NEEDS_BROWSER, VIEWPORT, chromium, serving, sign_in, tab_on
from tests.admin.conftest import NOW, add_user
from tests.admin.seed import add_session
from tests.conftest import SECRET, empty

try:
    from axe_playwright_python.async_playwright import Axe
except ImportError:  # the test extras are not installed
    Axe = None

pytestmark = [
    *NEEDS_BROWSER,
    pytest.mark.skipif(Axe is None, reason="accessibilité : le paquet Python "
                       "axe-playwright-python n'est pas installé (pip install -e '.[test]')"),
    pytest.mark.asyncio(loop_scope="module"),
]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
OFFICIAL = "elue@region.example.fr"
ASSOCIATION = "benevole@amis-du-velo.example.org"
ADMIN = "admin@region.example.fr"
INVITE = "VELO2026"
MODEL = "mobilite-accessibilite-1"
MOBILITE = "/admin/consultations/mobilite"
# (answer to "probleme", its theme, the model's confidence, département, channel, age band)
PEOPLE = [
    ("Le TER est trop cher pour aller travailler tous les jours.", "prix", 0.93,
     "80", "telegram", "a30_44"),
    ("Il n'y a plus de car après 19 h dans mon village.", "desserte_rurale", 0.41,
     "02", "sms", "a60_74"),
    ("Pas de piste cyclable entre chez moi et la gare.", "velo", 0.88,
     "59", "web", "a15_29"),
    ("Les trains sont souvent supprimés le matin, sans prévenir.", "fiabilite", 0.77,
     "62", "telegram", "a45_59"),
    ("Un seul car par heure, c'est trop peu pour le lycée.", "frequence_horaires", 0.52,
     "60", "sms", "a15_29"),
    ("Les quais ne sont pas accessibles en fauteuil à ma gare.", "accessibilite", 0.95,
     "80", "web", "a75_plus"),
    ("<img src=x onerror=alert(1)> trop cher", "prix", 0.22, "hors_region", "web", None),
]


@dataclass(frozen=True)
class Visit:
    """A page, who opens it, and the HTTP status it answers with."""

    path: str
    role: str | None  # None: nobody signed in
    status: int = 200


VISITS = [
    Visit("/admin/connexion", None),
    Visit("/admin/", "official"),
    Visit(MOBILITE, "official"),
    Visit(f"{MOBILITE}/questions", "official"),
    Visit(f"{MOBILITE}/questions/probleme", "official"),
    Visit(f"{MOBILITE}/questions/probleme?territoire=80&canal=web&theme=prix&du=2026-11-01",
          "official"),
    Visit(f"{MOBILITE}/questions/probleme?territoire=62&canal=sms", "official"),  # none match
    Visit(f"{MOBILITE}/questions/modes", "official"),
    Visit(f"{MOBILITE}/questions/priorite?territoire=80", "official"),
    Visit(f"{MOBILITE}/questions/note_ter", "official"),
    Visit(f"{MOBILITE}/representativite", "official"),
    Visit(f"{MOBILITE}/revue", "official"),
    Visit(f"{MOBILITE}/revue?mode=double", "official"),
    Visit(f"{MOBILITE}/indicateurs", "official"),
    Visit(f"{MOBILITE}/retours", "official"),
    Visit(f"{MOBILITE}/exports", "official"),
    Visit(f"{MOBILITE}/bilan", "official"),
    Visit("/admin/associations", "official"),
    Visit(f"/admin/invitations/{INVITE}/affiche", "official"),
    Visit("/admin/consultations/inconnue", "official", 404),
    Visit("/admin/associations/{association}", "association"),
    Visit(MOBILITE, "association", 403),
    Visit("/admin/utilisateurs", "admin"),
    Visit("/admin/journal", "admin"),
    Visit("/admin/mot-de-passe", "association"),
    Visit("/admin/double-authentification", "association"),
    # The shared action plan, for both roles that share it, and its public follow-up.
    Visit("/admin/plan", "official"),
    Visit("/admin/plan", "association"),
    Visit("/admin/plan/consultations/mobilite", "official"),
    Visit("/admin/plan/actions/{action}", "official"),
    Visit("/admin/plan/actions/{action}", "association"),
    Visit("/admin/plan/indicateurs", "official"),
    Visit("/admin/plan/indicateurs", "association"),
    Visit("/suivi", None),
    Visit("/suivi/mobilite", None),
]

SEEDED: dict[str, int] = {}  # ids the seed gave, for the visits' paths


async def seed(db: Database) -> int:
    """Stores accounts, an association with invites, answered sessions with themes and their
    summaries, and a feedback message sent; returns the association's id."""
    async with db.transaction() as tx:
        association = await invites.add_association(tx, "Les Amis du Vélo", "80", NOW)
        await invites.create_invite(tx, association.id, "mobilite", INVITE, NOW)
        await invites.create_invite(tx, association.id, "jeunesse", "JEUNES80", NOW)
        await labels.register_model(tx, version=MODEL, consultation_id="mobilite",
                                    path="models/accessibilite", training_rows=200,
                                    scores={}, at=NOW)
    await add_user(db, OFFICIAL, "official")
    await add_user(db, ASSOCIATION, "association", association.id)
    await add_user(db, ADMIN, "admin")
    for n, (text, _, _, territory, channel, age) in enumerate(PEOPLE):
        await add_session(
            db, channel=channel, territory=territory, age_band=age,
            association_id=association.id if n % 3 == 0 else None,
            started_at=NOW - timedelta(days=n), answers=(
                {"question": "territoire", "text": "80000", "value": territory},
                {"question": "modes", "text": "1 3", "value": ["train", "velo"][: 1 + n % 2]},
                {"question": "note_ter", "text": str(1 + n % 5), "value": 1 + n % 5},
                {"question": "priorite", "text": "prix", "value": ["prix", "velo", "rural"][n % 3]},
                {"question": "probleme", "text": text, "redacted": text},
                {"question": "idee", "text": "Plus de trains le soir.",
                 "theme": "frequence_horaires", "score": 0.8},
                {"question": "retour", "text": "oui", "value": n % 2 == 0}))
    await add_session(db, status="in_progress", channel="sms", territory="59")
    for n in range(6):  # people who asked for feedback, some from the association
        await people.add_person(db, opt_in=True, territory=["80", "59"][n % 2],
                                channel=["sms", "telegram"][n % 2], themes=("prix",),
                                association_id=association.id if n < 3 else None)
    async with db.transaction() as tx:
        ids = dict((await tx.execute(select(Answer.raw_text, Answer.id)
                                     .where(Answer.question_id == "probleme"))).all())
        await labels.record_model_labels(
            tx, [(ids[text], [(theme, score)]) for text, theme, score, *_ in PEOPLE], MODEL,
            NOW)
        await labels.save_summaries(tx, "mobilite", MODEL, {
            ("probleme", "prix"): (2, [["cher", 2], ["ter", 1]],
                                   [ids[PEOPLE[0][0]], ids[PEOPLE[6][0]]]),
            ("probleme", "fiabilite"): (1, [["supprimés", 1]], [ids[PEOPLE[3][0]]]),
            ("probleme", "velo"): (1, [], [ids[PEOPLE[2][0]]])}, NOW)
        await curation.pin(tx, ids[PEOPLE[0][0]], "prix", OFFICIAL, NOW)
        await feedback.send(tx, feedback.Audience("mobilite", "prix", None),
                            "La Région baisse le prix de l'abonnement TER dès janvier.",
                            OFFICIAL, NOW)
        action = await plan.create(tx, plan.Fields(
            "Abonnement TER à moitié prix pour les apprentis", "Dès janvier, sur tout le réseau.",
            owner="Direction des transports", status="en_cours", progress=40, public=True,
            consultation_id="mobilite", themes=("prix",), starts_on=NOW.date()), OFFICIAL, NOW)
        await plan.add_milestone(tx, action, NOW.date(), "Vote en commission",
                                 "Adopté à l'unanimité.", OFFICIAL, NOW)
        SEEDED["action"] = action.id
        await plan.create(tx, plan.Fields("<b>Navette</b> du samedi vers la gare",
                                          status="proposee", consultation_id="mobilite"),
                          ASSOCIATION, NOW, proposer_association_id=association.id)
    return association.id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(database_url):
    """The whole application on seeded data, and a browser tab signed in for each role;
    yields (association id, tabs by role)."""
    db = Database(database_url)
    await empty(db)
    relais = build(Settings(env="test", database_url=database_url, secret_key=SECRET,
                            public_url="https://relais.example.org", simulator=True))
    await relais.prepare()  # publishes the consultations the data refers to
    try:
        association_id = await seed(db)
        async with serving(relais) as server, chromium() as browser, \
                tab_on(browser, server) as stranger, tab_on(browser, server) as official, \
                tab_on(browser, server) as association, tab_on(browser, server) as admin:
            for tab, email in ((official, OFFICIAL), (association, ASSOCIATION), (admin, ADMIN)):
                await sign_in(tab.page, email)
            yield association_id, {None: stranger, "official": official,
                                   "association": association, "admin": admin}
    finally:
        await relais.stop()
        await db.close()


def readable(violations: list[dict]) -> str:
    """Lists axe violations one node per line: rule, impact, target, help."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(f"{violation['id']} ({violation['impact']}) {node['target']}: "
                         f"{violation['help']} — {node.get('failureSummary', '')!r}")
    return "\n".join(lines)


async def check(page) -> None:
    """Runs axe's WCAG 2.1 A and AA rules on the page; fails with their list if any breaks."""
    results = await Axe().run(page, options=WCAG_AA)
    violations = results.response["violations"]
    assert not violations, f"{page.url}\n{readable(violations)}"
    assert results.response["passes"], "axe ran no rule at all"


async def overflowing(page) -> list[str]:
    """Lists what makes a 320 px wide window scroll sideways (WCAG 1.4.10, reflow): the page
    itself if it is wider, and every element sticking out on the right. Only the inside of a
    scrolling region (class "defile", around data tables, whose columns need two dimensions)
    may be wider than the window."""
    await page.set_viewport_size({"width": 320, "height": 800})
    try:
        return await page.evaluate("""() => {
            const wide = document.documentElement.scrollWidth > 320
                ? [`page: ${document.documentElement.scrollWidth} px wide`] : [];
            const out = [...document.body.querySelectorAll("*")]
                .filter(e => !e.parentElement.closest(".defile"))
                .filter(e => e.getBoundingClientRect().right > 320.5)
                .map(e => e.outerHTML.slice(0, 80));
            return [...wide, ...out];
        }""")
    finally:
        await page.set_viewport_size(VIEWPORT)


@pytest.mark.parametrize("visit", VISITS, ids=lambda v: f"{v.role or 'anonyme'}:{v.path}")
async def test_every_page_meets_wcag_aa(site, visit):
    association_id, tabs = site
    tab = tabs[visit.role]
    response = await tab.page.goto(visit.path.format(association=association_id, **SEEDED))
    assert response.status == visit.status, await response.text()
    await check(tab.page)
    too_wide = await overflowing(tab.page)
    assert too_wide == []
    assert not [e for e in tab.errors if "Content Security Policy" in e], tab.errors


async def test_the_feedback_preview_and_its_error_meet_wcag_aa(site):
    page = site[1]["official"].page
    await page.goto(f"{MOBILITE}/retours")
    await page.get_by_label("Message").fill("Merci ! La Région baisse le prix du TER en janvier.")
    await page.get_by_label("Seulement les personnes ayant parlé du thème").select_option("prix")
    await page.get_by_role("button", name="Prévisualiser").click()
    await page.get_by_role("button", name="Envoyer").wait_for()
    await check(page)
    await page.get_by_role("button", name="Envoyer").click()  # not confirmed: nothing is sent
    await page.get_by_role("alert").filter(has_text="Cochez la case").wait_for()
    await check(page)


async def test_a_failed_sign_in_meets_wcag_aa(site):
    page = site[1][None].page
    await page.goto("/admin/connexion")
    await page.get_by_label("Adresse e-mail").fill(OFFICIAL)
    await page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_role("alert").wait_for()
    await check(page)


async def test_an_invitation_created_by_an_association_meets_wcag_aa(site):
    page = site[1]["association"].page
    await page.goto(f"/admin/associations/{site[0]}")
    await page.get_by_role("button", name="Créer l'invitation").click()
    await page.get_by_role("status").filter(has_text="créée").wait_for()
    await check(page)


async def test_a_review_saved_meets_wcag_aa(site):
    page = site[1]["official"].page
    await page.goto(f"{MOBILITE}/revue")
    await page.get_by_label(re.compile("La proposition est juste")).first.check()
    await page.get_by_role("button", name="Enregistrer").click()
    await page.get_by_role("status").filter(has_text="enregistrée").wait_for()
    await check(page)


async def test_an_account_created_meets_wcag_aa(site):
    page = site[1]["admin"].page
    await page.goto("/admin/utilisateurs")
    await page.get_by_label("Adresse e-mail").fill("nouvelle.elue@region.example.fr")
    await page.get_by_label("Rôle").select_option("official")
    await page.get_by_role("button", name="Créer le compte").click()
    await page.get_by_role("heading", name="Compte créé").wait_for()
    await check(page)


async def test_the_check_reports_what_breaks_the_rules(site):
    page = site[1]["official"].page
    await page.goto(MOBILITE)
    await page.evaluate("""() => {
        const image = document.createElement("img");  // no text alternative
        image.src = "/admin/static/absente.png";
        document.querySelector("main").append(image);
    }""")
    with pytest.raises(AssertionError, match=r"image-alt \(critical\)"):
        await check(page)


@pytest.mark.parametrize("wrapped", [False, True], ids=["table seule", "table dans .defile"])
async def test_the_reflow_check_reports_a_wide_table_unless_it_scrolls_on_its_own(site, wrapped):
    page = site[1]["official"].page
    await page.goto(f"{MOBILITE}/questions")
    assert await overflowing(page) == []
    await page.evaluate("""wrapped => {
        const table = document.querySelector("main table").cloneNode(true);
        table.querySelector("caption").textContent = "Un-tableau-bien-trop-large".repeat(20);
        const box = document.createElement("div");
        if (wrapped) box.className = "defile";
        box.append(table);
        document.querySelector("main").append(box);
    }""", wrapped)
    found = await overflowing(page)
    if wrapped:
        assert found == []
        assert await page.evaluate("""() => [...document.querySelectorAll("main .defile")]
            .at(-1).scrollWidth > 320""")  # it does scroll, inside its own box
    else:
        assert found[0].startswith("page: ") and any("Un-tableau" in e for e in found), found


@pytest.mark.parametrize("path", [f"{MOBILITE}/questions/probleme", f"{MOBILITE}/revue"])
async def test_the_keyboard_focus_is_always_visible(site, path):
    page = site[1]["official"].page
    await page.goto(path)
    seen = []
    for _ in range(40):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("""() => {
            const e = document.activeElement, style = getComputedStyle(e);
            const box = e.getBoundingClientRect();
            return {what: e.outerHTML.slice(0, 60), outline: style.outlineStyle,
                    width: parseFloat(style.outlineWidth), shown: box.right > 0 && box.bottom > 0};
        }""")
        if focused["what"].startswith("<body"):
            break  # past the last control, the focus leaves the page
        seen.append(focused["what"])
        assert focused["outline"] != "none" and focused["width"] >= 2, focused
        assert focused["shown"], focused  # the skip link comes into view
    assert any("Aller au contenu" in what for what in seen)


@pytest.mark.parametrize("path", [f"{MOBILITE}/bilan", f"{MOBILITE}/questions/probleme",
                                  f"/admin/invitations/{INVITE}/affiche"])
async def test_printed_pages_keep_their_content_without_the_controls(site, path):
    page = site[1]["official"].page
    await page.goto(path)
    await page.emulate_media(media="print")
    try:
        assert await page.locator("h1").is_visible()
        assert not await page.get_by_role("button", name="Se déconnecter").is_visible()
        await check(page)
        assert (await page.pdf(format="A4")).startswith(b"%PDF")
    finally:
        await page.emulate_media(media="screen")
