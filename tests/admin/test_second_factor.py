"""The second factor (TOTP, RFC 6238): enrolment, the code after the password, replay and
throttling, the required mode, turning it off, the operator's reset, and the audit."""

import asyncio
import html
import re
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select
from yarl import URL

from admin import auth
from bot.app import build, create_web_app
from bot.settings import Settings, SettingsError
from storage import audit, users
from storage.tables import AdminSession, Base
from tests.admin.conftest import PASSWORD, Clock, add_user, csrf_of, form_token
from tests.admin.test_users import relais as run_relais

EMAIL = "elue@region.example.fr"
ENROL = "/admin/double-authentification"
VERIFY = "/admin/verification"


def code(secret: str, clock: Clock, steps: int = 0) -> str:
    """Returns the code an authenticator app shows, `steps` periods of 30 s from now."""
    return pyotp.TOTP(secret).at(clock.now + timedelta(seconds=30 * steps))


def wrong_code(secret: str, clock: Clock) -> str:
    """Returns six digits that are none of the codes accepted now."""
    accepted = {code(secret, clock, steps) for steps in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


async def turn_on(db, relais, email: str = EMAIL) -> str:
    """Gives an account a second factor directly in the database; returns its secret."""
    secret = pyotp.random_base32()
    async with db.transaction() as tx:
        account = await users.by_email(tx, email)
        await users.set_totp(tx, account.id, relais.vault.seal_secret(secret), None)
    return secret


async def post_sign_in(client, email: str = EMAIL, password: str = PASSWORD):
    """Posts the sign-in form; returns the answer itself, not where it leads."""
    token = csrf_of(await (await client.get("/admin/connexion")).text())
    return await client.post("/admin/connexion", data={
        "email": email, "password": password, "csrf": token}, allow_redirects=False)


async def post_code(client, value: str, suite: str | None = None):
    """Posts the code form of a session awaiting its code."""
    token = await form_token(client, VERIFY)
    return await client.post(VERIFY, params={"suite": suite} if suite else None,
                             data={"code": value, "csrf": token}, allow_redirects=False)


def session_cookie(client) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/admin/"))[auth.COOKIE].value


async def account(db, email: str = EMAIL):
    async with db.read() as tx:
        return await users.by_email(tx, email)


async def actions(db, prefix: str) -> list[tuple[str, str]]:
    async with db.read() as tx:
        return [(e.actor, e.action) for e in reversed(await audit.entries(tx, prefix))]


def shown_secret(page: str) -> str:
    return re.search(r'<code class="cle">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")


# Enrolment


@pytest.mark.parametrize("wrong", ["", "12345", "abcdef", "1234567", "other-secret",
                                   "two-steps-ago"])
async def test_enrolment_refuses_a_wrong_code_and_saves_nothing(web, db, clock, wrong):
    await add_user(db, EMAIL, "official")
    assert (await post_sign_in(web)).status == 303
    page = await (await web.get(ENROL)).text()
    secret = shown_secret(page)
    value = {"other-secret": code(pyotp.random_base32(), clock),
             "two-steps-ago": code(secret, clock, -2)}.get(wrong, wrong)
    response = await web.post(ENROL, data={"code": value, "csrf": csrf_of(page)},
                              allow_redirects=False)
    assert response.status == 400
    assert "Ce code n'est pas le bon" in html.unescape(await response.text())
    assert (await account(db)).totp_secret is None
    assert shown_secret(await (await web.get(ENROL)).text()) == secret  # same secret to scan


async def test_enrolment_saves_the_secret_encrypted_once_a_right_code_confirms_it(
        web, db, clock, relais, aiohttp_client):
    await add_user(db, EMAIL, "official")
    other = await aiohttp_client(create_web_app(relais, work=False))
    assert (await post_sign_in(other)).status == 303  # another browser of the same person
    assert (await post_sign_in(web)).status == 303
    page = await (await web.get(ENROL)).text()
    assert re.search(r'<svg role="img" aria-label="[^"]+"', page)
    assert " style=" not in page
    assert re.search(r"<code class=\"cle\">([A-Z2-7]{4} ){7}[A-Z2-7]{4}</code>", page)
    secret = shown_secret(page)
    response = await web.post(ENROL, data={"code": " ".join([code(secret, clock)[:3],
                                                             code(secret, clock)[3:]]),
                                           "csrf": csrf_of(page)}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, ENROL + "?active=1")
    saved = (await account(db)).totp_secret
    assert saved is not None and secret not in saved
    assert relais.vault.open_secret(saved) == secret
    async with db.read() as tx:  # the secret is in clear in no row of any table
        for table in Base.metadata.sorted_tables:
            for row in (await tx.execute(select(table))).all():
                assert secret not in str(tuple(row)), table.name
        assert await tx.scalar(select(func.count()).select_from(AdminSession)) == 1
        assert await tx.scalar(select(AdminSession.totp_candidate)) is None
    assert "est <strong>activée</strong>" in await (await web.get(ENROL)).text()
    assert (await other.get("/admin/", allow_redirects=False)).status == 302  # signed out
    assert await actions(db, "user.2fa") == [("official:" + EMAIL, "user.2fa_enabled")]


# Signing in with a second factor


PAGES = ["/admin/", "/admin/consultations/mobilite", "/admin/consultations/mobilite/questions/"
         "probleme", "/admin/associations", "/admin/mot-de-passe", ENROL, "/admin/nulle-part"]


async def test_a_session_awaiting_its_code_opens_nothing_else(web, db, clock, relais):
    await add_user(db, EMAIL, "official")
    secret = await turn_on(db, relais)
    response = await post_sign_in(web)
    assert (response.status, response.headers["Location"]) == (
        303, VERIFY + "?suite=%2Fadmin%2F")
    pending = session_cookie(web)
    for path in PAGES:
        response = await web.get(path, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (302, VERIFY), path
    token = await form_token(web, VERIFY)
    response = await web.post("/admin/mot-de-passe", allow_redirects=False, data={
        "csrf": token, "actuel": PASSWORD, "nouveau": "x" * 20, "confirmation": "x" * 20})
    assert (response.status, response.headers["Location"]) == (303, VERIFY)
    page = await (await web.get(VERIFY)).text()
    assert 'href="/admin/associations"' not in page and "Consultations" not in page
    response = await post_code(web, code(secret, clock), suite="/admin/associations")
    assert (response.status, response.headers["Location"]) == (303, "/admin/associations")
    assert session_cookie(web) != pending  # a new session id once the code is right
    assert (await web.get("/admin/", allow_redirects=False)).status == 200
    web.session.cookie_jar.clear()
    web.session.cookie_jar.update_cookies({auth.COOKIE: pending},
                                          URL(str(web.make_url("/"))))
    assert (await web.get("/admin/", allow_redirects=False)).status == 302
    assert await actions(db, "login") == [("official:" + EMAIL, "login.code_requested"),
                                          ("official:" + EMAIL, "login.succeeded")]


@pytest.mark.parametrize(("steps", "accepted"), [
    (0, True), (-1, True), (1, True),  # one step either side: a phone's clock drifts
    (-2, False), (2, False), (-20, False)])
async def test_only_codes_within_one_step_are_accepted(web, db, clock, relais, steps,
                                                       accepted):
    await add_user(db, EMAIL, "admin")
    secret = await turn_on(db, relais)
    await post_sign_in(web)
    response = await post_code(web, code(secret, clock, steps))
    assert response.status == (303 if accepted else 401)
    if not accepted:
        assert "Ce code n'est pas le bon" in html.unescape(await response.text())
    assert (await web.get("/admin/journal", allow_redirects=False)).status == \
        (200 if accepted else 302)


async def test_a_code_opens_one_session_only(web, db, clock, relais, aiohttp_client):
    await add_user(db, EMAIL, "official")
    secret = await turn_on(db, relais)
    first = code(secret, clock)
    await post_sign_in(web)
    assert (await post_code(web, first)).status == 303
    thief = await aiohttp_client(create_web_app(relais, work=False))
    assert (await post_sign_in(thief)).status == 303
    assert (await post_code(thief, first)).status == 401  # replayed within its 30 s
    assert (await post_code(thief, code(secret, clock, -1))).status == 401  # older than used
    clock.advance(seconds=30)
    assert (await post_code(thief, code(secret, clock))).status == 303  # the next one works
    assert (await account(db)).totp_last_step == int(clock.now.timestamp()) // 30


async def test_wrong_codes_are_throttled_like_passwords(web, db, clock, relais):
    await add_user(db, EMAIL, "official")
    secret = await turn_on(db, relais)
    await post_sign_in(web)
    for _attempt in range(5):
        assert (await post_code(web, wrong_code(secret, clock))).status == 401
        clock.advance(seconds=5)
    response = await post_code(web, code(secret, clock))
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert (await post_sign_in(web)).status == 429  # the password form counts them too
    clock.advance(seconds=int(response.headers["Retry-After"]))
    assert (await web.get(VERIFY, allow_redirects=False)).status == 200  # still pending
    assert (await post_code(web, code(secret, clock))).status == 303
    async with db.read() as tx:
        assert await audit.count(tx, "login.code_failed") == 5


async def test_parallel_wrong_codes_get_no_more_tries_than_the_limit(web, db, clock, relais):
    await add_user(db, EMAIL, "official")
    secret = await turn_on(db, relais)
    await post_sign_in(web)
    token = await form_token(web, VERIFY)
    wrong = wrong_code(secret, clock)

    async def guess(_number: int) -> int:
        response = await web.post(VERIFY, data={"code": wrong, "csrf": token},
                                  allow_redirects=False)
        return response.status

    statuses = await asyncio.gather(*(guess(number) for number in range(60)))
    limit = auth.ACCOUNT_LIMITS[0][0]
    assert sorted(statuses) == [401] * limit + [429] * (60 - limit)
    async with db.read() as tx:
        assert await audit.count(tx, "login.code_failed") == limit


async def test_the_code_form_times_out_like_a_session_and_can_be_left(web, db, clock, relais):
    await add_user(db, EMAIL, "official")
    await turn_on(db, relais)
    await post_sign_in(web)
    clock.advance(minutes=31)
    response = await web.get(VERIFY, allow_redirects=False)
    assert response.headers["Location"].startswith("/admin/connexion?expiree=1")
    await post_sign_in(web)
    response = await web.post("/admin/deconnexion", allow_redirects=False,
                              data={"csrf": await form_token(web, VERIFY)})
    assert (response.status, response.headers["Location"]) == (303, "/admin/connexion")
    async with db.read() as tx:
        assert await tx.scalar(select(func.count()).select_from(AdminSession)) == 0


async def test_the_code_form_sends_others_away(web, db, as_role):
    assert (await web.get(VERIFY, allow_redirects=False)).headers["Location"] == \
        "/admin/connexion"
    client = await as_role("official")  # signed in without a second factor
    assert (await client.get(VERIFY, allow_redirects=False)).headers["Location"] == "/admin/"


# Required mode


@pytest.fixture
async def strict(aiohttp_client, settings, db):
    """A client on Relais run with RELAIS_ADMIN_2FA=required, and its clock."""
    system = build(replace(settings, admin_second_factor="required"))
    system.clock = Clock()
    await system.prepare()
    yield await aiohttp_client(create_web_app(system, work=False)), system
    await system.stop()


@pytest.mark.parametrize(("role", "landing", "forced"), [
    ("official", "/admin/consultations/mobilite", True),
    ("admin", "/admin/journal", True),
    ("association", "/admin/associations/{association}", False),
])
async def test_required_mode_forces_officials_and_admins_to_enrol(
        strict, db, association, role, landing, forced):
    client, system = strict
    clock = system.clock
    await add_user(db, EMAIL, role, association.id if role == "association" else None)
    assert (await post_sign_in(client)).status == 303
    landing = landing.format(association=association.id)
    response = await client.get(landing, allow_redirects=False)
    assert response.status == (302 if forced else 200)
    if not forced:
        return
    assert response.headers["Location"] == ENROL
    response = await client.post("/admin/deconnexion", data={"csrf": "x"},
                                 allow_redirects=False)
    assert response.status == 403  # signing out stays open, with its CSRF check
    page = await (await client.get(ENROL)).text()
    assert "obligatoire pour votre rôle" in page
    await client.post(ENROL, data={"code": code(shown_secret(page), clock),
                                   "csrf": csrf_of(page)})
    assert (await client.get(landing, allow_redirects=False)).status == 200


async def test_in_required_mode_an_enrolled_official_signs_in_with_a_code(strict, db):
    client, system = strict
    await add_user(db, EMAIL, "official")
    secret = await turn_on(db, system)
    await post_sign_in(client)
    assert (await client.get("/admin/", allow_redirects=False)).headers["Location"] == VERIFY
    assert (await post_code(client, code(secret, system.clock))).status == 303
    assert (await client.get("/admin/", allow_redirects=False)).status == 200


# Turning it off


async def test_turning_it_off_needs_a_current_code(web, db, clock, relais):
    await add_user(db, EMAIL, "official")
    secret = await turn_on(db, relais)
    await post_sign_in(web)
    await post_code(web, code(secret, clock))
    path = ENROL + "/desactivation"
    for wrong in ("", "123", code(secret, clock), code(secret, clock, -2)):  # used, too old
        response = await web.post(path, data={"code": wrong, "csrf": await form_token(
            web, ENROL)}, allow_redirects=False)
        assert response.status == 400, wrong
        assert (await account(db)).totp_secret is not None
    response = await web.post(path, data={"code": code(secret, clock, 1), "csrf": (
        await form_token(web, ENROL))}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, ENROL + "?desactive=1")
    assert (await account(db)).totp_secret is None
    assert await actions(db, "user.2fa") == [("official:" + EMAIL, "user.2fa_disabled")]
    web.session.cookie_jar.clear()
    assert (await post_sign_in(web)).headers["Location"] == "/admin/"  # no code asked now


async def test_turning_it_off_is_throttled(web, db, clock, relais):
    await add_user(db, EMAIL, "official")
    secret = await turn_on(db, relais)
    await post_sign_in(web)
    await post_code(web, code(secret, clock))
    for _attempt in range(5):
        response = await web.post(ENROL + "/desactivation", data={
            "code": wrong_code(secret, clock), "csrf": await form_token(web, ENROL)})
        assert response.status == 400
    response = await web.post(ENROL + "/desactivation", data={
        "code": code(secret, clock, 1), "csrf": await form_token(web, ENROL)})
    assert response.status == 429 and "Retry-After" in response.headers
    assert (await account(db)).totp_secret is not None


# The operator's reset (lost phone) and the account list


async def test_the_operator_resets_a_lost_second_factor(web, db, database_url, tmp_path,
                                                        clock, relais):
    await add_user(db, EMAIL, "official")
    await add_user(db, "collegue@region.example.fr", "official")
    secret = await turn_on(db, relais)
    await post_sign_in(web)
    await post_code(web, code(secret, clock))
    listing = run_relais(database_url, tmp_path, "user", "list")
    assert f"{EMAIL}  official  actif  2FA activée" in listing.stdout
    assert "collegue@region.example.fr  official  actif  sans 2FA" in listing.stdout
    done = run_relais(database_url, tmp_path, "user", "reset-2fa", EMAIL.upper())
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"double authentification de {EMAIL} désactivée ; "
                           "ses sessions sont fermées\n")
    assert (await account(db)).totp_secret is None
    assert (await web.get("/admin/", allow_redirects=False)).status == 302  # signed out
    assert (await post_sign_in(web)).headers["Location"] == "/admin/"
    assert await actions(db, "user.2fa") == [("cli", "user.2fa_reset")]
    missing = run_relais(database_url, tmp_path, "user", "reset-2fa", "personne@region.fr")
    assert missing.returncode != 0 and "aucun compte" in missing.stderr


async def test_a_step_is_used_once_even_by_requests_that_raced_past_the_check(db, relais):
    await add_user(db, EMAIL, "official")
    await turn_on(db, relais)
    user_id = (await account(db)).id
    async with db.transaction() as tx:
        assert [await users.use_totp_step(tx, user_id, step) for step in (100, 100, 99, 101)] \
            == [True, False, False, True]
    async with db.transaction() as tx:  # without a second factor, no step is ever accepted
        await users.set_totp(tx, user_id, None, None)
        assert not await users.use_totp_step(tx, user_id, 200)


@pytest.mark.parametrize(("value", "read"), [
    (None, "optional"), ("optional", "optional"), ("required", "required"), (" required ",
                                                                            "required"),
    ("obligatoire", SettingsError), ("REQUIRED", SettingsError)])
def test_the_setting_is_optional_or_required(value, read):
    environ = {"RELAIS_ENV": "test", "RELAIS_SECRET_KEY": "k" * 40}
    if value is not None:
        environ["RELAIS_ADMIN_2FA"] = value
    if read is SettingsError:
        with pytest.raises(SettingsError, match="RELAIS_ADMIN_2FA doit valoir optional ou "
                                                "required"):
            Settings.from_env(environ)
    else:
        assert Settings.from_env(environ).admin_second_factor == read
