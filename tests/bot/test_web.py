"""HTTP routes: health, readiness, privacy notice and the simulator, on a running app."""

import asyncio
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from bot.app import SERVER_OPTIONS, build, create_web_app
from bot.simulator import COOKIE
from storage.tables import Answer, Identity, InboundMessage, Participant


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def send(client, text: str, consultation: str = "mobilite", nonce: str | None = None,
               headers: dict | None = None):
    page = await (await client.get(f"/simulateur?consultation={consultation}")).text()
    return await client.post(f"/simulateur?consultation={consultation}", headers=headers,
                             data={"text": text, "nonce": nonce or nonce_of(page),
                                   "csrf": csrf_of(page)}, allow_redirects=False)


async def transcript(client, consultation: str = "mobilite") -> str:
    return await (await client.get(f"/simulateur?consultation={consultation}")).text()


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"


async def test_readiness_fails_when_the_database_is_unreachable(aiohttp_client, settings):
    from dataclasses import replace

    broken = build(replace(settings, database_url="postgresql://nobody@127.0.0.1:1/none"))
    client = await aiohttp_client(create_web_app(broken))
    assert (await client.get("/healthz")).status == 200  # alive, but not ready
    assert (await client.get("/readyz")).status == 503


async def test_a_whole_turn_through_the_simulator(client, relais):
    response = await send(client, "Bonjour")
    assert response.status == 303
    html = await transcript(client)
    assert "Bonjour" in html and "Acceptez-vous" in html
    await send(client, "oui")
    await send(client, "62100")
    html = unescape(await transcript(client))
    assert "Pour mieux comprendre les réponses des différentes générations" in html  # the age
    async with relais.db.read() as tx:
        answers = list(await tx.scalars(select(Answer)))
    assert [(a.question_id, a.value) for a in answers] == [("territoire", "62")]


async def test_mes_donnees_shows_the_answers_in_the_web_chat(client, relais):
    for text in ("Bonjour", "oui", "62100", "MES DONNEES"):
        await send(client, text)
    html = unescape(await transcript(client))
    assert "Vos réponses enregistrées" in html and "62100" in html


async def test_choices_are_offered_as_buttons(client):
    await send(client, "Bonjour")
    html = await transcript(client)
    assert '<button type="submit" name="text" value="Oui">Oui</button>' in html


async def test_a_double_submitted_form_is_stored_once(client, relais):
    await send(client, "Bonjour")
    page = await client.get("/simulateur?consultation=mobilite")
    nonce = nonce_of(await page.text())
    await send(client, "oui", nonce=nonce)
    await send(client, "oui", nonce=nonce)
    async with relais.db.read() as tx:
        count = await tx.scalar(select(func.count()).select_from(InboundMessage))
    assert count == 2


async def test_an_empty_message_gets_a_clear_notice_and_stores_nothing(client, relais):
    response = await send(client, "   ")
    assert response.status == 303 and "erreur=vide" in response.headers["Location"]
    html = await (await client.get(response.headers["Location"])).text()
    assert "Votre message est vide" in html
    async with relais.db.read() as tx:
        assert await tx.scalar(select(func.count()).select_from(InboundMessage)) == 0


async def test_hostile_text_is_shown_as_text(client):
    await send(client, "Bonjour")
    await send(client, "oui")
    await send(client, '<script>alert(1)</script><img src=x onerror=alert(2)> {{7*7}}')
    html = await transcript(client)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "{{7*7}}" in html


async def test_oversized_bodies_are_refused_before_parsing(client):
    response = await client.post("/simulateur", data={"text": "x" * 200_000, "nonce": "n"})
    assert response.status == 413


@pytest.mark.parametrize("path", ["/healthz", "/simulateur", "/confidentialite"])
async def test_every_page_carries_security_headers(client, path):
    response = await client.get(path)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_privacy_notice_gives_the_retention_of_each_consultation(client, relais):
    html = await (await client.get("/confidentialite")).text()
    for flow in relais.flows.values():
        assert flow.title in unescape(html)
    assert f"{relais.flows['mobilite'].retention_days} jours (1 an) après votre dernier" in html
    assert "Délégué à la protection des données" in html and "non renseigné" in html


async def test_the_privacy_notice_names_the_data_protection_officer(aiohttp_client, settings):
    from dataclasses import replace

    named = build(replace(settings, dpo_contact="dpo@hautsdefrance.fr"))
    client = await aiohttp_client(create_web_app(named, work=False))
    html = await (await client.get("/confidentialite")).text()
    assert "dpo@hautsdefrance.fr" in html and "non renseigné" not in html


async def test_the_privacy_link_in_the_notice_points_at_this_server(relais):
    flow = relais.flows["mobilite"]
    assert "https://relais.example.org/confidentialite" in flow.welcome + flow.consent
    assert "{lien_confidentialite}" not in flow.welcome + flow.consent


# (method, path, form) → status: answers raised as HTTP errors, by the router or a handler,
# from the main application and from the /admin sub-application.
ERRORS = [
    ("GET", "/nulle-part", None, 404),
    ("DELETE", "/healthz", None, 405),
    ("POST", "/simulateur", {"text": "x" * 200_000}, 413),
    ("POST", "/simulateur", {"text": "Bonjour", "nonce": "n"}, 403),
    ("GET", "/admin/nulle-part", None, 404),
    ("GET", "/admin/utilisateurs/1/desactiver", None, 405),
    ("POST", "/admin/connexion", {"email": "x" * 200_000}, 413),
    ("POST", "/admin/connexion", {"email": "elue@region.example.fr", "password": "x"}, 403),
]


@pytest.mark.parametrize(("method", "path", "form", "status"), ERRORS)
async def test_error_answers_carry_the_security_headers_too(client, method, path, form, status):
    response = await client.request(method, path, data=form)
    assert response.status == status
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_a_crash_answers_500_with_the_security_headers(aiohttp_client, relais):
    app = create_web_app(relais, work=False)

    async def boom(_request):
        raise RuntimeError("boom")

    app.router.add_get("/boom", boom)
    response = await (await aiohttp_client(app)).get("/boom")
    assert response.status == 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_a_refused_admin_form_carries_the_security_headers(client):
    page = await client.get("/admin/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
    response = await client.post("/admin/connexion", data={"csrf": token, "email": ""})
    assert response.status == 400
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


# The simulator against floods and forged forms


async def stored(relais) -> dict[str, int]:
    """Counts what visitors' messages leave in the database."""
    async with relais.db.read() as tx:
        return {model.__tablename__: await tx.scalar(select(func.count()).select_from(model))
                for model in (InboundMessage, Participant, Identity)}


NOTHING = {"inbound_messages": 0, "participants": 0, "identities": 0}


async def test_a_hundred_cookie_less_posts_store_nothing(client, relais):
    for number in range(100):
        response = await client.post("/simulateur", data={"text": "Bonjour",
                                                          "nonce": f"n{number}"})
        assert response.status == 403
        assert "rechargez la page" in await response.text()
        assert COOKIE not in response.cookies
        client.session.cookie_jar.clear()
    assert await stored(relais) == NOTHING


async def test_a_form_needs_the_token_of_the_visitors_own_cookie(client, aiohttp_client,
                                                                 relais):
    other = await aiohttp_client(create_web_app(relais))
    foreign = csrf_of(await (await other.get("/simulateur")).text())
    page = await (await client.get("/simulateur")).text()
    mine, nonce = csrf_of(page), nonce_of(page)
    assert mine != foreign
    for token in (None, "", foreign, mine[:-1], mine + "x"):
        form = {"text": "Bonjour", "nonce": nonce}
        response = await client.post("/simulateur", allow_redirects=False,
                                     data=form if token is None else {**form, "csrf": token})
        assert response.status == 403, token
        assert "Jeton de formulaire absent ou périmé" in await response.text()
    assert await stored(relais) == NOTHING
    response = await client.post("/simulateur", allow_redirects=False,
                                 data={"text": "Bonjour", "nonce": nonce, "csrf": mine})
    assert response.status == 303  # the right token works: the refusals were about it


async def test_a_cross_site_form_cannot_cut_a_visitor_off_their_conversation(client, relais):
    assert (await send(client, "Bonjour")).status == 303
    conversation = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    # What a page elsewhere can send: a form without the token (the browser keeps the
    # SameSite=Lax cookie to itself on a cross-site POST, and the page cannot read it).
    for path in ("/simulateur/nouvelle", "/simulateur"):
        response = await client.post(path, data={"text": "Bonjour", "nonce": "autre"},
                                     allow_redirects=False)
        assert response.status == 403
        assert COOKIE not in response.cookies  # neither replaced nor deleted
    assert client.session.cookie_jar.filter_cookies(
        client.make_url("/"))[COOKIE].value == conversation
    assert "Acceptez-vous" in await transcript(client)


async def test_a_new_conversation_needs_the_token_and_then_starts_afresh(client):
    assert (await send(client, "Bonjour")).status == 303
    page = await (await client.get("/simulateur")).text()
    response = await client.post("/simulateur/nouvelle", data={"csrf": csrf_of(page)},
                                 allow_redirects=False)
    assert response.status == 303
    assert "Acceptez-vous" not in await transcript(client)


@pytest.mark.parametrize("nonce", ["", "x" * 101, "pas un jeton"])
async def test_a_malformed_nonce_gets_a_french_reason(client, relais, nonce):
    page = await (await client.get("/simulateur")).text()
    response = await client.post("/simulateur", allow_redirects=False, data={
        "text": "Bonjour", "nonce": nonce, "csrf": csrf_of(page)})
    assert response.status == 400
    assert "rechargez la page" in await response.text()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await stored(relais) == NOTHING


@pytest.fixture
def behind_a_proxy(settings):
    """Settings where the test client's address is a trusted reverse proxy."""
    from dataclasses import replace
    return replace(settings, trusted_proxies=frozenset({"127.0.0.1"}))


@pytest.fixture
async def proxied(aiohttp_client, behind_a_proxy, db):
    """An HTTP client on Relais behind a trusted reverse proxy."""
    system = build(behind_a_proxy)
    await system.prepare()
    yield system, await aiohttp_client(create_web_app(system))
    await system.stop()


def came_from(address: str) -> dict:
    return {"X-Forwarded-For": address}


async def test_one_address_sends_at_most_20_messages_a_minute(proxied):
    relais, client = proxied
    for number in range(20):
        response = await send(client, "AIDE", headers=came_from("203.0.113.7"))
        assert response.status == 303, number
    response = await send(client, "AIDE", headers=came_from("203.0.113.7"))
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "Trop de messages" in await response.text()
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert (await stored(relais))["inbound_messages"] == 20
    assert (await send(client, "AIDE", headers=came_from("198.51.100.2"))).status == 303


async def test_one_address_starts_at_most_10_conversations_an_hour(proxied):
    relais, client = proxied
    for number in range(10):
        client.session.cookie_jar.clear()  # a new visitor, or the same one without cookies
        response = await send(client, "Bonjour", headers=came_from("203.0.113.7"))
        assert response.status == 303, number
    assert (await send(client, "oui", headers=came_from("203.0.113.7"))).status == 303
    client.session.cookie_jar.clear()
    response = await send(client, "Bonjour", headers=came_from("203.0.113.7"))
    assert response.status == 429
    assert 3000 < int(response.headers["Retry-After"]) <= 3600
    assert "Trop de nouvelles conversations" in await response.text()
    assert (await stored(relais))["participants"] == 10
    assert (await send(client, "Bonjour", headers=came_from("198.51.100.2"))).status == 303


async def test_the_simulator_is_off_in_production_unless_asked(aiohttp_client, settings):
    from dataclasses import replace
    for simulator, status in ((None, 404), (True, 200)):
        system = build(replace(settings, env="production", simulator=simulator))
        client = await aiohttp_client(create_web_app(system, work=False))
        assert (await client.get("/simulateur")).status == status
        await system.stop()


@pytest.fixture
async def served(aiohttp_server, relais):
    """Relais on a real socket, with the connection options of `relais serve`."""
    return await aiohttp_server(create_web_app(relais, work=False), **SERVER_OPTIONS)


async def raw(server, request: bytes) -> bytes:
    """Sends bytes as they are on a new connection; returns the answer."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(request)
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


@pytest.mark.parametrize("headers", [
    b"".join(b"X-En-Tete-%d: valeur\r\n" % number for number in range(70)),  # too many
    b"X-Long: " + b"a" * 9000 + b"\r\n",  # one too long
])
async def test_oversized_headers_are_refused(served, headers):
    answer = await raw(served, b"GET /healthz HTTP/1.1\r\nHost: relais\r\n" + headers +
                       b"Connection: close\r\n\r\n")
    assert re.match(rb"HTTP/1\.[01] 4(00|31) ", answer), answer[:100]


async def test_ordinary_headers_pass(served):
    headers = b"".join(b"X-En-Tete-%d: valeur\r\n" % number for number in range(40))
    answer = await raw(served, b"GET /healthz HTTP/1.1\r\nHost: relais\r\n" + headers +
                       b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
