"""SMS spellings are rewritten in standard French, whole words only, the same in batches."""

import pytest

from nlp.normalise import (
    LEXICON,
    LexiconError,
    Normaliser,
    fold_accents,
    normalise,
    normalise_many,
    read_lexicon,
)


@pytest.mark.parametrize(("written", "standard"), [
    ("jpaye trop cher pr aller a Lille", "je paye trop cher pour aller a Lille"),
    ("c tjrs en retar", "c'est toujours en retard"),
    ("g envoyé 60 CV", "j'ai envoyé 60 CV"),
    ("jsp pk ya pa de bus", "je ne sais pas pourquoi il y a pas de bus"),
    ("bjr svp qqn peut m'aider", "bonjour s'il vous plaît quelqu'un peut m'aider"),
    ("mm le dimanche tt est fermé ds mon village", "même le dimanche tout est fermé dans mon "
                                                   "village"),
    ("pas de taf bcp de galère", "pas de travail beaucoup de galère"),
    ("l'appart est trop cher", "l'appartement est trop cher"),  # after an elided article
    ("j'suis au chomage", "je suis au chômage"),
    ("Jser la demain", "je serai la demain"),
    ("trooooop cher!!!", "trop cher!"),  # no French word has a letter three times
    ("LE TER EST TJRS EN RETARD", "le ter est toujours en retard"),  # all in capitals
    ("la CC du Vimeu et le PR du car", "la CC du Vimeu et le PR du car"),  # acronyms stay
    ("c'est nul", "c'est nul"),  # "c" is only rewritten alone
    ("Saint-Quentin, Amiens, Lille", "Saint-Quentin, Amiens, Lille"),
    ("", ""),
])
def test_sms_spellings_become_standard_french(written, standard):
    assert normalise(written) == standard


def test_a_batch_gives_what_each_text_gives_alone():
    texts = ["tjrs en retard", "", "pr le \x1e ter", "bcp\ntrop cher", "ok"]
    assert normalise_many(texts) == [normalise(text) for text in texts]
    assert len(normalise_many(texts)) == len(texts) and normalise_many([]) == []


def test_the_shipped_lexicon_has_several_hundred_spellings_none_an_ordinary_word():
    lexicon = read_lexicon(LEXICON)
    assert len(lexicon) >= 500
    # Forms that are also French words would change answers that were right.
    for word in ("sa", "ces", "tel", "cote", "voit", "a", "ou", "la", "des"):
        assert word not in lexicon


def test_a_custom_lexicon_is_used_as_given():
    assert Normaliser({"Tjrs": "toujours"})("tjrs et bcp") == "toujours et bcp"


@pytest.mark.parametrize("content", ["pr\n", "pr\t\n", "\tpour\n"])
def test_a_bad_lexicon_line_is_named(tmp_path, content):
    path = tmp_path / "lexicon.tsv"
    path.write_text("# comment\n" + content, encoding="utf-8")
    with pytest.raises(LexiconError, match="ligne 2"):
        read_lexicon(path)


def test_accents_are_folded_on_latin_letters_only():
    assert fold_accents("Très élevé, à côté, Thiérache, naïf, Ça") == \
        "Tres eleve, a cote, Thierache, naif, Ca"
    assert fold_accents("œuvre 🚆 €") == "œuvre 🚆 €"
    assert fold_accents("deja") == "deja"
