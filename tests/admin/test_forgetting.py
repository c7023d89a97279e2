"""An answer that goes (SUPPRIMER, or past retention with `relais purge`) leaves nothing behind:
no quote, no frequent term, no line of an export, no training example; every admin page and
export is searched for its words, right after and once the worker has summed up again."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.themes import train_consultation
from storage import labels, purge
from storage.tables import (
    Answer,
    ConsultationSession,
    InboundMessage,
    OutboxMessage,
    ThemeSummary,
)
from tests.bot.conversation import T0, RecordingChannel, say

# A word nobody else writes, in both free-text answers of the person who will be forgotten.
MARK = "quetzalcoatl"
FORGOTTEN = ["Bonjour", "oui", "59000", "2", "1", "3", "3",
             f"Le billet de TER {MARK} est beaucoup trop cher pour un smicard", "oui",
             f"Baisser le prix des abonnements {MARK} pour les jeunes", "oui"]
KEPT = ["Bonjour", "oui", "80000", "2", "1", "3", "3",
        "Le TER est trop cher pour aller travailler tous les jours", "oui",
        "Des billets moins chers pour les familles", "oui"]
PAGES = ["", "?essais=1", "/questions", "/questions/probleme", "/questions/idee",
         "/questions/probleme?ecartees=1&essais=1", "/revue", "/revue?mode=double",
         "/indicateurs", "/bilan", "/bilan.md", "/exports/reponses.csv",
         "/exports/reponses.json", "/exports/themes.csv", "/exports/indicateurs.csv",
         "/retours"]


@pytest.fixture
async def talked(relais, tmp_path):
    """Two people answered mobilite on Telegram; the worker redacted, sorted and summed up."""
    await train_consultation(relais.db, relais.flows["mobilite"], tmp_path, lambda _: None)
    relais.delivery.channels["telegram"] = RecordingChannel("telegram")
    await say(relais, *FORGOTTEN, address="111", channel="telegram")
    await say(relais, *KEPT, address="222", channel="telegram")
    while await relais.classification.run_once():
        pass
    return relais


async def everything(web) -> str:
    """Returns every consultation page and export, as an official reads them."""
    found = []
    for page in PAGES:
        response = await web.get(f"/admin/consultations/mobilite{page}")
        assert response.status == 200, page
        found.append(await response.text())
    return "\n".join(found).lower()


async def forgotten_everywhere(relais, web) -> None:
    assert MARK not in await everything(web)  # at once: before the worker runs again
    async with relais.db.read() as tx:
        assert await tx.scalar(select(ThemeSummary)) is None  # summaries forgotten
        assert await labels.summary_requests(tx)  # …and asked for again
    assert await relais.classification.run_once() >= 1
    async with relais.db.read() as tx:
        summaries = list(await tx.scalars(select(ThemeSummary)))
        taught = await labels.training_rows(tx, "mobilite")
        left = list(await tx.scalars(select(Answer.raw_text)))
        assert await labels.summary_requests(tx) == {}
    assert summaries and MARK not in str([(s.terms, s.examples) for s in summaries])
    assert all(MARK not in text for text, _ in taught)
    assert all(MARK not in text for text in left)
    assert MARK not in await everything(web)


async def test_the_words_show_before_they_are_erased(talked, as_role):
    web = await as_role("official")
    assert MARK in await everything(web)  # so the tests below can fail


async def test_supprimer_forgets_every_copy_and_everything_derived(talked, as_role):
    web = await as_role("official")
    await say(talked, "SUPPRIMER", "OUI", address="111", channel="telegram")
    await forgotten_everywhere(talked, web)


async def test_purge_forgets_every_copy_and_everything_derived(talked, as_role):
    web = await as_role("official")
    async with talked.db.transaction() as tx:  # the forgotten person's session is old
        answer = await tx.scalar(select(Answer).where(Answer.raw_text.contains(MARK)))
        session = await tx.get(ConsultationSession, answer.session_id)
        session.updated_at = T0 - timedelta(days=400)
    async with talked.db.transaction() as tx:
        done = await purge.purge(tx, T0 + timedelta(days=1), idle_timeout=timedelta(hours=1),
                                 session_lifetime=timedelta(hours=12))
    assert (done.sessions, done.answers) == (1, 8)  # the session and its eight answers
    await forgotten_everywhere(talked, web)


async def test_free_text_is_kept_once_in_answers_raw_text(talked):
    await say(talked, "MES DONNEES", address="111", channel="telegram")
    async with talked.db.read() as tx:
        answers = {a.question_id: a for a in await tx.scalars(
            select(Answer).where(Answer.raw_text.contains(MARK)))}
        states = [s.state for s in await tx.scalars(select(ConsultationSession))]
        inbound = list(await tx.scalars(select(InboundMessage.text)))
        outbox = list(await tx.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "data")))
    assert set(answers) == {"probleme", "idee"}
    assert {a.value for a in answers.values()} == {None}  # not a second copy in value
    assert all(MARK not in str(state) for state in states)
    assert states[0]["answers"]["probleme"] is True  # the session knows it was answered
    assert set(inbound) == {""}  # the message log keeps no words once processed
    # MES DONNEES quoted the answers to the person, then its text went.
    sent = talked.delivery.channels["telegram"].texts("111")[-1]
    assert MARK in sent and [o.text for o in outbox] == [""]
