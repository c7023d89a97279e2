"""The bilan: themes with quotes, closed questions, feedback, indicators; printable HTML and a
Markdown export where citizen text stays text."""

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import select

from admin.views.bilan import md
from storage import conversations, curation, labels
from storage.tables import AuditEntry, FeedbackMessage
from tests.admin.conftest import NOW
from tests.admin.seed import add_session

PAGE = "/admin/consultations/mobilite/bilan"
HOSTILE = ['<script>alert(1)</script>', '<img src=x onerror=alert(2)>',
           '[clic](http://evil.example/) ![i](http://evil.example/i.png)', '# Titre',
           '*gras* __fort__ `code`', '1. liste', '- tiret', '| a | b |', '&lt;b&gt;',
           '{{ 7*7 }}', 'texte\n# sur deux lignes', '\u202eesrevni']


async def quoted(db, theme: str, texts: list[str], **session) -> list[int]:
    """Stores answers of a theme whose redacted texts are `texts`; returns their ids."""
    ids = []
    for text in texts:
        session_id = await add_session(db, answers=(
            {"question": "probleme", "text": text, "theme": theme, "score": 0.9},), **session)
        async with db.read() as tx:
            ids.append(await conversations.answer_id(tx, session_id, "probleme"))
    return ids


@pytest.fixture
async def seeded(db):
    for theme, n in (("prix", 3), ("fiabilite", 1)):
        for _ in range(n):
            await add_session(db, territory="80", answers=(
                {"question": "probleme", "text": "x", "theme": theme, "score": 0.7},
                {"question": "modes", "text": "1 3", "value": ["train", "velo"]},
                {"question": "retour", "text": "oui", "value": theme == "prix"}))
    prix = await quoted(db, "prix", ["Le TER est trop cher", *HOSTILE], channel="web")
    fiabilite = await quoted(db, "fiabilite", ["Encore un train supprimé"], channel="web")
    async with db.transaction() as tx:
        await labels.save_summaries(tx, "mobilite", "modele-test", {
            ("probleme", "prix"): (3, [["cher", 3]], prix),
            ("probleme", "fiabilite"): (1, [], fiabilite)}, NOW)
        tx.add(FeedbackMessage(consultation_id="mobilite", text="La Région baisse les tarifs "
                               "<b>TER</b> dès janvier.", author="elue@region.example.fr",
                               created_at=NOW, sent_at=NOW, recipients=3))
    return prix


async def test_the_page_gathers_themes_quotes_closed_questions_and_feedback(as_role, seeded):
    web = await as_role("official")
    response = await web.get(PAGE)
    assert response.status == 200
    page = await response.text()
    for text in ("Méthode", "Prix et tarifs", "Retards et suppressions",
                 "Le TER est trop cher", "Encore un train supprimé",
                 "Thèmes des 4 réponses", "Le train (TER)", "Le vélo",
                 "Taux de complétion", "Kappa de Cohen", "Envoyé le",
                 "La Région baisse les tarifs &lt;b&gt;TER&lt;/b&gt; dès janvier."):
        assert text in page, text
    # Quotes: the three first examples of a theme, as the summary ranked them.
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "[clic]" not in page  # the fourth example is not quoted
    assert '<th scope="row">Oui</th><td class="nombre">3</td>' in page
    assert '<th scope="row">Non</th><td class="nombre">1</td>' in page
    assert '<th scope="row">Le train (TER)</th><td class="nombre">4</td>' in page


async def test_the_method_says_what_really_happened(as_role, db, association):
    await add_session(db, channel="telegram", association_id=association.id)
    await add_session(db, channel="telegram")
    await add_session(db, channel="web")  # a trial: not a channel of the consultation
    web = await as_role("official")
    page = await (await web.get(PAGE)).text()
    method = page[page.index("<h2>Méthode</h2>"):page.index("<h2>Dates")]
    assert "menée par Telegram (2 participants)" in method
    assert "SMS" not in method and "MOBILITE" not in method and "Simulateur" not in method
    assert "1 association l'a relayée auprès de son public : Les Amis du Vélo" in method
    assert "Aucun thème n'a encore été vérifié" in method
    assert "choisies automatiquement" in method
    await add_session(db, channel="sms", answers=(
        {"question": "probleme", "text": "cher", "theme": "prix", "source": "official"},))
    page = await (await web.get(PAGE)).text()
    method = page[page.index("<h2>Méthode</h2>"):page.index("<h2>Dates")]
    assert "par Telegram (2 participants) et par SMS (1 participant)" in method
    assert "mot-clé SMS « MOBILITE »" in method
    assert "choisi ou validé les thèmes de 1 réponse" in method


async def test_pinned_quotes_come_first(as_role, db, seeded):
    async with db.transaction() as tx:
        assert await curation.pin(tx, seeded[5], "prix", "official:x", NOW)
    web = await as_role("official")
    page = await (await web.get(PAGE)).text()
    quotes = page[page.index("<h4>Prix et tarifs</h4>"):]
    assert quotes.index(md_free(HOSTILE[4])) < quotes.index("Le TER est trop cher")
    assert "Les citations ont été choisies par des agents (1)" in page


def md_free(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


async def test_the_markdown_export_is_an_attachment_with_inert_quotes(as_role, db, seeded):
    themes = ("prix", "fiabilite", "velo", "autre")
    summaries = {}
    for n, theme in enumerate(themes):  # every hostile text quoted, three per theme
        ids = await quoted(db, theme, HOSTILE[3 * n:3 * n + 3])
        summaries[("probleme", theme)] = (1, [], ids)
    async with db.transaction() as tx:
        await labels.save_summaries(tx, "mobilite", "modele-test", summaries, NOW)
    web = await as_role("official")
    response = await web.get(PAGE + ".md")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="bilan-mobilite-')
    text = await response.text()
    assert text.startswith("# Bilan de la consultation « Mobilités du quotidien »")
    html = MarkdownIt("commonmark").enable("table").render(text)
    for tag in ("<script", "<img", "<a ", "<em>", "<strong>", "<code>", "<ol", "<b>"):
        assert tag not in html, tag
    assert html.count("<h1>") == 1  # no citizen text became a heading
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "*gras* __fort__ `code`" in html
    assert "&amp;lt;b&amp;gt;" in html  # an entity in an answer is shown as typed
    async with db.read() as tx:
        entry = await tx.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry.details == {"what": "bilan", "format": "md"}


@pytest.mark.parametrize(("text", "escaped"), [
    ("<script>", "\\<script\\>"),
    ("[lien](http://x)", "\\[lien\\](http://x)"),
    ("# titre", "\\# titre"),
    ("1. un", "1\\. un"),
    ("12) douze", "12\\) douze"),
    ("- tiret", "\\- tiret"),
    ("*a* _b_ `c`", "\\*a\\* \\_b\\_ \\`c\\`"),
    ("a | b", "a \\| b"),
    ("deux\nlignes\n\n# non", "deux lignes \\# non"),
    ("L'accès au TER, c'est 3,50 €.", "L'accès au TER, c'est 3,50 €."),
])
def test_markdown_escaping(text, escaped):
    assert md(text) == escaped


@pytest.mark.parametrize("path", [PAGE, PAGE + ".md"])
async def test_associations_cannot_read_the_bilan(as_role, path):
    web = await as_role("association")
    assert (await web.get(path)).status == 403


async def test_an_empty_consultation_has_a_bilan(as_role):
    web = await as_role("official")
    page = await (await web.get(PAGE)).text()
    assert "Aucun message de retour n'a encore été envoyé." in page
    text = await (await web.get(PAGE + ".md")).text()
    assert "Aucune réponse classée." in text
