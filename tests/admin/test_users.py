"""Accounts: the `relais user` commands and the admin pages for accounts and the audit log."""

import html
import io
import os
import re
import subprocess
import sys
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from admin import passwords
from bot import cli
from bot.app import create_web_app
from storage import audit, invites, users
from storage.tables import AdminSession
from tests.admin.conftest import NOW, PASSWORD, add_user, csrf_of, form_token, sign_in
from tests.checkout import CHECKOUT

EMAIL = "elue@region.example.fr"
SAFE_ENV = {
    "RELAIS_ENV": "development", "RELAIS_SECRET_KEY": "k" * 40, "RELAIS_PUBLIC_URL": "",
    "RELAIS_FLOWS_DIR": "", "RELAIS_DEFAULT_CONSULTATION": "",
    # Whatever the developer's shell holds, nothing here may reach a real provider.
    "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_BOT_USERNAME": "", "TELEGRAM_WEBHOOK_SECRET": "",
    "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_FROM": "",
}


# The command line, as a separate process on the test database


def relais(database_url: str, cwd, *args: str, stdin: str = ""):
    """Runs `python -m bot ARGS` on the test database, the password on standard input."""
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, timeout=120, check=False,
                          env={**os.environ, **SAFE_ENV, **CHECKOUT,
                               "RELAIS_DATABASE_URL": database_url})


async def actions(db) -> list[tuple[str, str]]:
    """Returns (actor, action) of the audit entries about accounts, oldest first."""
    async with db.read() as tx:
        return [(e.actor, e.action) for e in reversed(await audit.entries(tx, "user."))]


async def test_an_operator_adds_an_account_changes_its_password_and_disables_it(
        web, db, database_url, tmp_path):
    done = relais(database_url, tmp_path, "user", "add", "Elue@Region.example.fr",
                  "--role", "official", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"compte \d+ créé : elue@region\.example\.fr, rôle official\n",
                        done.stdout)
    async with db.read() as tx:
        account = await users.by_email(tx, EMAIL)
    assert account.password_hash.startswith("$argon2id$")
    assert (await sign_in(web, EMAIL)).status == 200

    new = "une autre phrase, toute neuve"
    done = relais(database_url, tmp_path, "user", "password", EMAIL, stdin=new + "\n")
    assert done.returncode == 0, done.stderr
    signed_out = await web.get("/admin/", allow_redirects=False)
    assert signed_out.headers["Location"].startswith("/admin/connexion")
    assert (await sign_in(web, EMAIL)).status == 401
    assert (await sign_in(web, EMAIL, new)).status == 200

    done = relais(database_url, tmp_path, "user", "disable", EMAIL)
    assert done.returncode == 0, done.stderr
    assert (await web.get("/admin/", allow_redirects=False)).status == 302
    assert (await sign_in(web, EMAIL, new)).status == 401
    async with db.read() as tx:
        assert not (await tx.scalars(select(AdminSession))).all()
    assert await actions(db) == [("cli", "user.created"), ("cli", "user.password_changed"),
                                 ("cli", "user.disabled")]


async def test_a_refused_command_prints_one_line_and_no_traceback(db, database_url, tmp_path):
    done = relais(database_url, tmp_path, "user", "add", EMAIL, "--role", "official",
                  stdin="motdepasse2024!\n")
    assert done.returncode == 1
    assert done.stderr == "relais: Ce mot de passe est trop courant : choisissez une phrase " \
                          "à vous.\n"
    async with db.read() as tx:
        assert await users.by_email(tx, EMAIL) is None


def test_user_commands_have_help(capsys):
    for command in (["user"], ["user", "add"], ["user", "disable"], ["user", "password"]):
        with pytest.raises(SystemExit) as leaving:
            cli.main([*command, "--help"])
        assert leaving.value.code == 0
    assert "--association NOM" in capsys.readouterr().out


# The command line in this process: bad input, the terminal prompt


@pytest.fixture
def operator(monkeypatch, tmp_path):
    """Runs `relais …` in this process on a fresh SQLite file; returns (code, out, err)."""
    for name, value in SAFE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RELAIS_DATABASE_URL", f"sqlite:///{tmp_path / 'relais.db'}")
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return cli.main(list(args))

    return run


@pytest.mark.parametrize(("args", "stdin", "error"), [
    (("add", EMAIL, "--role", "official"), "court\n",
     "Le mot de passe doit compter au moins 12 caractères."),
    (("add", EMAIL, "--role", "official"), "elue-du-littoral\n",
     "Le mot de passe ne doit pas contenir votre adresse e-mail."),
    (("add", EMAIL, "--role", "official"), "", "aucun mot de passe lu sur l'entrée standard"),
    (("add", "pas-une-adresse", "--role", "official"), PASSWORD,
     "adresse e-mail invalide : « pas-une-adresse »"),
    (("add", EMAIL, "--role", "association"), PASSWORD,
     "--association NOM va avec le rôle association, et lui seul"),
    (("add", EMAIL, "--role", "official", "--association", "Vélo"), PASSWORD,
     "--association NOM va avec le rôle association, et lui seul"),
    (("add", EMAIL, "--role", "association", "--association", "Inconnue"), PASSWORD,
     "association inconnue « Inconnue » (aucune : créez-la avec « relais association add »)"),
    (("add", "deja@region.example.fr", "--role", "admin"), PASSWORD,
     "un compte existe déjà pour deja@region.example.fr"),
    (("password", "personne@region.example.fr"), PASSWORD,
     "aucun compte pour « personne@region.example.fr » (voir « relais user list »)"),
    (("password", "deja@region.example.fr"), "qwerty123456\n",
     "Ce mot de passe est trop courant : choisissez une phrase à vous."),
    (("disable", "personne@region.example.fr"), "",
     "aucun compte pour « personne@region.example.fr » (voir « relais user list »)"),
])
def test_bad_input_gets_one_french_line(operator, capsys, args, stdin, error):
    assert operator("user", "add", "deja@region.example.fr", "--role", "admin",
                    stdin=PASSWORD) == 0
    capsys.readouterr()
    assert operator("user", *args, stdin=stdin) == 1
    captured = capsys.readouterr()
    assert captured.err == f"relais: {error}\n"
    assert captured.out == ""


def test_an_unknown_role_is_refused_by_the_parser(operator, capsys):
    with pytest.raises(SystemExit) as leaving:
        operator("user", "add", EMAIL, "--role", "superadmin")
    assert leaving.value.code == 2
    assert "invalid choice: 'superadmin'" in capsys.readouterr().err


def test_on_a_terminal_the_password_is_asked_twice(operator, capsys, monkeypatch):
    typed = iter([PASSWORD, PASSWORD + "!", PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)

    def run(*args: str) -> int:
        return cli.main(list(args))

    assert run("user", "add", EMAIL, "--role", "official") == 1
    assert capsys.readouterr().err == "relais: les deux saisies diffèrent : rien n'a été " \
                                      "changé\n"
    assert run("user", "add", EMAIL, "--role", "official") == 0
    assert run("user", "list") == 0
    assert f"{EMAIL}  official  actif" in capsys.readouterr().out


def test_an_association_account_disabled_and_enabled_again(operator, capsys):
    assert operator("association", "add", "Les Amis du Vélo") == 0
    assert operator("user", "add", "velo@asso.example.org", "--role", "association",
                    "--association", "les amis du vélo", stdin=PASSWORD) == 0
    assert operator("user", "disable", "velo@asso.example.org") == 0
    assert operator("user", "disable", "velo@asso.example.org") == 0  # already: no change
    assert operator("user", "list") == 0
    listed = capsys.readouterr().out
    assert "velo@asso.example.org  association  Les Amis du Vélo  désactivé le " in listed
    assert "compte velo@asso.example.org déjà désactivé" in listed
    assert operator("user", "enable", "velo@asso.example.org") == 0
    assert operator("user", "list") == 0
    assert "Les Amis du Vélo  actif" in capsys.readouterr().out


# The accounts page


async def test_an_admin_creates_an_account_whose_passphrase_is_shown_once(
        as_role, db, aiohttp_client, relais, association):
    web = await as_role("admin")
    response = await web.post("/admin/utilisateurs", data={
        "csrf": await form_token(web, "/admin/utilisateurs"), "email": "Velo@Asso.example.org",
        "role": "association", "association": str(association.id)})
    assert response.status == 200
    body = await response.text()
    shown = re.findall(r'<p class="mot-de-passe"><code>([^<]*)</code></p>', body)
    assert len(shown) == 1
    password = html.unescape(shown[0])
    assert re.fullmatch(r"([a-z]{4}-){5}[a-z]{4}", password)  # six words of four letters
    assert "relais user password velo@asso.example.org" in body
    assert response.headers["Cache-Control"] == "no-store"
    listing = await (await web.get("/admin/utilisateurs")).text()
    assert "velo@asso.example.org" in listing and password not in listing

    # The passphrase shown is the one stored: the newcomer signs in with it, and lands on
    # their association's page.
    newcomer = await aiohttp_client(create_web_app(relais, work=False))
    page = await newcomer.get("/admin/connexion")
    response = await newcomer.post("/admin/connexion", allow_redirects=False, data={
        "email": "velo@asso.example.org", "password": password,
        "csrf": csrf_of(await page.text())})
    assert (response.status, response.headers["Location"]) == (303, "/admin/")
    landing = await newcomer.get("/admin/")
    assert landing.status == 200
    assert str(landing.url).endswith(f"/admin/associations/{association.id}")
    assert "Les Amis du Vélo" in await landing.text()
    async with db.read() as tx:
        account = await users.by_email(tx, "velo@asso.example.org")
        entries = await audit.entries(tx, "user.created")
    assert account.association_id == association.id
    assert account.password_hash.startswith("$argon2id$")
    assert passwords.verify(account.password_hash, password)
    assert not passwords.verify(account.password_hash, password + "x")
    assert [(e.actor, e.target, e.details["role"]) for e in entries] == [
        ("admin:admin@region.example.fr", str(account.id), "association")]


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"email": "pas-une-adresse", "role": "official"}, 400, "Adresse e-mail invalide"),
    ({"email": "a@region.example.fr", "role": "chef"}, 400, "Choisissez un rôle."),
    ({"email": "a@region.example.fr", "role": "association"}, 400,
     "Choisissez l&#39;association de ce compte."),
    ({"email": "a@region.example.fr", "role": "association", "association": "99999"}, 400,
     "Cette association n&#39;existe pas."),
    ({"email": "a@region.example.fr", "role": "official", "association": "ASSOCIATION"}, 400,
     "Seul un compte association est rattaché à une association."),
    ({"email": "Admin@region.example.fr", "role": "official"}, 409,
     "Un compte existe déjà pour admin@region.example.fr."),
])
async def test_a_wrong_account_form_is_shown_again_with_its_error(
        as_role, db, association, form, status, message):
    web = await as_role("admin")
    if form.get("association") == "ASSOCIATION":
        form = {**form, "association": str(association.id)}
    response = await web.post("/admin/utilisateurs", data={
        "csrf": await form_token(web, "/admin/utilisateurs"), **form})
    assert response.status == status
    assert message in await response.text()
    async with db.read() as tx:
        assert len(await users.all_users(tx)) == 1
        assert await audit.count(tx, "user.") == 0


async def test_disabling_an_account_signs_it_out_and_enabling_lets_it_back(
        as_role, db, aiohttp_client, relais):
    web = await as_role("admin")
    await add_user(db, EMAIL, "official")
    official = await aiohttp_client(create_web_app(relais, work=False))
    assert (await sign_in(official, EMAIL)).status == 200
    async with db.read() as tx:
        target = (await users.by_email(tx, EMAIL)).id

    token = await form_token(web, "/admin/utilisateurs")
    response = await web.post(f"/admin/utilisateurs/{target}/desactiver",
                              data={"csrf": token}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/admin/utilisateurs")
    assert (await official.get("/admin/", allow_redirects=False)).status == 302
    assert (await sign_in(official, EMAIL)).status == 401
    assert "désactivé le" in await (await web.get("/admin/utilisateurs")).text()

    response = await web.post(f"/admin/utilisateurs/{target}/reactiver", data={"csrf": token})
    assert response.status == 200
    assert (await sign_in(official, EMAIL)).status == 200
    assert await actions(db) == [("admin:admin@region.example.fr", "user.disabled"),
                                 ("admin:admin@region.example.fr", "user.enabled")]


@pytest.mark.parametrize(("path", "status"), [
    ("/admin/utilisateurs/99999/desactiver", 404),
    ("/admin/utilisateurs/abc/desactiver", 404),
    ("/admin/utilisateurs/ME/desactiver", 400),
])
async def test_disabling_nobody_or_oneself_is_refused(as_role, db, path, status):
    web = await as_role("admin")
    async with db.read() as tx:
        me = (await users.by_email(tx, "admin@region.example.fr")).id
    response = await web.post(path.replace("ME", str(me)),
                              data={"csrf": await form_token(web, "/admin/utilisateurs")})
    assert response.status == status
    async with db.read() as tx:
        assert (await users.by_id(tx, me)).disabled_at is None
        assert await audit.count(tx, "user.") == 0


BAD_IDS = ["²", "٣", "1e3", "-1", "1" * 24, "0x1", " 3", "3\n"]


@pytest.mark.parametrize("action", ["desactiver", "reactiver"])
@pytest.mark.parametrize("identifier", BAD_IDS)
async def test_an_id_that_is_not_ascii_digits_in_range_is_not_found(as_role, db, action,
                                                                    identifier):
    web = await as_role("admin")
    for number in range(3):  # so that "٣" (Arabic-Indic three) would name an account
        await add_user(db, f"agent{number}@region.example.fr", "official")
    if action == "reactiver":
        async with db.transaction() as tx:
            for account in await users.all_users(tx):
                if account.role != "admin":
                    await users.set_disabled(tx, account.id, NOW)
    response = await web.post(f"/admin/utilisateurs/{quote(identifier, safe='')}/{action}",
                              data={"csrf": await form_token(web, "/admin/utilisateurs")},
                              allow_redirects=False)
    assert response.status == 404, await response.text()
    assert "Cette page n&#39;existe pas" in await response.text()
    async with db.read() as tx:
        states = {a.email: a.disabled_at is None for a in await users.all_users(tx)}
        assert await audit.count(tx, "user.") == 0
    assert states == {email: action == "desactiver" or email.startswith("admin")
                      for email in states}


@pytest.mark.parametrize("identifier", BAD_IDS)
async def test_an_association_field_that_is_not_an_id_gets_a_french_reason(
        as_role, db, association, identifier):
    web = await as_role("admin")
    response = await web.post("/admin/utilisateurs", data={
        "csrf": await form_token(web, "/admin/utilisateurs"), "email": "a@asso.example.org",
        "role": "association", "association": identifier})
    body = await response.text()
    assert response.status == 400
    assert "Choisissez l&#39;association de ce compte." in body \
        or "Cette association n&#39;existe pas." in body  # " 3" is trimmed like any field
    async with db.read() as tx:
        assert await users.by_email(tx, "a@asso.example.org") is None


# The audit log page


async def fill_log(db, count: int) -> None:
    """Writes `count` entries a minute apart, alternating two kinds of actions."""
    async with db.transaction() as tx:
        for i in range(count):
            audit.record(tx, actor="cli", action="invite.created" if i % 2 else "purge",
                         target=f"cible-{i:03}", at=NOW + timedelta(minutes=i))


async def test_the_journal_is_paginated_newest_first(as_role, db):
    web = await as_role("admin")
    async with db.read() as tx:
        before = await audit.count(tx)  # the consultations published, the admin's sign-in
    added = 120 - before
    await fill_log(db, added)  # 120 entries: three pages
    first = await (await web.get("/admin/journal")).text()
    assert "120 entrées" in first and "page 1 sur 3" in first
    assert first.count("<tr>") == 51  # the header and 50 entries
    newest, next_one = f"cible-{added - 1:03}", f"cible-{added - 2:03}"
    assert first.index(newest) < first.index(next_one)
    assert 'href="/admin/journal?page=2" rel="next"' in first
    third = await (await web.get("/admin/journal?page=3")).text()
    assert third.count("<tr>") == 21
    assert "cible-000" in third and "consultation.published" in third
    assert (await web.get("/admin/journal?page=4")).status == 404
    assert (await web.get("/admin/journal?page=x")).status == 400


@pytest.mark.parametrize(("prefix", "shown"), [
    ("invite", 30), ("invite.created", 30), ("purge", 30), ("login", 1), ("login.s", 1),
    ("%", 0), ("_", 0), ("consultation.published", None),
])
async def test_the_journal_filters_by_action_prefix(as_role, db, relais, prefix, shown):
    web = await as_role("admin")
    shown = len(relais.flows) if shown is None else shown  # one entry per published flow
    await fill_log(db, 60)
    body = await (await web.get("/admin/journal", params={"action": prefix})).text()
    assert body.count("<tr>") == shown + 1
    if prefix:
        assert 'href="/admin/journal">Tout afficher' in body


async def test_the_journal_is_read_only(as_role):
    web = await as_role("admin")
    token = csrf_of(await (await web.get("/admin/journal")).text())
    for method in (web.post, web.put, web.delete):
        response = await method("/admin/journal", data={"csrf": token})
        assert response.status == 405


async def test_details_of_an_entry_are_escaped(as_role, db):
    web = await as_role("admin")
    async with db.transaction() as tx:
        audit.record(tx, actor="cli", action="association.created", target="1",
                     details={"name": "<script>alert(1)</script>"}, at=NOW)
    body = await (await web.get("/admin/journal")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body


async def test_the_association_select_lists_associations(as_role, db, association):
    web = await as_role("admin")
    async with db.transaction() as tx:
        await invites.add_association(tx, "Zèbres <b>solidaires</b>", None, NOW)
    body = await (await web.get("/admin/utilisateurs")).text()
    assert f'<option value="{association.id}">Les Amis du Vélo</option>' in body
    assert "Zèbres &lt;b&gt;solidaires&lt;/b&gt;" in body
