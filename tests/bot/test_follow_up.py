"""The public follow-up pages: what people said, what was decided, without sign-in; small
counts hidden, nothing private, cacheable with an ETag."""

from datetime import date

import pytest

from bot.app import create_web_app
from storage import plan
from tests.admin.conftest import NOW, add_user
from tests.admin.seed import add_session

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture
async def web(aiohttp_client, relais):
    return await aiohttp_client(create_web_app(relais, work=False))


async def _said(db, theme: str, n: int, channel: str = "telegram") -> None:
    for _ in range(n):
        await add_session(db, channel=channel, answers=(
            {"question": "probleme", "text": "Jean Dupont 06 12 34 56 78 trop cher",
             "redacted": "[personne] [téléphone] trop cher", "theme": theme},))


async def _plan(db) -> dict[str, int]:
    async with db.transaction() as tx:
        shown = await plan.create(tx, plan.Fields(
            HOSTILE, description="Tarif solidaire", status="en_cours", progress=40,
            consultation_id="mobilite", themes=("prix",), public=True,
            starts_on=date(2027, 1, 5)), "official:elue@region.example.fr", NOW)
        await plan.add_milestone(tx, shown, date(2027, 2, 1), "Vote du budget", "En séance",
                                 "official:elue@region.example.fr", NOW)
        hidden = await plan.create(tx, plan.Fields(
            "Action interne non publiée", consultation_id="mobilite"), "o", NOW)
        declined = await plan.create(tx, plan.Fields(
            "Proposition refusée", consultation_id="mobilite", public=True,
            status=plan.PROPOSED), "o", NOW)
        await plan.decide(tx, declined, "declined", "Hors compétence", None, "o", NOW)
        await plan.add_comment(tx, shown.id, None, None, "Commentaire interne", NOW)
    return {"shown": shown.id, "hidden": hidden.id}


async def test_the_page_shows_what_was_said_and_decided_without_sign_in(web, db):
    await _said(db, "prix", 6)
    await _said(db, "velo", 3)  # under 5: no count
    await _said(db, "prix", 4, channel="web")  # the team's trials: not counted
    await _plan(db)
    response = await web.get("/suivi/mobilite", allow_redirects=False)
    assert response.status == 200
    page = await response.text()
    assert "Prix et tarifs" in page and "Vélo et pistes cyclables" in page
    assert ">6<" in page and "67 %" in page  # 6 of the 9 classified answers
    assert "moins de 5" in page and ">3<" not in page and "33 %" not in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert "Vote du budget" in page and "01/02/2027" in page and "05/01/2027" in page
    assert 'value="40"' in page and "En cours" in page
    for private in ("Action interne non publiée", "Proposition refusée", "Commentaire interne",
                    "Hors compétence", "Jean Dupont", "06 12 34", "[personne]",
                    "elue@region.example.fr", "official:"):
        assert private not in page, private


async def test_the_index_lists_each_consultation(web, db):
    await _plan(db)
    page = await (await web.get("/suivi")).text()
    assert '<a href="/suivi/mobilite">' in page and "1 action publique" in page
    assert (await web.get("/suivi/inconnue")).status == 404


async def test_an_unchanged_page_answers_304_and_a_change_a_new_etag(web, db):
    ids = await _plan(db)
    first = await web.get("/suivi/mobilite")
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public")
    again = await web.get("/suivi/mobilite", headers={"If-None-Match": tag})
    assert again.status == 304 and again.headers["ETag"] == tag
    assert await again.read() == b""
    async with db.transaction() as tx:
        row = await plan.action(tx, ids["shown"])
        await plan.add_milestone(tx, row, date(2027, 3, 1), "Premiers trains", "", "o", NOW)
    changed = await web.get("/suivi/mobilite", headers={"If-None-Match": tag})
    assert changed.status == 200 and changed.headers["ETag"] != tag
    index = await web.get("/suivi")
    assert (await web.get("/suivi", headers={"If-None-Match": index.headers["ETag"]})
            ).status == 304


async def test_the_page_sets_no_cookie_even_for_a_signed_in_official(web, db):
    await add_user(db, "elue@region.example.fr", "official")
    response = await web.get("/suivi/mobilite")
    assert not response.cookies and "Set-Cookie" not in response.headers
    page = await response.text()
    assert "<meta name=\"viewport\"" in page  # readable on a phone
    assert "<script" not in page  # nothing to run: usable without JavaScript
