"""Keyed pseudonyms and encryption of participants' addresses."""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: bytes, purpose: bytes) -> bytes:
    # One secret, separate keys per use: a leaked pseudonym key does not decrypt addresses.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Vault:
    """Turns addresses into pseudonyms and sealed ciphertexts with keys from one secret."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ValueError("the secret key must be at least 16 characters long")
        secret = secret_key.encode("utf-8")
        self._pseudonym_key = _derive(secret, b"relais/pseudonym/v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"relais/identity/v1")))
        self._secrets = Fernet(base64.urlsafe_b64encode(
            _derive(secret, b"relais/admin-secret/v1")))
        self._sign_in_key = _derive(secret, b"relais/sign-in-failures/v1")
        self._form_key = _derive(secret, b"relais/form-token/v1")

    def pseudonym(self, channel: str, address: str) -> str:
        """Returns the stable keyed pseudonym (HMAC-SHA256, hex) of a channel address."""
        message = f"{channel}:{address}".encode()
        return hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()

    def sign_in_tag(self, email: str) -> str:
        """Returns the keyed hash (HMAC-SHA256, hex) under which failed sign-ins for what was
        typed as an e-mail are counted: without the secret key, a leaked table gives nothing
        back, not even a password typed in the wrong field."""
        return hmac.new(self._sign_in_key, email.encode(), hashlib.sha256).hexdigest()

    def form_token(self, value: str) -> str:
        """Returns the form token bound to a value (the web chat's cookie): an HMAC-SHA256,
        URL-safe, that nobody can make without the secret key."""
        digest = hmac.new(self._form_key, value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def seal(self, address: str) -> str:
        """Encrypts an address for the identity table."""
        return self._fernet.encrypt(address.encode("utf-8")).decode("ascii")

    def open(self, ciphertext: str) -> str:
        """Decrypts an address; raises ValueError when the key does not match."""
        return _decrypt(self._fernet, ciphertext)

    def seal_secret(self, secret: str) -> str:
        """Encrypts an admin account's secret (its TOTP key), under a key of its own."""
        return self._secrets.encrypt(secret.encode("utf-8")).decode("ascii")

    def open_secret(self, ciphertext: str) -> str:
        """Decrypts an admin account's secret; raises ValueError when the key does not match."""
        return _decrypt(self._secrets, ciphertext)


def _decrypt(fernet: Fernet, ciphertext: str) -> str:
    try:
        return fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise ValueError("cannot be decrypted with this secret key") from error
