"""Text search in answers, accent- and case-insensitive, on both databases: SQLite's FTS5 index
and PostgreSQL's trigram index over a folded copy of each answer's redacted text."""

import re
import unicodedata

from sqlalchemy import Boolean, ColumnElement, and_, literal_column, select, text
from sqlalchemy.ext.compiler import compiles

from storage.tables import Answer

# The index and its companions, made by the migrations and not described by the models.
SEARCH_TABLES = ("answers_search",)
SEARCH_INDEX = "ix_answers_search_trgm"
MAX_WORDS = 8
_WORD = re.compile(r"\w{2,}")


def fold(value: str | None) -> str | None:
    """Returns text as it is searched: lower case, without accents, single-spaced."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value.lower().replace("œ", "oe"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def words(query: str) -> list[str]:
    """Returns the words of a search (two letters or more), folded, at most MAX_WORDS."""
    return _WORD.findall(fold(query) or "")[:MAX_WORDS]


class Matching(ColumnElement[bool]):
    """The answers holding every word of a search: compiled as an FTS5 lookup on SQLite
    (each word as the start of a word) and as trigram-indexed ILIKEs on PostgreSQL (anywhere
    in a word), so that one filter serves both databases."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, found: list[str]) -> None:
        self.words = found


@compiles(Matching, "sqlite")
def _sqlite(element: Matching, compiler, **kw) -> str:
    expression = " AND ".join(f'"{w}"*' for w in element.words)
    ids = select(literal_column("rowid")).select_from(text("answers_search")).where(
        text("answers_search MATCH :search").bindparams(search=expression))
    return compiler.process(Answer.id.in_(ids), **kw)


@compiles(Matching)
def _other(element: Matching, compiler, **kw) -> str:
    return compiler.process(and_(*(Answer.search_text.ilike(f"%{w}%")
                                   for w in element.words)), **kw)


def matching(query: str) -> ColumnElement[bool] | None:
    """Returns the condition that keeps the answers holding every word of the query; None
    for a query without words."""
    found = words(query)
    return Matching(found) if found else None


def include_object(item, name, kind, reflected, compare_to) -> bool:
    """Tells Alembic's comparison to leave the search index out: the models do not list it."""
    if kind == "table" and name and name.startswith(SEARCH_TABLES):
        return False
    return not (kind == "index" and name == SEARCH_INDEX)
