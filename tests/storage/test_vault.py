"""Pseudonyms are keyed and stable; addresses are encrypted and only readable with the key."""

import pytest

from storage.vault import Vault

KEY = "k" * 40


def test_pseudonyms_are_stable_per_key_and_channel():
    vault = Vault(KEY)
    assert vault.pseudonym("sms", "+33612345678") == vault.pseudonym("sms", "+33612345678")
    assert vault.pseudonym("sms", "+33612345678") != vault.pseudonym("telegram", "+33612345678")
    assert vault.pseudonym("sms", "+33612345678") != Vault("z" * 40).pseudonym("sms",
                                                                                "+33612345678")
    assert "33612345678" not in vault.pseudonym("sms", "+33612345678")


def test_addresses_are_sealed_and_opened_only_with_the_same_key():
    sealed = Vault(KEY).seal("+33612345678")
    assert "612345678" not in sealed
    assert Vault(KEY).open(sealed) == "+33612345678"
    with pytest.raises(ValueError):
        Vault("z" * 40).open(sealed)


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        Vault("short")


def test_admin_secrets_have_a_key_of_their_own():
    vault = Vault(KEY)
    sealed = vault.seal_secret("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert vault.open_secret(sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError):
        vault.open(sealed)  # the address key cannot read it, nor the other way round
    with pytest.raises(ValueError):
        vault.open_secret(vault.seal("+33612345678"))
