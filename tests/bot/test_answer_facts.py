"""Answers carry their channel, association, territory and current theme for the admin view."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import build
from storage import invites, labels
from storage.tables import Answer
from tests.bot.conversation import RecordingChannel, say
from tests.bot.test_conversation_path import MOBILITE

AT = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
async def wired(settings, db):
    """Relais whose web channel records deliveries."""
    system = build(settings, channels=[RecordingChannel("web")])
    await system.prepare()
    yield system
    await system.stop()


async def answers(db) -> dict[str, Answer]:
    async with db.read() as tx:
        return {a.question_id: a for a in await tx.scalars(select(Answer))}


async def test_every_answer_carries_channel_association_and_the_territory_learnt(wired):
    async with wired.db.transaction() as tx:
        association = await invites.add_association(tx, "Vélo Lillois", "59", AT)
        await invites.create_invite(tx, association.id, "mobilite", "VELO59", AT)
    await say(wired, "/start VELO59", *MOBILITE[1:], invite="VELO59")
    stored = await answers(wired.db)
    assert len(stored) >= 8
    assert {a.channel for a in stored.values()} == {"web"}
    assert {a.association_id for a in stored.values()} == {association.id}
    # The postcode is the first question: every answer, that one included, knows it.
    assert {a.territory for a in stored.values()} == {"59"}


async def test_a_participant_without_invite_has_no_association(wired):
    await say(wired, *MOBILITE, consultation="mobilite")
    assert {a.association_id for a in (await answers(wired.db)).values()} == {None}


# (labels given in order, as (source, theme)) → (theme that counts, its source)
PRECEDENCE = [
    ([("model", "prix")], ("prix", "model")),
    ([("model", "prix"), ("model", "velo")], ("velo", "model")),
    ([("model", "prix"), ("participant", "velo")], ("velo", "participant")),
    ([("participant", "velo"), ("model", "prix")], ("velo", "participant")),
    ([("model", "prix"), ("official", "autre")], ("autre", "official")),
    ([("official", "autre"), ("model", "prix")], ("autre", "official")),
    ([("official", "autre"), ("participant", "prix")], ("autre", "official")),
    ([("participant", "prix"), ("official", "autre")], ("autre", "official")),
    ([("official", "autre"), ("official", "velo")], ("velo", "official")),
    # The participant's "no" takes the model's theme off; a later model cannot put it back.
    ([("model", "prix"), ("rejected", "prix")], (None, None)),
    ([("rejected", "prix"), ("model", "prix")], (None, None)),
    ([("model", "prix"), ("rejected", "velo")], ("prix", "model")),
    ([("rejected", "prix"), ("official", "prix")], ("prix", "official")),
]


@pytest.mark.parametrize(("given", "expected"), PRECEDENCE)
async def test_the_theme_that_counts_follows_who_gave_it(wired, given, expected):
    await say(wired, *MOBILITE, consultation="mobilite")
    answer_id = (await answers(wired.db))["probleme"].id
    for version, (source, theme) in enumerate(given):
        async with wired.db.transaction() as tx:
            if source == "model":  # each model version labels an answer once
                await labels.record_model_labels(tx, [(answer_id, [(theme, 0.42)])],
                                                 f"v{version}", AT)
            elif source == "rejected":
                await labels.record_person_label(tx, answer_id, theme, "participant", None, AT,
                                                 negative=True)
            else:
                await labels.record_person_label(tx, answer_id, theme, source, "x", AT)
    answer = (await answers(wired.db))["probleme"]
    assert (answer.theme, answer.theme_source) == expected
    assert (answer.theme_score == 0.42) == (expected[1] == "model")
