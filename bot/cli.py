"""The `relais` command line: serve, chat, check flows, migrate, associations, invites, purge,
admin accounts."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot import logs, plan_cli
from bot.engine.territory import REGION_DEPARTEMENTS
from bot.settings import Settings, SettingsError, log_settings

log = logging.getLogger("relais")


def main(argv: list[str] | None = None) -> int:
    """Runs one `relais` command; returns the process exit code."""
    # Every file Relais creates (database, journals, spool, models, exports, invitations) is
    # for its owner alone: they hold answers, addresses or the means to read them.
    os.umask(0o077)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        logs.configure(*log_settings())
    except SettingsError as error:
        print(f"relais: {error}", file=sys.stderr)
        return 1
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # every failure becomes one clear line, never a traceback
        print(f"relais: {_describe(error)}", file=sys.stderr)
        return 1


def _describe(error: Exception) -> str:
    from bot.consultations import InvalidConsultations

    if isinstance(error, InvalidConsultations):
        return "fichiers de consultation invalides :\n" + "\n".join(
            f"  {problem}" for problem in error.problems)
    if isinstance(error, OSError) and error.filename:  # a file, not a connection
        return f"fichier inaccessible : {error.filename} ({error.strerror})"
    if isinstance(error, OSError | ConnectionError):
        return f"connexion impossible ({error})"
    name = type(error).__name__
    # Only an imported bot.app raises NotMigrated; importing it here could fail in turn.
    app = sys.modules.get("bot.app")
    clear = (SettingsError, ValueError, RuntimeError, *((app.NotMigrated,) if app else ()))
    return str(error) if isinstance(error, clear) else f"{name}: {error}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relais", description="Relais : consultations citoyennes par chat et SMS.")
    commands = parser.add_subparsers(title="commandes", metavar="COMMANDE")

    serve = commands.add_parser("serve", help="démarrer le serveur (webhooks, simulateur)")
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port d'écoute (8080)")
    layout = serve.add_mutually_exclusive_group()
    layout.add_argument("--web-only", action="store_true",
                        help="seulement recevoir et enregistrer : le traitement et l'envoi sont "
                             "faits par des « relais worker » lancés à part")
    layout.add_argument("--single-process", action="store_true",
                        help="tout dans un seul processus (pour déboguer) ; par défaut, le "
                             "traitement et l'envoi tournent dans un processus enfant, "
                             "relancé s'il s'arrête")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker", help="traiter les messages reçus et envoyer les réponses (sans serveur web)")
    worker.add_argument("--parent", type=int, help=argparse.SUPPRESS)  # set by relais serve
    worker.set_defaults(run=_worker)

    chat = commands.add_parser("chat", help="répondre à une consultation dans le terminal")
    chat.add_argument("--consultation", default=None, help="identifiant (ex. mobilite)")
    chat.add_argument("--as", dest="name", default=None,
                      help="nom de la conversation, pour la reprendre plus tard")
    chat.set_defaults(run=_chat)

    flows = commands.add_parser("flows", help="consultations").add_subparsers(
        title="actions", metavar="ACTION")
    check = flows.add_parser("check", help="vérifier des fichiers de consultation")
    check.add_argument("files", nargs="*", type=Path,
                       help="fichiers YAML (par défaut : bot/flows/*.yaml)")
    check.set_defaults(run=_flows_check)

    db = commands.add_parser("db", help="base de données").add_subparsers(
        title="actions", metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="appliquer les migrations")
    upgrade.set_defaults(run=_db_upgrade)

    nlp = commands.add_parser("nlp", help="thèmes des réponses libres").add_subparsers(
        title="actions", metavar="ACTION")
    train = nlp.add_parser("train", help="entraîner un modèle de thèmes")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--consultation", help="depuis le fichier de consultation et les "
                                               "réponses étiquetées ; le modèle devient actif")
    source.add_argument("--data", type=Path, help="depuis un fichier JSON Lines "
                                                  "{\"text\", \"label\"} (avec --model)")
    source.add_argument("--missing", action="store_true",
                        help="chaque consultation à thèmes qui n'a pas encore de modèle actif "
                             "(depuis son fichier : ce que fait `make run` au premier lancement)")
    train.add_argument("--model", type=Path, help="dossier où écrire le modèle (avec --data)")
    train.set_defaults(run=_nlp_train)
    evaluate = nlp.add_parser("evaluate", help="mesurer un modèle sur un fichier étiqueté")
    evaluate.add_argument("--data", type=Path, required=True, help="fichier JSON Lines")
    evaluate.add_argument("--model", type=Path, required=True, help="dossier du modèle")
    evaluate.add_argument("--json", action="store_true", help="un objet JSON sur la sortie")
    evaluate.set_defaults(run=_nlp_evaluate)
    classify = nlp.add_parser("classify", help="(re)classer toutes les réponses d'une "
                                               "consultation avec son modèle actif")
    classify.add_argument("--consultation", required=True)
    classify.set_defaults(run=_nlp_classify)

    telegram = commands.add_parser("telegram", help="Telegram").add_subparsers(
        title="actions", metavar="ACTION")
    set_webhook = telegram.add_parser(
        "set-webhook", help="enregistrer le webhook auprès de Telegram (RELAIS_PUBLIC_URL)")
    set_webhook.set_defaults(run=_telegram_set_webhook)

    association = commands.add_parser("association", help="associations relais").add_subparsers(
        title="actions", metavar="ACTION")
    add = association.add_parser("add", help="enregistrer une association")
    add.add_argument("name", metavar="NOM", help="nom de l'association (unique)")
    add.add_argument("--territory", choices=sorted(REGION_DEPARTEMENTS), default=None,
                     help="département (02, 59, 60, 62 ou 80)")
    add.set_defaults(run=_association_add)

    invite = commands.add_parser("invite", help="invitations des associations").add_subparsers(
        title="actions", metavar="ACTION")
    create = invite.add_parser("create", help="créer une invitation : code, lien, SMS, QR code")
    create.add_argument("--association", required=True, help="nom de l'association")
    create.add_argument("--consultation", required=True, help="identifiant (ex. mobilite)")
    create.add_argument("--out", type=Path, default=Path("invitations"),
                        help="dossier des QR codes (invitations/)")
    create.set_defaults(run=_invite_create)
    listing = invite.add_parser("list", help="lister les invitations d'une association")
    listing.add_argument("--association", required=True, help="nom de l'association")
    listing.set_defaults(run=_invite_list)

    purge = commands.add_parser(
        "purge", help="effacer ce qui dépasse la durée de conservation des consultations")
    purge.add_argument("--dry-run", action="store_true",
                       help="compter ce qui serait effacé, sans rien effacer")
    purge.set_defaults(run=_purge)
    _user_commands(commands)
    _export_command(commands)
    plan_cli.add_commands(commands)
    return parser


def _telegram_set_webhook(_args: argparse.Namespace) -> int:
    from bot.channels.telegram import Telegram

    settings = Settings.from_env()
    if not settings.telegram_bot_token:
        raise SettingsError("TELEGRAM_BOT_TOKEN n'est pas défini")
    if not settings.public_url or not settings.public_url.startswith("https://"):
        raise SettingsError("RELAIS_PUBLIC_URL doit être une adresse https:// publique "
                            "(sinon, relais serve interroge Telegram sans webhook)")
    url = f"{settings.public_url.rstrip('/')}/webhooks/telegram"
    telegram = Telegram(settings.telegram_bot_token, settings.telegram_webhook_secret,
                        settings.telegram_api_base_url, settings.telegram_bot_username)

    async def run() -> None:
        await telegram.start()
        try:
            await telegram.set_webhook(url)
        finally:
            await telegram.close()

    try:
        asyncio.run(run())
    except Exception as error:  # the token must never be printed: only the kind of failure
        raise RuntimeError(f"Telegram a refusé le webhook ({type(error).__name__})") from None
    print(f"webhook Telegram enregistré : {url}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bot.supervisor import Supervisor

    settings = Settings.from_env()
    worker = None
    if not args.single_process and not args.web_only:
        # The work runs in a child process: a CPU-heavy batch never delays a webhook, and a
        # crash of either side leaves the other running. Launched first, so that it boots
        # while this process does; it waits for the migrations this one applies.
        worker = Supervisor([sys.executable, "-m", "bot", "worker", "--parent",
                             str(os.getpid())])
        worker.launch()
    try:
        return _serve_web(args, settings, worker)
    finally:
        if worker is not None and worker.running:  # the server failed to start
            worker.process.terminate()


def _serve_web(args: argparse.Namespace, settings: Settings, worker) -> int:
    from aiohttp import web

    from bot.app import SERVER_OPTIONS, build, create_web_app

    relais = build(settings)
    asyncio.run(_prepare(relais))
    app = create_web_app(relais, work=args.single_process)
    if worker is not None:
        async def watch_worker(_app) -> None:
            await worker.watch()

        async def stop_worker(_app) -> None:
            await worker.stop()

        app.on_startup.append(watch_worker)
        app.on_shutdown.append(stop_worker)
    base = f"http://{args.host}:{args.port}"
    if settings.simulator_enabled:
        log.info("Relais écoute sur %s ; simulateur : %s/simulateur", base, base)
    else:  # off in production unless RELAIS_SIMULATOR=1: no address to announce
        log.info("Relais écoute sur %s", base)
    # shutdown_timeout: on SIGTERM, requests in flight get this long to finish.
    web.run_app(app, host=args.host, port=args.port, shutdown_timeout=10, print=None,
                access_log=None, **SERVER_OPTIONS)
    return 0


def _worker(args: argparse.Namespace) -> int:
    import signal

    from bot.app import build

    relais = build(Settings.from_env())

    async def run() -> None:
        # Started by `relais serve`, which applies the migrations: wait for them, never race.
        await relais.prepare(migrate_sqlite=args.parent is None)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await relais.start(parent_pid=args.parent)
        log.info("worker démarré : traitement des messages et envoi des réponses")
        orphaned = asyncio.create_task(relais.heartbeat.parent_gone.wait())
        try:
            await asyncio.wait([asyncio.create_task(stop.wait()), orphaned],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            await relais.stop()

    asyncio.run(run())
    return 0


async def _prepare(relais) -> None:
    try:
        await relais.prepare()
    finally:
        await relais.db.close()  # the server opens its own connections in its own loop


def _chat(args: argparse.Namespace) -> int:
    from bot.chat import chat

    settings = Settings.from_env()
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(chat(settings, args.consultation or settings.default_consultation, args.name))
    return 0


def _flows_check(args: argparse.Namespace) -> int:
    from bot.consultations import FLOWS_DIR, check_files, default_paths

    settings = Settings.from_env()
    paths = args.files or default_paths(settings.flows_dir or FLOWS_DIR)
    results = check_files(paths, settings.privacy_url)
    problems = [problem for result in results for problem in result.problems]
    for problem in problems:
        print(problem, file=sys.stderr if not problem.warning else sys.stdout)
    errors = sum(not p.warning for p in problems)
    valid = sum(r.flow is not None for r in results)
    print(f"{valid} consultation(s) valide(s), {errors} erreur(s), "
          f"{len(problems) - errors} avertissement(s)")
    return 1 if errors else 0


def _progress(line: str) -> None:
    print(line, flush=True)


def _nlp_train(args: argparse.Namespace) -> int:
    from bot.themes import train_consultation, train_with_scores
    from nlp.data import read_jsonl
    from storage import labels

    if args.data is not None:
        if args.model is None:
            raise ValueError("--data demande --model DOSSIER (où écrire le modèle)")
        texts, themes = read_jsonl(args.data)
        _progress(f"{len(texts)} exemples, {len(set(themes))} thèmes lus dans {args.data}")
        classifier = train_with_scores(texts, themes, args.model.name or "modele", _progress)
        classifier.save(args.model)
        _progress(f"modèle {classifier.version} écrit dans {args.model}")
        return 0
    settings = Settings.from_env()

    async def run() -> None:
        async with _prepared(settings) as relais:
            if args.missing:
                async with relais.db.read() as tx:
                    active = await labels.active_models(tx)
                for flow in sorted(relais.flows.values(), key=lambda f: f.id):
                    if flow.themes and flow.id not in active:
                        await train_consultation(relais.db, flow, settings.models_dir,
                                                 _progress)
                return
            flow = relais.flows.get(args.consultation)
            if flow is None:
                raise ValueError(f"consultation inconnue « {args.consultation} » (connues : "
                                 f"{', '.join(sorted(relais.flows))})")
            await train_consultation(relais.db, flow, settings.models_dir, _progress)

    asyncio.run(run())
    return 0


def _nlp_evaluate(args: argparse.Namespace) -> int:
    import json

    from nlp import metrics
    from nlp.data import read_jsonl
    from nlp.model import load

    texts, themes = read_jsonl(args.data)
    result = metrics.evaluate(load(args.model), texts, themes)
    print(json.dumps(result, ensure_ascii=False) if args.json else metrics.table(result))
    return 0


def _nlp_classify(args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def run() -> int:
        async with _prepared(settings) as relais:
            if args.consultation not in relais.flows:
                raise ValueError(f"consultation inconnue « {args.consultation} »")
            relais.classification.flows = {args.consultation: relais.flows[args.consultation]}
            total = 0
            while done := await relais.classification.run_once():
                total += done
                _progress(f"{total} réponses classées…")
            return total

    total = asyncio.run(run())
    _progress(f"{total} réponses classées avec le modèle actif")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.database import Database

    settings = Settings.from_env()

    async def run() -> list[str]:
        db = Database(settings.database_url)
        try:
            missing = await migrate.pending(db)
            await migrate.upgrade(db)
            return missing
        finally:
            await db.close()

    applied = asyncio.run(run())
    print(f"base à jour ({len(applied)} migration(s) appliquée(s))")
    return 0


@asynccontextmanager
async def _prepared(settings: Settings) -> AsyncIterator:
    """Yields the database ready for invites: migrated (SQLite) or checked, flows published."""
    from bot.app import build

    # Invites refer to published consultations, so this does what `serve` does at start.
    relais = build(settings)
    try:
        await relais.prepare()
        yield relais
    finally:
        await relais.db.close()


def _association_add(args: argparse.Namespace) -> int:
    from storage import invites
    from storage.clock import utcnow

    async def run():
        async with _prepared(Settings.from_env()) as relais, relais.db.transaction() as tx:
            return await invites.add_association(tx, args.name, args.territory, utcnow())

    association = asyncio.run(run())
    territory = f" ({association.territory})" if association.territory else ""
    print(f"association {association.id} : {association.name}{territory}")
    return 0


def _invite_create(args: argparse.Namespace) -> int:
    from admin import qr
    from bot import invites as cards
    from storage import invites
    from storage.clock import utcnow

    settings = Settings.from_env()
    username = _bot_username(settings)  # asked before the transaction: no lock held meanwhile
    number = cards.receiving_number(settings.twilio_from)

    async def run():
        async with _prepared(settings) as relais, relais.db.transaction() as tx:
            association = await _association_named(tx, args.association)
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
            return association.name, flow, invite.code, card, drawn

    name, flow, code, card, files = asyncio.run(run())
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


def _invite_list(args: argparse.Namespace) -> int:
    from storage import invites

    async def run():
        async with _prepared(Settings.from_env()) as relais, relais.db.read() as tx:
            association = await _association_named(tx, args.association)
            return association.name, await invites.invites_of(tx, association.id)

    name, found = asyncio.run(run())
    print(f"{len(found)} invitation(s) de {name}")
    for invite in found:
        state = "révoquée" if invite.revoked_at else "active"
        print(f"{invite.code}  {invite.consultation_id:<12}  "
              f"{invite.created_at:%Y-%m-%d}  {state}")
    return 0


async def _association_named(tx, name: str):
    """Returns the association with this name; raises ValueError listing the known ones."""
    from storage import invites

    association = await invites.association_by_name(tx, name)
    if association is not None:
        return association
    known = [a.name for a in await invites.all_associations(tx)]
    hint = (f"connues : {', '.join(known)}" if known
            else "aucune : créez-la avec « relais association add »")
    raise ValueError(f"association inconnue « {name.strip()} » ({hint})")


def _bot_username(settings: Settings) -> str | None:
    """Returns the Telegram bot's username from the settings, or asks the Bot API for it."""
    from bot.invites import telegram_username

    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    token = settings.telegram_bot_token
    if not token:
        return None
    try:
        return asyncio.run(telegram_username(token, settings.telegram_api_base_url))
    except Exception as error:  # an invite works without its link: say so and go on
        # PTB repeats the token in some messages; it must not reach a terminal or a log.
        reason = f"{type(error).__name__}: {error}".replace(token, "…")
        print(f"relais: nom du bot Telegram inconnu, invitation sans lien ({reason})",
              file=sys.stderr)
        return None


PURGE_LINES = {
    "sessions": "sessions de consultation supprimées",
    "answers": "réponses supprimées",
    "labels": "thèmes de réponses supprimés",
    "inbound_texts": "textes de messages reçus effacés",
    "outbox_texts": "textes de messages envoyés effacés",
    "participants": "participants supprimés",
    "identities": "adresses chiffrées supprimées",
    "login_failures": "échecs de connexion oubliés",
    "admin_sessions": "sessions d'administration expirées fermées",
}


class _RolledBack(Exception):
    """Ends a dry run's transaction without committing it, carrying what it counted."""

    def __init__(self, counts) -> None:
        super().__init__("dry run")
        self.counts = counts


def _purge(args: argparse.Namespace) -> int:
    from bot.app import admin_config
    from storage import audit, labels, purge
    from storage.clock import utcnow

    async def run():
        async with _prepared(Settings.from_env()) as relais:
            config = admin_config(relais)
            now = utcnow()
            try:
                async with relais.db.transaction() as tx:
                    counts = await purge.purge(tx, now, idle_timeout=config.idle_timeout,
                                               session_lifetime=config.session_lifetime)
                    if args.dry_run:  # the very same deletions, then a rollback
                        raise _RolledBack(counts)
                    audit.record(tx, actor="cli", action="purge", details=counts.as_dict(),
                                 at=now)
            except _RolledBack as rolled:
                return rolled.counts
            if counts.answers:
                # Theme summaries quote answers: those quoting purged ones are computed again.
                async with relais.db.read() as tx:
                    active = await labels.active_models(tx)
                for consultation_id, model in sorted(active.items()):
                    await relais.classification.summarise(consultation_id, model.version)
            return counts

    counts = asyncio.run(run())
    if args.dry_run:
        print("simulation : rien n'a été effacé ; voici ce que « relais purge » effacerait")
    for name, count in counts.as_dict().items():
        print(f"{count:>9}  {PURGE_LINES[name]}")
    return 0


def _user_commands(commands) -> None:
    """Adds `relais user add|disable|enable|password|reset-2fa|list`: accounts of the admin
    view."""
    user = commands.add_parser("user", help="comptes de la vue d'administration").add_subparsers(
        title="actions", metavar="ACTION")
    add = user.add_parser("add", help="créer un compte ; le mot de passe est demandé deux fois "
                                      "(ou lu sur une ligne de l'entrée standard)")
    add.add_argument("email", metavar="EMAIL", help="adresse e-mail, identifiant de connexion")
    add.add_argument("--role", required=True, choices=("official", "association", "admin"),
                     help="official : élus et agents ; association : ses invitations et sa "
                          "portée ; admin : les comptes et le journal")
    add.add_argument("--association", metavar="NOM",
                     help="nom de l'association (obligatoire pour le rôle association)")
    add.set_defaults(run=_user_add)
    for name, run, text in (
            ("disable", _user_disable, "désactiver un compte et fermer ses sessions"),
            ("enable", _user_enable, "réactiver un compte désactivé"),
            ("password", _user_password, "remplacer le mot de passe d'un compte et fermer "
                                         "toutes ses sessions"),
            ("reset-2fa", _user_reset_second_factor, "désactiver la double authentification "
                                                     "d'un compte (téléphone perdu) et fermer "
                                                     "ses sessions")):
        action = user.add_parser(name, help=text)
        action.add_argument("email", metavar="EMAIL", help="adresse e-mail du compte")
        action.set_defaults(run=run)
    listing = user.add_parser("list", help="lister les comptes")
    listing.set_defaults(run=_user_list)


def _read_password(email: str) -> str:
    """Reads a new password, asked twice on a terminal or one line of standard input, and
    checks it against the rules."""
    import getpass

    from admin import passwords

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


def _user_add(args: argparse.Namespace) -> int:
    from admin import passwords
    from storage import audit, users
    from storage.clock import utcnow

    email = users.normal_email(args.email)
    if (args.role == "association") != (args.association is not None):
        raise ValueError("--association NOM va avec le rôle association, et lui seul")

    async def run():
        async with _prepared(Settings.from_env()) as relais:
            async with relais.db.read() as tx:  # refuse before asking for a password
                association = (await _association_named(tx, args.association)
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

    number, association = asyncio.run(run())
    print(f"compte {number} créé : {email}, rôle {args.role}"
          + (f", association {association}" if association else ""))
    return 0


async def _account(tx, email: str):
    """Returns the account of an e-mail; raises ValueError when there is none."""
    from storage import users

    account = await users.by_email(tx, email)
    if account is None:
        raise ValueError(f"aucun compte pour « {email.strip()} » (voir « relais user list »)")
    return account


def _user_disable(args: argparse.Namespace) -> int:
    return _set_disabled(args.email, disable=True)


def _user_enable(args: argparse.Namespace) -> int:
    return _set_disabled(args.email, disable=False)


def _set_disabled(email: str, disable: bool) -> int:
    from storage import audit, users
    from storage.clock import utcnow

    async def run() -> bool:
        async with _prepared(Settings.from_env()) as relais, relais.db.transaction() as tx:
            account = await _account(tx, email)
            if (account.disabled_at is not None) == disable:
                return False
            now = utcnow()
            await users.set_disabled(tx, account.id, now if disable else None)
            audit.record(tx, actor="cli", action="user.disabled" if disable else "user.enabled",
                         target=str(account.id), details={"email": account.email}, at=now)
            return True

    changed = asyncio.run(run())
    state = "désactivé (sessions fermées)" if disable else "réactivé"
    print(f"compte {email.strip().lower()} {state if changed else 'déjà ' + state.split()[0]}")
    return 0


def _user_password(args: argparse.Namespace) -> int:
    from admin import passwords
    from storage import audit, users
    from storage.clock import utcnow

    async def run() -> str:
        async with _prepared(Settings.from_env()) as relais:
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

    email = asyncio.run(run())
    print(f"mot de passe de {email} remplacé ; ses sessions sont fermées")
    return 0


def _user_reset_second_factor(args: argparse.Namespace) -> int:
    from storage import audit, users
    from storage.clock import utcnow

    async def run() -> tuple[str, bool]:
        async with _prepared(Settings.from_env()) as relais, relais.db.transaction() as tx:
            account = await _account(tx, args.email)
            had = account.totp_secret is not None
            now = utcnow()
            await users.set_totp(tx, account.id, None, None)
            await users.close_sessions(tx, account.id)
            audit.record(tx, actor="cli", action="user.2fa_reset", target=str(account.id),
                         details={"email": account.email, "was_enabled": had}, at=now)
            return account.email, had

    email, had = asyncio.run(run())
    print(f"double authentification de {email} "
          f"{'désactivée' if had else 'déjà inactive'} ; ses sessions sont fermées")
    return 0


def _user_list(_args: argparse.Namespace) -> int:
    from storage import invites, users

    async def run():
        async with _prepared(Settings.from_env()) as relais, relais.db.read() as tx:
            names = {a.id: a.name for a in await invites.all_associations(tx)}
            return [(u, names.get(u.association_id)) for u in await users.all_users(tx)]

    found = asyncio.run(run())
    print(f"{len(found)} compte(s)")
    for user, association in found:
        state = f"désactivé le {user.disabled_at:%Y-%m-%d}" if user.disabled_at else "actif"
        factor = "2FA activée" if user.totp_secret else "sans 2FA"
        print(f"{user.email}  {user.role}"
              f"{'  ' + association if association else ''}  {state}  {factor}")
    return 0


def _export_command(commands) -> None:
    export = commands.add_parser(
        "export", help="exporter les réponses (masquées), les thèmes ou les indicateurs "
                       "d'une consultation, en CSV ou JSON")
    export.add_argument("--consultation", required=True, help="identifiant (ex. mobilite)")
    export.add_argument("--what", choices=("reponses", "themes", "indicateurs"),
                        default="reponses", help="quoi exporter (reponses)")
    export.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="csv (par défaut) ou json (un tableau)")
    export.add_argument("--separateur", choices=(",", ";"), default=";",
                        help="séparateur CSV : « ; » (par défaut, avec la virgule décimale, "
                             "pour les tableurs en français) ou « , » (format international)")
    bom = export.add_mutually_exclusive_group()
    bom.add_argument("--bom", action="store_true", default=True,
                     help="commencer le CSV par une marque UTF-8, pour Excel (par défaut)")
    bom.add_argument("--sans-bom", dest="bom", action="store_false",
                     help="sans marque UTF-8 au début du CSV")
    export.add_argument("--question", help="seulement les réponses à cette question")
    for name, what in (("theme", "thème"), ("territoire", "département (02, 59… hors_region)"),
                       ("association", "association (nom ou numéro)"),
                       ("canal", "canal (telegram, sms, web)")):
        export.add_argument(f"--{name}", action="append", default=[],
                            help=f"filtrer par {what} ; répétable")
    export.add_argument("--du", help="réponses à partir de ce jour (AAAA-MM-JJ)")
    export.add_argument("--au", help="réponses jusqu'à ce jour inclus (AAAA-MM-JJ)")
    export.add_argument("--confiance-min", help="confiance minimale du modèle, en %%")
    export.add_argument("--confiance-max", help="confiance maximale du modèle, en %%")
    export.add_argument("--out", type=Path, help="fichier à écrire (par défaut : la sortie)")
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    """Writes the same files as the admin view's exports, through the same code."""
    from urllib.parse import urlencode

    from multidict import MultiDict

    from admin import exports, filters
    from admin.consultations import from_definition
    from storage import audit, catalog, invites
    from storage.clock import utcnow

    async def run(out) -> int:
        async with _prepared(Settings.from_env()) as relais:
            async with relais.db.read() as tx:
                row = await catalog.consultation(tx, args.consultation)
                associations = [await _association_id(tx, invites, name)
                                for name in args.association]
            if row is None:
                raise ValueError(f"consultation inconnue « {args.consultation} »")
            consultation = from_definition(row.definition, row.retention_days)
            query = MultiDict(
                [("theme", v) for v in args.theme] + [("territoire", v) for v in args.territoire]
                + [("association", str(v)) for v in associations]
                + [("canal", v) for v in args.canal]
                + [(key, value) for key, value in (
                    ("du", args.du), ("au", args.au), ("confiance_min", args.confiance_min),
                    ("confiance_max", args.confiance_max)) if value])
            if args.question and args.question not in {q.id for q in consultation.questions}:
                raise ValueError("Question inconnue.")
            answers = filters.parse(query, consultation, args.question)  # Invalid: a ValueError
            export = exports.Export(relais.db, consultation, args.what, args.format, answers,
                                    separator=args.separateur, bom=args.bom)
            async for chunk in export.chunks():
                out.write(chunk)
            async with relais.db.transaction() as tx:
                audit.record(tx, actor="cli", action="export", target=consultation.id,
                             at=utcnow(), details={
                                 "what": args.what, "format": args.format,
                                 "filters": urlencode(list(query.items())),
                                 "rows": export.rows, "complete": True})
            return export.rows

    if args.out is None:
        rows = asyncio.run(run(sys.stdout.buffer))
        sys.stdout.flush()
    else:
        # Written aside and renamed at the end: a failed export leaves no half file behind.
        partial = args.out.with_name(args.out.name + ".partiel")
        try:
            with partial.open("wb") as out:
                rows = asyncio.run(run(out))
            partial.replace(args.out)
        finally:
            partial.unlink(missing_ok=True)
    print(f"{rows} ligne(s) exportée(s)" + (f" dans {args.out}" if args.out else ""),
          file=sys.stderr)
    return 0


async def _association_id(tx, invites, name: str) -> int:
    """Finds an association by number or by name."""
    if name.isdigit():
        return int(name)
    association = await invites.association_by_name(tx, name)
    if association is None:
        raise ValueError(f"association inconnue « {name} »")
    return association.id
