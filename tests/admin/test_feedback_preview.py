"""The feedback preview shows the message as it will arrive: a Telegram bubble, and the SMS one
by one, cut where the operator cuts, after the SMS alphabet's replacements."""

import re
from html import unescape

from bot import gsm7
from tests.admin.people import add_person
from tests.admin.test_feedback import post


def test_a_long_message_is_cut_where_the_operator_cuts():
    text = "a" * 160
    assert gsm7.split(text) == [text]  # one SMS holds 160 GSM-7 characters
    assert gsm7.split("a" * 161) == ["a" * 153, "a" * 8]  # then 153 each
    assert gsm7.split("€" * 80) == ["€" * 80]  # "€" takes two septets: 160 in all
    assert gsm7.split("€" * 81) == ["€" * 76, "€" * 5]
    assert gsm7.split("ê" * 71) == ["ê" * 67, "ê" * 4]  # outside GSM-7: 70, then 67
    for text in ("Bonjour", "x" * 500, "Voilà « ce » qu’on a retenu. " * 12):
        assert "".join(gsm7.split(text)) == text
        assert len(gsm7.split(text)) == gsm7.segments(text).count


async def test_the_preview_shows_the_telegram_bubble_and_each_sms(as_role, db):
    await add_person(db, channel="sms", opt_in=True)
    client = await as_role("official")
    text = "La Région a retenu vos avis sur « le prix » des TER. " * 4
    body = await (await post(client, {"texte": text, "action": "apercu"})).text()
    bubble = re.search(r'<p class="bulle"><bdi>(.*?)</bdi></p>', body, re.S).group(1)
    assert unescape(bubble) == text.strip() or unescape(bubble) == text
    parts = [unescape(p) for p in re.findall(
        r'<li class="bulle"><span class="numero-sms">SMS \d</span><bdi>(.*?)</bdi></li>',
        body, re.S)]
    assert len(parts) == 2 and "Par SMS : 2 SMS, reçus l'un après l'autre" in body
    assert '"le prix"' in "".join(parts)  # guillemets become plain quotes by SMS
    assert re.search(r'<label for="confirmer"><input type="checkbox" id="confirmer"', body)

