"""Password rules, argon2id hashing, and that no plaintext password reaches the database."""

import pytest
from sqlalchemy import select

from admin import passwords
from storage.tables import Base
from tests.admin.conftest import add_user, sign_in

EMAIL = "camille.durand@region.example.fr"


@pytest.mark.parametrize(("password", "refusal"), [
    ("a1b2c3d4e5f", "au moins 12"),  # 11 characters
    ("qwerty12345", "au moins 12"),  # 11 characters and common
    ("qwerty123456", "trop courant"),
    ("motdepasse2024!", "trop courant"),
    ("2024motdepasse", "trop courant"),
    ("MotDePasse2024", "trop courant"),
    ("aaaaaaaaaaaaaaa", "trop courant"),
    ("camille.durand-2026", "adresse e-mail"),
    ("Mon CAMILLE.DURAND à moi", "adresse e-mail"),
    ("x" * 1025, "dépasser"),
])
def test_refused_passwords_say_why(password, refusal):
    with pytest.raises(passwords.WeakPassword, match=refusal):
        passwords.check(password, EMAIL)


@pytest.mark.parametrize("password", [
    "k7#pQ2!vX9mL",  # 12 characters
    "une phrase de passe à moi",
    "é" * 6 + "mer-sable",
    "Z" + "y7-" * 21,  # 64 characters
    "longue " * 28 + "fin",  # 199 characters
])
def test_accepted_passwords(password):
    passwords.check(password, EMAIL)


def test_qwerty12345_is_in_the_common_list():
    assert "qwerty12345" in passwords.common_passwords()


def test_the_hash_is_argon2id_and_salted():
    first, second = (passwords.hash_password("une phrase de passe à moi") for _ in range(2))
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert first != second
    assert passwords.verify(first, "une phrase de passe à moi")
    assert not passwords.verify(first, "une phrase de passe à moi ")


def test_a_200_character_password_must_match_exactly():
    password = "".join(chr(ord("a") + i % 26) for i in range(199)) + "Z"
    assert len(password) == 200
    stored = passwords.hash_password(password)
    assert passwords.verify(stored, password)
    assert not passwords.verify(stored, password[:-1] + "Y")  # no truncation anywhere
    assert not passwords.verify(stored, password[:72])


def test_composed_and_decomposed_accents_open_the_same_account():
    stored = passwords.hash_password("café au lait chaud")  # é as one character
    assert passwords.verify(stored, "cafe\u0301 au lait chaud")  # e + combining acute


def test_no_hash_never_verifies():
    assert not passwords.verify(None, "relais-compte-inexistant")
    assert not passwords.verify("pas-un-hash", "une phrase de passe à moi")


def test_generated_passphrases_are_long_readable_and_random():
    drawn = [passwords.generate(EMAIL) for _ in range(200)]
    assert len(set(drawn)) == 200
    for phrase in drawn:
        assert len(phrase) >= 16
        passwords.check(phrase, EMAIL)
        assert all(word.isalpha() and word.islower() for word in phrase.split("-"))


async def test_no_table_holds_a_plaintext_password(web, db):
    right, wrong = "canari-correct-7f3a9", "canari-errone-2b8c1"
    await add_user(db, EMAIL, "official", password=right)
    assert (await sign_in(web, EMAIL, wrong)).status == 401
    assert (await sign_in(web, EMAIL, right)).status == 200
    cells = []
    async with db.read() as tx:
        for table in Base.metadata.sorted_tables:
            for row in (await tx.execute(select(table))).all():
                cells.extend(str(value) for value in row)
    assert cells  # the account, its session and the audit entries are there
    assert not [cell for cell in cells if right in cell or wrong in cell]
    assert any(cell.startswith("$argon2id$") for cell in cells)
