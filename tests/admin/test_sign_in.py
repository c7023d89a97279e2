"""Signing in: the form, sessions and the pages each role lands on."""

import asyncio
import time

from admin import passwords
from storage import users
from tests.admin.conftest import NOW, PASSWORD, add_user, csrf_of, sign_in


async def test_an_official_signs_in_and_sees_the_consultations(web, db):
    await add_user(db, "elue@region.example.fr", "official")
    response = await sign_in(web, "Elue@Region.example.fr")
    assert response.status == 200
    body = await response.text()
    assert "Mobilités du quotidien" in body
    assert "elue@region.example.fr" in body


async def test_a_wrong_password_gets_one_message_for_every_failure(web, db):
    await add_user(db, "elue@region.example.fr", "official")
    wrong = await sign_in(web, "elue@region.example.fr", PASSWORD + "x")
    unknown = await sign_in(web, "personne@region.example.fr", PASSWORD)
    assert wrong.status == unknown.status == 401
    assert "Adresse e-mail ou mot de passe incorrect." in await wrong.text()
    assert "Adresse e-mail ou mot de passe incorrect." in await unknown.text()


async def test_pages_need_a_session(web):
    response = await web.get("/admin/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/admin/connexion")


async def test_health_checks_answer_while_many_sign_ins_are_hashed(web, db):
    password_hash = passwords.hash_password(PASSWORD)
    started = time.perf_counter()
    assert passwords.verify(password_hash, PASSWORD)
    one_verification = time.perf_counter() - started
    people = [f"agent{number}@region.example.fr" for number in range(12)]
    async with db.transaction() as tx:  # one hash for all: creating them stays quick
        for email in people:
            await users.create(tx, email=email, role="official", password_hash=password_hash,
                               at=NOW)
    token = csrf_of(await (await web.get("/admin/connexion")).text())

    async def signs_in(email: str) -> int:
        response = await web.post("/admin/connexion", allow_redirects=False,
                                  data={"email": email, "password": PASSWORD, "csrf": token})
        return response.status

    sign_ins = [asyncio.create_task(signs_in(email)) for email in people]
    latencies = []
    while not all(task.done() for task in sign_ins):  # a health check every 10 ms or so
        asked = time.perf_counter()
        assert (await web.get("/healthz")).status == 200
        latencies.append(time.perf_counter() - asked)
        await asyncio.sleep(0.01)
    assert await asyncio.gather(*sign_ins) == [303] * len(people)
    # Hashing off the event loop: health checks are answered all along the burst. On the
    # loop, each one waited for a whole verification, so barely one got through between two
    # (14 or 15 checks for 12 sign-ins); a slower machine only makes the burst longer.
    assert len(latencies) >= 2 * len(people), (len(latencies), max(latencies),
                                               one_verification)
