"""The web chat as a person uses it: buttons show what was chosen, several boxes can be ticked
for a multiple choice, and a flyer's link (?invite=CODE) counts for its association."""

import re
from html import unescape

from sqlalchemy import select

from storage import invites
from storage.tables import Answer, Participant
from tests.admin.conftest import NOW


def field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


async def page(client, query: str = "consultation=mobilite") -> str:
    return await (await client.get(f"/simulateur?{query}")).text()


async def send(client, query: str = "consultation=mobilite", **form) -> None:
    html = await page(client, query)
    data = [("nonce", field(html, "nonce")), ("csrf", field(html, "csrf"))]
    for key, value in form.items():
        data += [(key, v) for v in (value if isinstance(value, list) else [value])]
    response = await client.post(f"/simulateur?{query}", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()


def said_by_me(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(
        r'<li class="moi">\s*<span class="qui">Vous</span>\s*<p dir="auto">([^<]*)</p>', html)]


async def test_a_pressed_button_shows_its_label_and_several_boxes_can_be_ticked(client, relais):
    await send(client, text="Bonjour")
    html = await page(client)
    assert '<button type="submit" name="text" value="Oui">Oui</button>' in html
    assert 'name="question" value="_consentement"' in html
    await send(client, text="Oui", question="_consentement")
    await send(client, text="80000")
    await send(client, text="passer")
    html = await page(client)  # "Comment vous déplacez-vous ?": several answers
    assert 'type="checkbox" name="choix" value="Le train (TER)"' in html
    assert "Valider mes choix" in html and 'name="question" value="modes"' in html
    await send(client, choix=["Le train (TER)", "Le vélo"], question="modes")
    html = await page(client)
    assert said_by_me(html)[-2:] == ["passer", "Le train (TER) ; Le vélo"]
    async with relais.db.read() as tx:
        modes = await tx.scalar(select(Answer.value).where(Answer.question_id == "modes"))
    assert modes == ["train", "velo"]
    assert "note" in html.rsplit('class="relais"', 1)[1]  # the TER question follows


async def test_a_button_of_an_earlier_question_is_not_taken_for_the_current_one(client, relais):
    await send(client, text="Bonjour")
    await send(client, text="Oui", question="_consentement")
    await send(client, text="Oui", question="_consentement")  # pressed again, later
    html = await page(client)
    assert "Ce choix répond à une question précédente" in html
    async with relais.db.read() as tx:
        assert list(await tx.scalars(select(Answer))) == []


async def test_a_flyers_link_counts_for_its_association(client, relais):
    async with relais.db.transaction() as tx:
        association = await invites.add_association(tx, "Les Amis du Vélo", "80", NOW)
        await invites.create_invite(tx, association.id, "mobilite", "AFWEN4", NOW)
    query = "consultation=mobilite&invite=AFWEN4"
    assert "invitation AFWEN4" in await page(client, query)
    await send(client, query, text="Bonjour")
    async with relais.db.read() as tx:
        person = await tx.scalar(select(Participant))
    assert (person.invite_code, person.association_id) == ("AFWEN4", association.id)


async def test_the_root_is_a_french_page_leading_to_the_chat_and_the_admin_view(client):
    response = await client.get("/")
    html = await response.text()
    assert response.status == 200 and '<html lang="fr">' in html
    assert 'href="/simulateur"' in html and 'href="/admin/"' in html
    assert 'rel="icon" href="/static/favicon.svg"' in html
    icon = await client.get("/favicon.ico")
    assert icon.status == 200 and icon.headers["Content-Type"] == "image/svg+xml"
