"""Indicators: each figure on a hand-computed consultation, with its definition."""

import math
from datetime import timedelta

import pytest

from admin.indicators import Indicator, diversity, shown
from storage import conversations, labels
from storage.tables import ConsultationSession, FeedbackMessage, OutboxMessage
from tests.admin.conftest import NOW
from tests.admin.seed import add_session

PAGE = "/admin/consultations/mobilite/indicateurs"
LAST_ANSWER = NOW - timedelta(days=1)


async def session(db, *, opt_in: bool | None = None, theme: str | None = None,
                  source: str = "model", at=NOW - timedelta(days=3), **kwargs) -> int:
    """Stores a session with one answer to the open question; returns its participant id."""
    answers = ({"question": "probleme", "text": "réponse", "theme": theme, "score": 0.5,
                "at": at},) if theme else ()
    session_id = await add_session(db, answers=answers, **kwargs)
    async with db.transaction() as tx:
        row = await tx.get(ConsultationSession, session_id)
        row.feedback_opt_in = opt_in
        if source == "official":  # as the review queue stores it
            answer_id = await conversations.answer_id(tx, session_id, "probleme")
            await labels.record_person_label(tx, answer_id, theme, "official",
                                             "official:a@region.example.fr", NOW)
        return row.participant_id


@pytest.fixture
async def consultation(db, association):
    """Four participants (three from the association), three sessions that do not count,
    one feedback message delivered to one participant."""
    first = await session(db, association_id=association.id, territory="80",
                          age_band="a15_29", opt_in=True, theme="prix")
    second = await session(db, association_id=association.id, territory="80",
                           age_band="a30_44", opt_in=True, theme="velo", source="official",
                           at=LAST_ANSWER)
    await session(db, association_id=association.id, status="stopped", territory="59",
                  age_band="a15_29", theme="prix")
    await session(db, status="active", theme="autre")
    for status, consented in (("refused", False), ("consent", False), ("stopped", False)):
        await session(db, status=status, consented=consented, territory="02")
    async with db.transaction() as tx:
        message = FeedbackMessage(consultation_id="mobilite", text="Merci !", author="elue",
                                  created_at=NOW, sent_at=LAST_ANSWER + timedelta(days=2, hours=3),
                                  recipients=2)
        tx.add(message)
        await tx.flush()
        for participant_id, status in ((first, "sent"), (second, "failed")):
            tx.add(OutboxMessage(participant_id=participant_id, channel="telegram",
                                 kind="feedback", text="Merci !", status=status,
                                 created_at=NOW, feedback_id=message.id))
    return association


def figure(page: str, key: str) -> str:
    """Returns the shown value of an indicator's row."""
    row = page.split(f'<tr id="{key}">', 1)[1].split("</tr>", 1)[0]
    return row.split('<td class="nombre">', 1)[1].split("</td>", 1)[0]


async def test_every_indicator_on_a_hand_computed_consultation(as_role, consultation):
    web = await as_role("official")
    page = await (await web.get(PAGE)).text()
    entropy = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) / math.log(5)  # 0.3955
    careful = " — peu de données : à lire avec prudence"  # 4 people: every share is fragile
    expected = {
        "participants": "4",
        "taux_completion": "50,0\u00a0% (2 / 4)" + careful,
        "taux_desinscription": "25,0\u00a0% (1 / 4)" + careful,
        "part_revue": "25,0\u00a0% (1 / 4)" + careful,
        "themes_couverts": "33,3\u00a0% (3 / 9)",  # the grid's themes, not a sample
        "delai_retour": "2\u00a0j 3\u00a0h",
        "part_demande_retour": "50,0\u00a0% (2 / 4)" + careful,
        "part_retour": "25,0\u00a0% (1 / 4)" + careful,
        "diversite_territoires": f"{entropy:.2f}".replace(".", ",") + careful,
        "diversite_ages": f"{entropy:.2f}".replace(".", ",") + careful,
        "accord_agents": "— (0 / 0)",  # no value: nothing to be careful about
        "kappa_agents": "—",
    }
    assert {key: figure(page, key) for key in expected} == expected
    assert "Part des participants qui ont écrit STOP" in page
    assert "Entropie de Shannon de la répartition" in page
    assert "Les Amis du Vélo" in page and "66,7" in page  # 2 of its 3 went to the end
    assert "Sans association" in page


@pytest.mark.parametrize(("base", "fragile"), [(None, False), (1, True), (29, True), (30, False)])
def test_a_share_on_fewer_than_thirty_is_said_fragile(base, fragile):
    item = Indicator("taux", "Taux", 0.5, "part", "Une part.", "1 / 2", base=base)
    assert item.fragile is fragile
    assert item.shown.endswith("à lire avec prudence") is fragile


async def test_an_empty_consultation_shows_dashes_not_errors(as_role):
    web = await as_role("official")
    response = await web.get(PAGE)
    assert response.status == 200
    page = await response.text()
    assert figure(page, "participants") == "0"
    assert figure(page, "taux_completion") == "— (0 / 0)"


@pytest.mark.parametrize(("role", "path", "status"), [
    ("association", PAGE, 403), ("admin", PAGE, 403),
    ("official", "/admin/consultations/inconnue/indicateurs", 404)])
async def test_access(as_role, role, path, status):
    web = await as_role(role)
    assert (await web.get(path)).status == status


@pytest.mark.parametrize(("counts", "categories", "expected"), [
    ({"02": 10, "59": 10, "60": 10, "62": 10, "80": 10}, 5, 1.0),
    ({"02": 0, "59": 7, "60": 0}, 5, 0.0),
    ({"59": 1, "80": 1}, 5, math.log(2) / math.log(5)),
    ({}, 5, None),
    ({"59": 3}, 1, None),
])
def test_diversity_is_normalised_shannon_entropy(counts, categories, expected):
    result = diversity(counts, categories)
    assert result == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(("value", "unit", "text"), [
    (12345, "nombre", "12\u202f345"), (0.125, "part", "12,5\u00a0%"),
    (timedelta(hours=5, minutes=7), "durée", "5\u00a0h 07\u00a0min"),
    (-timedelta(days=1, hours=2), "durée", "-1\u00a0j 2\u00a0h"),
    (0.6923, "indice", "0,69"), (None, "part", "—")])
def test_values_are_written_the_french_way(value, unit, text):
    assert shown(value, unit) == text


async def test_a_stop_before_consent_is_no_participation(as_role, db):
    await add_session(db, status="stopped", consented=False)
    await add_session(db, status="stopped", consented=True)
    await add_session(db, status="completed")
    web = await as_role("official")
    page = await (await web.get(PAGE)).text()
    assert figure(page, "taux_desinscription").startswith("50,0\u00a0% (1 / 2) — peu de")
