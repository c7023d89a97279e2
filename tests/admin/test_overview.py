"""The overview of a consultation: funnel, breakdowns and sessions over time."""

import re
from datetime import timedelta

import pytest

from tests.admin.conftest import NOW, PASSWORD, add_user, form_token
from tests.admin.seed import add_session

URL = "/admin/consultations/mobilite"


async def seed(db, association_id):
    for status, channel, territory, consented, days in [
        ("completed", "telegram", "80", True, 0), ("completed", "sms", "59", True, 0),
        ("completed", "sms", "59", True, 1), ("active", "telegram", "02", True, 1),
        ("stopped", "sms", "62", True, 2), ("stopped", "telegram", None, False, 2),
        ("refused", "telegram", None, False, 9), ("consent", "sms", None, False, 9),
    ]:
        await add_session(db, status=status, channel=channel, territory=territory,
                          consented=consented, started_at=NOW - timedelta(days=days),
                          association_id=association_id if channel == "sms" else None)
    await add_session(db, consultation="jeunesse", status="completed")  # another one


def row(body: str, header: str) -> str:
    """Returns the text of the table row whose header cell is `header`."""
    start = body.index(f'<th scope="row">{header}</th>')
    return body[start:body.index("</tr>", start)]


async def test_the_funnel_counts_started_completed_refused_and_stopped(as_role, db,
                                                                      association):
    await seed(db, association.id)
    web = await as_role("official")
    response = await web.get(URL)
    assert response.status == 200
    body = await response.text()
    assert "<strong>8</strong> sessions ouvertes" in body
    # Started: 3 completed, 1 active, 1 stopped after consent; not the one stopped before.
    assert "<strong>5</strong> commencées" in body
    assert "<strong>3</strong> terminées" in body
    assert "<strong>60,0\u00a0%</strong> taux de complétion <em class=\"prudence\">(sur 5 " \
        "personnes : à lire avec prudence)</em>" in body
    assert ">1<" in row(body, "Consentement refusé")
    assert ">2<" in row(body, "Arrêtées (STOP), à toute étape")
    assert ">1<" in row(body, "Interrompues après le consentement (arrêt, effacement, échec)")
    assert ">1<" in row(body, "En attente du consentement")


async def test_breakdowns_by_channel_association_and_departement(as_role, db, association):
    await seed(db, association.id)
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    sms = row(body, "SMS")  # 4 sessions, 3 started, 2 completed
    assert '"nombre">4<' in sms and '"nombre">3<' in sms and '"nombre">2<' in sms
    assert "66,7\u00a0%" in sms
    assert '"nombre">4<' in row(body, "Les Amis du Vélo")
    assert '"nombre">4<' in row(body, "Sans association")
    nord = row(body, "Nord")
    assert '"nombre">2<' in nord and "100,0\u00a0%" in nord
    assert "Non renseigné" in body


async def test_sessions_over_time_per_paris_day_and_iso_week(as_role, db, association):
    await seed(db, association.id)
    # 23:30 UTC on 19 November is already 20 November in Paris.
    await add_session(db, status="completed", started_at=NOW.replace(hour=23, minute=30)
                      - timedelta(days=1))
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    assert '"nombre">3<' in row(body, "20/11/2026")  # two at 10:00 and the one at 23:30 UTC
    assert '"nombre">2<' in row(body, "19/11/2026")
    weekly = await (await web.get(URL + "?periode=semaine")).text()
    assert '"nombre">7<' in row(weekly, "sem. du 16/11/2026")  # Monday 16 to Sunday 22
    assert '"nombre">2<' in row(weekly, "sem. du 09/11/2026")


async def test_charts_are_accessible_svg_followed_by_their_table(as_role, db, association):
    await seed(db, association.id)
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    assert body.count('role="img"') == body.count("<svg") == 6  # five charts and the map
    assert body.count("<title>") >= 6  # the page's and every chart's
    assert "style=" not in body
    assert re.search(r"<script(?![^>]*\bsrc=)", body) is None  # no inline script
    for heading in ("parcours", "par-canal", "par-association", "par-departement",
                    "dans-le-temps"):
        after = body[body.index(f'id="{heading}"'):]
        assert after.index("</figure>") < after.index("<table>")


async def test_trial_conversations_are_left_out_unless_asked_for(as_role, db, association):
    await seed(db, association.id)
    for channel in ("web", "terminal", "web"):
        await add_session(db, status="completed", channel=channel, territory="80")
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    assert "<strong>8</strong> sessions ouvertes" in body
    assert "3 conversations d'essai (simulateur web, terminal) ne sont pas comptées" in body
    assert "Simulateur web" not in body
    shown = await (await web.get(URL + "?essais=1")).text()
    assert "<strong>11</strong> sessions ouvertes" in shown
    assert "Les chiffres comprennent 3 conversations d'essai" in shown
    assert '"nombre">2<' in row(shown, "Simulateur web")
    assert '"nombre">1<' in row(shown, "Terminal")
    weekly = await (await web.get(URL + "?essais=1&periode=semaine")).text()
    assert 'href="?periode=jour&amp;essais=1#dans-le-temps"' in weekly


async def test_the_map_colours_each_departement_by_its_sessions(as_role, db, association):
    await seed(db, association.id)
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    svg = body[body.index('class="graphique carte"'):]
    svg = svg[:svg.index("</svg>")]
    assert "Nord : 2 commencées" in svg and "Aisne : 1 commencée</title>" in svg
    assert "Oise : 0 commencée</title>" in svg
    # Darker for more: the Nord (2 started) is darker than the Oise (none).
    fills = dict(re.findall(r'<path d="[^"]*" fill="(#[0-9a-f]{6})"[^>]*><title>([^ ]+)', svg))
    by_name = {name: fill for fill, name in fills.items()}
    assert by_name["Oise"] == "#e3e3fd" and by_name["Nord"] == "#000091"
    assert "CC BY 4.0" in body


async def test_an_empty_consultation_shows_zeros(as_role):
    web = await as_role("official")
    body = await (await web.get(URL)).text()
    assert "<strong>0</strong> sessions ouvertes" in body
    assert "Aucune session pour l'instant." in body


@pytest.mark.parametrize(("path", "status"), [
    (URL + "?periode=mois", 400), ("/admin/consultations/inconnue", 404)])
async def test_bad_requests(as_role, path, status):
    web = await as_role("official")
    response = await web.get(path)
    assert response.status == status
    if status == 400:
        assert "Période inconnue" in await response.text()


@pytest.mark.parametrize("role", ["association", "admin"])
async def test_other_roles_are_refused(web, db, association, role):
    await add_user(db, f"{role}@region.example.fr", role,
                   association.id if role == "association" else None)
    token = await form_token(web, "/admin/connexion")
    signed = await web.post("/admin/connexion", allow_redirects=False, data={
        "email": f"{role}@region.example.fr", "password": PASSWORD, "csrf": token})
    assert signed.status == 303
    for path in (URL, URL + "/questions", URL + "/questions/probleme",
                 URL + "/representativite"):
        response = await web.get(path)
        assert response.status == 403, path


async def test_strangers_are_sent_to_sign_in(web):
    response = await web.get(URL, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/admin/connexion")
