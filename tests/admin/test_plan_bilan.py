"""The bilan, HTML and Markdown, gains the plan, its indicators with their history and the
messages that told participants about actions; hostile text stays text in both."""

from datetime import date

from storage import feedback, plan, plan_indicators
from tests.admin.conftest import NOW

HOSTILE = "<script>alert(1)</script> | [lien](http://x) **gras**"


async def _plan(db) -> None:
    async with db.transaction() as tx:
        parent = await plan.create(tx, plan.Fields(
            HOSTILE, consultation_id="mobilite", themes=("prix",), public=True), "o", NOW)
        await plan.create(tx, plan.Fields("Sous-action", progress=60, parent_id=parent.id,
                                          consultation_id="mobilite"), "o", NOW)
        indicator = plan_indicators.define(tx, plan_indicators.Definition(
            "Trajets simplifiés", question="Les trajets sont-ils plus simples ?",
            target=80, unit="%", consultation_id="mobilite"), NOW)
        await tx.flush()
        measured = plan_indicators.record(tx, indicator.id, date(2027, 1, 10), 55,
                                          "Enquête # adhérents", "", "association:a", NOW)
        await tx.flush()
        await plan_indicators.validate(tx, measured.id, indicator.id, "official:e", NOW)
        await feedback.send(tx, feedback.Audience("mobilite", themes=("prix",)),
                            "Des cars le samedi", "e", NOW, action_id=parent.id)


async def test_the_bilan_page_shows_the_plan_indicators_and_notifications(as_role, db):
    await _plan(db)
    web = await as_role("official")
    page = await (await web.get("/admin/consultations/mobilite/bilan")).text()
    for heading in ("<h2>Plan d'actions</h2>", "Indicateurs de suivi",
                    "Participants informés des actions"):
        assert heading in page
    assert "Sous-action" in page and "60 %" in page  # the parent rolls up to 60 %
    assert "Trajets simplifiés" in page and "10/01/2027" in page and "<svg" in page
    assert "Messages « vous avez dit, nous avons fait »" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page


async def test_the_markdown_bilan_escapes_the_plan_text(as_role, db):
    await _plan(db)
    web = await as_role("official")
    text = await (await web.get("/admin/consultations/mobilite/bilan.md")).text()
    assert "## Plan d'actions" in text and "## Indicateurs de suivi" in text
    assert "## Participants informés des actions" in text
    assert "\\<script\\>alert(1)\\</script\\> \\| \\[lien\\](http://x) \\*\\*gras\\*\\*" in text
    assert "### Trajets simplifiés (cible 80 %)" in text
    assert "| 10/01/2027 | 55 | Enquête \\# adhérents | oui |" in text
