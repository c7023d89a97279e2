"""The audit journal reads in plain French: actions, people and details, never "None"."""

import pytest

from admin import journal_words as words
from storage import audit
from tests.admin.conftest import NOW


@pytest.mark.parametrize(("key", "said"), [
    ("login.succeeded", "Connexion réussie"), ("theme.changed", "Thème corrigé"),
    ("participant.erased", "Réponses effacées à la demande du participant (SUPPRIMER)"),
    ("quelque.chose_de_nouveau", "quelque.chose_de_nouveau")])
def test_actions_in_french(key, said):
    assert words.action(key) == said


def test_every_action_the_code_records_has_its_french_name():
    import re
    from pathlib import Path

    root = Path(__file__).parents[2]
    found = set()
    for path in [*root.glob("admin/**/*.py"), *root.glob("bot/**/*.py"),
                 *root.glob("storage/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'action="([a-z_0-9.]+)"', text))
        found |= set(re.findall(r'"([a-z]+\.[a-z_0-9]+)" if', text))
        found |= set(re.findall(r'else "([a-z]+\.[a-z_0-9]+)"', text))
        found |= set(re.findall(r'record\(request, "([a-z_.]+)"', text))
    assert found, "no action found: the test reads the wrong folders"
    found -= {"append", "store_true", "store_false"}  # argparse's, not the journal's
    assert sorted(found - set(words.ACTIONS)) == []


async def test_the_journal_page_reads_in_french(as_role, db):
    async with db.transaction() as tx:
        audit.record(tx, actor="official:elue@region.example.fr", action="export",
                     target="mobilite", details={"what": "reponses", "question": None,
                                                 "complete": True, "rows": 12}, at=NOW)
        audit.record(tx, actor="cli", action="user.created", target="3",
                     details={"role": "official"}, at=NOW)
    web = await as_role("admin")
    page = await (await web.get("/admin/journal")).text()
    assert "Export téléchargé" in page and "agent : elue@region.example.fr" in page
    assert "contenu : <bdi>reponses</bdi> ; complet : <bdi>oui</bdi> ; lignes : <bdi>12</bdi>" \
        in page
    assert "None" not in page and "True" not in page and "question" not in page
    assert "opérateur (ligne de commande)" in page and "Compte créé" in page
    assert '<option value="user">Comptes</option>' in page
