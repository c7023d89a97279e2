"""Passwords of admin accounts: the rules a new one must meet, and argon2id hashing."""

import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # long passphrases are welcome; this only bounds the hashing work

# argon2-cffi's defaults follow RFC 9106's second recommendation (argon2id, 64 MiB, 3 passes).
_HASHER = PasswordHasher()
# Verified against when the account does not exist, so that both cases take as long.
_DUMMY = _HASHER.hash("relais-compte-inexistant")


class WeakPassword(ValueError):
    """A password the rules refuse; the message says why, in French."""


@cache
def common_passwords() -> frozenset[str]:
    """Returns the list of common passwords shipped with Relais, lower-cased."""
    text = resources.files("admin").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check(password: str, email: str = "") -> None:
    """Raises WeakPassword unless the password meets the rules (length, not common, not the
    e-mail); no composition rules, as NIST and OWASP advise."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères.")
    folded = password.lower()
    stem = re.sub(r"[\d\W_]+$", "", folded)  # "motdepasse2024!" is still "motdepasse"
    if folded in common_passwords() or stem in common_passwords() or len(set(folded)) < 4:
        raise WeakPassword("Ce mot de passe est trop courant : choisissez une phrase à vous.")
    local = email.strip().lower().split("@")[0]
    if len(local) >= 4 and local in folded:
        raise WeakPassword("Le mot de passe ne doit pas contenir votre adresse e-mail.")


def hash_password(password: str) -> str:
    """Returns the argon2id hash of a password."""
    return _HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Tells whether a password matches a hash; with None, spends the same time and says no."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
