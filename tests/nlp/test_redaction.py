"""Redaction of personal data: tricky answers, the hand-labelled set's targets, and bad input."""

import itertools
import json
import time

import pytest

from nlp import redaction, redaction_eval
from nlp.redaction import LABELS, PLACEHOLDERS, Redactor, Span


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor.load()


@pytest.mark.parametrize(("text", "redacted"), [
    # persons: titles stay, relations stay, the name goes
    ("J'ai parlé avec M. Dupont de la mairie.", "J'ai parlé avec M. [personne] de la mairie."),
    ("ma voisine Fatima n'a pas de voiture", "ma voisine [personne] n'a pas de voiture"),
    ("Mme Lefebvre, ma voisine, attend le bus.", "Mme [personne], ma voisine, attend le bus."),
    ("mon petit frere ryan a été viré du bus", "mon petit frere [personne] a été viré du bus"),
    ("Ma fille Florence est partie en Italie.", "Ma fille [personne] est partie en Italie."),
    ("madame Rose de l'accueil nous aide", "madame [personne] de l'accueil nous aide"),
    ("Monsieur le Président Bertrand, je vous écris.",
     "Monsieur le Président [personne], je vous écris."),
    ("JE SUIS MARCEL DUQUESNE ET JE SUIS EN COLERE", "JE SUIS [personne] ET JE SUIS EN COLERE"),
    ("l'assistante sociale MME GOSSELIN nous a aidés",
     "l'assistante sociale MME [personne] nous a aidés"),
    ("Mes enfants Léa et Tom vont au collège.", "Mes enfants [personne] et [personne] vont au "
                                                "collège."),
    ("Je m'appelle Ngozi Adeyemi et je cherche une formation.",
     "Je m'appelle [personne] et je cherche une formation."),
    ("Claire ma fille a 15 ans", "[personne] ma fille a 15 ans"),
    ("le chauffeur, un certain Patrick, roule vite", "le chauffeur, un certain [personne], "
                                                     "roule vite"),
    ("Merci à Aurélie de la CAF.", "Merci à [personne] de la CAF."),
    ("jai parlé a kevin il est dac", "jai parlé a [personne] il est dac"),
    ("Je suis Mme Petit et l'abribus est cassé.", "Je suis Mme [personne] et l'abribus est "
                                                  "cassé."),
    # phones, French and international
    ("rappelez moi au 06 12 34 56 78 merci", "rappelez moi au [téléphone] merci"),
    ("tel +33 6 72 14 58 03", "tel [téléphone]"),
    ("Numéro : 0033 6 12 34 56 78.", "Numéro : [téléphone]."),
    ("Mon numéro : 06.45.78.12.90, le soir.", "Mon numéro : [téléphone], le soir."),
    ("Standard : (+33) 3 22 45 67 89", "Standard : [téléphone]"),
    ("Belgique +32 475 12 34 56, Londres +44 20 7946 0958",
     "Belgique [téléphone], Londres [téléphone]"),
    ("joignable au 06-23-45-67-89 apres 17h", "joignable au [téléphone] apres 17h"),
    ("contactez moi au0634125698", "contactez moi au[téléphone]"),
    ("num: +33 (0)6 12 45 78 96", "num: [téléphone]"),
    # e-mails, with the sentence's period left outside
    ("Vous pouvez m'écrire à kevin-dubois@hotmail.fr.", "Vous pouvez m'écrire à [courriel]."),
    ("Mon mail c'est kader.59@gmail.com.Mon tel c'est 06 12 98 74 56.",
     "Mon mail c'est [courriel].Mon tel c'est [téléphone]."),
    ("MON ADRESSE MAIL JEAN.LECLERCQ@WANADOO.FR", "MON ADRESSE MAIL [courriel]"),
    ("Envoyez à <yasmine.bouzid@gmail.com> merci", "Envoyez à <[courriel]> merci"),
    # addresses: from the number to the street name, postcode and town stay
    ("Notre local est au 3 bis avenue Jean Jaurès, 80000 Amiens.",
     "Notre local est au [adresse], 80000 Amiens."),
    ("J'habite au 12 rue de la Gare à Amiens.", "J'habite au [adresse] à Amiens."),
    ("ENVOYEZ LE COURRIER AU 24 RUE VICTOR HUGO 62300 LENS",
     "ENVOYEZ LE COURRIER AU [adresse] 62300 LENS"),
    ("on habite 5 rés. du Parc apt 12 et le parking est plein",
     "on habite [adresse] et le parking est plein"),
    ("le carrefour chemin des Près est dangereux", "le carrefour [adresse] est dangereux"),
    ("Domicile : résidence Les Hortensias, bâtiment C, Creil", "Domicile : [adresse], Creil"),
    # everything at once
    ("Bonjour, je suis Claire Dubois, j'habite 8 rue des Tanneurs à Amiens, tél. 06 21 43 65 87, "
     "mail claire.dubois@gmail.com.",
     "Bonjour, je suis [personne], j'habite [adresse] à Amiens, tél. [téléphone], "
     "mail [courriel]."),
])
def test_redacts(redactor, text, redacted):
    assert redactor.redact(text) == redacted


@pytest.mark.parametrize(("text", "redacted"), [
    # phones as people disguise or mistype them
    ("rappelez moi au 06/23/45/67/89 svp", "rappelez moi au [téléphone] svp"),
    ("num 07_12_98_45_63", "num [téléphone]"),
    ("joignable au O6 98 76 54 32 en semaine", "joignable au [téléphone] en semaine"),
    ("fixe : 03.2O.45.67.11", "fixe : [téléphone]"),
    ("mon portable 6 45 12 78 90 le soir", "mon portable [téléphone] le soir"),
    ("fixe 3 22 45 67 89", "fixe [téléphone]"),
    ("WhatsApp +33 6/12/45/78/96", "WhatsApp [téléphone]"),
    ("appelez le zéro six quarante-cinq douze soixante-dix-huit quatre-vingt-dix merci",
     "appelez le [téléphone] merci"),
    ("tel 06 trente 12 45 89", "tel [téléphone]"),
    ("zero sept, vingt et un, soixante et onze, quatre-vingt-dix-neuf, dix c'est moi",
     "[téléphone] c'est moi"),
    # e-mails disguised
    ("mon mail sandrine.colin@orange merci", "mon mail [courriel] merci"),
    ("écrivez à paul martin @ free.fr", "écrivez à [courriel]"),
    ("ecrivez a lea.morel arobase gmail point com", "ecrivez a [courriel]"),
    ("contact hugo.renaud(at)laposte(dot)net", "contact [courriel]"),
    ("courriel : ines.faure [at] yahoo [dot] fr.", "courriel : [courriel]."),
    ("theo62 at hotmail dot fr", "[courriel]"),
    ("mail: manon.perrin@gmail,com", "mail: [courriel]"),
    ("lucas.roy@gmail .com pour la suite", "[courriel] pour la suite"),
    # names in lower case, where the context makes them names
    ("je m'appelle emma lecomte et j'ai 22 ans", "je m'appelle [personne] et j'ai 22 ans"),
    ("moi c'est nicolas huet, chauffeur de car", "moi c'est [personne], chauffeur de car"),
    ("signé brigitte vasseur", "signé [personne]"),
    ("je suis marc leclercq, habitant de Roubaix", "je suis [personne], habitant de Roubaix"),
    ("jean dupont 06 12 34 56 78", "[personne] [téléphone]"),
    ("le fils de nadine prend le car a 6h", "le fils de [personne] prend le car a 6h"),
    ("cordialement, gilles boucher", "cordialement, [personne]"),
    # a job before the name: the person goes, the job and the organisation stay
    ("mon conseiller France Travail M. Lefebvre ne rappelle pas",
     "mon conseiller France Travail M. [personne] ne rappelle pas"),
    ("ma conseillère Mission locale, Mme Benali, est super",
     "ma conseillère Mission locale, Mme [personne], est super"),
    ("mon conseiller mission locale Romain m'a aidé",
     "mon conseiller mission locale [personne] m'a aidé"),
    ("l'assistante sociale madame fontaine a fait le dossier",
     "l'assistante sociale madame [personne] a fait le dossier"),
    ("mon éducateur Karim m'a aidé", "mon éducateur [personne] m'a aidé"),
    ("la secrétaire de la MDPH, madame gilbert, ne répond pas",
     "la secrétaire de la MDPH, madame [personne], ne répond pas"),
    # social-security numbers, checked by their key
    ("numéro de sécurité sociale : 2 86 03 62 041 127 26",
     "numéro de sécurité sociale : [NIR]"),
    ("1 72 11 2A 004 033 06 (né à Ajaccio)", "[NIR] (né à Ajaccio)"),
    ("n° 2-69-04-2B-004-178-67 merci", "n° [NIR] merci"),
    ("185057800608491", "[NIR]"),
    ("ma secu 1 02 07 80 021 078 cle 06", "ma secu [NIR]"),
    ("carte vitale 1 85 05 78 006 084", "carte vitale [NIR]"),
    # IBANs, checked by their check digits, the words after them left out
    ("mon IBAN FR76 3000 6000 0112 3456 7890 189 pour le remboursement",
     "mon IBAN [IBAN] pour le remboursement"),
    ("iban be68539007547034 merci", "iban [IBAN] merci"),
    ("DE89-3704-0044-0532-0130-00", "[IBAN]"),
    ("GB29 NWBK 6016 1331 9268 19.", "[IBAN]."),
])
def test_redacts_disguised_forms(redactor, text, redacted):
    assert redactor.redact(text) == redacted


@pytest.mark.parametrize("text", [
    "Rose, bleu ou vert, peu importe la couleur des bus, qu'ils passent à l'heure !",
    "J'ai passé une semaine à Florence avec le lycée.",
    "J'ai fait un stage à Vienne en Autriche grâce à Erasmus.",
    "Mon collègue fait du covoiturage depuis Albert tous les matins.",
    "Le TER 847123 a eu 40 minutes de retard.",
    "80000 Amiens c'est pas la campagne.",
    "Avec 12,50 € par jour de parking, je ne peux plus.",
    "Le 12/03/2024 le TER de 7h42 a été supprimé, et le 13/03/2024 à 8h15 aussi.",
    "Ma micro-entreprise (SIRET 123 456 789 00012) n'a aucune aide.",
    "Mon numéro de SIREN 123 456 789 et ma commande 123456789.",
    "Facture n° 2024-00457812 : on m'a facturé deux fois.",
    "Mon code client SNCF 0012 3456 7890 ne marche plus.",
    "Réunion le 01.02.2023 12:30 à la salle des fêtes.",
    "La CAF et Pôle emploi se renvoient la balle.",
    "La Mission locale de Calais fait du bon travail.",
    "Le quartier Saint-Pierre à Calais n'a pas de piste cyclable.",
    "jhabite a saint quentin et il y a pas de bus",
    "dans la rue y a plus personne apres 20h",
    "En cours d'EMC on a parlé de la consultation.",
    "Les Jeux Olympiques 2024 ont montré qu'on peut ajouter des trains.",
    "On a planté des marguerites et des violettes dans le jardin partagé.",
    "Favoriser le vélo, Baisser les prix, Développer les lignes.",
    "Le Président de la République et la Région Hauts-de-France doivent agir.",
    "PLUS DE ZONE BLANCHE DANS LES CAMPAGNES, LESQUELS VONT ENRICHIR NOS VOISINS",
    "Madame, Monsieur, je vous remercie pour cette consultation.",
    "Le lycée Jean Racine de Montdidier n'a pas de navette.",
    "Les DOM TOM sont loin.",
    # numbers that are no phone, NIR or IBAN
    "La ligne 14 passe à 6h12, 6h34 et 6h56.",
    "Les abonnés paient 35,20 € par mois depuis le 01/09/2023.",
    "les lignes 2, 6, 12 et 14 passent pas le dimanche",
    "on a attendu vingt minutes, deux fois par jour, trois jours sur cinq",
    "j'ai trois enfants de six, douze et quinze ans",
    "zéro bus après vingt-deux heures",
    "dossier 1 85 05 78 006 084 en attente",  # thirteen digits, no key, no word of a NIR
    "IBAN FR76 3000 6000 0112 3456 7890 188",  # a wrong check digit
    "SIRET 802 954 785 00028",
    "référence 1 72 11 2A 004 033 07",  # a NIR's shape with a wrong key
    "France 3 et TF1 en ont parlé.",
    # words that only look like disguised e-mails or names
    "le site region point fr ne marche pas",
    "RDV @ la gare à 18h",
    "on se voit at the gare",
    "un jean et des baskets",
    "grace a vous le bus passe",
    "je suis claire la dessus",
    "Je suis Picard et fier de l'être.",
    "merci madame pour tout",
    "Moi c'est surtout le soir que ça pose problème.",
    # organisations after a job are no persons
    "mon conseiller France Travail ne répond jamais",
    "la Mission Locale de Lens m'a proposé une formation",
    "l'assistante sociale de la CAF est débordée",
    "mon éducatrice spécialisée dit non",
])
def test_leaves_alone(redactor, text):
    assert redactor.redact(text) == text


def test_find_returns_sorted_labelled_spans(redactor):
    text = "Mme Benali, 4 rue des Champs, 06 87 45 12 36, benali@free.fr"
    assert redactor.find(text) == [Span(4, 10, "PERSON"), Span(12, 28, "ADDRESS"),
                                   Span(30, 44, "PHONE"), Span(46, 60, "EMAIL")]


def test_redact_many_is_redact_on_each(redactor):
    texts = ["Mon mari Hervé a le 06 45 23 12 89", "", "Rien à cacher.", "M. Dupont"] * 3
    assert redactor.redact_many(texts) == [redactor.redact(t) for t in texts]
    assert redactor.redact_many([]) == []


def test_word_lists_are_read_folded_without_comments():
    files = sorted(redaction.WORDS.glob("*.txt"))
    assert len(files) >= 15
    for file in files:
        entries = redaction._lines(file.stem)
        assert entries, file.name
        assert not any(entry.startswith("#") or entry != entry.lower() for entry in entries)
    assert "kevin" in redaction.FIRST_NAMES and "elodie" in redaction.FIRST_NAMES  # "Élodie"
    assert ("france", "travail") in redaction.ORGANISATIONS
    assert ("je", "m'", "appelle") in redaction.INTRODUCTIONS


def test_loads_only_the_entity_recogniser(redactor):
    assert redactor.nlp.pipe_names == ["ner"]
    assert "Favoriser" in redactor.lexicon and "Benali" not in redactor.lexicon


@pytest.mark.parametrize("text", [
    "",
    "😀🚌🚆👍",
    "😀" * 4096,
    ("Le bus 12 passe à 7h05, appelez Mme Dupont au 06 12 34 56 78 ou écrivez à "
     "dupont@free.fr, 3 rue de la Gare. " * 40)[:4096],
    "a" * 4096,
    "'" * 4096,
    "0" * 4096,
    "06 " * 1365,
    "Mme Dupont " * 372,
    # long runs of what the disguised forms are made of
    ("x at " * 820)[:4096],
    (" @ " * 1366)[:4096],
    ("zéro six " * 456)[:4096],
    ("FR76 " * 820)[:4096],
    "1 " * 2048,
    "0_" * 2048,
    "RAPPELEZ MOI AU 07 81 23 45 19 C URGENT LE BUS NE PASSE PLUS DEPUIS 3 SEMAINES",
    "\n\n\t  ",
])
def test_bad_input_is_quick_and_safe(redactor, text):
    began = time.process_time()
    spans = redactor.find(text)
    redacted = redactor.redact(text)
    # This process's own CPU time, whatever else the machine runs: a runaway pattern costs
    # minutes, not seconds (speed targets live in benchmarks/).
    assert time.process_time() - began < 10
    assert all(0 <= s.start < s.end <= len(text) and s.label in LABELS for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert len(redacted) <= len(text) + len(spans) * max(map(len, PLACEHOLDERS.values()))


def test_hand_labelled_targets(redactor):
    result = redaction_eval.evaluate(redactor, redaction_eval.load_cases(), throughput_answers=0)
    scores = result["per_label"]
    assert scores["PHONE"]["recall"] >= 0.98
    assert scores["EMAIL"]["recall"] >= 0.98
    assert scores["PERSON"]["recall"] >= 0.85
    assert scores["ADDRESS"]["recall"] >= 0.85
    for label in LABELS:
        assert scores[label]["precision"] >= 0.90, label
        assert scores[label]["support"] > 0


DATA = redaction_eval.CASES.parent


# Each bar is the figure measured when the rules were written, less about one answer of that
# kind, so that a rule change losing one case more fails here. redaction_heldout.jsonl was
# scored before the new rules (its misses were seen), redaction_heldout2.jsonl only after them.
@pytest.mark.parametrize(("file", "recall", "precision", "untouched"), [
    ("redaction_heldout.jsonl",
     {"PHONE": 0.95, "EMAIL": 0.94, "PERSON": 0.97, "NIR": 0.88, "IBAN": 0.94},
     {"PHONE": 0.95, "EMAIL": 0.95, "PERSON": 0.95, "NIR": 0.95, "IBAN": 0.95}, 55),
    ("redaction_heldout2.jsonl",
     {"PHONE": 0.80, "EMAIL": 0.92, "PERSON": 0.88, "NIR": 0.81, "IBAN": 0.91},
     {"PHONE": 0.86, "EMAIL": 0.92, "PERSON": 0.85, "NIR": 0.9, "IBAN": 0.9}, 38),
])
def test_held_out_targets(redactor, file, recall, precision, untouched):
    result = redaction_eval.evaluate(redactor, redaction_eval.load_cases(DATA / file),
                                     throughput_answers=0)
    scores = result["per_label"]
    for label, bar in recall.items():
        assert scores[label]["recall"] >= bar, label
        assert scores[label]["support"] >= 10, label
    for label, bar in precision.items():
        assert scores[label]["precision"] >= bar, label
    clean = result["clean_untouched"]
    assert clean[1] >= 40 and clean[0] >= untouched


def test_overlap_rule():
    gold = Span(4, 10, "PERSON")
    assert redaction_eval.overlapping(Span(0, 10, "PERSON"), gold)  # "Mme Benali" for "Benali"
    assert not redaction_eval.exact(Span(0, 10, "PERSON"), gold)
    assert not redaction_eval.overlapping(Span(0, 6, "PERSON"), gold)  # a third of it
    assert not redaction_eval.overlapping(Span(4, 10, "ADDRESS"), gold)
    counts = redaction_eval.count([Span(0, 20, "PERSON")],
                                  [gold, Span(12, 20, "PERSON")], redaction_eval.overlapping)
    assert counts["PERSON"] == [1, 0, 1]  # one prediction pairs with one gold span only


def test_masked_counts_a_span_hidden_under_any_label():
    gold = [Span(0, 10, "IBAN"), Span(20, 30, "NIR"), Span(40, 50, "EMAIL")]
    predicted = [Span(0, 10, "IBAN"), Span(18, 26, "PHONE"), Span(40, 44, "PERSON")]
    counts = redaction_eval.masked(predicted, gold)
    assert counts["IBAN"] == [1, 1]
    assert counts["NIR"] == [1, 1]  # six of its ten characters are under a placeholder
    assert counts["EMAIL"] == [0, 1]  # four of ten are not enough


def test_eval_command(tmp_path, capsys):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(case, ensure_ascii=False) for case in [
        {"text": "M. Dupont au 06 12 34 56 78", "spans": [
            {"start": 3, "end": 9, "label": "PERSON"},
            {"start": 13, "end": 27, "label": "PHONE"}]},
        {"text": "Rien à signaler.", "spans": []},
    ]), encoding="utf-8")
    assert redaction_eval.main([str(cases)]) == 0
    out = capsys.readouterr().out
    assert "PHONE" in out and "réponses/s" in out
    assert redaction_eval.main(["--cases", str(cases), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["per_label"]["PHONE"]["recall"] == 1.0
    assert result["clean_untouched"] == [1, 1]
    assert redaction_eval.main([str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
