"""Whole-message keywords that work at every step of every consultation."""

from enum import StrEnum

from .text import fold_words


class Keyword(StrEnum):
    """What a whole-message keyword asks for."""

    HELP = "help"
    STOP = "stop"
    START = "start"
    RESTART = "restart"
    MY_DATA = "my_data"
    ERASE = "erase"
    SKIP = "skip"


# Opt-out words: French ones plus the English words carriers and Twilio honour.
_WORDS = {
    Keyword.STOP: {"stop", "arret", "arrete", "stop sms", "desabonner", "desinscrire",
                   "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"},
    Keyword.START: {"start", "unstop", "demarrer", "reprendre"},
    Keyword.HELP: {"aide", "help", "info", "infos", "au secours"},
    Keyword.RESTART: {"recommencer", "reset"},
    Keyword.MY_DATA: {"mes donnees", "mesdonnees", "mes donnee", "mes reponses"},
    Keyword.ERASE: {"supprimer", "effacer", "supprimer mes donnees"},
    Keyword.SKIP: {"passer", "je passe", "passe", "suivant", "suivante"},
}
_LOOKUP = {word: keyword for keyword, words in _WORDS.items() for word in words}


def keyword_of(text: str) -> Keyword | None:
    """Returns the keyword a message is, compared whole after folding, or None."""
    words = fold_words(text)
    # Telegram sends commands such as "/aide" or "/stop@relais_bot".
    if text.strip().startswith("/"):
        words = fold_words(text.strip()[1:].split("@", 1)[0])
    return _LOOKUP.get(words)
