"""`relais flows check` and `relais serve` report every problem of a consultation file clearly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.consultations import check_file
from tests.checkout import CHECKOUT

VALID = {
    "id": "essai",
    "title": "Essai",
    "welcome": "Bonjour.",
    "consent": {"text": "D'accord ? OUI ou NON", "refused": "Tant pis."},
    "closing": "Merci.",
    "questions": [
        {"id": "q1", "type": "text", "text": "Un avis ?", "label": "Avis", "classify": True},
        {"id": "q2", "type": "single_choice", "text": "Lequel ?", "label": "Choix",
         "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        {"id": "q3", "type": "yes_no", "text": "Oui ?", "label": "Accord"},
    ],
    "themes": [{"id": "prix", "label": "Prix", "description": "Le coût.",
                "examples": ["trop cher"]}],
}


def broken(change) -> dict:
    document = yaml.safe_load(yaml.safe_dump(VALID))
    change(document)
    return document


def _set(path, value):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


CASES = [
    ("next step unknown", _set(["questions", 0, "next"], "nulle_part"),
     "question q1: erreur: étape suivante inconnue « nulle_part »"),
    ("choice jumps nowhere", _set(["questions", 1, "choices", 0, "next"], "q9"),
     "question q2: erreur: étape suivante inconnue « q9 »"),
    ("unreachable question", _set(["questions", 0, "next"], "q3"),
     "question q2: erreur: question inatteignable depuis le début"),
    ("duplicate id", _set(["questions", 2, "id"], "q1"), "question q1: erreur: id en double"),
    ("missing French text", _set(["questions", 2, "text"], "  "),
     "question q3: erreur: texte en français manquant"),
    ("missing closing", _set(["closing"], ""), "closing: erreur: texte en français manquant"),
    ("choice without label", _set(["questions", 1, "choices", 1, "label"], ""),
     "question q2: erreur: choix 2 « b » sans libellé"),
    ("theme without description", _set(["themes", 0, "description"], ""),
     "thème prix: erreur: description manquante"),
    ("unknown field", _set(["questions", 0, "txet"], "typo"),
     "question q1 (txet): erreur: champ inconnu"),
    ("unknown type", _set(["questions", 0, "type"], "essay"),
     "question q1 (type): erreur: valeur inconnue"),
    ("condition on a later question",
     _set(["questions", 0, "when"], {"question": "q3", "equals": True}),
     "question q1: erreur: condition sur « q3 », qui n'est pas posée avant"),
    ("classified without themes", _set(["themes"], []),
     "question q1: erreur: question classée mais aucun thème défini"),
    ("id is not the file name", _set(["id"], "autre"), "id: erreur: l'id « autre »"),
]


@pytest.mark.parametrize(("label", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_named_with_file_place_and_reason(tmp_path, label, change, expected):
    path = tmp_path / "essai.yaml"
    path.write_text(yaml.safe_dump(broken(change), allow_unicode=True), encoding="utf-8")
    result = check_file(path)
    assert result.flow is None
    assert any(str(problem).startswith(f"{path}: {expected}") for problem in result.problems), \
        [str(p) for p in result.problems]


def test_a_valid_file_has_no_problem(tmp_path):
    path = tmp_path / "essai.yaml"
    path.write_text(yaml.safe_dump(VALID, allow_unicode=True), encoding="utf-8")
    result = check_file(path)
    assert result.problems == () and result.flow.id == "essai"


def test_a_question_without_a_short_label_is_accepted_with_a_warning(tmp_path):
    path = tmp_path / "essai.yaml"
    document = broken(lambda d: d["questions"][1].pop("label"))
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    result = check_file(path)
    assert result.flow is not None
    assert [str(p) for p in result.problems] == [
        f"{path}: question q2: attention: pas de libellé court (label) : MES DONNEES "
        "montrera le texte entier de la question"]


@pytest.mark.parametrize(("fields", "text", "where", "said"), [
    (["closing"], "Merci beaucoup. " * 30, "closing", "4 SMS (GSM-7, 479 caractères), 2 au plus"),
    (["consent", "refused"], "Tant pis. " * 20, "consent.refused",
     "2 SMS (GSM-7, 199 caractères), 1 au plus"),
    (["welcome"], "Bienvenue dans cette consultation. " * 5, "welcome + consent.text",
     "le premier contact fait 3 SMS, 2 au plus : raccourcissez l'accueil ou la notice"),
])
def test_each_kind_of_message_keeps_to_its_sms_budget(tmp_path, fields, text, where, said):
    path = tmp_path / "essai.yaml"
    path.write_text(yaml.safe_dump(broken(_set(fields, text)), allow_unicode=True),
                    encoding="utf-8")
    result = check_file(path)
    assert result.flow is None  # an error: relais serve would refuse the file
    assert [str(p) for p in result.problems] == [f"{path}: {where}: erreur: {said}"]


def test_a_closing_that_depends_on_an_unknown_question_is_refused(tmp_path):
    path = tmp_path / "essai.yaml"
    path.write_text(yaml.safe_dump(broken(_set(
        ["closings"], [{"when": {"question": "inconnue", "equals": True}, "text": "Merci."}])),
        allow_unicode=True), encoding="utf-8")
    assert [str(p) for p in check_file(path).problems] == [
        f"{path}: closings 1: erreur: condition sur une question inconnue « inconnue »"]


def test_invalid_yaml_gives_the_line(tmp_path):
    path = tmp_path / "essai.yaml"
    path.write_text("id: essai\nquestions: [\n  - oups: : :\n", encoding="utf-8")
    problems = [str(p) for p in check_file(path).problems]
    assert len(problems) == 1 and "YAML invalide" in problems[0] and ": ligne " in problems[0]


def relais(*args, env=None, cwd=None, stdin=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env={**os.environ, **CHECKOUT, **(env or {})}, cwd=cwd, input=stdin,
                          timeout=timeout, check=False)


def test_flows_check_command_lists_every_problem_and_fails(tmp_path):
    bad = tmp_path / "essai.yaml"
    document = broken(_set(["questions", 0, "next"], "nulle_part"))
    document["questions"][1]["choices"][0]["label"] = ""
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    done = relais("flows", "check", str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert "étape suivante inconnue « nulle_part »" in done.stderr
    assert "choix 1 « a » sans libellé" in done.stderr
    assert "Traceback" not in done.stderr


def test_flows_check_passes_on_the_shipped_consultations(tmp_path):
    done = relais("flows", "check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 consultation(s) valide(s), 0 erreur(s)" in done.stdout


def test_serve_refuses_to_start_on_an_invalid_file(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "essai.yaml").write_text(
        yaml.safe_dump(broken(_set(["questions", 0, "next"], "nulle_part")), allow_unicode=True),
        encoding="utf-8")
    done = relais("serve", "--port", "0", cwd=tmp_path,
                  env={"RELAIS_FLOWS_DIR": str(flows), "RELAIS_DEFAULT_CONSULTATION": "essai"})
    assert done.returncode == 1
    assert "question q1: erreur: étape suivante inconnue « nulle_part »" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["chat"], ["flows", "check"],
                                     ["telegram", "set-webhook"],
                                     ["db", "upgrade"]])
def test_every_command_has_help(command, tmp_path):
    done = relais(*command, "--help", cwd=tmp_path)
    assert done.returncode == 0 and "usage: relais" in done.stdout


def test_production_without_a_secret_is_one_clear_line(tmp_path):
    done = relais("db", "upgrade", cwd=tmp_path, env={"RELAIS_ENV": "production",
                                                      "RELAIS_SECRET_KEY": ""})
    assert done.returncode == 1
    assert done.stderr.strip() == "relais: RELAIS_SECRET_KEY est obligatoire en production"


def test_unreachable_database_is_one_clear_line(tmp_path):
    done = relais("db", "upgrade", cwd=tmp_path, env={
        "RELAIS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "RELAIS_SECRET_KEY": "k" * 40})
    assert done.returncode == 1
    assert done.stderr.startswith("relais: connexion impossible")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_database_behind_the_code_is_the_one_line_that_says_what_to_run():
    from bot.app import NotMigrated
    from bot.cli import _describe

    said = "la base n'est pas à jour (2 migration(s) en attente) : lancez « relais db upgrade »"
    assert _describe(NotMigrated(said)) == said


def test_chat_runs_a_whole_consultation_in_the_terminal(tmp_path):
    lines = ["Bonjour", "oui", "80000", "passer", "1", "3", "Le prix",
             "Trop de retards le matin", "Plus de trains le soir", "non"]
    database = tmp_path / "chat.db"
    done = relais("chat", "--consultation", "mobilite", cwd=tmp_path, stdin="\n".join(lines),
                  env={"RELAIS_DATABASE_URL": f"sqlite:///{database}"})
    assert done.returncode == 0, done.stderr
    replies = done.stdout.split("Relais > ")[1:]
    assert replies[0].startswith("Bonjour ! La Région Hauts-de-France veut votre avis")
    assert "Acceptez-vous ? OUI ou NON" in replies[1]
    assert replies[2].startswith("Quel est le code postal de votre commune ?")
    assert "Merci" in replies[-1]
    import sqlite3

    with sqlite3.connect(database) as connection:
        answers = dict(connection.execute("SELECT question_id, raw_text FROM answers"))
        status = connection.execute("SELECT status FROM consultation_sessions").fetchone()[0]
    assert answers["territoire"] == "80000" and answers["probleme"] == "Trop de retards le matin"
    assert status == "completed"


def test_the_cases_folder_is_found():
    assert (Path(__file__).parents[1] / "flows" / "mobilite.cases.yaml").exists()
