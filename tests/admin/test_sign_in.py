"""Signing in: the form, sessions and the pages each role lands on."""

from tests.admin.conftest import PASSWORD, add_user, sign_in


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
