"""The SMS channel end to end: signed Twilio forms in, what the citizen's phone receives out."""

import asyncio
import bisect
import itertools
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot import delivery, gsm7
from bot.app import build, create_web_app
from bot.channels import twilio_sms
from bot.channels.base import IncomingMessage
from bot.channels.twilio_sms import EMPTY_TWIML
from bot.engine import wording
from bot.engine.text import fold_words
from storage import invites
from storage.tables import (
    Answer,
    Base,
    ConsultationSession,
    InboundMessage,
    OutboxMessage,
    Participant,
)
from tests.channels.conftest import PUBLIC_URL, post_sms, rows, settle, signature
from tests.fakes import twilio_api
from tests.fakes.fixtures import twilio_params

SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
CITIZEN = "+33639980012"  # the sender of the captured forms
OTHER_TOKEN = "0123456789abcdef0123456789abcdef"
_sids = itertools.count(1)


def sms(body: str = "Bonjour", *, sender: str = CITIZEN, sid: str | None = None,
        **extra: str) -> dict[str, str]:
    """The captured inbound form with another body, sender and a fresh MessageSid."""
    sid = sid or f"SM{next(_sids):032x}"
    return {**twilio_params("inbound_text"), "Body": body, "From": sender, "MessageSid": sid,
            "SmsMessageSid": sid, "SmsSid": sid, **extra}


async def say(web, relais, *bodies: str, sender: str = CITIZEN, **extra: str) -> None:
    """Sends SMS one after the other, each processed and answered before the next."""
    for body in bodies:
        response = await post_sms(web, sms(body, sender=sender, **extra))
        assert response.status == 200, await response.text()
        await settle(relais)


async def the_participant(relais) -> Participant:
    (participant,) = await rows(relais, Participant)
    return participant


async def table_counts(relais) -> dict[str, int]:
    """Counts the rows of every table but those the running worker writes whatever a request
    does: its own registration, and the tallies it derives from the other tables."""
    async with relais.db.read() as tx:
        return {table.name: await tx.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables
                if table.name != "workers" and not table.name.startswith("tally_")}


def is_empty_twiml(text: str) -> bool:
    root = ET.fromstring(text)
    return root.tag == "Response" and len(root) == 0 and not (root.text or "").strip()


# -- what Twilio is answered (each form the adapter reads or refuses: test_sms_adapter.py)

# (case, change to a genuine form, the token it is signed with, HTTP status, stored?)
ANSWERS = [
    ("genuine, signed for the public URL, sent to 127.0.0.1", {}, twilio_api.AUTH_TOKEN, 200,
     True),
    ("a sender that is not a phone number", {"From": "INFOSMS"}, twilio_api.AUTH_TOKEN, 200,
     False),
    ("signed with another auth token", {}, OTHER_TOKEN, 403, False),
]


@pytest.mark.parametrize(("change", "token", "status", "stored"),
                         [pytest.param(*row[1:], id=row[0]) for row in ANSWERS])
async def test_twilio_gets_the_empty_twiml_or_the_refusal_and_only_messages_are_stored(
        web, app_relais, fake_twilio, change, token, status, stored):
    before = await table_counts(app_relais)
    params = {**sms("Bonjour", sid="SM" + "a1" * 16), **change}
    response = await post_sms(web, params, headers={
        "X-Twilio-Signature": signature(SMS_PATH, params, token=token)})
    assert response.status == status
    if status == 200:
        assert response.content_type == "text/xml"
        text = await response.text()
        assert text == EMPTY_TWIML and is_empty_twiml(text)
    else:
        assert await response.json() == {"error": "signature Twilio absente ou invalide"}
    inbound = await rows(app_relais, InboundMessage)
    assert [(m.channel, m.provider_id) for m in inbound] == (
        [("sms", "SM" + "a1" * 16)] if stored else [])
    # Its words stay until the processor, running meanwhile, has applied its turn.
    assert all(m.text == "Bonjour" or (m.status, m.text) == ("processed", "") for m in inbound)
    assert urlsplit(str(web.make_url(SMS_PATH))).hostname == "127.0.0.1"
    await settle(app_relais)  # anything wrongly stored would be processed by now
    if not stored:
        assert await table_counts(app_relais) == before
        assert fake_twilio.calls == []


async def test_other_methods_are_not_allowed(web, app_relais):
    for path in (SMS_PATH, STATUS_PATH):
        for method in ("GET", "PUT"):
            assert (await web.request(method, path)).status == 405, (method, path)
    assert await rows(app_relais, InboundMessage) == []


# -- idempotency

async def test_a_redelivered_sms_is_stored_and_answered_once(web, app_relais, fake_twilio):
    params = sms("Bonjour")
    for token in ("idem-1", "idem-2"):  # Twilio's retries carry their own token
        response = await post_sms(web, params, headers={"I-Twilio-Idempotency-Token": token})
        assert response.status == 200 and is_empty_twiml(await response.text())
        await settle(app_relais)
    assert len(await rows(app_relais, InboundMessage)) == 1
    bodies = fake_twilio.sent_bodies(CITIZEN)
    assert len(bodies) == 2 and bodies[0].startswith("Bonjour ! La Région")  # notice, consent
    assert len(await rows(app_relais, OutboxMessage)) == 2


async def test_fifty_concurrent_copies_are_stored_and_answered_once(web, app_relais,
                                                                    fake_twilio):
    params = sms("Bonjour")
    responses = await asyncio.gather(*(post_sms(web, params) for _ in range(50)))
    assert [r.status for r in responses] == [200] * 50
    assert all([is_empty_twiml(await r.text()) for r in responses])
    await settle(app_relais)
    assert len(await rows(app_relais, InboundMessage)) == 1
    assert len(await rows(app_relais, Participant)) == 1
    assert len(fake_twilio.sent_bodies(CITIZEN)) == 2


async def test_the_same_text_under_two_message_sids_is_two_messages(web, app_relais):
    await say(web, app_relais, "Bonjour", "Bonjour")
    stored = await rows(app_relais, InboundMessage)
    assert [m.status for m in stored] == ["processed", "processed"]
    assert len({m.provider_id for m in stored}) == 2


# -- French SMS hygiene

OPT_OUTS = ["STOP", "stop", " Stop ", "STOP.", "ARRET", "ARRÊT", "arrêt", "Arrêt", "STOP SMS",
            "STOPALL", "Désabonner", "UNSUBSCRIBE"]


@pytest.mark.parametrize("body", OPT_OUTS)
async def test_opting_out_stops_every_message(web, app_relais, fake_twilio, body):
    await say(web, app_relais, "Bonjour")
    sent = len(fake_twilio.sent_bodies(CITIZEN))
    await say(web, app_relais, body)
    assert (await the_participant(app_relais)).stopped_at is not None
    confirmation = fake_twilio.sent_bodies(CITIZEN)[sent:]
    assert len(confirmation) == 1 and "START" in confirmation[0]
    calls = len(fake_twilio.message_calls())
    await say(web, app_relais, "Bonjour", body, "oui", "80000")
    assert len(fake_twilio.message_calls()) == calls  # nothing even tried
    assert await rows(app_relais, Answer) == []


async def test_stop_as_the_very_first_sms(web, app_relais, fake_twilio):
    assert (await post_sms(web, twilio_params("inbound_stop"))).status == 200
    await settle(app_relais)
    assert (await the_participant(app_relais)).stopped_at is not None
    (confirmation,) = fake_twilio.sent_bodies(CITIZEN)
    assert "START" in confirmation
    await say(web, app_relais, "Bonjour")
    assert len(fake_twilio.message_calls()) == 1


async def test_twilio_opt_out_type_is_trusted(web, app_relais, fake_twilio):
    await say(web, app_relais, "Bonjour")
    sent = len(fake_twilio.sent_bodies(CITIZEN))
    await say(web, app_relais, "Arrêtez", OptOutType="STOP")
    assert (await the_participant(app_relais)).stopped_at is not None
    # Twilio's Advanced Opt-Out confirmed it already: a second confirmation would be refused.
    assert len(fake_twilio.sent_bodies(CITIZEN)) == sent


async def reach_the_open_question(web, relais) -> None:
    """Goes through the mobility consultation up to its first free-text question."""
    await say(web, relais, "Bonjour", "oui", "80 000", "3", "le train, le vélo", "2",
              "Moins de retards")


@pytest.mark.parametrize(("body", "extra"), [
    ("START", {}), ("start", {}), ("UNSTOP", {}), ("Reprendre", {}),
    ("Je veux revenir", {"OptOutType": "START"}),
])
async def test_start_after_stop_asks_the_question_again(web, app_relais, fake_twilio, body,
                                                        extra):
    await say(web, app_relais, "Bonjour", "oui", "STOP")
    assert (await the_participant(app_relais)).stopped_at is not None
    await say(web, app_relais, body, **extra)
    assert (await the_participant(app_relais)).stopped_at is None
    assert fake_twilio.sent_bodies(CITIZEN)[-2:] == [
        wording.RESTARTED_AFTER_STOP, "Quel est le code postal de votre commune ?"]
    await say(web, app_relais, "80000")
    assert [(a.question_id, a.value) for a in await rows(app_relais, Answer)] == [
        ("territoire", "80")]


@pytest.mark.parametrize(("body", "extra"), [
    ("AIDE", {}), ("aide", {}), ("Aide !", {}), ("HELP", {}), ("INFO", {}),
    ("Aidez-moi svp", {"OptOutType": "HELP"}),
])
async def test_help_gets_the_help_text_and_is_not_an_answer(web, app_relais, fake_twilio, body,
                                                            extra):
    await say(web, app_relais, "Bonjour", "oui")
    sent = len(fake_twilio.sent_bodies(CITIZEN))
    await say(web, app_relais, body, **extra)
    help_text, question = fake_twilio.sent_bodies(CITIZEN)[sent:]  # the help, the question
    assert help_text.startswith(gsm7.normalise(wording.HELP))
    assert help_text.endswith("Vos droits : https://relais.example.org/confidentialite")
    assert question == "Quel est le code postal de votre commune ?"
    assert await rows(app_relais, Answer) == []
    assert (await the_participant(app_relais)).stopped_at is None


async def test_start_after_a_first_message_stop_brings_the_person_back(web, app_relais,
                                                                       fake_twilio):
    await say(web, app_relais, "STOP", "Bonjour")
    assert len(fake_twilio.message_calls()) == 1  # the confirmation, nothing for "Bonjour"
    await say(web, app_relais, "START")
    assert (await the_participant(app_relais)).stopped_at is None
    bodies = fake_twilio.sent_bodies(CITIZEN)
    assert len(bodies) == 3 and bodies[1].startswith("Bonjour ! La Région")
    assert bodies[2].startswith("Réponses gardées")


# -- content

async def test_an_mms_gets_a_polite_request_for_text_and_is_never_fetched(web, app_relais,
                                                                          fake_twilio):
    await say(web, app_relais, "Bonjour", "oui")
    mms = twilio_params("inbound_mms")
    for n in range(int(mms["NumMedia"])):  # media the fake would serve, were it asked
        mms[f"MediaUrl{n}"] = fake_twilio.base_url + urlsplit(mms[f"MediaUrl{n}"]).path
    mms.update(From=CITIZEN, Body="")  # a photo alone
    response = await post_sms(web, mms)
    assert response.status == 200
    await settle(app_relais)
    (stored,) = await rows(app_relais, InboundMessage,
                           InboundMessage.provider_id == mms["MessageSid"])
    assert (stored.text, stored.payload) == ("", {"media": "mms"})
    assert fake_twilio.sent_bodies(CITIZEN)[-1] == gsm7.normalise(wording.MEDIA)
    assert [c.method for c in fake_twilio.calls if c.method != "messages.create"] == []
    assert await rows(app_relais, Answer) == []


async def test_an_mms_with_a_caption_as_first_message_starts_the_consultation(
        web, app_relais, fake_twilio):
    mms = twilio_params("inbound_mms")
    assert (await post_sms(web, mms)).status == 200
    await settle(app_relais)
    (stored,) = await rows(app_relais, InboundMessage)
    # Processed like any text (then its words are not kept: answers hold the one copy).
    assert (stored.status, stored.text, stored.payload) == ("processed", "", {"media": "mms"})
    assert fake_twilio.sent_bodies(mms["From"])[0].startswith("Bonjour ! La Région")
    assert [c.method for c in fake_twilio.calls if c.method != "messages.create"] == []


async def test_an_empty_sms_is_stored_but_never_an_answer(web, app_relais, fake_twilio):
    empty = twilio_params("inbound_empty_body")
    assert (await post_sms(web, empty)).status == 200
    await settle(app_relais)
    assert [m.text for m in await rows(app_relais, InboundMessage)] == [""]
    assert fake_twilio.sent_bodies(CITIZEN)[0].startswith("Bonjour ! La Région")
    await say(web, app_relais, "oui", "", "   ")
    assert await rows(app_relais, Answer) == []
    assert "code postal" in fake_twilio.sent_bodies(CITIZEN)[-1]  # asked again, politely


async def test_a_1600_character_sms_with_accents_is_stored_byte_exact(web, app_relais):
    form = twilio_params("inbound_1600_chars")
    assert len(form["Body"]) == 1600 and "é" in form["Body"] and "’" in form["Body"]
    assert (await post_sms(web, form)).status == 200
    (stored,) = await rows(app_relais, InboundMessage)
    assert stored.text.encode() == form["Body"].encode()
    await settle(app_relais)


async def test_a_citizen_s_curly_apostrophe_comes_back_straight(web, app_relais, fake_twilio):
    await reach_the_open_question(web, app_relais)
    await say(web, app_relais, "L’arrêt de bus est trop loin", "MES DONNEES")
    summary = fake_twilio.sent_bodies(CITIZEN)[-2]
    assert "L'arret de bus est trop loin" in summary and "’" not in summary
    stored = (await rows(app_relais, Answer, Answer.question_id == "probleme"))[0]
    assert stored.raw_text == "L’arrêt de bus est trop loin"  # kept as written
    assert all(gsm7.is_gsm7(body) for body in fake_twilio.sent_bodies(CITIZEN))


async def test_my_data_by_sms_says_what_it_cut_and_links_to_the_whole(web, app_relais,
                                                                       fake_twilio):
    long_answer = ("Le bus de 7 h 10 ne passe plus par le village depuis la rentrée, "
                   "et le suivant arrive trop tard pour le lycée de Doullens.")
    await reach_the_open_question(web, app_relais)
    await say(web, app_relais, long_answer, "MES DONNEES")
    summary = fake_twilio.sent_bodies(CITIZEN)[-2]
    lines = summary.split("\n")
    assert lines[:3] == ["Vos réponses enregistrées :", "Mobilités du quotidien",
                         "- Code postal : 80 000"]
    assert "- Vos déplacements : Le train (TER), Le vélo" in lines
    assert next(line for line in lines if line.startswith("- Plus gros")).endswith("...")  # …
    link = re.search(rf"Tout lire pendant 24 h : {PUBLIC_URL}(/mes-donnees/\S+)", summary)
    assert link is not None, summary
    page = await web.get(link.group(1))
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    html = unescape(await page.text())
    assert long_answer in html and "Moins de retards" in html
    assert "noindex" in page.headers["X-Robots-Tag"]
    # One character changed, another token: the page says the link is not valid, and no more.
    token = link.group(1).rsplit("/", 1)[1]
    # Not the last character: its lowest Base64 bits are padding, so A for B there can decode
    # to the same signature (a token ending in B passed as forged about once in 16 runs).
    forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    refused = await web.get(f"/mes-donnees/{forged}")
    assert refused.status == 404 and long_answer not in unescape(await refused.text())
    # After SUPPRIMER the same link shows nothing.
    await say(web, app_relais, "SUPPRIMER", "OUI")
    assert long_answer not in unescape(await (await web.get(link.group(1))).text())


@pytest.mark.parametrize("keyword", ["MOBILITE", "JEUNESSE", "DIAGNOSTIC"])
async def test_every_consultation_opens_in_at_most_two_gsm7_segments(web, app_relais,
                                                                     fake_twilio, keyword):
    await say(web, app_relais, keyword, "oui")
    bodies = fake_twilio.sent_bodies(CITIZEN)
    assert len(bodies) == 3  # the notice, the consent question, the first question
    for body in bodies:
        counted = gsm7.segments(body)
        assert counted.encoding == "GSM-7" and counted.count <= 2, body
        assert twilio_api.sms_segments(body) == counted.count


# -- invites and keywords

@pytest.fixture
async def invite(app_relais):
    async with app_relais.db.transaction() as tx:
        association = await invites.add_association(tx, "Les Amis du Rail", "80",
                                                    app_relais.clock())
        await invites.create_invite(tx, association.id, "jeunesse", "K7M2QX",
                                    app_relais.clock())
    return association


@pytest.mark.parametrize("body", ["K7M2QX", "k7m2qx", " K7m2Qx ", "K7M2QX bonjour !"])
async def test_an_invite_code_as_first_word_attributes_and_starts_its_consultation(
        web, app_relais, fake_twilio, invite, body):
    await say(web, app_relais, body)
    participant = await the_participant(app_relais)
    assert (participant.invite_code, participant.association_id) == ("K7M2QX", invite.id)
    welcome = fake_twilio.sent_bodies(CITIZEN)[0]
    assert welcome.startswith("Bonjour ! Consultation Jeunesse")
    assert [s.consultation_id for s in await rows(app_relais, ConsultationSession)] == [
        "jeunesse"]


async def test_the_captured_invite_sms(web, app_relais, fake_twilio, invite):
    form = twilio_params("inbound_keyword")
    assert (await post_sms(web, form)).status == 200
    await settle(app_relais)
    assert (await the_participant(app_relais)).association_id == invite.id
    assert "Jeunesse" in fake_twilio.sent_bodies(form["From"])[0]


@pytest.mark.parametrize("body", ["ZZZZZZ", "K7M2QY", "k7m2qxx", "K7M2 QX"])
async def test_an_unknown_code_is_just_a_first_message(web, app_relais, fake_twilio, invite,
                                                       body):
    await say(web, app_relais, body)
    participant = await the_participant(app_relais)
    assert (participant.invite_code, participant.association_id) == (None, None)
    assert [s.consultation_id for s in await rows(app_relais, ConsultationSession)] == [
        "mobilite"]
    bodies = fake_twilio.sent_bodies(CITIZEN)
    assert bodies[0].startswith("Bonjour ! La Région Hauts-de-France veut votre avis")
    everything = " ".join(bodies).upper()
    assert body.upper() not in everything and "K7M2QX" not in everything
    assert "AMIS DU RAIL" not in everything
    assert "INVALIDE" not in everything and "INCONNU" not in everything


@pytest.mark.parametrize(("body", "welcome"), [
    ("JEUNESSE", "Bonjour ! Consultation Jeunesse"),
    ("jeunesse", "Bonjour ! Consultation Jeunesse"),
    ("Diagnostic", "Bonjour ! Avec les associations, la Région Hauts-de-France fait"),
    ("MOBILITE", "Bonjour ! La Région Hauts-de-France veut votre avis"),
])
async def test_a_consultation_keyword_starts_that_consultation(web, app_relais, fake_twilio,
                                                               body, welcome):
    await say(web, app_relais, body)
    assert fake_twilio.sent_bodies(CITIZEN)[0].startswith(welcome)
    assert (await the_participant(app_relais)).association_id is None
    (session,) = await rows(app_relais, ConsultationSession)
    assert session.consultation_id == fold_words(body).replace(" ", "")


# -- delivery

async def outbox_of(relais) -> list[OutboxMessage]:
    async with relais.db.read() as tx:
        return list(await tx.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def eventually(check, seconds: float = 3.0):
    """Polls an async check until it returns something true."""
    async with asyncio.timeout(seconds):
        while True:
            if found := await check():
                return found
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("how", ["answered 21610 once", "number unsubscribed at Twilio"])
async def test_an_unsubscribed_number_is_stopped_and_never_retried(web, app_relais, fake_twilio,
                                                                   how):
    if how == "answered 21610 once":
        fake_twilio.script("messages", twilio_api.unsubscribed())
    else:
        fake_twilio.unsubscribed.add(CITIZEN)
    await say(web, app_relais, "Bonjour")
    assert (await the_participant(app_relais)).stopped_at is not None
    welcome, consent = await outbox_of(app_relais)
    assert (welcome.status, welcome.attempts) == ("failed", 1) and "21610" in welcome.error
    assert consent.status == "cancelled"
    await say(web, app_relais, "oui", "80000")
    assert len(fake_twilio.message_calls()) == 1
    assert fake_twilio.sent_bodies() == []


async def test_an_invalid_number_fails_for_good(web, app_relais, fake_twilio):
    fake_twilio.script("messages", twilio_api.invalid_to(CITIZEN))
    await say(web, app_relais, "Bonjour")
    welcome, consent = await outbox_of(app_relais)
    assert (welcome.status, welcome.attempts) == ("failed", 1) and "21211" in welcome.error
    assert consent.status == "sent"  # one bad send does not stop the conversation
    # Both ended for good: nothing is left to retry, so nothing more will be sent.
    assert [(m.status, m.not_before) for m in await outbox_of(app_relais)] == [
        ("failed", None), ("sent", None)]
    assert len(fake_twilio.message_calls()) == 2
    assert (await the_participant(app_relais)).stopped_at is None


async def retried_later(relais, fake_twilio, code: str, before: datetime) -> None:
    """Checks the first reply, tried after `before`, was put back for later (at least the
    shortest backoff of a first retry: half the base, 0.25 s with a base of 0.5 s), then
    delivered once, in order."""
    async def put_back():
        queued = await outbox_of(relais)
        # The consent, claimed with the notice, is given back once the notice is put back.
        return queued if len(queued) == 2 and queued[0].attempts == 1 and \
            queued[1].status == "pending" else None

    welcome, consent = await eventually(put_back)
    assert welcome.status == "pending" and code in welcome.error
    # Against the time before the try, not the time of reading: the retry may already be due.
    assert welcome.not_before >= before + timedelta(seconds=0.25)
    assert consent.attempts == 0  # it waits behind the notice, untried

    async def delivered():
        return len(fake_twilio.sent_bodies(CITIZEN)) == 2

    await eventually(delivered, seconds=5)
    await settle(relais)
    bodies = fake_twilio.sent_bodies(CITIZEN)
    assert bodies[0].startswith("Bonjour ! La Région") and bodies[1].startswith("Réponses gardées")
    assert len(fake_twilio.message_calls()) == 3
    assert [m.status for m in await outbox_of(relais)] == ["sent", "sent"]


@pytest.mark.parametrize(("outcome", "code"), [
    (twilio_api.rate_limited(), "20429"),
    (twilio_api.server_error(500), "500"),
    (twilio_api.server_error(503), "503"),
], ids=["429 / 20429", "500", "503"])
async def test_transient_errors_are_retried_later(web, app_relais, fake_twilio, monkeypatch,
                                                 outcome, code):
    monkeypatch.setattr(delivery, "BACKOFF_BASE_SECONDS", 0.5)  # retried within a second
    fake_twilio.script("messages", outcome)
    before = datetime.now(UTC)
    assert (await post_sms(web, sms("Bonjour"))).status == 200
    await retried_later(app_relais, fake_twilio, code, before)


async def test_a_hung_api_call_times_out_and_is_retried(aiohttp_client, app_relais, fake_twilio,
                                                        monkeypatch):
    monkeypatch.setattr(twilio_sms, "SEND_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(delivery, "BACKOFF_BASE_SECONDS", 0.5)
    web = await aiohttp_client(create_web_app(app_relais))
    fake_twilio.script("messages", twilio_api.hang(5.0))
    before = datetime.now(UTC)
    assert (await post_sms(web, sms("Bonjour"))).status == 200
    await retried_later(app_relais, fake_twilio, "Timeout", before)


# -- status callbacks

def status_form(sid: str, status: str, error_code: str | None = None,
                fixture: str = "status_delivered") -> dict[str, str]:
    form = {**twilio_params(fixture), "MessageSid": sid, "SmsSid": sid,
            "MessageStatus": status, "SmsStatus": status}
    form.pop("ErrorCode", None)
    if error_code:
        form["ErrorCode"] = error_code
    return form


async def post_status(web, form, **kwargs):
    return await post_sms(web, form, path=STATUS_PATH, **kwargs)


@pytest.fixture
async def first_reply(web, app_relais) -> OutboxMessage:
    """The first SMS Relais sent to the citizen (the notice), with its MessageSid."""
    await say(web, app_relais, "Bonjour")
    first = (await outbox_of(app_relais))[0]
    assert first.status == "sent" and first.provider_id.startswith("SM")
    return first


@pytest.mark.parametrize(("statuses", "final"), [
    (["sent"], "sent"),
    (["sent", "delivered"], "delivered"),
    (["delivered", "sent"], "delivered"),
    (["delivered", "delivered"], "delivered"),
    (["queued", "sent", "sent", "delivered", "sending"], "delivered"),
    (["sent", "undelivered", "delivered"], "undelivered"),
])
async def test_delivery_status_only_moves_forward(web, app_relais, first_reply, statuses, final):
    for status in statuses:
        response = await post_status(web, status_form(first_reply.provider_id, status))
        assert response.status == 200 and is_empty_twiml(await response.text())
    first, other = await outbox_of(app_relais)
    assert first.delivery_status == final
    assert other.delivery_status is None


async def test_an_undelivered_status_keeps_its_error_code(web, app_relais, fake_twilio,
                                                          first_reply):
    form = {**twilio_params("status_undelivered_30003"), "MessageSid": first_reply.provider_id}
    assert (await post_status(web, form)).status == 200
    first = (await outbox_of(app_relais))[0]
    assert (first.delivery_status, first.delivery_error) == ("undelivered", "30003")
    assert (await the_participant(app_relais)).stopped_at is None
    await settle(app_relais)
    # No automatic resend: nothing is put back in the outbox for it.
    assert [m.status for m in await outbox_of(app_relais)] == ["sent", "sent"]
    assert len(fake_twilio.message_calls()) == 2


async def test_a_21610_status_stops_the_participant(web, app_relais, fake_twilio, first_reply):
    form = {**twilio_params("status_failed_21610"), "MessageSid": first_reply.provider_id}
    assert (await post_status(web, form)).status == 200
    assert (await the_participant(app_relais)).stopped_at is not None
    first = (await outbox_of(app_relais))[0]
    assert (first.delivery_status, first.delivery_error) == ("failed", "21610")
    await say(web, app_relais, "oui")
    assert len(fake_twilio.message_calls()) == 2


@pytest.mark.parametrize("case", ["forged", "unknown MessageSid"])
async def test_forged_or_unknown_status_callbacks_change_nothing(web, app_relais, first_reply,
                                                                 case):
    before = [(m.delivery_status, m.delivery_error) for m in await outbox_of(app_relais)]
    counts = await table_counts(app_relais)
    if case == "forged":
        form = status_form(first_reply.provider_id, "failed", "21610", "status_failed_21610")
        response = await post_status(web, form, headers={
            "X-Twilio-Signature": signature(STATUS_PATH, form, token=OTHER_TOKEN)})
        assert response.status == 403
    else:
        form = status_form("SM" + "0" * 32, "failed", "21610", "status_failed_21610")
        response = await post_status(web, form)
        assert response.status == 200 and is_empty_twiml(await response.text())
    assert [(m.delivery_status, m.delivery_error) for m in await outbox_of(app_relais)] == before
    assert await table_counts(app_relais) == counts
    assert (await the_participant(app_relais)).stopped_at is None


@pytest.mark.parametrize("status", ["scheduled", "partially_delivered", "exploded"])
async def test_a_status_relais_does_not_know_is_accepted_and_ignored(web, app_relais,
                                                                     first_reply, status):
    response = await post_status(web, status_form(first_reply.provider_id, status))
    assert response.status == 200 and is_empty_twiml(await response.text())
    assert (await outbox_of(app_relais))[0].delivery_status is None


# -- database down

async def database_down(message):
    raise OperationalError("INSERT", {}, ConnectionRefusedError())


def spooled(directory) -> list[dict]:
    """Every message waiting in the spool, whatever file it is in."""
    while True:  # the background drainer may rename a file while it is listed
        try:
            paths = sorted(directory.iterdir()) if directory.exists() else []
            return [json.loads(line) for path in paths
                    for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            continue


async def test_the_database_down_spools_the_sms_and_still_answers_200(
        web, app_relais, provider_settings, fake_twilio, monkeypatch):
    receive = app_relais.inbox.receive

    monkeypatch.setattr(app_relais.inbox, "receive", database_down)
    params = sms("Bonjour, la base est en panne ?")
    response = await post_sms(web, params)
    assert response.status == 200 and response.content_type == "text/xml"
    assert is_empty_twiml(await response.text())
    (waiting,) = spooled(provider_settings.spool_dir)
    assert (waiting["provider_id"], waiting["address"], waiting["text"]) == (
        params["MessageSid"], CITIZEN, params["Body"])
    assert await rows(app_relais, InboundMessage) == []

    monkeypatch.setattr(app_relais.inbox, "receive", receive)  # the database is back
    await app_relais.spool.drain(app_relais.inbox.receive)
    (stored,) = await rows(app_relais, InboundMessage)
    assert (stored.provider_id, stored.text) == (params["MessageSid"], params["Body"])
    assert spooled(provider_settings.spool_dir) == []
    assert not app_relais.spool.pending()
    assert await app_relais.spool.drain(app_relais.inbox.receive) == 0
    assert len(await rows(app_relais, InboundMessage)) == 1
    await settle(app_relais)
    assert fake_twilio.sent_bodies(CITIZEN)[0].startswith("Bonjour ! La Région")


async def test_a_redelivery_of_a_spooled_sms_is_stored_once(web, app_relais, monkeypatch):
    receive = app_relais.inbox.receive

    params = sms("Bonjour")
    monkeypatch.setattr(app_relais.inbox, "receive", database_down)
    assert (await post_sms(web, params)).status == 200
    monkeypatch.setattr(app_relais.inbox, "receive", receive)
    assert (await post_sms(web, params)).status == 200  # stored directly this time
    await app_relais.spool.drain(app_relais.inbox.receive)
    assert len(await rows(app_relais, InboundMessage)) == 1
    await settle(app_relais)


async def test_a_spool_file_another_drainer_finished_is_skipped(web, app_relais, monkeypatch):
    # Every drainer takes every claimed file (a crashed one's too), so a file can vanish
    # between the listing and the reading: the background drainer and an operator's drain.
    spool = app_relais.spool
    claim = spool._claim
    finished = spool.directory / "inbound.jsonl.1.draining"
    monkeypatch.setattr(spool, "_claim", lambda: [finished, *claim()])
    spool.append(IncomingMessage("sms", CITIZEN, "SM" + "5" * 32, "Bonjour",
                                 datetime.now(UTC)))
    await spool.drain(app_relais.inbox.receive)
    assert [m.provider_id for m in await rows(app_relais, InboundMessage)] == ["SM" + "5" * 32]
    assert spooled(spool.directory) == []
    await settle(app_relais)


async def test_neither_database_nor_spool_gets_503(web, app_relais, provider_settings,
                                                   monkeypatch):
    def full(message):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(app_relais.inbox, "receive", database_down)
    monkeypatch.setattr(app_relais.spool, "append", full)
    response = await post_sms(web, sms("Bonjour"))
    assert response.status == 503
    assert "error" in await response.json()
    assert spooled(provider_settings.spool_dir) == []


# -- flood

class StillClock:
    """The processor's time, standing still unless the test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_flood_is_stored_but_answered_sparingly(web, app_relais, fake_twilio):
    clock = app_relais.processor.clock = StillClock()
    for n in range(30):
        response = await post_sms(web, sms(f"message numéro {n + 1}"))
        assert response.status == 200
    await settle(app_relais, seconds=30)
    inbound = sorted(await rows(app_relais, InboundMessage), key=lambda m: m.id)
    assert len(inbound) == 30 and {m.status for m in inbound} == {"processed"}
    # 20 a minute are answered; past them, nothing within 5 s of the last reply.
    answered = {reply.inbound_id for reply in await outbox_of(app_relais)}
    assert answered == {m.id for m in inbound[:20]}
    sent = len(fake_twilio.sent_bodies(CITIZEN))
    assert sent == len(await outbox_of(app_relais))

    async def one_more(seconds_later: float) -> bool:
        clock.now += timedelta(seconds=seconds_later)
        before = {reply.inbound_id for reply in await outbox_of(app_relais)}
        assert (await post_sms(web, sms("encore un"))).status == 200
        await settle(app_relais)
        return {reply.inbound_id for reply in await outbox_of(app_relais)} != before

    assert not await one_more(4.9)  # 4.9 s after the last reply: still held back
    assert await one_more(0.1)  # 5 s after: answered
    assert len(fake_twilio.sent_bodies(CITIZEN)) > sent


# -- rate

@pytest.fixture
async def slow_sms(aiohttp_client, provider_settings, db):
    """Relais sending at most 4 SMS a second (RELAIS_SMS_PER_SECOND=4)."""
    system = build(replace(provider_settings, sms_per_second=4.0))
    await system.prepare()
    yield system, await aiohttp_client(create_web_app(system))
    await system.stop()


def most_within_a_second(times: list[float]) -> int:
    """Returns the largest number of times inside any window [t, t + 1 s)."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


async def test_sms_go_out_no_faster_than_relais_sms_per_second(slow_sms, fake_twilio):
    system, client = slow_sms
    senders = [f"+3363998{n:04d}" for n in range(6)]
    for sender in senders:  # each newcomer gets the notice and the consent question
        assert (await post_sms(client, sms("Bonjour", sender=sender))).status == 200
    calls = await fake_twilio.wait_for_calls(12, within=30)
    times = [call.time for call in calls]
    # 4 a second: 12 SMS take at least 11 spacings of 0.25 s. The margins (one SMS more in a
    # second, a fifth of the span less) absorb network jitter; without the limit all 12 go
    # out within a fraction of a second.
    assert most_within_a_second(times) <= 5, sorted(t - min(times) for t in times)
    assert max(times) - min(times) >= 0.8 * 11 / 4
    await settle(system)
    assert {call.params["To"] for call in calls} == set(senders)
