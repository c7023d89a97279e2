"""Changing one's own password: checks, throttling, sessions closed elsewhere, audit."""

import asyncio
import html

import pytest
from sqlalchemy import func, select

from storage.tables import AdminSession, AuditEntry
from tests.admin.conftest import PASSWORD, add_user, form_token, sign_in

EMAIL = "elue@region.example.fr"
NEW = "un autre long chemin de halage"
PAGE = "/admin/mot-de-passe"


async def change(client, current: str, new: str, confirmation: str | None = None):
    token = await form_token(client, PAGE)
    return await client.post(PAGE, data={
        "csrf": token, "actuel": current, "nouveau": new,
        "confirmation": new if confirmation is None else confirmation}, allow_redirects=False)


async def count(db, model, *where) -> int:
    async with db.read() as tx:
        return await tx.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize(("current", "new", "confirmation", "message"), [
    ("pas le bon mot de passe", NEW, None, "Le mot de passe actuel n'est pas le bon."),
    (PASSWORD, NEW, NEW + "x", "Les deux saisies du nouveau mot de passe diffèrent."),
    (PASSWORD, "court", None, "au moins 12 caractères"),
    (PASSWORD, "motdepasse2024!", None, "trop courant"),
    (PASSWORD, "elue elue elue elue", None, "adresse e-mail"),
    (PASSWORD, PASSWORD, None, "différent de l'actuel"),
])
async def test_a_refused_change_says_why_and_changes_nothing(web, db, current, new,
                                                             confirmation, message):
    await add_user(db, EMAIL, "official")
    await sign_in(web, EMAIL)
    response = await change(web, current, new, confirmation)
    assert response.status == 400
    assert message in html.unescape(await response.text())
    web.session.cookie_jar.clear()
    assert (await sign_in(web, EMAIL)).status == 200  # the old password still works


async def test_a_change_closes_other_sessions_and_keeps_this_browser_signed_in(
        web, db, aiohttp_client, relais):
    from bot.app import create_web_app
    await add_user(db, EMAIL, "official")
    elsewhere = await aiohttp_client(create_web_app(relais, work=False))
    await sign_in(elsewhere, EMAIL)
    await sign_in(web, EMAIL)
    assert await count(db, AdminSession) == 2
    response = await change(web, PASSWORD, NEW)
    assert response.status == 303
    assert response.headers["Location"] == "/admin/mot-de-passe?modifie=1"
    assert await count(db, AdminSession) == 1
    page = await web.get("/admin/mot-de-passe?modifie=1")
    assert page.status == 200 and "Votre mot de passe a été changé." in await page.text()
    stale = await elsewhere.get("/admin/", allow_redirects=False)
    assert stale.status == 302 and "/admin/connexion" in stale.headers["Location"]
    assert await count(db, AuditEntry, AuditEntry.action == "user.password_changed") == 1
    web.session.cookie_jar.clear()
    assert (await sign_in(web, EMAIL)).status == 401
    assert (await sign_in(web, EMAIL, NEW)).status == 200


async def test_guessing_the_current_password_is_throttled(web, db):
    await add_user(db, EMAIL, "official")
    await sign_in(web, EMAIL)
    for _attempt in range(5):
        assert (await change(web, "pas le bon mot de passe", NEW)).status == 400
    response = await change(web, PASSWORD, NEW)
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0


async def test_parallel_wrong_current_passwords_get_no_more_tries_than_the_limit(web, db):
    await add_user(db, EMAIL, "official")
    await sign_in(web, EMAIL)
    token = await form_token(web, PAGE)

    async def guess(number: int) -> int:
        response = await web.post(PAGE, allow_redirects=False, data={
            "csrf": token, "actuel": f"pas le bon mot de passe {number}", "nouveau": NEW,
            "confirmation": NEW})
        return response.status

    statuses = await asyncio.gather(*(guess(number) for number in range(15)))
    assert sorted(statuses) == [400] * 5 + [429] * 10
    assert await count(db, AuditEntry, AuditEntry.action == "user.password_changed") == 0


async def test_changing_needs_the_form_token(web, db):
    await add_user(db, EMAIL, "official")
    await sign_in(web, EMAIL)
    response = await web.post(PAGE, data={"actuel": PASSWORD, "nouveau": NEW,
                                          "confirmation": NEW}, allow_redirects=False)
    assert response.status == 403
    web.session.cookie_jar.clear()
    assert (await sign_in(web, EMAIL)).status == 200
