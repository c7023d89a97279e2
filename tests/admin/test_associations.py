"""Association pages: who sees what, small counts masked, invites created, flyers printed."""

import re

import pytest
from sqlalchemy import select

from admin.config import InviteCard
from storage import invites
from storage.tables import AuditEntry, Invite
from tests.admin import people
from tests.admin.conftest import NOW, add_user, form_token, sign_in

add_person = people.add_person
configs, web = people.configs, people.web  # fixtures: an app whose admin config tests change

CARD = InviteCard(telegram_link="https://t.me/relais_test_bot?start=CODE",
                  sms_instruction="Envoyez CODE au 06 12 34 56 78",
                  qr_content="https://t.me/relais_test_bot?start=CODE",
                  text="Bonjour,\nLa Région vous demande votre avis.")


@pytest.fixture
async def other(db):
    """A second association, whose pages the first must not see."""
    async with db.transaction() as tx:
        return await invites.add_association(tx, "Secours Populaire Somme", "80", NOW)


async def add_invite(db, association_id: int, code: str, consultation: str = "mobilite",
                     revoked: bool = False) -> None:
    async with db.transaction() as tx:
        invite = await invites.create_invite(tx, association_id, consultation, code, NOW)
        if revoked:
            invite.revoked_at = NOW


async def text_of(client, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    body = await response.text()
    assert response.status == status, body[:500]
    return body


async def test_an_official_sees_every_association_with_its_invites(as_role, db, association,
                                                                   other):
    await add_invite(db, association.id, "VELO01")
    await add_invite(db, other.id, "SECOURS1", consultation="jeunesse")
    client = await as_role("official")
    body = await text_of(client, "/admin/associations")
    assert "Les Amis du Vélo" in body and "Secours Populaire Somme" in body
    assert "Mobilités du quotidien" in body and "Jeunesse" in body
    assert "/admin/invitations/VELO01/affiche" in body and "SECOURS1" in body
    for a in (association, other):
        await text_of(client, f"/admin/associations/{a.id}")
    assert "SECOURS1" in await text_of(client, f"/admin/associations/{other.id}")


@pytest.mark.parametrize(("path", "status"), [
    ("/admin/associations", 403),
    ("/admin/associations/{other}", 404),
    ("/admin/associations/999999", 404),
    ("/admin/associations/abc", 404),
    ("/admin/invitations/AUTRE1/affiche", 404),
    ("/admin/invitations/INCONNU/affiche", 404),
    ("/admin/associations/{own}", 200),
    ("/admin/invitations/MIEN01/affiche", 200),
])
async def test_an_association_sees_only_its_own(as_role, db, association, other, path, status):
    await add_invite(db, association.id, "MIEN01")
    await add_invite(db, other.id, "AUTRE1")
    client = await as_role("association")
    await text_of(client, path.format(own=association.id, other=other.id), status)


async def test_an_association_cannot_create_an_invite_for_another(as_role, db, association,
                                                                  other):
    client = await as_role("association")
    token = await form_token(client, f"/admin/associations/{association.id}")
    response = await client.post(f"/admin/associations/{other.id}/invitations",
                                 data={"csrf": token, "consultation": "mobilite"},
                                 allow_redirects=False)
    assert response.status == 404
    async with db.read() as tx:
        assert await invites.invites_of(tx, other.id) == []


@pytest.mark.parametrize("role", ["admin"])
async def test_other_roles_are_refused(as_role, association, role):
    client = await as_role(role)
    await text_of(client, f"/admin/associations/{association.id}", 403)


async def test_counts_under_five_are_masked_and_no_share_is_built_on_them(as_role, db,
                                                                          association):
    # Mobilité: 3 people, all completed. Jeunesse: 12 started, 10 completed, 2 stopped.
    for _ in range(3):
        await add_person(db, association_id=association.id)
    for status in ["completed"] * 10 + ["stopped"] * 2:
        await add_person(db, consultation="jeunesse", status=status,
                         association_id=association.id)
    await add_person(db, association_id=None)  # came by nobody: counted nowhere
    client = await as_role("association")
    body = await text_of(client, f"/admin/associations/{association.id}")
    rows = dict(re.findall(r'<tr>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', body, re.S))
    mobilite = rows["Mobilités du quotidien"]
    jeunesse = rows["Jeunesse : se former, travailler, s&#39;engager"]
    # 3 started and 3 completed are hidden; nobody stopped is said as 0.
    assert mobilite.count("&lt;&nbsp;5") == 2 and "%" not in mobilite  # 100 % would tell 3
    assert '<td class="nombre">0</td>' in mobilite
    assert "12" in jeunesse and "10" in jeunesse
    assert "83,3" in jeunesse  # 10 of 12 completed
    assert "&lt;&nbsp;5" in jeunesse and "16,7" not in jeunesse  # 2 of 12 stopped: hidden
    assert "voit « &lt; 5 »" not in body and "agents de la Région voient les nombres" in body
    # Officials see every figure, on the listing and on the association's page.
    official = await as_role("official")
    listing = await text_of(official, "/admin/associations")
    assert "&lt;&nbsp;5" not in listing and "100,0" in listing and "\"nombre\">3<" in listing
    assert listing.count(f'<a href="/admin/associations/{association.id}">') == 2  # a row each
    page = await text_of(official, f"/admin/associations/{association.id}")
    assert "&lt;&nbsp;5" not in page and "16,7" in page


@pytest.mark.parametrize(("people", "masked", "shown"), [
    (0, "0", "0"), (1, "&lt;&nbsp;5", "1"), (4, "&lt;&nbsp;5", "4"), (5, "5", "5")])
async def test_the_masking_boundary_is_five_for_association_accounts_only(
        as_role, db, association, people, masked, shown):
    for _ in range(people):
        await add_person(db, consultation="jeunesse", association_id=association.id)
    await add_person(db, association_id=association.id)  # one in mobilite, so a row exists
    for role, expected in (("association", masked), ("official", shown)):
        client = await as_role(role)
        body = await text_of(client, f"/admin/associations/{association.id}")
        if people:
            row = re.search(r'<th scope="row">Jeunesse[^<]*</th>(.*?)</tr>', body, re.S)
            started = re.findall(r'<td class="nombre">(.*?)</td>', row.group(1))[0]
            assert started == expected, (role, people)
        else:
            assert "Jeunesse : se former" not in body.split("Votre portée")[1]


async def test_pages_show_no_answers_and_no_identities(as_role, db, association):
    for _ in range(6):
        await add_person(db, association_id=association.id, themes=("prix",),
                         sealed_address="adresse-chiffree")
    client = await as_role("association")
    body = await text_of(client, f"/admin/associations/{association.id}")
    assert "adresse-chiffree" not in body and "h4-0" not in body and "…" not in body


async def test_an_association_creates_an_invite_with_csrf_and_audit(as_role, db, association):
    client = await as_role("association")
    path = f"/admin/associations/{association.id}/invitations"
    refused = await client.post(path, data={"consultation": "mobilite"}, allow_redirects=False)
    assert refused.status == 403
    token = await form_token(client, f"/admin/associations/{association.id}")
    unknown = await client.post(path, data={"csrf": token, "consultation": "inconnue"},
                                allow_redirects=False)
    assert unknown.status == 400
    created = await client.post(path, data={"csrf": token, "consultation": "jeunesse"},
                                allow_redirects=False)
    assert created.status == 303
    async with db.read() as tx:
        (invite,) = await invites.invites_of(tx, association.id)
        entries = list(await tx.scalars(select(AuditEntry).where(
            AuditEntry.action == "invite.created")))
    assert invite.consultation_id == "jeunesse"
    assert created.headers["Location"] == f"/admin/associations/{association.id}?cree={invite.code}"
    assert [(e.actor, e.target) for e in entries] == [
        ("association:association@region.example.fr", invite.code)]
    page = await text_of(client, created.headers["Location"])
    assert f"/admin/invitations/{invite.code}/affiche" in page


async def test_a_taken_code_is_drawn_again(as_role, db, association, configs):
    await add_invite(db, association.id, "PRIS01")
    codes = iter(["PRIS01", "LIBRE1"])
    configs[0].new_invite_code = lambda: next(codes)
    client = await as_role("official")
    token = await form_token(client, f"/admin/associations/{association.id}")
    response = await client.post(f"/admin/associations/{association.id}/invitations",
                                 data={"csrf": token, "consultation": "mobilite"},
                                 allow_redirects=False)
    assert response.headers["Location"].endswith("?cree=LIBRE1")
    async with db.read() as tx:
        assert await tx.get(Invite, "LIBRE1") is not None


async def test_the_flyer_has_an_svg_qr_code_and_nothing_inline(as_role, db, association,
                                                               configs):
    await add_invite(db, association.id, "AFFICH")
    configs[0].invite_card = lambda name, title, code: CARD
    client = await as_role("association")
    body = await text_of(client, "/admin/invitations/affich/affiche")  # any case
    assert "Mobilités du quotidien" in body and "Les Amis du Vélo" in body
    svg = re.search(r"<svg[^>]*>.*?</svg>", body, re.S).group(0)
    assert 'role="img"' in svg and "aria-label=" in svg and "<path" in svg
    assert "style=" not in body and "<style" not in body
    assert re.findall(r"<script(?![^>]*\ssrc=)", body) == []
    assert re.search(r"\son[a-z]+=", body) is None
    assert "https://t.me/relais_test_bot?start=CODE" in body
    assert "Envoyez CODE au 06 12 34 56 78" in body
    assert re.search(r"<textarea[^>]*readonly[^>]*>Bonjour,\nLa Région", body)


async def test_the_flyer_without_channels_or_card_still_shows_the_code(as_role, db,
                                                                         association, configs):
    await add_invite(db, association.id, "NUDE01")
    await add_invite(db, association.id, "OLD001", revoked=True)
    client = await as_role("official")
    body = await text_of(client, "/admin/invitations/NUDE01/affiche")  # the bot's own card
    assert "<svg" not in body and "NUDE01" in body and "Ni Telegram ni SMS" in body
    assert "<textarea" not in body and 'class="affiche"' not in body  # nothing to print
    assert "vous sera communiqué" not in body
    configs[0].invite_card = None
    body = await text_of(client, "/admin/invitations/NUDE01/affiche")
    assert "NUDE01" in body and "<textarea" not in body
    await text_of(client, "/admin/invitations/OLD001/affiche", 404)


async def test_invites_have_a_name_a_note_their_counts_and_can_be_turned_off(
        as_role, db, association, configs):
    configs[0].invite_card = lambda *_: CARD
    client = await as_role("association")
    token = await form_token(client, f"/admin/associations/{association.id}")
    await client.post(f"/admin/associations/{association.id}/invitations", data={
        "csrf": token, "consultation": "mobilite", "nom": "Flyers marché du samedi",
        "note": "<b>200</b> affiches, place du marché"})
    async with db.read() as tx:
        (invite,) = await invites.invites_of(tx, association.id)
    for n in range(6):  # six people came with it, five went to the end
        await add_person(db, association_id=association.id,
                         status="completed" if n else "active")
    async with db.transaction() as tx:
        from sqlalchemy import update

        from storage.tables import Participant
        await tx.execute(update(Participant).values(invite_code=invite.code))
    page = await text_of(client, f"/admin/associations/{association.id}")
    row = re.search(r"<tr>\s*<th scope=\"row\"><bdi>Flyers marché du samedi</bdi>.*?</tr>",
                    page, re.S).group(0)
    assert invite.code in row and "&lt;b&gt;200&lt;/b&gt; affiches" in row
    assert re.findall(r'<td class="nombre">(.*?)</td>', row) == ["6", "5"]
    assert "Désactiver" in row
    response = await client.post(f"/admin/invitations/{invite.code}/desactiver",
                                 data={"csrf": token}, allow_redirects=False)
    assert response.status == 303
    async with db.read() as tx:
        assert await invites.invite_by_code(tx, invite.code) is None  # brings nobody now
        actions = list(await tx.scalars(select(AuditEntry.action).where(
            AuditEntry.target == invite.code).order_by(AuditEntry.id)))
    assert actions == ["invite.created", "invite.revoked"]
    page = await text_of(client, f"/admin/associations/{association.id}")
    assert "désactivée le" in page and "Réactiver" in page
    await client.post(f"/admin/invitations/{invite.code}/reactiver", data={"csrf": token})
    async with db.read() as tx:
        assert await invites.invite_by_code(tx, invite.code) is not None


async def test_nobody_turns_off_another_associations_invite(as_role, db, association, other):
    await add_invite(db, other.id, "AUTRE1")
    client = await as_role("association")
    token = await form_token(client, f"/admin/associations/{association.id}")
    response = await client.post("/admin/invitations/AUTRE1/desactiver", data={"csrf": token})
    assert response.status in (403, 404)
    refused = await client.post("/admin/invitations/AUTRE1/desactiver")  # no token
    assert refused.status == 403
    async with db.read() as tx:
        assert await invites.invite_by_code(tx, "AUTRE1") is not None


async def test_an_association_account_lands_on_its_page(web, db, association):
    await add_user(db, "asso@example.fr", "association", association.id)
    response = await sign_in(web, "asso@example.fr")
    assert str(response.url).endswith(f"/admin/associations/{association.id}")
    assert "Créer l'invitation" in await response.text()


def numbers(row: str) -> list[str]:
    """Returns the number cells of a table row as read, spaces made plain."""
    return [cell.replace("&nbsp;", " ").replace("\u00a0", " ").strip()
            for cell in re.findall(r'<td class="nombre">(.*?)</td>', row)]


def funnel_cells(body: str) -> dict[str, list[str]]:
    """Returns the number cells of each consultation's funnel row, by consultation title."""
    return {title: numbers(cells) for title, cells in
            re.findall(r'<tr>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', body, re.S)}


JEUNESSE = "Jeunesse : se former, travailler, s&#39;engager"


async def test_the_masking_boundary_is_five_people_for_the_association(as_role, db, association):
    # Mobilité: 5 started, 5 completed, 0 stopped. Jeunesse: 4 started, 4 completed.
    # Diagnostic: 5 started, 4 completed, 1 stopped.
    await add_boundary_people(db, association)
    client = await as_role("association")
    cells = funnel_cells(await text_of(client, f"/admin/associations/{association.id}"))
    # started, completed, share completed, stopped, share stopped; 0 singles out nobody
    assert cells["Mobilités du quotidien"] == ["5", "5", "100,0 %", "0", "0,0 %"]
    assert cells[JEUNESSE] == ["&lt; 5", "&lt; 5", "—", "0", "—"]
    diagnostic = [title for title in cells if "diagnostic" in title.lower()]
    assert cells[diagnostic[0]] == ["5", "&lt; 5", "—", "&lt; 5", "—"]


async def test_an_official_sees_every_figure_of_an_association(as_role, db, association):
    await add_boundary_people(db, association)
    client = await as_role("official")
    cells = funnel_cells(await text_of(client, f"/admin/associations/{association.id}"))
    assert cells["Mobilités du quotidien"] == ["5", "5", "100,0 %", "0", "0,0 %"]
    assert cells[JEUNESSE] == ["4", "4", "100,0 %", "0", "0,0 %"]
    diagnostic = [title for title in cells if "diagnostic" in title.lower()]
    assert cells[diagnostic[0]] == ["5", "4", "80,0 %", "1", "20,0 %"]


async def add_boundary_people(db, association):
    """Adds 5 people to mobilité, 4 to jeunesse and 5 (one stopped) to the diagnostic."""
    for _ in range(5):
        await add_person(db, association_id=association.id)
    for _ in range(4):
        await add_person(db, consultation="jeunesse", association_id=association.id)
    for status in ["completed"] * 4 + ["stopped"]:
        await add_person(db, consultation="diagnostic", status=status,
                         association_id=association.id)


async def test_an_official_s_listing_and_overview_show_exact_counts(as_role, db, association):
    for _ in range(5):
        await add_person(db, association_id=association.id)
    for _ in range(4):
        await add_person(db, consultation="jeunesse", association_id=association.id)
    client = await as_role("official")
    listing = await text_of(client, "/admin/associations")
    rows = [numbers(row) for row in re.findall(r"<tr>(.*?)</tr>", listing, re.S)
            if "Les Amis" in row]
    assert any(row[:2] == ["4", "4"] for row in rows), rows  # jeunesse: 4, not masked
    assert not any("&lt; 5" in cell for row in rows for cell in row)
    # 4 people came through the association, on the consultation page too.
    overview = await text_of(client, "/admin/consultations/jeunesse")
    start = overview.index('<th scope="row">Les Amis du Vélo</th>')
    assert '"nombre">4<' in overview[start:overview.index("</tr>", start)]
