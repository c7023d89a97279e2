"""Participants with one session each, as the bot leaves them, and an application whose admin
configuration tests can change: for the association and feedback pages."""

import itertools
from datetime import datetime

import pytest

from bot import app as bot_app
from bot.engine import Session, Status
from storage import tallies
from storage.tables import Answer, AnswerTheme, ConsultationSession, Identity, Participant
from tests.admin.conftest import NOW

_numbers = itertools.count(1)


async def add_person(db, *, consultation: str = "mobilite", channel: str = "telegram",
                     status: str = "completed", association_id: int | None = None,
                     opt_in: bool | None = None, territory: str | None = None,
                     stopped: bool = False, themes: tuple[str, ...] = (),
                     sealed_address: str = "sealed", participant_id: int | None = None,
                     at: datetime = NOW) -> tuple[int, int]:
    """Stores a participant (unless given), their encrypted address and one session (with an
    answer per theme); returns (participant id, session id)."""
    number = next(_numbers)
    async with db.transaction() as tx:
        if participant_id is None:
            person = Participant(pseudonym=f"h4-{number:06d}", channel=channel, created_at=at,
                                 association_id=association_id,
                                 stopped_at=at if stopped else None)
            tx.add(person)
            await tx.flush()
            tx.add(Identity(participant_id=person.id, address_ciphertext=sealed_address))
        else:
            person = await tx.get(Participant, participant_id)
        state = Session(consultation=consultation, status=Status(status), last_at=at,
                        consented=status not in ("consent", "refused"))
        session = ConsultationSession(
            participant_id=person.id, consultation_id=consultation, status=status,
            state=state.to_dict(), territory=territory, feedback_opt_in=opt_in,
            started_at=at, updated_at=at,
            completed_at=at if status == "completed" else None)
        tx.add(session)
        await tallies.touch_records(tx, [session])  # as the product's writes do
        await tx.flush()
        for index, theme in enumerate(themes):
            answer = Answer(session_id=session.id, participant_id=person.id,
                            consultation_id=consultation, question_id=f"q{index}",
                            raw_text="…", valid=True, answered_at=at, channel=channel,
                            association_id=association_id, territory=territory, theme=theme,
                            theme_score=0.9, theme_source="model")
            tx.add(answer)
            await tx.flush()
            tx.add(AnswerTheme(answer_id=answer.id, theme=theme, consultation_id=consultation,
                               question_id=f"q{index}", score=0.9, source="model"))
        return person.id, session.id


@pytest.fixture
async def configs(monkeypatch):
    """The admin configurations the application is built with, so a test can change them."""
    built = []
    real = bot_app.admin_config

    def keeping(relais):
        config = real(relais)
        built.append(config)
        return config

    monkeypatch.setattr(bot_app, "admin_config", keeping)
    return built


@pytest.fixture
async def web(aiohttp_client, relais, configs):
    """The application, its admin configuration kept in `configs`."""
    return await aiohttp_client(bot_app.create_web_app(relais, work=False))
