"""The action plan's CSV: one format for the admin view and `relais plan`, a round trip that
gives the same file, and an import that is all or nothing."""

import io
import os
import subprocess
import sys
from datetime import date

import aiohttp
from sqlalchemy import delete, func, select

from admin import plan_csv
from storage import audit, invites, plan
from storage.plan_tables import Action
from tests.admin.conftest import NOW, form_token
from tests.checkout import CHECKOUT

HEADER = "id;parent;titre;description;porteur;statut;avancement;poids;debut;fin;consultation;" \
         "themes;public"
SAFE_ENV = {"RELAIS_ENV": "development", "RELAIS_SECRET_KEY": "k" * 40, "RELAIS_PUBLIC_URL": "",
            "RELAIS_FLOWS_DIR": "", "RELAIS_DEFAULT_CONSULTATION": "",
            "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_BOT_USERNAME": "",
            "TELEGRAM_WEBHOOK_SECRET": "", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",
            "TWILIO_FROM": ""}


def run_relais(database_url: str, cwd, *args: str) -> subprocess.CompletedProcess:
    """Runs `python -m bot ARGS` on the test database."""
    return subprocess.run([sys.executable, "-m", "bot", *args], text=True, capture_output=True,
                          cwd=cwd, timeout=120, check=False,
                          env={**os.environ, **SAFE_ENV, **CHECKOUT,
                               "RELAIS_DATABASE_URL": database_url})


def _file(content: bytes, token: str) -> aiohttp.FormData:
    """Returns the upload form holding a file, as a browser sends it."""
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("fichier", io.BytesIO(content), filename="plan.csv",
                   content_type="text/csv")
    return form


async def _build(db) -> None:
    async with db.transaction() as tx:
        club = await invites.add_association(tx, "Vélo Club d'Amiens", "80", NOW)
        root = await plan.create(tx, plan.Fields(
            "=HYPERLINK(\"http://x\")", description="Ligne 1\r\nLigne 2; avec « ; »",
            owner="Direction des transports", status="en_cours", consultation_id="mobilite",
            themes=("prix", "desserte_rurale"), public=True, starts_on=date(2027, 1, 5),
            ends_on=date(2027, 12, 31)), "o", NOW)
        await plan.create(tx, plan.Fields(
            "-Cars du samedi", owner_association_id=club.id, status="realisee", progress=100,
            weight=3, parent_id=root.id, consultation_id="mobilite"), "o", NOW)
        await plan.create(tx, plan.Fields("@Navette", parent_id=root.id, progress=20), "o",
                          NOW)


async def _export(db) -> str:
    async with db.read() as tx:
        return (await plan_csv.export(tx))[0]


async def _import(db, data: bytes) -> list[str] | tuple[int, int]:
    async with db.read() as tx:
        rows, problems = await plan_csv.read(tx, data)
    if problems:
        return [str(p) for p in problems]
    async with db.transaction() as tx:
        return await plan_csv.apply(tx, rows, "test", NOW)


async def test_the_file_has_the_promised_shape_and_neutralised_formulas(relais, db):
    await _build(db)
    content = await _export(db)
    assert content.startswith("\ufeff" + '"' + HEADER.replace(";", '";"') + '"\r\n')
    lines = content.split("\r\n")
    assert lines[1].startswith('"1";"";"\'=HYPERLINK(""http://x"")";"Ligne 1')
    assert '"2";"1";"\'-Cars du samedi";"";"Vélo Club d\'Amiens";"realisee";"100";"3";' \
           '"";"";"mobilite";"";"non"' in content
    assert '"desserte_rurale|prix";"oui"' in content
    assert '"3";"1";"\'@Navette";"";"";"a_lancer";"20";"1";"";"";"";"";"non"' in content


async def test_export_import_export_gives_the_same_file(relais, db):
    await _build(db)
    first = await _export(db)
    assert await _import(db, first.encode()) == (0, 0)  # the same plan: nothing changes
    assert await _export(db) == first
    async with db.transaction() as tx:  # an empty plan takes it back whole, same ids
        await tx.execute(delete(Action))
    assert await _import(db, first.encode()) == (3, 0)
    assert await _export(db) == first
    without_bom = first.removeprefix("\ufeff").encode()
    assert await _import(db, without_bom) == (0, 0)


async def test_import_updates_the_same_id_and_creates_the_others(relais, db):
    await _build(db)
    data = (HEADER + "\n"
            "1;;Desserte rurale;;Région;en_cours;;1;2027-01-05;;mobilite;desserte_rurale;oui\n"
            ";1;Nouvelle sous-action;;;a_lancer;;1;;;;;non\n"
            "4;;Action numérotée;;;realisee;;2;;;;;non\n").encode()
    assert await _import(db, data) == (2, 1)
    async with db.read() as tx:
        first = await plan.action(tx, 1)
        assert (first.title, first.owner, first.public) == ("Desserte rurale", "Région", True)
        found = [(row.id, row.parent_id, row.title) for row in await plan.actions(tx)]
        changes = {c.field for c in await plan.history(tx, 1)}
    # The numbered row keeps its id; the row without one comes after it.
    assert found[-2:] == [(4, None, "Action numérotée"), (5, 1, "Nouvelle sous-action")]
    assert {"title", "owner", "themes", "ends_on", "description"} <= changes


async def test_any_bad_row_changes_nothing_and_each_is_listed(relais, db):
    await _build(db)
    before = await _export(db)
    data = (HEADER + "\n"
            "1;;Bon;;;en_cours;;1;;;;;oui\n"
            "2;;Statut;;;inexistant;;1;;;;;non\n"
            "3;;Avancement;;;en_cours;101;1;;;;;non\n"
            "4;99;Parent inconnu;;;en_cours;;1;;;;;non\n"
            "5;6;Cycle A;;;en_cours;;1;;;;;non\n"
            "6;5;Cycle B;;;en_cours;;1;;;;;non\n"
            "7;;Thème;;;en_cours;;1;;;mobilite;prix|nulle_part;non\n"
            "8;;Date;;;en_cours;;1;2027-13-01;01/02/2027;;;non\n").encode()
    assert await _import(db, data) == [
        "ligne 3 : statut inconnu « inexistant »",
        "ligne 4 : avancement hors de 0–100 (101)",
        "ligne 5 : parent inconnu (99)",
        "ligne 6 : cycle de parents",
        "ligne 7 : cycle de parents",
        "ligne 8 : thème inconnu « nulle_part »",
        "ligne 9 : debut : date « 2027-13-01 » invalide (AAAA-MM-JJ)",
        "ligne 9 : fin : date « 01/02/2027 » invalide (AAAA-MM-JJ)"]
    assert await _export(db) == before
    assert await _import(db, b"id;titre\n1;x\n") == [
        "ligne 1 : en-tête attendu : " + HEADER]
    assert await _import(db, "\ufeffid".encode("utf-16")) == [
        "ligne 1 : le fichier n'est pas en UTF-8"]


async def test_the_admin_view_downloads_and_uploads_the_same_file(as_role, db, relais):
    await _build(db)
    web = await as_role("official")
    response = await web.get("/admin/plan/export.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    content = await response.read()
    assert content.decode() == await _export(db)
    token = await form_token(web, "/admin/plan")
    bad = content.replace(b'"en_cours"', b'"<b>faux</b>"')
    refused = await web.post("/admin/plan/import", data=_file(bad, token))
    assert refused.status == 400
    page = await refused.text()
    assert "ligne 2 : statut inconnu « &lt;b&gt;faux&lt;/b&gt; »" in page
    response = await web.post("/admin/plan/import",
                              data=_file(content, token),
                              allow_redirects=False)
    assert response.status == 303
    assert "0 action(s) créée(s), 0 modifiée(s)" in await (
        await web.get(response.headers["Location"])).text()
    async with db.read() as tx:
        assert [e.action for e in await audit.entries(tx, "plan.")][:2] == [
            "plan.imported", "plan.exported"]


async def test_the_command_line_imports_all_or_nothing(relais, db, database_url, tmp_path):
    await _build(db)
    good = tmp_path / "plan.csv"
    done = run_relais(database_url, tmp_path, "plan", "export", "--out", str(good))
    assert done.returncode == 0, done.stderr
    assert good.read_bytes().decode("utf-8") == await _export(db)
    bad = tmp_path / "faux.csv"
    bad.write_text(HEADER + "\n1;;x;;;inexistant;;1;;;;;non\n2;;y;;;en_cours;150;1;;;;;non\n",
                   encoding="utf-8")
    refused = run_relais(database_url, tmp_path, "plan", "import", str(bad))
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert lines[:2] == [f"relais: {bad}: ligne 2 : statut inconnu « inexistant »",
                         f"relais: {bad}: ligne 3 : avancement hors de 0–100 (150)"]
    async with db.read() as tx:
        assert await tx.scalar(select(func.count()).select_from(Action)) == 3
        assert (await plan.action(tx, 1)).status == "en_cours"


async def test_an_operator_adds_a_status_from_the_command_line(relais, db, database_url,
                                                               tmp_path):
    done = run_relais(database_url, tmp_path, "plan", "status", "add", "suspendue",
                      "Suspendue", "--avancement", "50")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "statut suspendue : Suspendue"
    refused = run_relais(database_url, tmp_path, "plan", "status", "add", "en_cours", "Double")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "relais: le statut « en_cours » existe déjà"
    async with db.read() as tx:
        status = (await plan.statuses(tx))["suspendue"]
    assert (status.name, status.default_progress) == ("Suspendue", 50)
