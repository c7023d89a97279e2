"""Security of the admin view: cookies, sessions, CSRF, throttling, headers, errors, redirects,
audit, and the access rules of every route."""

import asyncio
import hashlib
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp import web as aioweb
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import func, select
from yarl import URL

from admin import auth
from admin.app import create_app
from admin.config import CONFIG, AdminConfig
from bot.app import admin_config, build, create_web_app
from bot.settings import Settings
from storage import audit, invites, plan, users
from storage.tables import AdminSession, AdminUser, Base, LoginFailure
from storage.vault import Vault
from tests.admin.conftest import NOW, PASSWORD, add_user, csrf_of, form_token
from tests.conftest import SECRET

EMAIL = "elue@region.example.fr"
WRONG = "pas le bon mot de passe"


async def post_sign_in(client, email: str, password: str = PASSWORD, suite: str | None = None,
                       headers: dict | None = None):
    """Posts the sign-in form and returns the answer itself, not where it leads."""
    page = await client.get("/admin/connexion")
    token = csrf_of(await page.text())
    if "Secure" in page.headers.get("Set-Cookie", ""):  # the client keeps those for HTTPS
        headers = {**(headers or {}), "Cookie": f"{auth.PRE_COOKIE}={token}"}
    return await client.post("/admin/connexion", params={"suite": suite} if suite else None,
                             data={"email": email, "password": password, "csrf": token},
                             headers=headers, allow_redirects=False)


def set_cookie(response, name: str = auth.COOKIE) -> str:
    """Returns the Set-Cookie header of one cookie."""
    found = [h for h in response.headers.getall("Set-Cookie", []) if h.startswith(name + "=")]
    assert len(found) == 1, response.headers.getall("Set-Cookie", [])
    return found[0]


def session_token(response) -> str:
    return set_cookie(response).split(";")[0].split("=", 1)[1]


def only_cookie(client, token: str) -> None:
    """Leaves the client with one session cookie: this token."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({auth.COOKIE: token}, URL(str(client.make_url("/"))))


async def sessions(db) -> int:
    async with db.read() as tx:
        return await tx.scalar(select(func.count()).select_from(AdminSession))


@pytest.fixture
async def production(aiohttp_client, database_url, db):
    """An HTTP client on Relais configured for production."""
    settings = Settings(env="production", database_url=database_url, secret_key=SECRET,
                        public_url="https://relais.example.org")
    system = build(settings)
    await system.prepare()
    yield await aiohttp_client(create_web_app(system, work=False))
    await system.stop()


# Cookies and sessions


@pytest.mark.parametrize("mode", ["development", "production"])
async def test_the_session_cookie_is_narrow_and_hidden_from_scripts(web, production, db, mode):
    client = production if mode == "production" else web
    await add_user(db, EMAIL, "official")
    form_cookie = set_cookie(await client.get("/admin/connexion"), auth.PRE_COOKIE)
    assert "HttpOnly" in form_cookie and "Path=/admin" in form_cookie
    response = await post_sign_in(client, EMAIL)
    assert (response.status, response.headers["Location"]) == (303, "/admin/")
    flags = [part.strip().lower() for part in set_cookie(response).split(";")[1:]]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/admin" in flags
    assert not [flag for flag in flags if flag.startswith("domain")]
    assert ("secure" in flags) == (mode == "production")
    assert not [flag for flag in flags if flag.startswith(("max-age", "expires"))]


async def test_signing_in_issues_a_new_session_and_the_old_cookie_opens_nothing(web, db):
    await add_user(db, EMAIL, "official")
    only_cookie(web, "jeton-plante-par-un-tiers-0123456789abcdef")
    first = session_token(await post_sign_in(web, EMAIL))
    assert first != "jeton-plante-par-un-tiers-0123456789abcdef"
    second = session_token(await post_sign_in(web, EMAIL))  # signing in again, same browser
    assert second != first
    assert await sessions(db) == 1  # the first session was closed, not left behind
    for stale in ("jeton-plante-par-un-tiers-0123456789abcdef", first):
        only_cookie(web, stale)
        response = await web.get("/admin/", allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"].startswith("/admin/connexion?expiree=1")
    only_cookie(web, second)
    assert (await web.get("/admin/", allow_redirects=False)).status == 200


async def test_after_signing_out_the_old_cookie_leads_to_the_sign_in_page(web, db):
    await add_user(db, EMAIL, "official")
    token = session_token(await post_sign_in(web, EMAIL))
    csrf = await form_token(web, "/admin/")
    response = await web.post("/admin/deconnexion", data={"csrf": csrf}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/admin/connexion")
    assert "Max-Age=0" in set_cookie(response) or "expires" in set_cookie(response).lower()
    assert await sessions(db) == 0
    only_cookie(web, token)
    replay = await web.get("/admin/", allow_redirects=False)
    assert replay.status == 302
    assert replay.headers["Location"].startswith("/admin/connexion")
    async with db.read() as tx:
        assert [e.action for e in await audit.entries(tx, "logout")] == ["logout"]


async def test_a_stale_cookie_does_not_stop_the_sign_in_page(web, db):
    only_cookie(web, "ancien-jeton")
    response = await web.get("/admin/connexion", allow_redirects=False)
    assert response.status == 200
    assert "Max-Age=0" in set_cookie(response)
    response = await web.post("/admin/deconnexion", allow_redirects=False)  # nothing to close
    assert (response.status, response.headers["Location"]) == (303, "/admin/connexion")


@pytest.mark.parametrize(("steps", "signed_in"), [
    ([timedelta(minutes=29)], True),
    ([timedelta(minutes=30)], True),  # 30 minutes idle: not yet more than 30
    ([timedelta(minutes=31)], False),
    ([timedelta(minutes=20)] * 3 + [timedelta(minutes=31)], False),
    ([timedelta(minutes=25)] * 28, True),  # active for 11 h 40
    ([timedelta(minutes=25)] * 28 + [timedelta(minutes=20)], True),  # 12 h: not yet more
    ([timedelta(minutes=25)] * 28 + [timedelta(minutes=21)], False),  # 12 h 01: signed out
])
async def test_sessions_end_after_30_idle_minutes_or_12_hours(web, db, clock, steps,
                                                               signed_in):
    await add_user(db, EMAIL, "official")
    assert (await post_sign_in(web, EMAIL)).status == 303
    for step in steps[:-1]:
        clock.advance(seconds=step.total_seconds())
        assert (await web.get("/admin/", allow_redirects=False)).status == 200
    clock.advance(seconds=steps[-1].total_seconds())
    response = await web.get("/admin/", allow_redirects=False)
    assert response.status == (200 if signed_in else 302)
    if not signed_in:
        assert response.headers["Location"].startswith("/admin/connexion?expiree=1")
        assert await sessions(db) == 0


# CSRF


async def test_forms_without_the_session_token_change_nothing(as_role, db, aiohttp_client,
                                                              relais):
    web = await as_role("admin")
    await add_user(db, "autre-admin@region.example.fr", "admin")
    other = await aiohttp_client(create_web_app(relais, work=False))
    assert (await post_sign_in(other, "autre-admin@region.example.fr")).status == 303
    foreign = await form_token(other, "/admin/utilisateurs")
    mine = await form_token(web, "/admin/utilisateurs")
    assert foreign != mine
    form = {"email": "nouveau@region.example.fr", "role": "official"}
    for token in (None, "", foreign, mine[:-1]):
        data = form if token is None else {**form, "csrf": token}
        response = await web.post("/admin/utilisateurs", data=data)
        assert response.status == 403
        assert "Jeton de formulaire absent ou périmé" in await response.text()
    response = await web.post("/admin/utilisateurs", json={**form, "csrf": mine})
    assert response.status == 403  # not a form: the token must come in the header
    async with db.read() as tx:
        assert await users.by_email(tx, "nouveau@region.example.fr") is None
    response = await web.post("/admin/deconnexion", data={"csrf": foreign})
    assert response.status == 403 and await sessions(db) == 2
    response = await web.post("/admin/utilisateurs", data={**form, "csrf": mine})
    assert response.status == 200  # the right token works: the refusals were about it


async def test_the_sign_in_form_needs_its_token(web, db):
    await add_user(db, EMAIL, "official")
    await web.get("/admin/connexion")  # the browser holds the form's cookie
    for data in ({}, {"csrf": "x" * 43}):
        response = await web.post("/admin/connexion",
                                  data={"email": EMAIL, "password": PASSWORD, **data},
                                  allow_redirects=False)
        assert response.status == 403
    assert await sessions(db) == 0
    async with db.read() as tx:
        assert await audit.count(tx, "login") == 0


# Throttling


@pytest.fixture
def settings(settings):
    """Settings of this module: the test client's address is a trusted reverse proxy."""
    return replace(settings, trusted_proxies=frozenset({"127.0.0.1"}))


@pytest.fixture
def addresses():
    """Marks the tests whose requests say where they come from, through the proxy."""


def came_from(address: str) -> dict:
    return {"X-Forwarded-For": address}


# (peer, X-Forwarded-For, trusted proxies) → address throttled
ADDRESSES = [
    ("203.0.113.7", "", set(), "203.0.113.7"),
    ("203.0.113.7", "198.51.100.2", set(), "203.0.113.7"),  # anyone may send the header
    ("127.0.0.1", "198.51.100.2", {"127.0.0.1"}, "198.51.100.2"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.2", {"127.0.0.1"}, "198.51.100.2"),  # spoofed first hop
    ("127.0.0.1", "198.51.100.2, 10.0.0.2", {"127.0.0.1", "10.0.0.2"}, "198.51.100.2"),
    ("127.0.0.1", "", {"127.0.0.1"}, "127.0.0.1"),
]


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), ADDRESSES)
def test_the_address_comes_from_forwarded_headers_of_trusted_proxies_only(
        peer, forwarded, trusted, expected):
    app = aioweb.Application()
    app[CONFIG] = AdminConfig(db=None, trusted_proxies=frozenset(trusted))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/admin/connexion", headers=headers, app=app,
                                  transport=_Transport(peer))
    assert auth._address(request) == expected


class _Transport:
    """The socket side of a mocked request: only its peer address matters here."""

    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default=None):
        return (self.peer, 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


@pytest.mark.parametrize("email", [EMAIL, "inconnue@region.example.fr"])
async def test_the_sixth_wrong_password_in_a_minute_is_refused_even_if_right(web, db, clock,
                                                                             email):
    await add_user(db, EMAIL, "official")
    for _attempt in range(5):
        response = await post_sign_in(web, email, WRONG)
        assert response.status == 401
        assert "Adresse e-mail ou mot de passe incorrect." in await response.text()
        clock.advance(seconds=10)
    response = await post_sign_in(web, email)
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "Trop de tentatives : patientez 1 minute avant de réessayer." in \
        await response.text()
    assert await sessions(db) == 0
    clock.advance(seconds=int(response.headers["Retry-After"]))
    if email == EMAIL:  # once the window has passed, the person gets in
        assert (await post_sign_in(web, email)).status == 303


async def test_a_throttled_account_does_not_lock_out_others(web, db, clock, addresses):
    await add_user(db, EMAIL, "official")
    await add_user(db, "collegue@region.example.fr", "official")
    for _attempt in range(6):
        await post_sign_in(web, EMAIL, WRONG, headers=came_from("203.0.113.7"))
    assert (await post_sign_in(web, EMAIL, headers=came_from("198.51.100.2"))).status == 429
    response = await post_sign_in(web, "collegue@region.example.fr",
                                  headers=came_from("198.51.100.2"))
    assert response.status == 303


async def test_one_address_guessing_many_accounts_is_throttled(web, db, clock, addresses):
    await add_user(db, EMAIL, "official")
    limit = auth.ADDRESS_LIMITS[0][0]
    for number in range(limit):
        response = await post_sign_in(web, f"essai{number}@region.example.fr", WRONG,
                                      headers=came_from("203.0.113.7"))
        assert response.status == 401
    assert (await post_sign_in(web, EMAIL, headers=came_from("203.0.113.7"))).status == 429
    assert (await post_sign_in(web, EMAIL, headers=came_from("198.51.100.2"))).status == 303


async def concurrently(count: int, request) -> list[int]:
    """Sends `count` requests at once; returns their statuses."""
    return list(await asyncio.gather(*(request(number) for number in range(count))))


async def test_parallel_wrong_passwords_get_no_more_tries_than_the_limit(web, db, clock):
    await add_user(db, EMAIL, "official")
    token = csrf_of(await (await web.get("/admin/connexion")).text())

    async def guess(number: int) -> int:
        response = await web.post("/admin/connexion", allow_redirects=False, data={
            "email": EMAIL, "password": f"{WRONG} {number}", "csrf": token})
        return response.status

    statuses = await concurrently(15, guess)
    limit = auth.ACCOUNT_LIMITS[0][0]
    assert sorted(statuses) == [401] * limit + [429] * (15 - limit)
    async with db.read() as tx:
        assert await audit.count(tx, "login.failed") == limit


async def test_parallel_guesses_from_one_address_get_no_more_tries_than_its_limit(
        web, db, clock, addresses):
    token = csrf_of(await (await web.get("/admin/connexion")).text())

    async def guess(number: int) -> int:
        response = await web.post("/admin/connexion", allow_redirects=False,
                                  headers=came_from("203.0.113.7"), data={
                                      "email": f"essai{number}@region.example.fr",
                                      "password": WRONG, "csrf": token})
        return response.status

    limit = auth.ADDRESS_LIMITS[0][0]
    statuses = await concurrently(limit + 10, guess)
    assert sorted(statuses) == [401] * limit + [429] * 10


async def test_at_most_100_failures_an_hour_per_account(web, db, clock, relais):
    await add_user(db, EMAIL, "official")
    async with db.transaction() as tx:  # 100 failures over the last hour, 5 a minute at most
        for number in range(100):
            at = clock.now - timedelta(minutes=59) + timedelta(seconds=30 * number)
            await users.record_failure(tx, [auth.account_key(admin_config(relais), EMAIL)], at)
    response = await post_sign_in(web, EMAIL)
    assert response.status == 429
    assert 50 < int(response.headers["Retry-After"]) <= 61
    clock.advance(minutes=2)  # the oldest failures leave the hour
    assert (await post_sign_in(web, EMAIL)).status == 303
    async with db.read() as tx:  # and signing in swept what no window counts any more
        kept = await users.recent_failures(tx, auth.account_key(admin_config(relais), EMAIL),
                                           clock.now - timedelta(days=1), 1000)
    assert len(kept) == 98
    assert min(kept) == clock.now - timedelta(hours=1)


async def test_signing_in_sweeps_stale_sessions(web, db, clock, aiohttp_client, relais):
    await add_user(db, EMAIL, "official")
    await add_user(db, "collegue@region.example.fr", "official")
    assert (await post_sign_in(web, "collegue@region.example.fr")).status == 303
    clock.advance(minutes=45)  # the colleague's session is idle past the limit
    other = await aiohttp_client(create_web_app(relais, work=False))
    assert (await post_sign_in(other, EMAIL)).status == 303
    assert await sessions(db) == 1


# Headers, errors, redirects


PAGES = [(None, "/admin/connexion"), ("official", "/admin/"), ("admin", "/admin/utilisateurs"),
         ("admin", "/admin/journal"), ("official", "/admin/nulle-part")]


@pytest.mark.parametrize(("role", "path"), PAGES)
async def test_every_admin_page_carries_the_security_headers(web, as_role, role, path):
    client = await as_role(role) if role else web
    response = await client.get(path, allow_redirects=False)
    assert response.status in (200, 404)
    csp = dict(part.strip().split(" ", 1) for part in
               response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and "unsafe-inline" not in csp.get("default-src", "")
    assert csp["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # not over plain HTTP
    if role and response.status == 200:
        assert response.headers["Cache-Control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)", await response.text())  # no inline script
    assert " style=" not in await response.text() and " on" + "click=" not in \
        await response.text()


async def test_production_asks_for_https_only(production):
    response = await production.get("/admin/connexion")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(response.headers["Strict-Transport-Security"].split("=")[1]) >= 15552000


@pytest.mark.parametrize("production_mode", [False, True])
async def test_a_crash_shows_a_french_page_without_details(aiohttp_client, db, production_mode,
                                                           caplog):
    admin = create_app(AdminConfig(db=db, production=production_mode))

    async def boom(_request):
        raise RuntimeError("détail interne RELAIS_SECRET_KEY=abc")

    admin.router.add_get("/boom", boom)
    app = aioweb.Application()
    app.add_subapp("/admin", admin)
    response = await (await aiohttp_client(app)).get("/admin/boom")
    body = await response.text()
    assert response.status == 500
    assert "Une erreur est survenue de notre côté" in body
    for leak in ("Traceback", "RuntimeError", "détail interne", "RELAIS_SECRET_KEY", "boom"):
        assert leak not in body
    assert "RuntimeError" in caplog.text  # the operator still finds it in the log


@pytest.mark.parametrize(("suite", "landing"), [
    (None, "/admin/"),
    ("/admin/journal?page=2", "/admin/journal?page=2"),
    ("//evil.example", "/admin/"),
    ("//evil.example/admin/", "/admin/"),
    ("https://evil.example/admin/", "/admin/"),
    ("/admin/..//evil.example", "/admin/"),
    ("/admin/\\evil.example", "/admin/"),
    ("/admin/\r\nSet-Cookie: x=1", "/admin/"),
    ("javascript:alert(1)", "/admin/"),
    ("/administration-ailleurs", "/admin/"),
])
async def test_after_sign_in_only_admin_pages_are_destinations(web, db, suite, landing):
    await add_user(db, EMAIL, "admin")
    response = await post_sign_in(web, EMAIL, suite=suite)
    assert (response.status, response.headers["Location"]) == (303, landing)


async def test_sign_ins_and_outs_are_audited_without_the_unknown_address(web, db):
    await add_user(db, EMAIL, "official")
    await post_sign_in(web, "inconnue@region.example.fr", WRONG)
    await post_sign_in(web, EMAIL, WRONG)
    await post_sign_in(web, EMAIL)
    await web.post("/admin/deconnexion", data={"csrf": await form_token(web, "/admin/")})
    async with db.read() as tx:
        entries = list(reversed(await audit.entries(tx, "log")))
    assert [(e.actor, e.action) for e in entries] == [
        ("admin-view", "login.failed"), ("admin-view", "login.failed"),
        ("official:" + EMAIL, "login.succeeded"), ("official:" + EMAIL, "logout")]
    assert entries[0].target != entries[1].target
    assert all("inconnue" not in str(e.target) + str(e.details) for e in entries)


async def test_what_was_typed_as_the_e_mail_cannot_be_recovered_from_any_table(web, db,
                                                                              relais):
    await add_user(db, EMAIL, "official")
    typed = "Ma Phrase Secrete Tapee Au Mauvais Endroit"  # a password in the e-mail field
    assert (await post_sign_in(web, typed, WRONG)).status == 401
    assert (await post_sign_in(web, EMAIL, WRONG)).status == 401
    clues = {typed.lower(), "ma phrase secrete"}
    for text in (typed, typed.lower(), EMAIL):  # an unsalted digest is a dictionary away
        digest = hashlib.sha256(text.encode()).hexdigest()
        clues |= {digest[:16], digest[-16:]}
    async with db.read() as tx:
        rows = [(table.name, str(tuple(row))) for table in Base.metadata.sorted_tables
                for row in (await tx.execute(select(table))).all()]
        failures = list(await tx.scalars(select(LoginFailure.key)))
        entries = await audit.entries(tx, "login.failed")
    for name, row in rows:
        assert not [clue for clue in clues if clue in row.lower()], (name, row)
    assert len(failures) == 4  # both attempts still count, per account and per address
    assert [e.target for e in reversed(entries)] == [None, str(await account_id(db, EMAIL))]


async def account_id(db, email: str) -> int:
    async with db.read() as tx:
        return (await users.by_email(tx, email)).id


def test_failed_sign_ins_are_counted_under_a_key_of_the_secret():
    one, other = Vault(SECRET), Vault(SECRET[::-1])
    assert one.sign_in_tag(EMAIL) == Vault(SECRET).sign_in_tag(EMAIL)
    assert one.sign_in_tag(EMAIL) != other.sign_in_tag(EMAIL)
    assert one.sign_in_tag(EMAIL) != hashlib.sha256(EMAIL.encode()).hexdigest()


# Every route's access rules, found by walking the router (other pages get added over time)


def admin_routes(db) -> list[tuple[str, aioweb.AbstractResource, object]]:
    """Returns (method, resource, handler) of every route of the admin sub-application."""
    app = create_app(AdminConfig(db=db))
    return [(route.method, route.resource, route.handler) for route in app.router.routes()
            if route.method not in ("HEAD", "OPTIONS")]


def fill(resource, values: dict[str, str]) -> str:
    """Returns the /admin/… path of a resource with its parameters filled in."""
    info = resource.get_info()
    if "formatter" not in info:
        return "/admin" + info.get("path", info.get("prefix", ""))
    names = re.findall(r"\{(\w+)\}", info["formatter"])
    found = dict(values)
    for name in names:  # a parameter limited to choices takes the first of them
        choice = re.search(rf"\(\?P<{name}>([\w|]+)\)", info["pattern"].pattern)
        if name not in found and choice:
            found[name] = choice.group(1).split("|")[0]
    missing = [name for name in names if name not in found]
    assert not missing, f"{info['formatter']}: give the test a value for {missing}"
    return "/admin" + info["formatter"].format_map(found)


@pytest.fixture
async def matrix(web, db, association):
    """Values of the URL parameters: the fixture association's and another one's."""
    async with db.transaction() as tx:
        other = await invites.add_association(tx, "Autre association", "59", NOW)
        ours = await invites.create_invite(tx, association.id, "mobilite", "ABC234", NOW)
        theirs = await invites.create_invite(tx, other.id, "mobilite", "XYZ789", NOW)
    await add_user(db, "cible@region.example.fr", "official")
    async with db.read() as tx:
        target = (await users.by_email(tx, "cible@region.example.fr")).id
    async with db.transaction() as tx:
        action = await plan.create(tx, plan.Fields("Une action"), "official:test", NOW)
    common = {"consultation": "mobilite", "question": "probleme", "user": str(target),
              "answer": "1", "action_id": str(action.id), "indicator_id": "1",
              "measurement_id": "1"}
    return ({**common, "association": str(association.id), "code": ours.code},
            {**common, "association": str(other.id), "code": theirs.code})


async def as_only(web, db, role: str, association_id: int | None) -> str:
    """Signs the client in as a fresh account of a role; returns its CSRF token."""
    web.session.cookie_jar.clear()
    email = f"{role}-matrice@region.example.fr"
    async with db.read() as tx:
        exists = await users.by_email(tx, email) is not None
    if not exists:
        await add_user(db, email, role, association_id if role == "association" else None)
    assert (await post_sign_in(web, email)).status == 303
    async with db.read() as tx:
        account = await users.by_email(tx, email)
        return await tx.scalar(select(AdminSession.csrf_token)
                               .where(AdminSession.user_id == account.id))


# Open without a role: signing in and out, and the second factor's code form, which serves
# only a session whose password was right (auth.sessions sends it nowhere else).
OPEN = {("GET", "/connexion"), ("POST", "/connexion"), ("POST", "/deconnexion"),
        ("GET", "/verification"), ("POST", "/verification")}

EVERYONE = {"official", "association", "admin"}
OFFICIAL = {"official"}
# Who may open each route, as the README's table of roles says: written here, not read from
# the handlers, so that a handler opened to one role too many fails this test.
ACCESS = {
    ("GET", "/"): EVERYONE,
    ("GET", "/mot-de-passe"): EVERYONE,
    ("POST", "/mot-de-passe"): EVERYONE,
    ("GET", "/double-authentification"): EVERYONE,
    ("POST", "/double-authentification"): EVERYONE,
    ("POST", "/double-authentification/desactivation"): EVERYONE,
    # admin: accounts and the audit journal, no consultation data
    ("GET", "/utilisateurs"): {"admin"},
    ("POST", "/utilisateurs"): {"admin"},
    ("POST", "/utilisateurs/{user}/desactiver"): {"admin"},
    ("POST", "/utilisateurs/{user}/reactiver"): {"admin"},
    ("GET", "/journal"): {"admin"},
    # official: every consultation
    ("GET", "/consultations/{consultation}"): OFFICIAL,
    ("GET", "/consultations/{consultation}/questions"): OFFICIAL,
    ("GET", "/consultations/{consultation}/questions/{question}"): OFFICIAL,
    ("GET", "/consultations/{consultation}/representativite"): OFFICIAL,
    ("GET", "/consultations/{consultation}/revue"): OFFICIAL,
    ("POST", "/consultations/{consultation}/revue"): OFFICIAL,
    ("POST", "/consultations/{consultation}/reponses/{answer}/epingler"): OFFICIAL,
    ("POST", "/consultations/{consultation}/reponses/{answer}/ecarter"): OFFICIAL,
    ("GET", "/consultations/{consultation}/exports"): OFFICIAL,
    ("GET", "/consultations/{consultation}/exports/{what}.{format}"): OFFICIAL,
    ("GET", "/consultations/{consultation}/indicateurs"): OFFICIAL,
    ("GET", "/consultations/{consultation}/bilan"): OFFICIAL,
    ("GET", "/consultations/{consultation}/bilan.md"): OFFICIAL,
    ("GET", "/consultations/{consultation}/retours"): OFFICIAL,
    ("POST", "/consultations/{consultation}/retours"): OFFICIAL,
    ("GET", "/associations"): OFFICIAL,
    # association: its own page only (and officials every association's)
    ("GET", "/associations/{association}"): {"official", "association"},
    ("POST", "/associations/{association}/invitations"): {"official", "association"},
    ("GET", "/invitations/{code}/affiche"): {"official", "association"},
    ("POST", "/invitations/{code}/{action}"): {"official", "association"},
    # the shared action plan: officials and associations see it all; officials decide
    ("GET", "/plan"): {"official", "association"},
    ("GET", "/plan/consultations/{consultation}"): {"official", "association"},
    ("POST", "/plan/actions"): OFFICIAL,
    ("POST", "/plan/propositions"): {"association"},
    ("GET", "/plan/actions/{action_id}"): {"official", "association"},
    ("POST", "/plan/actions/{action_id}"): OFFICIAL,
    ("POST", "/plan/actions/{action_id}/commentaires"): {"official", "association"},
    ("POST", "/plan/actions/{action_id}/jalons"): OFFICIAL,
    ("POST", "/plan/actions/{action_id}/decision"): OFFICIAL,
    ("POST", "/plan/actions/{action_id}/notification"): OFFICIAL,
    ("GET", "/plan/export.csv"): OFFICIAL,
    ("POST", "/plan/import"): OFFICIAL,
    ("GET", "/plan/indicateurs"): {"official", "association"},
    ("POST", "/plan/indicateurs"): OFFICIAL,
    ("POST", "/plan/indicateurs/{indicator_id}/mesures"): {"official", "association"},
    ("POST", "/plan/indicateurs/{indicator_id}/mesures/{measurement_id}/validation"): OFFICIAL,
}


def test_every_route_of_the_router_has_its_row_in_the_access_table(db):
    routes = {(method, resource.canonical) for method, resource, _ in admin_routes(db)
              if resource.canonical != "/static"}
    assert routes - OPEN - set(ACCESS) == set(), "new routes: give each a row in ACCESS"
    assert set(ACCESS) - routes == set(), "rows of ACCESS for routes that are gone"
    assert not OPEN & set(ACCESS)


async def test_every_route_but_the_open_ones_requires_a_role(db):
    for method, resource, handler in admin_routes(db):
        canonical = resource.canonical
        if canonical == "/static" or (method, canonical) in OPEN:
            assert not hasattr(handler, "roles"), canonical
            continue
        assert getattr(handler, "roles", None), f"{method} {canonical} has no @auth.requires"


async def test_strangers_are_sent_to_the_sign_in_page_everywhere(web, db, matrix):
    ours, _theirs = matrix
    await web.get("/admin/connexion")
    sign_in_token = web.session.cookie_jar.filter_cookies(
        web.make_url("/admin/"))[auth.PRE_COOKIE].value
    for method, resource, _handler in admin_routes(db):
        if resource.canonical == "/static" or (method, resource.canonical) in OPEN:
            continue
        path = fill(resource, ours)
        # A POST passes the CSRF check with the sign-in form's token, and still gets no further.
        response = await web.request(method, path, data={"csrf": sign_in_token},
                                     allow_redirects=False)
        assert response.status == 302, f"{method} {path}: {response.status}"
        assert response.headers["Location"].startswith("/admin/connexion?suite="), path


@pytest.mark.parametrize("role", ["official", "association", "admin"])
async def test_each_role_is_refused_what_is_not_its_own(web, db, matrix, association, role):
    ours, theirs = matrix
    token = await as_only(web, db, role, association.id)
    checked = 0
    for method, resource, _handler in admin_routes(db):
        if (method, resource.canonical) not in ACCESS:
            continue  # open routes and static files: checked above
        path = fill(resource, ours)
        if role not in ACCESS[(method, resource.canonical)]:
            response = await web.request(method, path, data={"csrf": token},
                                         allow_redirects=False)
            assert response.status == 403, f"{role} {method} {path}: {response.status}"
            checked += 1
        elif role == "association" and {"association", "code"} & set(
                re.findall(r"\{(\w+)\}", resource.canonical)):
            path = fill(resource, theirs)  # another association's page
            response = await web.request(method, path, data={"csrf": token},
                                         allow_redirects=False)
            assert response.status in (403, 404), f"{role} {method} {path}: {response.status}"
            checked += 1
        elif method == "GET":  # its own pages open (no crash, no refusal)
            response = await web.get(path, allow_redirects=False)
            assert (response.status < 400 and response.status != 302) or \
                (response.status == 302 and not response.headers["Location"].startswith(
                    "/admin/connexion")), f"{role} GET {path}: {response.status}"
    assert checked, "the matrix checked nothing for this role"
    async with db.read() as tx:  # none of the refused requests changed an account
        assert await tx.scalar(select(func.count()).select_from(AdminUser)
                               .where(AdminUser.disabled_at.is_not(None))) == 0


async def test_static_files_are_served_without_reading_a_session(web, db):
    web.session.cookie_jar.update_cookies({"relais_admin": "perime"},
                                          URL(str(web.make_url("/admin/"))))
    response = await web.get("/admin/static/admin.css")
    assert response.status == 200
    assert response.headers.get("Cache-Control") != "no-store"  # a stylesheet may be cached
    assert "relais_admin" not in response.cookies  # a stale cookie is left for pages to clear


async def test_each_browser_gets_its_own_random_sign_in_token(web, aiohttp_client, relais):
    other = await aiohttp_client(create_web_app(relais, work=False))
    tokens = [csrf_of(await (await client.get("/admin/connexion")).text())
              for client in (web, other)]
    assert tokens[0] != tokens[1]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", token) for token in tokens)
    # and the cookie holds the same token as the form of its browser
    cookie = web.session.cookie_jar.filter_cookies(web.make_url("/admin/"))[auth.PRE_COOKIE]
    assert cookie.value == tokens[0]
