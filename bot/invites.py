"""Invite codes and what an association hands out with them: link, SMS line, text, QR code."""

import re
import secrets

import phonenumbers
import telegram

from admin.config import InviteCard

# No 0/O, 1/I/L: a code read aloud or copied from paper cannot be mistyped into another one.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6  # 31^6 ≈ 890 million codes; a collision is rare and the caller draws again

_DIALLABLE = re.compile(r"\+?[\d\s.()-]+")
_SHORT_CODE = re.compile(r"\d{4,6}")


def new_code() -> str:
    """Draws a random code, usable as a Telegram start parameter and as an SMS's first word."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def deep_link(bot_username: str, code: str) -> str:
    """Returns the Telegram link that opens the bot and sends /start with the code."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


def receiving_number(sender: str | None) -> str | None:
    """Returns the number people can text (E.164 or short code); None for a service SID or name."""
    if not sender or not _DIALLABLE.fullmatch(sender.strip()):
        return None  # a messaging-service SID ("MG…") or an alphanumeric sender cannot receive
    digits = re.sub(r"[\s.()-]", "", sender)
    if _SHORT_CODE.fullmatch(digits):
        return digits
    try:
        number = phonenumbers.parse(digits, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sms_instruction(code: str, number: str) -> str:
    """Returns the line telling a person which code to text to which number."""
    return f"Envoyez {code} au {_readable(number)}"


def sms_qr_content(code: str, number: str) -> str:
    """Returns what a QR code holds to open the phone's SMS app with the code typed in."""
    return f"SMSTO:{number}:{code}"


def invitation_text(association_name: str, consultation_title: str, code: str,
                    bot_username: str | None, sms_number: str | None) -> str:
    """Returns a ready-to-send French invitation to answer a consultation."""
    parts = [
        "Bonjour,",
        f"La Région Hauts-de-France vous demande votre avis : « {consultation_title} ». "
        f"Cette invitation vous est transmise par {association_name.strip()}. "
        "Répondre prend environ 5 minutes.",
    ]
    if bot_username:
        parts.append(f"Sur Telegram, ouvrez ce lien :\n{deep_link(bot_username, code)}")
    if sms_number:
        parts.append("Par SMS, depuis n'importe quel téléphone :\n"
                     f"{sms_instruction(code, sms_number)}")
    elif not bot_username:
        # No channel yet: the text says so plainly rather than promise a number.
        parts.append(f"Code de l'invitation : {code}. Les moyens de répondre (SMS, Telegram) "
                     "ne sont pas encore ouverts : elle ne peut pas encore servir.")
    cost = ("C'est gratuit ; par SMS, seul le coût habituel de vos SMS s'applique, "
            "selon votre opérateur." if sms_number or not bot_username else "C'est gratuit.")
    parts.append(f"{cost} Pour arrêter à tout moment, envoyez STOP.")
    return "\n\n".join(parts)


def card(association_name: str, consultation_title: str, code: str,
         bot_username: str | None, sms_number: str | None) -> InviteCard:
    """Returns what an association hands out for an invite: link, SMS line, QR content, text."""
    link = deep_link(bot_username, code) if bot_username else None
    return InviteCard(
        telegram_link=link,
        sms_instruction=sms_instruction(code, sms_number) if sms_number else None,
        qr_content=link or (sms_qr_content(code, sms_number) if sms_number else None),
        text=invitation_text(association_name, consultation_title, code, bot_username,
                             sms_number))


async def telegram_username(token: str, base_url: str) -> str:
    """Asks the Bot API (getMe) for the bot's username; raises telegram.error.TelegramError."""
    async with telegram.Bot(token, base_url=base_url) as bot:  # entering asks getMe once
        return bot.username


def _readable(number: str) -> str:
    """Formats a number as people dial it: national for France, international otherwise."""
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number  # a short code stays as it is
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 33
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, style)
