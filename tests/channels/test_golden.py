"""The same French conversation over Telegram and over SMS stores the same answers."""

import copy
from dataclasses import replace

import pytest
from sqlalchemy import select

from storage.tables import Answer, ConsultationSession, Participant
from tests.channels.conftest import post_sms, post_update, settle
from tests.fakes.fixtures import telegram_update, twilio_params

CONVERSATION = ["Bonjour", "oui", "80 000", "3", "le train, le vélo", "2", "Moins de retards",
                "Les TER Amiens-Lille sont en retard presque tous les matins",
                "Plus de trains après 20 h", "oui"]


async def answers_by_channel(relais) -> dict[str, dict[str, object]]:
    async with relais.db.read() as tx:
        rows = await tx.execute(
            select(Participant.channel, Answer.question_id, Answer.value)
            .join(Participant, Participant.id == Answer.participant_id))
        found: dict[str, dict[str, object]] = {}
        for channel, question, value in rows:
            found.setdefault(channel, {})[question] = value
        return found


@pytest.fixture(params=["database", "journal"])
def provider_settings(request, provider_settings):
    """Runs the conversation with each way of storing what a webhook received."""
    return replace(provider_settings, intake=request.param)


async def test_telegram_and_sms_store_the_same_answers(web, app_relais, fake_telegram,
                                                       fake_twilio):
    update = telegram_update("text_message")
    form = twilio_params("inbound_text")
    for number, text in enumerate(CONVERSATION):
        step = copy.deepcopy(update)
        step["update_id"] += number
        step["message"]["message_id"] += number
        step["message"]["text"] = text
        assert (await post_update(web, step)).status == 200
        sms = {**form, "Body": text, "MessageSid": f"SM{number:032x}",
               "SmsMessageSid": f"SM{number:032x}", "SmsSid": f"SM{number:032x}"}
        assert (await post_sms(web, sms)).status == 200
        await settle(app_relais)
    stored = await answers_by_channel(app_relais)
    assert set(stored) == {"telegram", "sms"}
    assert stored["telegram"] == stored["sms"]
    assert stored["sms"]["modes"] == ["train", "velo"]
    assert stored["sms"]["priorite"] == "ponctualite"
    async with app_relais.db.read() as tx:
        statuses = set(await tx.scalars(select(ConsultationSession.status)))
    assert statuses == {"completed"}
    closing = app_relais.flows["mobilite"].closing_for({"retour": True})  # asked to hear back
    assert fake_telegram.sent_texts()[-1] == closing
    assert fake_twilio.sent_bodies()[-1].startswith(closing[:40].replace("’", "'"))
