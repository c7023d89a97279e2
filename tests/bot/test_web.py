"""HTTP routes: health, readiness, privacy notice and the simulator, on a running app."""

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from bot.app import build, create_web_app
from storage.tables import Answer, InboundMessage


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


async def send(client, text: str, consultation: str = "mobilite", nonce: str | None = None):
    page = await client.get(f"/simulateur?consultation={consultation}")
    nonce = nonce or nonce_of(await page.text())
    return await client.post(f"/simulateur?consultation={consultation}",
                             data={"text": text, "nonce": nonce}, allow_redirects=False)


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


async def test_choices_are_offered_as_buttons(client):
    await send(client, "Bonjour")
    html = await transcript(client)
    assert '<button type="submit" name="text" value="oui">Oui</button>' in html


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
    assert f"{relais.flows['mobilite'].retention_days} jours" in html


async def test_the_privacy_link_in_the_notice_points_at_this_server(relais):
    flow = relais.flows["mobilite"]
    assert "https://relais.example.org/confidentialite" in flow.welcome + flow.consent
    assert "{lien_confidentialite}" not in flow.welcome + flow.consent
