"""Settings come from the environment only, and fail fast where production needs them."""

import pytest

from bot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError

SECRET = "s" * 40


def test_defaults_are_the_embedded_database_and_development(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL and settings.env == "development"
    assert (tmp_path / ".relais-secret").read_text().strip() == settings.secret_key
    assert Settings.from_env({}).secret_key == settings.secret_key  # stable across runs
    assert (tmp_path / ".relais-secret").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("environ", "message"), [
    ({"RELAIS_ENV": "production"}, "RELAIS_SECRET_KEY est obligatoire en production"),
    ({"RELAIS_SECRET_KEY": "court"}, "au moins 32 caractères"),
    ({"RELAIS_ENV": "prod", "RELAIS_SECRET_KEY": SECRET}, "RELAIS_ENV doit valoir"),
    ({"RELAIS_ENV": "production", "RELAIS_SECRET_KEY": SECRET},
     "RELAIS_DPO_CONTACT .* est obligatoire en production"),
])
def test_bad_settings_are_refused_with_the_name_of_the_variable(environ, message, tmp_path,
                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_the_contract_variables_are_read():
    settings = Settings.from_env({
        "RELAIS_SECRET_KEY": SECRET, "RELAIS_DATABASE_URL": "postgresql://db/relais",
        "RELAIS_PUBLIC_URL": "https://relais.hautsdefrance.fr/",
        "TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_WEBHOOK_SECRET": "w" * 20,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot", "TELEGRAM_BOT_USERNAME": "relais_bot",
        "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+33937001234",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9"})
    assert settings.privacy_url == "https://relais.hautsdefrance.fr/confidentialite"
    assert settings.telegram_api_base_url == "http://127.0.0.1:9/bot"
    assert settings.twilio_from == "+33937001234" and settings.database_url.startswith("postgres")
    assert settings.telegram_bot_token == "1:abc" and settings.telegram_webhook_secret == "w" * 20
    assert settings.twilio_account_sid == "AC1" and settings.twilio_auth_token == "t"
    assert settings.twilio_api_base_url == "http://127.0.0.1:9"
    assert settings.telegram_bot_username == "relais_bot"
    assert settings.sms_per_second == 10.0  # the README's default


@pytest.mark.parametrize(("name", "value", "attribute", "expected"), [
    ("RELAIS_SMS_PER_SECOND", "4", "sms_per_second", 4.0),
    ("RELAIS_SMS_PER_SECOND", "100", "sms_per_second", 100.0),
    ("RELAIS_OUTBOX_LEASE_SECONDS", "3", "outbox_lease_seconds", 3.0),
    ("RELAIS_SMS_PRICE_EUR", "0,05", "sms_price_eur", 0.05),
    ("RELAIS_INTAKE", "journal", "intake", "journal"),
    ("RELAIS_ADMIN_2FA", "required", "admin_second_factor", "required"),
])
def test_each_variable_sets_its_setting(name, value, attribute, expected):
    assert getattr(Settings.from_env({"RELAIS_SECRET_KEY": SECRET, name: value}),
                   attribute) == expected


def test_the_simulator_is_off_in_production_unless_asked():
    production = {"RELAIS_ENV": "production", "RELAIS_SECRET_KEY": SECRET,
                  "RELAIS_DPO_CONTACT": "dpo@hautsdefrance.fr"}
    assert not Settings.from_env(production).simulator_enabled
    assert Settings.from_env({**production, "RELAIS_SIMULATOR": "1"}).simulator_enabled


def test_the_simulator_is_on_in_development_unless_turned_off():
    assert Settings.from_env({"RELAIS_SECRET_KEY": SECRET}).simulator_enabled
    assert not Settings.from_env({"RELAIS_SECRET_KEY": SECRET,
                                  "RELAIS_SIMULATOR": "0"}).simulator_enabled
