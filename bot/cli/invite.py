"""`relais invite create|list`: an association's invitations (code, link, SMS, QR code)."""

import argparse
import sys
from pathlib import Path

from admin import qr
from bot import invites as cards
from bot.app import Relais
from bot.cli.association import association_named
from bot.cli.runner import with_relais
from bot.settings import Settings
from storage import invites
from storage.clock import utcnow


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais invite`."""
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    create = actions.add_parser("create", help="créer une invitation : code, lien, SMS, QR code")
    create.add_argument("--association", required=True, help="nom de l'association")
    create.add_argument("--consultation", required=True, help="identifiant (ex. mobilite)")
    create.add_argument("--out", type=Path, default=Path("invitations"),
                        help="dossier des QR codes (invitations/)")
    create.set_defaults(run=create_invite)
    listing = actions.add_parser("list", help="lister les invitations d'une association")
    listing.add_argument("--association", required=True, help="nom de l'association")
    listing.set_defaults(run=list_invites)


def create_invite(args: argparse.Namespace) -> int:
    """Draws an invite code, writes its QR code and prints the card to hand out."""
    settings = Settings.from_env()
    number = cards.receiving_number(settings.twilio_from)

    async def create(relais: Relais):
        username = await _bot_username(settings)  # before the transaction: no lock held
        async with relais.db.transaction() as tx:
            association = await association_named(tx, args.association)
            flow = relais.flows.get(args.consultation.strip())
            if flow is None:
                raise ValueError(f"consultation inconnue « {args.consultation.strip()} » "
                                 f"(connues : {', '.join(sorted(relais.flows))})")
            try:
                invite = await invites.draw_invite(tx, association.id, flow.id, cards.new_code,
                                                   utcnow())
            except invites.CodeTaken as error:
                raise ValueError(f"{error} : réessayez") from None
            card = cards.card(association.name, flow.title, invite.code, username, number)
            # Written before the commit: an invite whose QR code failed is not kept.
            drawn = qr.write(card.qr_content, args.out, f"invitation-{invite.code}") \
                if card.qr_content else ()
            return association.name, flow, invite.code, card, drawn, username

    name, flow, code, card, files, username = with_relais(create, settings)
    print(f"invitation {code} : {name}, consultation {flow.id} ({flow.title})")
    print(f"code : {code}")
    print(f"lien Telegram : {card.telegram_link or 'aucun (nom du bot inconnu)'}")
    print(f"SMS : {card.sms_instruction or 'aucun (pas de numéro)'}")
    print(f"QR code : {' '.join(map(str, files)) or 'aucun (ni lien Telegram ni numéro SMS)'}")
    print()
    print(card.text)
    if username is None and number is None:
        print("relais: attention : invitation inutilisable tant que TELEGRAM_BOT_USERNAME "
              "(ou TELEGRAM_BOT_TOKEN) ou TWILIO_FROM (un numéro de téléphone) n'est pas défini",
              file=sys.stderr)
    return 0


def list_invites(args: argparse.Namespace) -> int:
    """Prints an association's invites, revoked ones included."""

    async def find(relais: Relais):
        async with relais.db.read() as tx:
            association = await association_named(tx, args.association)
            return association.name, await invites.invites_of(tx, association.id)

    name, found = with_relais(find)
    print(f"{len(found)} invitation(s) de {name}")
    for invite in found:
        state = "révoquée" if invite.revoked_at else "active"
        print(f"{invite.code}  {invite.consultation_id:<12}  "
              f"{invite.created_at:%Y-%m-%d}  {state}")
    return 0


async def _bot_username(settings: Settings) -> str | None:
    """Returns the Telegram bot's username from the settings, or asks the Bot API for it."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    token = settings.telegram_bot_token
    if not token:
        return None
    try:
        return await cards.telegram_username(token, settings.telegram_api_base_url)
    except Exception as error:  # an invite works without its link: say so and go on
        # PTB repeats the token in some messages; it must not reach a terminal or a log.
        reason = f"{type(error).__name__}: {error}".replace(token, "…")
        print(f"relais: nom du bot Telegram inconnu, invitation sans lien ({reason})",
              file=sys.stderr)
        return None
