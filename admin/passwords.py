"""Passwords of admin accounts: the rules a new one must meet, argon2id hashing, and readable
generated passphrases."""

import asyncio
import re
import secrets
import unicodedata
import weakref
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
# Hashes computed at once, in threads: each takes 64 MiB and about a core for a tenth of a
# second, so a burst of sign-ins queues here instead of exhausting memory and cores.
CONCURRENT_HASHES = 2
_SLOTS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = \
    weakref.WeakKeyDictionary()

# Syllables of a generated passphrase: 16 consonants × 5 vowels, easy to read and dictate.
_CONSONANTS = "bdfgjklmnprstvxz"
_VOWELS = "aeiou"


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
    password = _normal(password)
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères.")
    folded = password.lower()
    # "motdepasse2024!" and "2024motdepasse" are still "motdepasse".
    stem = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", folded)
    if folded in common_passwords() or stem in common_passwords() or len(set(folded)) < 4:
        raise WeakPassword("Ce mot de passe est trop courant : choisissez une phrase à vous.")
    local = email.strip().lower().split("@")[0]
    if len(local) >= 4 and local in folded:
        raise WeakPassword("Le mot de passe ne doit pas contenir votre adresse e-mail.")


def hash_password(password: str) -> str:
    """Returns the argon2id hash of a password."""
    return _HASHER.hash(_normal(password))


def verify(password_hash: str | None, password: str) -> bool:
    """Tells whether a password matches a hash; with None, spends the same time and says no."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, _normal(password)) \
            and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_in_thread(password: str) -> str:
    """Returns the argon2id hash of a password, computed in a thread: the event loop goes on
    serving other requests meanwhile."""
    async with _slots():
        return await asyncio.to_thread(hash_password, password)


async def verify_in_thread(password_hash: str | None, password: str) -> bool:
    """Tells whether a password matches a hash (see verify), checked in a thread."""
    async with _slots():
        return await asyncio.to_thread(verify, password_hash, password)


def _slots() -> asyncio.Semaphore:
    # One semaphore per event loop: an asyncio primitive belongs to the loop it first waits on.
    loop = asyncio.get_running_loop()
    if loop not in _SLOTS:
        _SLOTS[loop] = asyncio.Semaphore(CONCURRENT_HASHES)
    return _SLOTS[loop]


def needs_rehash(password_hash: str) -> bool:
    """Tells whether a hash was made with weaker parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def generate(email: str = "") -> str:
    """Returns a random passphrase such as "kavo-mipu-rete-sano-bixe-lufa" (about 76 bits)."""
    while True:
        words = ("".join(secrets.choice(_CONSONANTS) + secrets.choice(_VOWELS)
                         for _ in range(2)) for _ in range(6))
        phrase = "-".join(words)
        try:
            check(phrase, email)
        except WeakPassword:  # vanishingly rare (it would contain the e-mail): draw again
            continue
        return phrase


def _normal(password: str) -> str:
    # The same characters typed on two keyboards can differ in composition ("é" or "e"+"́"):
    # NIST SP 800-63B asks for NFKC before hashing, so both open the account.
    return unicodedata.normalize("NFKC", password)
