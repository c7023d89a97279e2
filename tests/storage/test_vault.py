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
