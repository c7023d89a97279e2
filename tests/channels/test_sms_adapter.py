"""The Twilio adapter alone: a signed form in, a message, a status, a reason to ignore it or a
refusal out; replies out to the fake Twilio API; no database, no application."""

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request
from multidict import MultiDict

from bot import gsm7
from bot.channels import twilio_sms
from bot.channels.base import Ignored, IncomingMessage, OutgoingMessage, WebhookError
from bot.channels.twilio_sms import StatusReport, TwilioSms
from tests.channels.conftest import PUBLIC_URL, SMS_NUMBER, signature
from tests.fakes import twilio_api
from tests.fakes.fixtures import twilio_params

SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CITIZEN = "+33639980012"  # the sender of the captured text
SID = "SM3f9a1c07e2b84d6f90a5c1e7d2b4f816"  # the MessageSid of the captured text
OTHER_TOKEN = "0123456789abcdef0123456789abcdef"
# Where the request reached Relais: the test server's address, not the public URL Twilio signs.
REACHED = "http://127.0.0.1:8080"
FORGED = ("refused", 403, "signature Twilio absente ou invalide")
UNKNOWN_ACCOUNT = ("refused", 403, "compte Twilio inconnu")


def flip(sig: str, at: int = 5) -> str:
    """The signature with one Base64 character changed."""
    return sig[:at] + ("A" if sig[at] != "A" else "B") + sig[at + 1:]


def received(text: str = "Bonjour", payload: dict | None = None, address: str = CITIZEN,
             sid: str = SID) -> IncomingMessage:
    """What the adapter should hand over, written out in full."""
    return IncomingMessage(channel="sms", address=address, provider_id=sid, text=text,
                           received_at=NOW, payload=payload or {})


def request(path: str, params, sig: str | None, headers: dict[str, str]):
    """A real aiohttp request carrying the form, as the server hands it to a handler."""
    body = urlencode(list(params.items())).encode()
    loop = asyncio.get_running_loop()
    payload = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    payload.feed_data(body)
    payload.feed_eof()
    all_headers = {"Host": REACHED.removeprefix("http://"),
                   "Content-Type": "application/x-www-form-urlencoded",
                   "Content-Length": str(len(body)), **headers}
    if sig is not None:
        all_headers["X-Twilio-Signature"] = sig
    return make_mocked_request("POST", path, headers=all_headers, payload=payload)


async def verdict(read, *args):
    """What one read makes of a request; a refusal as ("refused", status, reason)."""
    try:
        return await read(request(*args))
    except WebhookError as error:
        return ("refused", error.status, error.reason)


@pytest.fixture
def adapter() -> TwilioSms:
    return TwilioSms(twilio_api.ACCOUNT_SID, twilio_api.AUTH_TOKEN, SMS_NUMBER, PUBLIC_URL,
                     "http://127.0.0.1:9", clock=lambda: NOW)


def signed(params, path: str = SMS_PATH, headers: dict | None = None):
    """A form signed the way Twilio signs it, for the public URL."""
    return params, signature(path, params), headers or {}


def text(**changes) -> dict[str, str]:
    """The captured inbound text with fields changed (None removes one)."""
    form = {**twilio_params("inbound_text"), **changes}
    return {k: v for k, v in form.items() if v is not None}


# (case, how the form is made and signed: params, signature, headers; what the adapter reads)
INBOUND = [
    # genuine
    ("signed for the public URL, sent to 127.0.0.1", lambda p: signed(p), received()),
    ("an unknown parameter Twilio added and signed",
     lambda p: signed({**p, "FutureParam": "1"}), received()),
    ("a repeated parameter, all values signed",
     lambda p: signed(MultiDict([*p.items(), ("FutureParam", "2"), ("FutureParam", "1")])),
     received()),
    ("signed with the :443 port",
     lambda p: (p, signature(SMS_PATH, p, base=PUBLIC_URL + ":443"), {}), received()),
    ("behind TLS termination (X-Forwarded-Proto: https)",
     lambda p: signed(p, headers={"X-Forwarded-Proto": "https"}), received()),
    ("a forwarded host that is ignored",
     lambda p: signed(p, headers={"X-Forwarded-Host": "evil.example"}), received()),
    # forged
    ("signature missing", lambda p: (p, None, {}), FORGED),
    ("signature empty", lambda p: (p, "", {}), FORGED),
    ("one Base64 character flipped", lambda p: (p, flip(signature(SMS_PATH, p)), {}), FORGED),
    ("signed with another auth token",
     lambda p: (p, signature(SMS_PATH, p, token=OTHER_TOKEN), {}), FORGED),
    ("Body altered after signing",
     lambda p: ({**p, "Body": "Bonjour !"}, signature(SMS_PATH, p), {}), FORGED),
    ("one extra unsigned parameter",
     lambda p: ({**p, "Extra": "1"}, signature(SMS_PATH, p), {}), FORGED),
    ("one parameter removed after signing",
     lambda p: ({k: v for k, v in p.items() if k != "NumSegments"}, signature(SMS_PATH, p), {}),
     FORGED),
    ("another AccountSid, correctly signed",
     lambda p: signed({**p, "AccountSid": "AC" + "0" * 32}), UNKNOWN_ACCOUNT),
    ("signed for the status path", lambda p: (p, signature(STATUS_PATH, p), {}), FORGED),
    ("signed for plain http",
     lambda p: (p, signature(SMS_PATH, p, base=PUBLIC_URL.replace("https", "http")),
                {"X-Forwarded-Proto": "http"}), FORGED),
    ("signed for the address it reached (Host header)",
     lambda p: (p, signature(SMS_PATH, p, base=REACHED), {}), FORGED),
    ("signed for evil.example, sent with X-Forwarded-Host",
     lambda p: (p, signature(SMS_PATH, p, base="https://evil.example"),
                {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}), FORGED),
    # incomplete, though signed
    ("MessageSid absent", lambda p: signed(text(MessageSid=None)),
     ("refused", 400, "champ MessageSid manquant")),
    ("MessageSid empty", lambda p: signed(text(MessageSid="")),
     ("refused", 400, "champ MessageSid manquant")),
    ("From absent", lambda p: signed(text(From=None)), ("refused", 400, "champ From manquant")),
    ("From empty", lambda p: signed(text(From="")), ("refused", 400, "champ From manquant")),
    # what is read
    ("no Body at all: an empty message", lambda p: signed(text(Body=None)), received("")),
    ("inbound_empty_body", lambda p: signed(twilio_params("inbound_empty_body")),
     received("", sid="SM6e0c3a9f15d24b8e8a7f2c0d4b6e1a95")),
    ("inbound_1600_chars, byte for byte", lambda p: signed(twilio_params("inbound_1600_chars")),
     received(twilio_params("inbound_1600_chars")["Body"], address="+33639980081",
              sid="SMa2c4e6f8b0d1e3f5a7c9b1d3e5f7a9c0")),
    ("inbound_arret_accent", lambda p: signed(twilio_params("inbound_arret_accent")),
     received("Arrêt", address="+33639980047", sid="SM0a6f2d8c41e94b7a95d3c8e1f0b2a764")),
    ("inbound_keyword", lambda p: signed(twilio_params("inbound_keyword")),
     received("K7M2QX", address="+33639980047", sid="SM8c2e5a9104f74b3d8e6a0c1f5b7d9e23")),
    # STOP typed by the citizen is the engine's to read; Twilio's own verdict is passed on.
    ("inbound_stop", lambda p: signed(twilio_params("inbound_stop")),
     received("STOP", sid="SMd41b7e93a05c4f2e8b16d7a9c3e0f548")),
    ("OptOutType STOP: Twilio confirmed it already",
     lambda p: signed(text(Body="Arrêtez", OptOutType="STOP")),
     received("Arrêtez", {"keyword": "STOP", "answered_by_provider": True})),
    ("OptOutType in lower case", lambda p: signed(text(Body="Arrêtez", OptOutType="stop")),
     received("Arrêtez", {"keyword": "STOP", "answered_by_provider": True})),
    ("OptOutType START", lambda p: signed(text(Body="Je reviens", OptOutType="START")),
     received("Je reviens", {"keyword": "START"})),
    ("OptOutType HELP", lambda p: signed(text(Body="Aidez-moi", OptOutType="HELP")),
     received("Aidez-moi", {"keyword": "AIDE"})),
    ("an OptOutType Relais does not know", lambda p: signed(text(OptOutType="MAYBE")),
     received()),
    ("inbound_mms: media, never fetched", lambda p: signed(twilio_params("inbound_mms")),
     received("Voilà le nid-de-poule devant chez moi", {"media": "mms"}, "+33639980063",
              "MM5b8e1d3f7a2c4e6b9d0f1a3c5e7b9d21")),
    ("NumMedia that is not a number", lambda p: signed(text(NumMedia="deux")), received()),
    ("a French number as a phone shows it", lambda p: signed(text(From="06 39 98 00 12")),
     received()),
    ("inbound_alphanumeric_from", lambda p: signed(twilio_params("inbound_alphanumeric_from")),
     Ignored("expéditeur qui n'est pas un numéro de téléphone")),
    *[(f"a sender that is not a phone number: {sender}",
       lambda p, sender=sender: signed(text(From=sender)),
       Ignored("expéditeur qui n'est pas un numéro de téléphone"))
      for sender in ("36179", "Relais-HDF", "+")],
]


@pytest.mark.parametrize(("make", "expected"), [pytest.param(m, e, id=n) for n, m, e in INBOUND])
async def test_each_inbound_form(adapter, make, expected):
    params, sig, headers = make(twilio_params("inbound_text"))
    assert await verdict(adapter.read_webhook, SMS_PATH, params, sig, headers) == expected


@pytest.mark.parametrize(("signed_for", "sent_to", "expected"), [
    ("?c=hdf25&lang=fr", "?c=hdf25&lang=fr", received()),
    ("?c=hdf25&next=%2Fa%7E", "?c=hdf25&next=%2Fa%7E", received()),
    ("?c=hdf25&lang=fr", "?lang=fr&c=hdf25", FORGED),  # a proxy re-ordering the query
    ("?c=hdf25&next=%2Fa%7E", "?c=hdf25&next=/a~", FORGED),  # …or decoding it
    ("?c=hdf25", "", FORGED),
    ("", "?c=hdf25", FORGED),
])
async def test_the_query_string_counts_byte_for_byte(adapter, signed_for, sent_to, expected):
    params = twilio_params("inbound_text")
    sig = signature(SMS_PATH + signed_for, params)
    assert await verdict(adapter.read_webhook, SMS_PATH + sent_to, params, sig, {}) == expected


def status(fixture: str, **changes) -> dict[str, str]:
    """A captured status callback with fields changed."""
    return {**twilio_params(fixture), **changes}


# (case, the signed status form, what the adapter reads)
STATUSES = [
    ("status_delivered", signed(status("status_delivered"), STATUS_PATH),
     StatusReport("SMe1f3a5c7b9d0e2f4a6c8b0d2e4f6a8c1", "delivered", None)),
    ("status_sent", signed(status("status_sent"), STATUS_PATH),
     StatusReport("SMe1f3a5c7b9d0e2f4a6c8b0d2e4f6a8c1", "sent", None)),
    ("status_undelivered_30003", signed(status("status_undelivered_30003"), STATUS_PATH),
     StatusReport("SM7a9c1e3b5d0f2e4a6c8b1d3f5e7a9c04", "undelivered", "30003")),
    ("status_failed_21610", signed(status("status_failed_21610"), STATUS_PATH),
     StatusReport("SM4c6e8a0b2d1f3e5a7c9b0d2f4e6a8c37", "failed", "21610")),
    ("in capitals", signed(status("status_sent", MessageStatus="SENT"), STATUS_PATH),
     StatusReport("SMe1f3a5c7b9d0e2f4a6c8b0d2e4f6a8c1", "sent", None)),
    # A status Twilio adds one day is passed on (and ignored by the outbox), not refused.
    *[(f"unknown status {name}",
       signed(status("status_sent", MessageStatus=name), STATUS_PATH),
       StatusReport("SMe1f3a5c7b9d0e2f4a6c8b0d2e4f6a8c1", name, None))
      for name in ("scheduled", "partially_delivered", "exploded")],
    ("a status longer than 20 characters is cut",
     signed(status("status_sent", MessageStatus="delivered_to_handset_x"), STATUS_PATH),
     StatusReport("SMe1f3a5c7b9d0e2f4a6c8b0d2e4f6a8c1", "delivered_to_handset", None)),
    ("an empty ErrorCode is none", signed(status("status_sent", ErrorCode=""), STATUS_PATH),
     StatusReport("SMe1f3a5c7b9d0e2f4a6c8b0d2e4f6a8c1", "sent", None)),
    ("MessageSid empty", signed(status("status_delivered", MessageSid=""), STATUS_PATH),
     ("refused", 400, "champ MessageSid manquant")),
    ("MessageStatus empty", signed(status("status_delivered", MessageStatus=""), STATUS_PATH),
     ("refused", 400, "champ MessageStatus manquant")),
    ("signed with another auth token",
     (status("status_failed_21610"),
      signature(STATUS_PATH, status("status_failed_21610"), token=OTHER_TOKEN), {}), FORGED),
    ("signed for the SMS path", signed(status("status_failed_21610"), SMS_PATH), FORGED),
    ("another AccountSid, correctly signed",
     signed(status("status_failed_21610", AccountSid="AC" + "0" * 32), STATUS_PATH),
     UNKNOWN_ACCOUNT),
]


@pytest.mark.parametrize(("form", "expected"), [pytest.param(f, e, id=n) for n, f, e in STATUSES])
async def test_each_status_callback(adapter, form, expected):
    params, sig, headers = form
    assert await verdict(adapter.read_status, STATUS_PATH, params, sig, headers) == expected


# Twilio's published vectors (twilio-python tests/unit/test_request_validator.py).
VECTOR = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
          "From": "+14158675309", "To": "+18005551212"}
REPEATED = MultiDict([("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                      ("Digits", "1234")])


@pytest.mark.parametrize(("public_url", "params", "sig", "valid"), [
    ("https://mycompany.com", VECTOR, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", True),
    ("https://mycompany.com", VECTOR, "kvajT1Ptam85bY51eRf/AJRuM3w=", True),
    ("https://mycompany.com:443", VECTOR, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", True),
    ("https://mycompany.com:443", VECTOR, "kvajT1Ptam85bY51eRf/AJRuM3w=", True),
    ("http://mycompany.com", VECTOR, "0ZXoZLH/DfblKGATFgpif+LLRf4=", True),
    ("https://mycompany.com", REPEATED, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", True),
    ("https://mycompany.com", VECTOR, flip("RSOYDt4T1cUTdK1PDd93/VVr8B8="), False),
    ("https://mycompany.com", {**VECTOR, "Digits": "1235"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
     False),
    ("https://mycompany.com:8443", VECTOR, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", False),
    ("http://mycompany.com", VECTOR, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", False),
    ("https://mycompany.com", VECTOR, "", False),
], ids=["plain", ":443", "configured :443, signed without", "configured :443, signed with",
        "http :80", "repeated keys", "flipped", "param changed", "other port", "other scheme",
        "empty"])
def test_signature_against_twilio_published_vectors(public_url, params, sig, valid):
    channel = TwilioSms("AC" + "0" * 32, "12345", "+33937001234", public_url,
                        "http://127.0.0.1:9")
    assert channel.signature_is_valid("/myapp.php?foo=1&bar=2", params, sig) is valid


@pytest.mark.parametrize(("raw", "number"), [
    ("+33639980012", "+33639980012"),
    ("06 39 98 00 12", "+33639980012"),  # as a French phone shows it
    ("0033639980012", "+33639980012"),
    ("+32 470 12 34 56", "+32470123456"),
    ("INFOSMS", None), ("", None),
])
def test_senders_are_normalised_to_e164_so_one_person_has_one_pseudonym(raw, number):
    assert twilio_sms.normalise_number(raw) == number


# -- outbound, to the fake Twilio API

async def sent_with(fake_twilio, message: OutgoingMessage, sender: str = SMS_NUMBER,
                    public_url: str = PUBLIC_URL) -> dict:
    """Sends one SMS through a started adapter; returns the parameters Twilio received."""
    channel = TwilioSms(twilio_api.ACCOUNT_SID, twilio_api.AUTH_TOKEN, sender, public_url,
                        fake_twilio.base_url)
    await channel.start()
    try:
        sid = await channel.send(CITIZEN, message)
    finally:
        await channel.close()
    (call,) = fake_twilio.message_calls()
    assert sid is not None and sid.startswith("SM")
    return call.params


# (what a reply says, what the phone receives)
TYPOGRAPHY = [
    ("L’été", "L'été"),
    ("« Oui » ou « non »", '"Oui" ou "non"'),
    ("Mobilité — vélo… œuvre", "Mobilité - vélo... oeuvre"),
    ("Côte d’Opale, forêt, Saint-Omer", "Cote d'Opale, foret, Saint-Omer"),
    ("Déjà répondu", "Déjà répondu"),
]


@pytest.mark.parametrize(("text", "received_text"), TYPOGRAPHY)
async def test_outgoing_text_is_rewritten_in_gsm7(fake_twilio, text, received_text):
    await sent_with(fake_twilio, OutgoingMessage(text))
    assert fake_twilio.sent_bodies(CITIZEN) == [received_text]
    assert gsm7.is_gsm7(received_text)


async def test_replies_come_from_the_number_and_ask_for_status_callbacks(fake_twilio):
    params = await sent_with(fake_twilio, OutgoingMessage("Bonjour"))
    assert params["From"] == SMS_NUMBER and "MessagingServiceSid" not in params
    assert params["StatusCallback"] == PUBLIC_URL + STATUS_PATH


async def test_without_https_no_status_callback_is_asked_for(fake_twilio):
    params = await sent_with(fake_twilio, OutgoingMessage("Bonjour"),
                             public_url="http://localhost:8080")
    assert "StatusCallback" not in params


async def test_a_messaging_service_sends_in_its_own_name(fake_twilio):
    params = await sent_with(fake_twilio, OutgoingMessage("Bonjour"), sender="MG" + "0" * 32)
    assert params["MessagingServiceSid"] == "MG" + "0" * 32 and "From" not in params
