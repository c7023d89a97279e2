"""The Telegram channel end to end: captured updates in, what the citizen receives out."""

import asyncio
import copy
import os
import sys

import pytest

from storage import invites
from storage.tables import InboundMessage, Participant
from tests.channels.conftest import WEBHOOK_SECRET, post_update, rows, settle
from tests.checkout import CHECKOUT
from tests.fakes.fixtures import telegram_update

CHAT = 5123456789  # the private chat of the captured fixtures


def in_chat(name: str, chat: int = CHAT, update_id: int | None = None) -> dict:
    """A captured update, moved to one chat so several make one conversation."""
    update = copy.deepcopy(telegram_update(name))
    message = update.get("message") or update.get("edited_message")
    message["chat"]["id"] = message["from"]["id"] = chat
    if update_id is not None:
        update["update_id"] = update_id
    return update


# (case, fixture, secret header, HTTP status, JSON answer, stored?, what the citizen is told)
# Each update the adapter reads, ignores or refuses is in test_telegram_adapter.py; here, one
# of each verdict shows what Telegram is answered and what reaches storage.
ANSWERS = [
    ("read", "text_message", WEBHOOK_SECRET, 200, {"ok": True}, True, "Région Hauts-de-France"),
    ("ignored", "group_message", WEBHOOK_SECRET, 200,
     {"ignored": "groupe ou canal : non pris en charge"}, False, None),
    ("refused", "text_message", None, 403,
     {"error": "jeton secret Telegram absent ou invalide"}, False, None),
]


@pytest.mark.parametrize(("name", "secret", "status", "answer", "stored", "told"),
                         [pytest.param(*row[1:], id=row[0]) for row in ANSWERS])
async def test_telegram_is_answered_by_what_the_adapter_read(
        web, app_relais, fake_telegram, name, secret, status, answer, stored, told):
    response = await post_update(web, telegram_update(name), secret=secret)
    assert response.status == status
    assert await response.json() == answer  # acknowledged or not, and why
    await settle(app_relais)
    assert len(await rows(app_relais, InboundMessage)) == int(stored)
    assert len(await rows(app_relais, Participant)) == int(stored)
    texts = fake_telegram.sent_texts()
    if told is None:
        assert texts == []
    else:
        assert told in texts[0]


async def test_media_gets_a_polite_request_for_text_and_is_never_downloaded(
        web, app_relais, fake_telegram):
    await post_update(web, telegram_update("text_message"))
    await settle(app_relais)
    consent = copy.deepcopy(telegram_update("text_message"))
    consent["update_id"] += 1
    consent["message"]["text"] = "oui"
    await post_update(web, consent)
    await settle(app_relais)
    update = in_chat("photo")
    update["message"].pop("caption", None)  # a caption is text: it would be the answer
    assert (await post_update(web, update)).status == 200
    await settle(app_relais)
    assert "message écrit" in fake_telegram.sent_texts()[-1]
    assert fake_telegram.calls_to("getFile") == []


async def test_a_redelivered_update_is_stored_and_answered_once(web, app_relais, fake_telegram):
    update = telegram_update("text_message")
    responses = await asyncio.gather(*(post_update(web, update) for _ in range(50)))
    assert {r.status for r in responses} == {200}
    await post_update(web, update)
    await settle(app_relais)
    assert len(await rows(app_relais, InboundMessage)) == 1
    assert len(fake_telegram.sent_texts()) == 2  # the notice and the consent question


async def test_buttons_answer_their_question_and_are_always_acknowledged(
        web, app_relais, fake_telegram):
    await post_update(web, telegram_update("text_message"))
    await settle(app_relais)
    consent_call = fake_telegram.calls_to("sendMessage")[-1]
    buttons = consent_call.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in buttons] == ["Oui", "Non"]
    press = copy.deepcopy(telegram_update("callback_query"))
    press["callback_query"]["data"] = buttons[0][0]["callback_data"]
    assert (await post_update(web, press)).status == 200
    await settle(app_relais)
    assert "code postal" in fake_telegram.sent_texts()[-1]
    await fake_telegram.wait_for_calls("answerCallbackQuery", 1)
    # A forged or stale button: acknowledged, refused, the question asked again.
    forged = copy.deepcopy(press)
    forged["update_id"] += 1
    forged["callback_query"]["id"] += "9"
    forged["callback_query"]["data"] = "_consentement|oui"
    await post_update(web, forged)
    await settle(app_relais)
    await fake_telegram.wait_for_calls("answerCallbackQuery", 2)
    assert fake_telegram.sent_texts()[-1].startswith("Ce choix répond à une question précédente")


async def test_a_deep_link_attributes_the_participant_to_the_association(web, app_relais,
                                                                         fake_telegram):
    async with app_relais.db.transaction() as tx:
        association = await invites.add_association(tx, "Les Amis du Rail", "80",
                                                    app_relais.clock())
        await invites.create_invite(tx, association.id, "jeunesse", "K7M2QX",
                                    app_relais.clock())
    assert (await post_update(web, telegram_update("start_with_code"))).status == 200
    await settle(app_relais)
    participant = (await rows(app_relais, Participant))[0]
    assert participant.invite_code == "K7M2QX" and participant.association_id == association.id
    assert "Jeunesse" in fake_telegram.sent_texts()[0]


async def test_an_unknown_code_falls_back_to_the_normal_start(web, app_relais, fake_telegram):
    update = copy.deepcopy(telegram_update("start_with_code"))
    update["message"]["text"] = "/start ZZZZZZ"
    await post_update(web, update)
    await settle(app_relais)
    assert (await rows(app_relais, Participant))[0].association_id is None
    assert "Région Hauts-de-France" in fake_telegram.sent_texts()[0]
    assert "ZZZZZZ" not in " ".join(fake_telegram.sent_texts())


async def test_a_bare_start_asks_which_association_sent_the_person(web, app_relais,
                                                                  fake_telegram):
    async with app_relais.db.transaction() as tx:
        await invites.add_association(tx, "Secours Populaire Somme", "80", app_relais.clock())
        unis_cite = await invites.add_association(tx, "Unis-Cité Lille", "59",
                                                  app_relais.clock())
    await post_update(web, in_chat("start_bare"))
    await settle(app_relais)
    question = fake_telegram.sent_texts()[-1]
    assert "Quelle association" in question and "2. Unis-Cité Lille" in question
    answer = copy.deepcopy(telegram_update("text_message"))
    answer["message"]["text"] = "2"
    await post_update(web, answer)
    await settle(app_relais)
    participant = (await rows(app_relais, Participant))[0]
    assert participant.association_id == unis_cite.id  # the second listed, as chosen
    assert "Région Hauts-de-France" in fake_telegram.sent_texts()[-2]


async def test_blocking_the_bot_stops_every_message(web, app_relais, fake_telegram):
    await post_update(web, telegram_update("text_message"))
    await settle(app_relais)
    sent = len(fake_telegram.sent_texts())
    await post_update(web, telegram_update("my_chat_member_kicked"))
    await settle(app_relais)
    assert (await rows(app_relais, Participant))[0].stopped_at is not None
    assert len(fake_telegram.sent_texts()) == sent


async def test_a_403_when_sending_marks_the_participant_stopped(web, app_relais, fake_telegram):
    from tests.fakes import telegram_api

    fake_telegram.script("sendMessage", telegram_api.forbidden())
    await post_update(web, telegram_update("text_message"))
    await settle(app_relais)
    assert (await rows(app_relais, Participant))[0].stopped_at is not None
    assert len(fake_telegram.calls_to("sendMessage")) == 1  # never retried, nothing more sent


async def test_retry_after_is_honoured(web, app_relais, fake_telegram):
    from tests.fakes import telegram_api

    fake_telegram.script("sendMessage", telegram_api.too_many_requests(retry_after=2))
    await post_update(web, telegram_update("text_message"))
    calls = await fake_telegram.wait_for_calls("sendMessage", 3, within=10)
    assert calls[1].time - calls[0].time >= 2.0
    assert fake_telegram.sent_texts()[0].startswith("Bonjour")


async def test_at_most_one_message_a_second_per_chat(web, app_relais, fake_telegram):
    await post_update(web, telegram_update("text_message"))
    calls = await fake_telegram.wait_for_calls("sendMessage", 2, within=5)
    assert calls[1].time - calls[0].time >= 0.95


async def test_the_database_down_gets_503_so_telegram_sends_again(web, app_relais,
                                                                  monkeypatch):
    from sqlalchemy.exc import OperationalError

    async def down(message):
        raise OperationalError("INSERT", {}, ConnectionRefusedError())

    monkeypatch.setattr(app_relais.inbox, "receive", down)
    response = await post_update(web, telegram_update("text_message"))
    assert response.status == 503


async def test_set_webhook_registers_the_public_url_with_the_secret(fake_telegram, tmp_path):
    from tests.channels.conftest import PUBLIC_URL
    from tests.fakes import telegram_api

    env = {**os.environ, **CHECKOUT, "RELAIS_SECRET_KEY": "k" * 40,
           "RELAIS_PUBLIC_URL": PUBLIC_URL,
           "TELEGRAM_BOT_TOKEN": telegram_api.DEFAULT_TOKEN,
           "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
           "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "set-webhook", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == f"webhook Telegram enregistré : {PUBLIC_URL}/webhooks/telegram"
    params = fake_telegram.calls_to("setWebhook")[0].params
    assert params["url"] == f"{PUBLIC_URL}/webhooks/telegram"
    assert params["secret_token"] == WEBHOOK_SECRET
    assert params["allowed_updates"] == ["message", "edited_message", "callback_query",
                                         "my_chat_member"]
    assert params.get("drop_pending_updates") in (None, False)
    fake_telegram.script("setWebhook", telegram_api.error(401, "Unauthorized"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "set-webhook", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await process.communicate()
    assert process.returncode == 1
    assert telegram_api.DEFAULT_TOKEN not in err.decode()
    assert len(err.decode().strip().splitlines()) == 1
