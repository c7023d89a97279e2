"""Relais settings: the only module that reads environment variables."""

import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///relais.db"
SECRET_FILE = Path(".relais-secret")
TELEGRAM_API = "https://api.telegram.org/bot"
TWILIO_API = "https://api.twilio.com"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything Relais is configured with, read once at start-up."""

    env: str
    database_url: str
    secret_key: str
    public_url: str | None
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base_url: str = TELEGRAM_API
    telegram_bot_username: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_base_url: str = TWILIO_API
    default_consultation: str = "mobilite"
    flows_dir: Path | None = None
    simulator: bool | None = None
    spool_dir: Path = Path("spool")
    sms_per_second: float = 10.0
    outbox_lease_seconds: float = 120.0
    intake: str = "database"
    models_dir: Path = Path("models")
    sms_price_eur: float = 0.08  # per segment, for the feedback cost estimate
    trusted_proxies: frozenset[str] = frozenset()  # whose X-Forwarded-For is believed
    admin_second_factor: str = "optional"  # or "required" for officials and admins
    dpo_contact: str | None = None  # the data protection officer, named in the notice

    @property
    def production(self) -> bool:
        """Tells whether Relais runs in production (secrets required, secure cookies)."""
        return self.env == "production"

    @property
    def simulator_enabled(self) -> bool:
        """Tells whether /simulateur is served: always in development, on request otherwise."""
        return self.simulator if self.simulator is not None else not self.production

    @property
    def privacy_url(self) -> str:
        """Returns the address of the privacy notice linked from every consultation."""
        return f"{(self.public_url or 'http://127.0.0.1:8080').rstrip('/')}/confidentialite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Reads the settings from the environment; fails fast on what production needs."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        mode = get("RELAIS_ENV") or "development"
        if mode not in ("development", "production", "test"):
            raise SettingsError(f"RELAIS_ENV doit valoir development, production ou test "
                                f"(reçu « {mode} »)")
        secret = get("RELAIS_SECRET_KEY")
        if secret is None:
            if mode == "production":
                raise SettingsError("RELAIS_SECRET_KEY est obligatoire en production")
            secret = _development_secret()
        if len(secret) < 32:
            raise SettingsError("RELAIS_SECRET_KEY doit compter au moins 32 caractères")
        flows_dir = get("RELAIS_FLOWS_DIR")
        webhook_secret = get("TELEGRAM_WEBHOOK_SECRET")
        if webhook_secret and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook_secret):
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET : 16 à 256 caractères parmi A-Z a-z "
                                "0-9 _ -")
        if get("TELEGRAM_BOT_TOKEN") and get("RELAIS_PUBLIC_URL") and not webhook_secret:
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET est obligatoire pour recevoir les "
                                "webhooks Telegram (RELAIS_PUBLIC_URL est défini)")
        twilio = [get(n) for n in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")]
        if any(twilio) and not all(twilio):
            raise SettingsError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN et TWILIO_FROM vont "
                                "ensemble : il en manque")
        if all(twilio) and not get("RELAIS_PUBLIC_URL"):
            raise SettingsError("RELAIS_PUBLIC_URL est obligatoire pour vérifier les "
                                "signatures Twilio")
        try:
            sms_rate = float(get("RELAIS_SMS_PER_SECOND") or 10)
            lease = float(get("RELAIS_OUTBOX_LEASE_SECONDS") or 120)
            sms_price = float((get("RELAIS_SMS_PRICE_EUR") or "0.08").replace(",", "."))
        except ValueError:
            raise SettingsError("RELAIS_SMS_PER_SECOND, RELAIS_OUTBOX_LEASE_SECONDS et "
                                "RELAIS_SMS_PRICE_EUR sont des nombres") from None
        database_url = get("RELAIS_DATABASE_URL") or DEFAULT_DATABASE_URL
        # On SQLite the journal sits on the same local disk as the database: acknowledging
        # after its fsync asks nothing more of the machine and never waits for the writer.
        intake = get("RELAIS_INTAKE") or (
            "journal" if database_url.startswith("sqlite") else "database")
        if intake not in ("database", "journal"):
            raise SettingsError("RELAIS_INTAKE doit valoir database ou journal")
        dpo = get("RELAIS_DPO_CONTACT")
        if mode == "production" and not dpo:
            raise SettingsError("RELAIS_DPO_CONTACT (le contact du délégué à la protection des "
                                "données, nommé dans la notice) est obligatoire en production")
        second_factor = get("RELAIS_ADMIN_2FA") or "optional"
        if second_factor not in ("optional", "required"):
            raise SettingsError("RELAIS_ADMIN_2FA doit valoir optional ou required")
        return cls(
            env=mode,
            database_url=database_url,
            secret_key=secret,
            public_url=get("RELAIS_PUBLIC_URL"),
            telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_webhook_secret=webhook_secret,
            telegram_api_base_url=get("TELEGRAM_API_BASE_URL") or TELEGRAM_API,
            telegram_bot_username=get("TELEGRAM_BOT_USERNAME"),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_from=get("TWILIO_FROM"),
            twilio_api_base_url=get("TWILIO_API_BASE_URL") or TWILIO_API,
            default_consultation=get("RELAIS_DEFAULT_CONSULTATION") or "mobilite",
            flows_dir=Path(flows_dir) if flows_dir else None,
            simulator={"1": True, "0": False}.get(get("RELAIS_SIMULATOR") or ""),
            spool_dir=Path(get("RELAIS_SPOOL_DIR") or "spool"),
            sms_per_second=sms_rate,
            outbox_lease_seconds=lease,
            intake=intake,
            models_dir=Path(get("RELAIS_MODELS_DIR") or "models"),
            sms_price_eur=sms_price,
            trusted_proxies=frozenset(
                p.strip() for p in (get("RELAIS_TRUSTED_PROXIES") or "").split(",") if p.strip()),
            admin_second_factor=second_factor,
            dpo_contact=dpo,
        )


def log_settings(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Reads how to log (RELAIS_LOG_FORMAT plain or json, RELAIS_LOG_LEVEL), before anything
    else is read, so that every other line already has the right form."""
    env = os.environ if environ is None else environ
    form = (env.get("RELAIS_LOG_FORMAT") or "plain").strip().lower()
    level = (env.get("RELAIS_LOG_LEVEL") or "INFO").strip().upper()
    if form not in ("plain", "json"):
        raise SettingsError("RELAIS_LOG_FORMAT doit valoir plain ou json")
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("RELAIS_LOG_LEVEL doit valoir DEBUG, INFO, WARNING ou ERROR")
    return form, level


def _development_secret() -> str:
    """Reads, or creates once, a local secret so pseudonyms stay stable between runs."""
    if SECRET_FILE.exists():
        return SECRET_FILE.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(48)
    SECRET_FILE.touch(mode=0o600)
    SECRET_FILE.write_text(secret + "\n", encoding="utf-8")
    log.warning("RELAIS_SECRET_KEY absent : clé de développement créée dans %s "
                "(à ne pas utiliser en production)", SECRET_FILE.resolve())
    return secret
