"""The log says what an operator needs, in plain or JSON lines, and nothing of the providers'
chatter: no headers, no addresses, no message texts."""

import io
import json
import logging

import pytest

from bot import logs
from bot.channels.base import OutgoingMessage
from bot.channels.twilio_sms import TwilioSms
from bot.settings import SettingsError, log_settings
from tests.channels.conftest import PUBLIC_URL, SMS_NUMBER
from tests.fakes import twilio_api

CITIZEN = "+33612345678"


@pytest.fixture
def captured():
    """Configures the log as `relais` does, into a buffer; restores the root logger after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logs.QUIET}
    buffer = io.StringIO()

    def configure(form: str) -> io.StringIO:
        logs.configure(form, "INFO", buffer)
        return buffer

    yield configure
    root.handlers[:], root.level = handlers, level
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


async def test_sending_an_sms_writes_no_line_of_the_twilio_client(captured, fake_twilio):
    buffer = captured("plain")
    sms = TwilioSms(twilio_api.ACCOUNT_SID, twilio_api.AUTH_TOKEN, SMS_NUMBER, PUBLIC_URL,
                    fake_twilio.base_url)
    await sms.start()
    try:
        for _ in range(3):
            await sms.send(CITIZEN, OutgoingMessage("Bonjour, voici la question suivante."))
    finally:
        await sms.close()
    assert len(fake_twilio.message_calls()) == 3
    written = buffer.getvalue()
    # The twilio client alone writes eleven INFO lines per message when left to itself.
    assert written == "", written
    assert CITIZEN not in written and "Bonjour" not in written


def test_json_lines_carry_the_fields_of_an_event(captured):
    buffer = captured("json")
    logging.getLogger("bot.processor").info("traitement : %s en %.0f s", 1200, 60.0,
                                            extra={"loop": "traitement", "handled": 1200})
    logging.getLogger("bot.delivery").warning("message %s abandonné", 42)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("INFO", "bot.processor", "traitement : 1200 en 60 s"),
        ("WARNING", "bot.delivery", "message 42 abandonné")]
    assert lines[0]["handled"] == 1200 and lines[0]["at"].endswith("+00:00")


def test_plain_lines_by_default():
    assert log_settings({}) == ("plain", "INFO")
    assert log_settings({"RELAIS_LOG_FORMAT": "JSON", "RELAIS_LOG_LEVEL": "debug"}) == \
        ("json", "DEBUG")
    for bad in ({"RELAIS_LOG_FORMAT": "xml"}, {"RELAIS_LOG_LEVEL": "bavard"}):
        with pytest.raises(SettingsError):
            log_settings(bad)
