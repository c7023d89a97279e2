"""Time-based one-time codes (TOTP, RFC 6238) of the admin view's second factor."""

import re
from datetime import datetime

import pyotp

ISSUER = "Relais"
STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1  # the previous and next steps too: phones whose clock drifts a little
REQUIRED_ROLES = ("official", "admin")  # who must have it when the setting says "required"


def new_secret() -> str:
    """Returns a fresh random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """Returns the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """Returns a secret in groups of four characters, for typing it by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def step_of(at: datetime) -> int:
    """Returns the number of the 30-second step a time falls in."""
    return int(at.timestamp()) // STEP_SECONDS


def accepted_step(secret: str, code: str, at: datetime, last_step: int | None) -> int | None:
    """Returns the step whose code this is, within one step of `at` and later than
    `last_step` (a code is accepted once); None when the code does not match."""
    code = re.sub(r"\s", "", code)
    if not re.fullmatch(rf"\d{{{DIGITS}}}", code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = step_of(at)
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if (last_step is None or step > last_step) \
                and pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def required(setting: str, role: str) -> bool:
    """Tells whether an account of this role must have a second factor."""
    return setting == "required" and role in REQUIRED_ROLES
