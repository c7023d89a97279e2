"""Asking a person who arrived without an invite which association sent them."""

from bot.engine.text import fold_words, read_integer

STEP = "_association"
MAX_LISTED = 12  # beyond this a list is unreadable on a phone; people type the name instead
NONE_LABEL = "Aucune / je ne sais pas"


def question(names: list[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Returns the French question and its choices, numbered, with 0 for none."""
    listed = names[:MAX_LISTED]
    lines = ["Bonjour ! Quelle association vous a parlé de Relais ?"]
    lines += [f"{number}. {name}" for number, name in enumerate(listed, 1)]
    lines.append(f"0. {NONE_LABEL}")
    if len(names) > MAX_LISTED:
        lines.append("Vous pouvez aussi écrire son nom.")
    choices = (*((str(n), name) for n, name in enumerate(listed, 1)), ("0", NONE_LABEL))
    return "\n".join(lines), choices


def match(answer: str, names: list[str]) -> str | None:
    """Returns the association meant by a number or a name, or None for none or no match."""
    number = read_integer(answer)
    if number is not None:
        return names[number - 1] if 1 <= number <= min(len(names), MAX_LISTED) else None
    wanted = fold_words(answer)
    if not wanted:
        return None
    exact = [name for name in names if fold_words(name) == wanted]
    if exact:
        return exact[0]
    partial = [name for name in names if wanted in fold_words(name)]
    return partial[0] if len(partial) == 1 else None
