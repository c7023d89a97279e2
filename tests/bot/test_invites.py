"""Invites per association: codes, what is handed out, storage and the `relais` commands."""

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import timedelta

import pytest
from sqlalchemy import select

from admin import qr
from bot import invites as cards
from storage import invites
from storage.clock import utcnow
from storage.tables import AuditEntry, Invite
from tests.checkout import CHECKOUT
from tests.fakes import telegram_api as tg

CODE = re.compile(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")


# Codes


def test_codes_are_six_unambiguous_characters():
    codes = [cards.new_code() for _ in range(2000)]
    assert all(CODE.fullmatch(code) for code in codes)
    assert not set("".join(codes)) & set("0O1IL")
    # Telegram accepts A-Z a-z 0-9 _ - in a start parameter, up to 64 characters.
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code) for code in codes)


def test_codes_are_random():
    codes = [cards.new_code() for _ in range(2000)]
    assert len(set(codes)) >= 1995  # 31^6 codes: a repeat among 2000 is already unlikely
    assert set("".join(codes)) == set(cards.ALPHABET)
    for position in range(cards.CODE_LENGTH):  # no position is stuck on a few characters
        assert len({code[position] for code in codes}) == len(cards.ALPHABET)


# What an association hands out


def test_deep_link_opens_the_bot_with_the_code():
    assert cards.deep_link("relais_hdf_bot", "K7M2QX") == \
        "https://t.me/relais_hdf_bot?start=K7M2QX"
    assert cards.deep_link("@relais_hdf_bot", "K7M2QX") == \
        "https://t.me/relais_hdf_bot?start=K7M2QX"


@pytest.mark.parametrize(("sender", "number"), [
    ("+33612345678", "+33612345678"),
    ("06 12 34 56 78", "+33612345678"),
    ("+32 470 12 34 56", "+32470123456"),
    ("38200", "38200"),
    ("MG0123456789abcdef0123456789abcdef", None),
    ("Relais", None),
    ("", None),
    (None, None),
])
def test_only_a_number_people_can_text_is_kept(sender, number):
    assert cards.receiving_number(sender) == number


def test_sms_instruction_shows_the_number_as_people_dial_it():
    assert cards.sms_instruction("K7M2QX", "+33612345678") == "Envoyez K7M2QX au 06 12 34 56 78"
    assert cards.sms_instruction("K7M2QX", "+32470123456") == "Envoyez K7M2QX au +32 470 12 34 56"
    assert cards.sms_instruction("K7M2QX", "38200") == "Envoyez K7M2QX au 38200"


def test_invitation_text_says_what_who_how_long_cost_and_stop():
    text = cards.invitation_text("Les Amis du Vélo", "Mobilités du quotidien", "K7M2QX",
                                 "relais_hdf_bot", "+33612345678")
    for expected in ("Région Hauts-de-France", "« Mobilités du quotidien »", "Les Amis du Vélo",
                     "https://t.me/relais_hdf_bot?start=K7M2QX",
                     "Envoyez K7M2QX au 06 12 34 56 78", "5 minutes", "gratuit", "opérateur",
                     "STOP"):
        assert expected in text
    assert len(text) < 700  # short enough to paste in a message or print on a flyer


def test_invitation_text_without_sms_mentions_no_sms_cost():
    text = cards.invitation_text("Les Amis du Vélo", "Jeunesse", "K7M2QX", "relais_hdf_bot", None)
    assert "https://t.me/relais_hdf_bot?start=K7M2QX" in text
    assert "SMS" not in text and "gratuit" in text and "STOP" in text


def test_invitation_text_by_sms_only():
    text = cards.invitation_text("Les Amis du Vélo", "Jeunesse", "K7M2QX", None, "+33612345678")
    assert "t.me" not in text and "Telegram" not in text
    assert "Envoyez K7M2QX au 06 12 34 56 78" in text and "opérateur" in text


def test_invitation_text_with_neither_says_plainly_that_no_channel_is_open():
    text = cards.invitation_text("Les Amis du Vélo", "Jeunesse", "K7M2QX", None, None)
    assert "K7M2QX" in text and "pas encore ouverts" in text
    assert "qui vous sera communiqué" not in text
    assert "t.me" not in text and "STOP" in text


def test_qr_codes_are_written_as_svg_and_png(tmp_path):
    svg, png = qr.write("https://t.me/relais_hdf_bot?start=K7M2QX", tmp_path / "qr",
                        "invitation-K7M2QX")
    assert (svg, png) == (tmp_path / "qr" / "invitation-K7M2QX.svg",
                          tmp_path / "qr" / "invitation-K7M2QX.png")
    assert svg.stat().st_size > 0 and png.stat().st_size > 0
    root = ElementTree.fromstring(svg.read_bytes())
    assert root.tag.endswith("svg") and root.get("width", "").endswith("mm")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_an_sms_qr_code_opens_the_sms_app_with_the_code():
    assert cards.sms_qr_content("K7M2QX", "+33612345678") == "SMSTO:+33612345678:K7M2QX"


# Storage, on the test database


async def test_an_association_is_added_once_whatever_the_case_and_spaces(db):
    async with db.transaction() as tx:
        association = await invites.add_association(tx, "  Les Amis du Vélo ", "59", utcnow())
    assert association.id and association.name == "Les Amis du Vélo"
    for same in ("les amis du vélo", "LES AMIS DU VÉLO", " Les Amis du Vélo"):
        with pytest.raises(ValueError, match="existe déjà"):
            async with db.transaction() as tx:
                await invites.add_association(tx, same, None, utcnow())
    async with db.read() as tx:
        found = await invites.association_by_name(tx, " LES amis DU VÉLO ")
        assert found.id == association.id and found.territory == "59"
        assert await invites.association_by_name(tx, "Autre") is None
        actions = list(await tx.scalars(select(AuditEntry.action)))
    assert actions == ["association.created"]


async def test_an_association_needs_a_name(db):
    with pytest.raises(ValueError, match="vide"):
        async with db.transaction() as tx:
            await invites.add_association(tx, "   ", None, utcnow())


async def add_with_invite(db, code="K7M2QX"):
    async with db.transaction() as tx:
        association = await invites.add_association(tx, "Les Amis du Vélo", "80", utcnow())
        invite = await invites.create_invite(tx, association.id, "mobilite", code, utcnow())
    return association, invite


async def test_an_invite_is_found_by_its_code_whatever_the_case(relais, db):
    association, invite = await add_with_invite(db, "k7m2qx")
    assert invite.code == "K7M2QX"  # stored uppercase
    async with db.read() as tx:
        for typed in ("K7M2QX", "k7m2qx", " K7m2Qx "):
            found = await invites.invite_by_code(tx, typed)
            assert (found.code, found.association_id, found.consultation_id) == \
                ("K7M2QX", association.id, "mobilite")
        assert await invites.invite_by_code(tx, "ZZZZZZ") is None
        assert await invites.invite_by_code(tx, "") is None
        assert await invites.invite_by_code(tx, "K7M2QX" * 10) is None
        audit = list(await tx.execute(select(AuditEntry.action, AuditEntry.target)
                                      .order_by(AuditEntry.id)))
    assert ("invite.created", "K7M2QX") in [tuple(row) for row in audit]


async def test_a_revoked_invite_is_not_found_and_its_code_stays_taken(relais, db):
    association, _invite = await add_with_invite(db)
    async with db.transaction() as tx:
        (await tx.get(Invite, "K7M2QX")).revoked_at = utcnow()
    async with db.read() as tx:
        assert await invites.invite_by_code(tx, "k7m2qx") is None
    with pytest.raises(invites.CodeTaken):
        async with db.transaction() as tx:
            await invites.create_invite(tx, association.id, "jeunesse", "K7M2QX", utcnow())


async def test_a_drawn_code_that_is_taken_is_drawn_again_then_given_up(relais, db):
    association, _invite = await add_with_invite(db)
    draws = iter(["K7M2QX", "K7M2QX", "P4R8TW"])
    async with db.transaction() as tx:
        invite = await invites.draw_invite(tx, association.id, "jeunesse", lambda: next(draws),
                                           utcnow())
    assert invite.code == "P4R8TW"
    with pytest.raises(invites.CodeTaken, match="10 essais"):
        async with db.transaction() as tx:
            await invites.draw_invite(tx, association.id, "jeunesse", lambda: "K7M2QX",
                                      utcnow())


async def test_invites_of_lists_an_association_s_invites_oldest_first(relais, db):
    association, _invite = await add_with_invite(db, "BBBBBB")
    async with db.transaction() as tx:
        other = await invites.add_association(tx, "Centre social", None, utcnow())
        await invites.create_invite(tx, association.id, "jeunesse", "AAAAAA",
                                    utcnow() + timedelta(seconds=1))
        await invites.create_invite(tx, other.id, "mobilite", "CCCCCC", utcnow())
    async with db.read() as tx:
        listed = await invites.invites_of(tx, association.id)
        assert [(i.code, i.consultation_id) for i in listed] == \
            [("BBBBBB", "mobilite"), ("AAAAAA", "jeunesse")]
        assert await invites.invites_of(tx, other.id + 100) == []


async def test_an_invite_needs_a_known_association_a_published_consultation_and_a_fair_code(
        relais, db):
    association, _invite = await add_with_invite(db)
    for association_id, consultation, code, reason in [
            (association.id + 100, "mobilite", "AAAAAA", "association inconnue"),
            (association.id, "inconnue", "AAAAAA", "consultation non publiée"),
            (association.id, "mobilite", "AB-12", "code d'invitation invalide"),
            (association.id, "mobilite", "A" * 17, "code d'invitation invalide")]:
        with pytest.raises(ValueError, match=reason):
            async with db.transaction() as tx:
                await invites.create_invite(tx, association_id, consultation, code, utcnow())


# The `relais` commands


def relais(tmp_path, *args, env=None, timeout=60):
    """Runs `python -m bot` on a SQLite file in tmp_path, with no provider reachable."""
    safe = {
        "RELAIS_ENV": "development", "RELAIS_SECRET_KEY": "k" * 40,
        "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'relais.db'}",
        "RELAIS_PUBLIC_URL": "https://relais.example.org", "RELAIS_FLOWS_DIR": "",
        "RELAIS_DEFAULT_CONSULTATION": "",
        # Whatever the developer's shell holds, nothing here may reach a real provider.
        "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_BOT_USERNAME": "", "TELEGRAM_WEBHOOK_SECRET": "",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot", "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "", "TWILIO_FROM": "", "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
    }
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env={**os.environ, **safe, **CHECKOUT, **(env or {})}, cwd=tmp_path,
                          timeout=timeout, check=False)


PROVIDERS = {"TELEGRAM_BOT_USERNAME": "relais_hdf_bot", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
             "TWILIO_AUTH_TOKEN": "t" * 32, "TWILIO_FROM": "+33612345678"}


def one_error_line(done) -> str:
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_association_add_prints_the_id_and_refuses_a_duplicate(tmp_path):
    done = relais(tmp_path, "association", "add", "Les Amis du Vélo", "--territory", "59")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "association 1 : Les Amis du Vélo (59)"
    again = relais(tmp_path, "association", "add", " les amis du VÉLO ")
    assert one_error_line(again) == \
        "relais: l'association « Les Amis du Vélo » existe déjà (n° 1)"


def test_association_add_takes_only_a_departement_of_the_region(tmp_path):
    done = relais(tmp_path, "association", "add", "Paris Asso", "--territory", "75")
    assert done.returncode == 2 and "invalid choice: '75'" in done.stderr
    assert "Traceback" not in done.stderr


def test_invite_create_prints_code_link_sms_qr_and_text(tmp_path):
    assert relais(tmp_path, "association", "add", "Les Amis du Vélo").returncode == 0
    done = relais(tmp_path, "invite", "create", "--association", "les amis du vélo",
                  "--consultation", "mobilite", env=PROVIDERS)
    assert done.returncode == 0, done.stderr
    code = re.search(r"^code : (\w+)$", done.stdout, re.MULTILINE).group(1)
    assert CODE.fullmatch(code)
    assert f"lien Telegram : https://t.me/relais_hdf_bot?start={code}" in done.stdout
    assert f"SMS : Envoyez {code} au 06 12 34 56 78" in done.stdout
    svg, png = (tmp_path / "invitations" / f"invitation-{code}.{kind}" for kind in ("svg", "png"))
    assert f"QR code : invitations/invitation-{code}.svg invitations/invitation-{code}.png" \
        in done.stdout
    assert svg.stat().st_size > 0 and png.stat().st_size > 0
    ElementTree.fromstring(svg.read_bytes())
    assert cards.invitation_text("Les Amis du Vélo", "Mobilités du quotidien", code,
                                 "relais_hdf_bot", "+33612345678") in done.stdout
    assert done.stderr == ""
    with sqlite3.connect(tmp_path / "relais.db") as connection:
        stored = connection.execute("SELECT code, consultation_id FROM invites").fetchall()
        actions = [row[0] for row in connection.execute("SELECT action FROM audit_log")]
    assert stored == [(code, "mobilite")]
    assert {"association.created", "invite.created"} <= set(actions)

    listed = relais(tmp_path, "invite", "list", "--association", "LES AMIS DU VÉLO")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0] == "1 invitation(s) de Les Amis du Vélo"
    assert listed.stdout.splitlines()[1].startswith(f"{code}  mobilite")
    assert listed.stdout.rstrip().endswith("active")


def test_invite_create_writes_the_qr_codes_where_asked(tmp_path):
    relais(tmp_path, "association", "add", "Centre social")
    done = relais(tmp_path, "invite", "create", "--association", "Centre social",
                  "--consultation", "jeunesse", "--out", "imprimer/lot1", env=PROVIDERS)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "imprimer" / "lot1").iterdir())) == 2


def test_invite_create_for_an_unknown_association_is_one_line(tmp_path):
    relais(tmp_path, "association", "add", "Les Amis du Vélo")
    done = relais(tmp_path, "invite", "create", "--association", "Inconnue",
                  "--consultation", "mobilite", env=PROVIDERS)
    assert one_error_line(done) == \
        "relais: association inconnue « Inconnue » (connues : Les Amis du Vélo)"
    assert not (tmp_path / "invitations").exists()


def test_invite_create_before_any_association_says_how_to_add_one(tmp_path):
    done = relais(tmp_path, "invite", "create", "--association", "Inconnue",
                  "--consultation", "mobilite", env=PROVIDERS)
    assert "relais association add" in one_error_line(done)


def test_invite_create_for_an_unknown_consultation_is_one_line(tmp_path):
    relais(tmp_path, "association", "add", "Les Amis du Vélo")
    done = relais(tmp_path, "invite", "create", "--association", "Les Amis du Vélo",
                  "--consultation", "climat", env=PROVIDERS)
    assert one_error_line(done) == ("relais: consultation inconnue « climat » "
                                    "(connues : diagnostic, jeunesse, mobilite)")
    with sqlite3.connect(tmp_path / "relais.db") as connection:
        assert connection.execute("SELECT count(*) FROM invites").fetchone() == (0,)


def test_invite_create_without_link_nor_number_warns_it_cannot_be_used_yet(tmp_path):
    relais(tmp_path, "association", "add", "Les Amis du Vélo")
    done = relais(tmp_path, "invite", "create", "--association", "Les Amis du Vélo",
                  "--consultation", "mobilite",
                  env={**PROVIDERS, "TELEGRAM_BOT_USERNAME": "",
                       "TWILIO_FROM": "MG" + "0" * 32})  # a messaging service: no number
    assert done.returncode == 0, done.stderr
    assert "pas encore ouverts" in done.stdout and "vous sera communiqué" not in done.stdout
    assert "QR code : aucun" in done.stdout and not (tmp_path / "invitations").exists()
    assert "TELEGRAM_BOT_USERNAME" in done.stderr and "TWILIO_FROM" in done.stderr


async def test_invite_create_asks_telegram_for_the_bot_name(tmp_path):
    relais(tmp_path, "association", "add", "Les Amis du Vélo")
    async with tg.FakeTelegramApi() as fake:
        done = await asyncio.to_thread(
            relais, tmp_path, "invite", "create", "--association", "Les Amis du Vélo",
            "--consultation", "mobilite",
            env={"TELEGRAM_BOT_TOKEN": tg.DEFAULT_TOKEN, "TELEGRAM_API_BASE_URL": fake.base_url,
                 "TELEGRAM_WEBHOOK_SECRET": "s" * 32})
    assert done.returncode == 0, done.stderr
    assert "lien Telegram : https://t.me/relais_hdf_bot?start=" in done.stdout
    assert [call.method for call in fake.calls] == ["getMe"]
    assert done.stderr == ""


async def test_invite_create_goes_on_without_link_when_telegram_refuses(tmp_path):
    relais(tmp_path, "association", "add", "Les Amis du Vélo")
    async with tg.FakeTelegramApi(token="1:another-token") as fake:  # ours gets 401
        done = await asyncio.to_thread(
            relais, tmp_path, "invite", "create", "--association", "Les Amis du Vélo",
            "--consultation", "mobilite",
            env={**PROVIDERS, "TELEGRAM_BOT_USERNAME": "", "TELEGRAM_BOT_TOKEN": tg.DEFAULT_TOKEN,
                 "TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_WEBHOOK_SECRET": "s" * 32})
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("relais: nom du bot Telegram inconnu, invitation sans lien")
    assert len(done.stderr.strip().splitlines()) == 1
    assert tg.DEFAULT_TOKEN not in done.stderr + done.stdout
    assert "lien Telegram : aucun" in done.stdout
    code = re.search(r"^code : (\w+)$", done.stdout, re.MULTILINE).group(1)
    assert f"SMS : Envoyez {code} au 06 12 34 56 78" in done.stdout
    assert (tmp_path / "invitations" / f"invitation-{code}.svg").exists()


@pytest.mark.parametrize("command", [["association"], ["association", "add"], ["invite"],
                                     ["invite", "create"], ["invite", "list"]])
def test_invite_commands_have_help(command, tmp_path):
    done = relais(tmp_path, *command, "--help")
    assert done.returncode == 0 and "usage: relais" in done.stdout
