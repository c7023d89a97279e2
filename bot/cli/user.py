"""`relais user add|disable|enable|password|reset-2fa|list`: accounts of the admin view."""

import argparse
import getpass
import sys

from admin import passwords
from bot.app import Relais
from bot.cli.association import association_named
from bot.cli.runner import with_relais
from storage import audit, invites, users
from storage.clock import utcnow


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais user`."""
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    add = actions.add_parser("add", help="créer un compte ; le mot de passe est demandé deux "
                                         "fois (ou lu sur une ligne de l'entrée standard)")
    add.add_argument("email", metavar="EMAIL", help="adresse e-mail, identifiant de connexion")
    add.add_argument("--role", required=True, choices=("official", "association", "admin"),
                     help="official : élus et agents ; association : ses invitations et sa "
                          "portée ; admin : les comptes et le journal")
    add.add_argument("--association", metavar="NOM",
                     help="nom de l'association (obligatoire pour le rôle association)")
    add.set_defaults(run=add_user)
    for name, run, text in (
            ("disable", disable_user, "désactiver un compte et fermer ses sessions"),
            ("enable", enable_user, "réactiver un compte désactivé"),
            ("password", change_password, "remplacer le mot de passe d'un compte et fermer "
                                          "toutes ses sessions"),
            ("reset-2fa", reset_second_factor, "désactiver la double authentification "
                                               "d'un compte (téléphone perdu) et fermer "
                                               "ses sessions")):
        action = actions.add_parser(name, help=text)
        action.add_argument("email", metavar="EMAIL", help="adresse e-mail du compte")
        action.set_defaults(run=run)
    listing = actions.add_parser("list", help="lister les comptes")
    listing.set_defaults(run=list_users)


def add_user(args: argparse.Namespace) -> int:
    """Creates an account with the password read from the operator."""
    email = users.normal_email(args.email)
    if (args.role == "association") != (args.association is not None):
        raise ValueError("--association NOM va avec le rôle association, et lui seul")

    async def add(relais: Relais) -> tuple[int, str | None]:
        async with relais.db.read() as tx:  # refuse before asking for a password
            association = (await association_named(tx, args.association)
                           if args.association else None)
            if await users.by_email(tx, email) is not None:
                raise ValueError(f"un compte existe déjà pour {email}")
        password_hash = await passwords.hash_in_thread(_read_password(email))
        async with relais.db.transaction() as tx:
            now = utcnow()
            try:
                user = await users.create(
                    tx, email=email, role=args.role, password_hash=password_hash, at=now,
                    association_id=association.id if association else None)
            except users.UserExists:
                raise ValueError(f"un compte existe déjà pour {email}") from None
            audit.record(tx, actor="cli", action="user.created", target=str(user.id),
                         details={"email": email, "role": args.role,
                                  "association_id": user.association_id}, at=now)
            return user.id, association.name if association else None

    number, association = with_relais(add)
    print(f"compte {number} créé : {email}, rôle {args.role}"
          + (f", association {association}" if association else ""))
    return 0


def disable_user(args: argparse.Namespace) -> int:
    """Disables an account, which closes its sessions."""
    return _set_disabled(args.email, disable=True)


def enable_user(args: argparse.Namespace) -> int:
    """Enables a disabled account again."""
    return _set_disabled(args.email, disable=False)


def _set_disabled(email: str, disable: bool) -> int:
    async def change(relais: Relais) -> bool:
        async with relais.db.transaction() as tx:
            account = await _account(tx, email)
            if (account.disabled_at is not None) == disable:
                return False
            now = utcnow()
            await users.set_disabled(tx, account.id, now if disable else None)
            audit.record(tx, actor="cli", action="user.disabled" if disable else "user.enabled",
                         target=str(account.id), details={"email": account.email}, at=now)
            return True

    changed = with_relais(change)
    state = "désactivé (sessions fermées)" if disable else "réactivé"
    print(f"compte {email.strip().lower()} {state if changed else 'déjà ' + state.split()[0]}")
    return 0


def change_password(args: argparse.Namespace) -> int:
    """Replaces an account's password, which closes its sessions."""

    async def change(relais: Relais) -> str:
        async with relais.db.read() as tx:
            email = (await _account(tx, args.email)).email
        password_hash = await passwords.hash_in_thread(_read_password(email))
        async with relais.db.transaction() as tx:
            account = await _account(tx, email)
            now = utcnow()
            await users.set_password(tx, account.id, password_hash)
            audit.record(tx, actor="cli", action="user.password_changed",
                         target=str(account.id), details={"email": email}, at=now)
        return email

    email = with_relais(change)
    print(f"mot de passe de {email} remplacé ; ses sessions sont fermées")
    return 0


def reset_second_factor(args: argparse.Namespace) -> int:
    """Turns an account's two-factor authentication off and closes its sessions."""

    async def reset(relais: Relais) -> tuple[str, bool]:
        async with relais.db.transaction() as tx:
            account = await _account(tx, args.email)
            had = account.totp_secret is not None
            now = utcnow()
            await users.set_totp(tx, account.id, None, None)
            await users.close_sessions(tx, account.id)
            audit.record(tx, actor="cli", action="user.2fa_reset", target=str(account.id),
                         details={"email": account.email, "was_enabled": had}, at=now)
            return account.email, had

    email, had = with_relais(reset)
    print(f"double authentification de {email} "
          f"{'désactivée' if had else 'déjà inactive'} ; ses sessions sont fermées")
    return 0


def list_users(_args: argparse.Namespace) -> int:
    """Prints every account: role, association, state, second factor."""

    async def find(relais: Relais):
        async with relais.db.read() as tx:
            names = {a.id: a.name for a in await invites.all_associations(tx)}
            return [(u, names.get(u.association_id)) for u in await users.all_users(tx)]

    found = with_relais(find)
    print(f"{len(found)} compte(s)")
    for user, association in found:
        state = f"désactivé le {user.disabled_at:%Y-%m-%d}" if user.disabled_at else "actif"
        factor = "2FA activée" if user.totp_secret else "sans 2FA"
        print(f"{user.email}  {user.role}"
              f"{'  ' + association if association else ''}  {state}  {factor}")
    return 0


async def _account(tx, email: str):
    """Returns the account of an e-mail; raises ValueError when there is none."""
    account = await users.by_email(tx, email)
    if account is None:
        raise ValueError(f"aucun compte pour « {email.strip()} » (voir « relais user list »)")
    return account


def _read_password(email: str) -> str:
    """Reads a new password, asked twice on a terminal or one line of standard input, and
    checks it against the rules."""
    try:
        if sys.stdin.isatty():
            password = getpass.getpass(f"Mot de passe de {email} (12 caractères au moins) : ")
            if getpass.getpass("Le même, une seconde fois : ") != password:
                raise ValueError("les deux saisies diffèrent : rien n'a été changé")
        else:
            line = sys.stdin.readline()
            if not line:
                raise ValueError("aucun mot de passe lu sur l'entrée standard")
            password = line.removesuffix("\n").removesuffix("\r")
    except EOFError:
        raise ValueError("saisie interrompue : rien n'a été changé") from None
    passwords.check(password, email)
    return password
