"""What came since an official's last visit is marked, on the question page and on the home
page's key figures."""

from datetime import timedelta

from tests.admin.conftest import NOW
from tests.admin.seed import add_session

QUESTION = "/admin/consultations/mobilite/questions/probleme"


async def answered(db, text: str, at):
    await add_session(db, started_at=at, answers=(
        {"question": "probleme", "text": text, "theme": "prix", "score": 0.8, "at": at},))


async def test_answers_since_the_last_visit_are_marked_new(as_role, db, clock):
    await answered(db, "déjà lue : le TER est cher", NOW - timedelta(days=2))
    web = await as_role("official")
    first = await (await web.get(QUESTION)).text()
    assert "depuis votre dernière visite" not in first and "nouveau</span>" not in first
    clock.advance(minutes=20)  # within the session's 30 idle minutes
    await answered(db, "toute neuve : plus de bus le soir", NOW + timedelta(minutes=5))
    await answered(db, "encore une : des pistes cyclables", NOW + timedelta(minutes=10))
    second = await (await web.get(QUESTION)).text()
    assert "<strong>2 nouvelles réponses</strong> depuis votre dernière visite" in second
    assert second.count('<span class="etiquette nouveau">nouveau</span>') == 2
    line = second[second.index("déjà lue"):]
    assert "nouveau" not in line[:line.index("</tr>")]
    clock.advance(minutes=20)
    third = await (await web.get(QUESTION)).text()
    assert "Rien de nouveau depuis votre dernière visite" in third


async def test_the_home_page_gives_each_consultations_key_figures(as_role, db, clock):
    for n in range(3):
        await add_session(db, status="completed" if n else "active", started_at=NOW)
    web = await as_role("official")
    home = await (await web.get("/admin/")).text()
    assert "<strong>3</strong> participants" in home and "66,7" in home
    await web.get("/admin/consultations/mobilite")  # a visit of the consultation
    clock.advance(minutes=20)
    await answered(db, "une nouvelle réponse libre", NOW + timedelta(minutes=10))
    home = await (await web.get("/admin/")).text()
    assert "<strong>1</strong> nouvelle réponse libre depuis votre visite" in home
