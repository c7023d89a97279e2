"""`relais telegram set-webhook`: registering the webhook with Telegram."""

import argparse

from bot.channels.telegram import Telegram
from bot.cli.runner import run
from bot.settings import Settings, SettingsError


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais telegram`."""
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    set_webhook = actions.add_parser(
        "set-webhook", help="enregistrer le webhook auprès de Telegram (RELAIS_PUBLIC_URL)")
    set_webhook.set_defaults(run=set_webhook_command)


def set_webhook_command(_args: argparse.Namespace) -> int:
    """Registers RELAIS_PUBLIC_URL's webhook address with the Bot API."""
    settings = Settings.from_env()
    if not settings.telegram_bot_token:
        raise SettingsError("TELEGRAM_BOT_TOKEN n'est pas défini")
    if not settings.public_url or not settings.public_url.startswith("https://"):
        raise SettingsError("RELAIS_PUBLIC_URL doit être une adresse https:// publique "
                            "(sinon, relais serve interroge Telegram sans webhook)")
    url = f"{settings.public_url.rstrip('/')}/webhooks/telegram"
    telegram = Telegram(settings.telegram_bot_token, settings.telegram_webhook_secret,
                        settings.telegram_api_base_url, settings.telegram_bot_username)
    try:
        run(_set_webhook(telegram, url))
    except Exception as error:  # the token must never be printed: only the kind of failure
        raise RuntimeError(f"Telegram a refusé le webhook ({type(error).__name__})") from None
    print(f"webhook Telegram enregistré : {url}")
    return 0


async def _set_webhook(telegram: Telegram, url: str) -> None:
    await telegram.start()
    try:
        await telegram.set_webhook(url)
    finally:
        await telegram.close()
