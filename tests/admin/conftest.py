"""Fixtures of the admin view: an application without background loops, accounts, sign-in."""

import functools
import re
from datetime import UTC, datetime, timedelta

import pytest

from admin import passwords
from bot.app import create_web_app
from storage import invites, users

PASSWORD = "une phrase de passe assez longue"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = NOW):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(relais) -> Clock:
    """Makes the application's time the test's (the admin reads relais.clock at each call)."""
    relais.clock = Clock()
    return relais.clock


@pytest.fixture
async def web(aiohttp_client, relais):
    """An HTTP client on the application, its background loops not started."""
    return await aiohttp_client(create_web_app(relais, work=False))


@pytest.fixture
async def association(db):
    """An association, as `relais association add` makes it."""
    async with db.transaction() as tx:
        return await invites.add_association(tx, "Les Amis du Vélo", "80", NOW)


@functools.cache
def password_hash(password: str) -> str:
    """Hashes a password once a run: argon2 is slow on purpose, and a salted hash serves any
    number of accounts (each sign-in still verifies it for real)."""
    return passwords.hash_password(password)


async def add_user(db, email: str, role: str, association_id: int | None = None,
                   password: str = PASSWORD) -> None:
    """Creates an account as `relais user add` does."""
    async with db.transaction() as tx:
        await users.create(tx, email=email, role=role, association_id=association_id,
                           password_hash=password_hash(password), at=NOW)


def csrf_of(html: str) -> str:
    """Returns the CSRF token of the first form of a page."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def sign_in(client, email: str, password: str = PASSWORD):
    """Signs in through the form, as a browser would; returns the final response."""
    page = await client.get("/admin/connexion")
    token = csrf_of(await page.text())
    return await client.post("/admin/connexion", data={
        "email": email, "password": password, "csrf": token})


@pytest.fixture
def as_role(web, db, association):
    """Returns a coroutine that signs the client in with a fresh account of a role."""

    async def signed_in(role: str):
        email = f"{role}@region.example.fr"
        await add_user(db, email, role, association.id if role == "association" else None)
        response = await sign_in(web, email)
        assert response.status == 200, await response.text()
        return web

    return signed_in


async def form_token(client, path: str) -> str:
    """Returns the CSRF token found on a page."""
    return csrf_of(await (await client.get(path)).text())
