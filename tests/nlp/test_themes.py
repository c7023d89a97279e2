"""The theme classifier: trains from a codebook, scores, saves, loads, and survives bad input."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.consultations import FLOWS_DIR, load_flows
from bot.themes import codebook_rows
from nlp import metrics
from nlp.data import DataError, held_out, read_jsonl
from nlp.model import META, ModelError, load, train
from tests.checkout import CHECKOUT

GRANDDEBAT = Path(__file__).parents[3] / "shared" / "data" / "granddebat" / "train.jsonl"
FLOWS = load_flows()


@pytest.fixture(scope="module")
def mobilite_model():
    rows = codebook_rows(FLOWS["mobilite"])
    return train([t for t, _ in rows], [m for _, m in rows], "mobilite")


@pytest.mark.parametrize(("text", "theme"), [
    ("Le billet de TER coûte beaucoup trop cher pour aller bosser", "prix"),
    ("Mon train a encore été supprimé ce matin, je suis arrivé en retard", "fiabilite"),
    ("Il faudrait des pistes cyclables sécurisées jusqu'à la gare", "velo"),
    ("Aucun bus ne passe dans mon village le dimanche", "desserte_rurale"),
])
def test_a_model_trained_on_the_codebook_finds_plain_themes(mobilite_model, text, theme):
    assert mobilite_model.classify([text])[0].theme == theme


BAD_INPUT = {
    "empty": "",
    "spaces": "   ",
    "emoji only": "🚆🚆😡😡",
    "4096 characters": ("Les trains sont en retard et trop chers. " * 110)[:4096],
    "one word of 4096": "a" * 4096,
    "mixed languages": "The train is always late, le TER est toujours en retard",
    "all caps": "LE TER EST TOUJOURS EN RETARD ET TROP CHER",
    "sms style": "jsp pk le ter é tjr en retar tkt",
    "symbols": "<script>alert(1)</script> {{7*7}} \u202e",
}


@pytest.mark.parametrize("text", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_classified_without_error_nor_runaway(mobilite_model, text):
    began = time.process_time()
    (label,) = mobilite_model.classify([text])
    # This process's own CPU time, whatever else the machine runs: catches a runaway, not a
    # slow machine (speed targets live in benchmarks/).
    assert time.process_time() - began < 10
    assert label.theme in mobilite_model.labels and 0.0 <= label.score <= 1.0


def test_saved_models_load_with_the_same_answers(mobilite_model, tmp_path):
    mobilite_model.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    texts = ["trop cher", "toujours en retard", "pas de bus le soir"]
    assert [x.theme for x in loaded.classify(texts)] == \
        [x.theme for x in mobilite_model.classify(texts)]
    assert loaded.version == mobilite_model.version and loaded.version.startswith("mobilite-")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: (d / META).unlink(), "aucun modèle Relais"),
    (lambda d: (d / META).write_text("{oops"), "illisible"),
    (lambda d: (d / META).write_text(json.dumps({"format": 99})), "format 99"),
    (lambda d: (d / META).write_text(json.dumps(
        {**json.loads((d / META).read_text()), "base_model_version": "2.0.0"})),
     "entraîné avec fr_core_news_md 2.0.0"),
])
def test_unusable_model_folders_give_one_clear_error(mobilite_model, tmp_path, damage, message):
    mobilite_model.save(tmp_path / "model")
    damage(tmp_path / "model")
    with pytest.raises(ModelError, match=message):
        load(tmp_path / "model")


def test_scores_count_what_they_should():
    result = metrics.score(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert result["accuracy"] == 0.75
    assert result["per_label"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3,
                                        "support": 2}
    assert result["confusion"] == {"a": {"a": 1, "b": 1}, "b": {"a": 0, "b": 2}}
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_the_held_out_slice_keeps_each_labels_share():
    labels = ["a"] * 10 + ["b"] * 5 + ["c"]
    train_rows, test_rows = held_out(labels)
    assert sorted(train_rows + test_rows) == list(range(16))
    assert [labels[i] for i in test_rows].count("a") == 2
    assert "c" not in [labels[i] for i in test_rows]


@pytest.mark.parametrize(("content", "message"), [
    ('{"text": "x"}\n', "ligne 1"),
    ("pas du json\n", "ligne 1"),
    ('{"text": "x", "label": 3}\n', "des chaînes"),
    ("", "aucun exemple"),
])
def test_bad_training_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "data.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_jsonl(path)


def test_train_and_evaluate_commands(tmp_path):
    rows = codebook_rows(FLOWS["jeunesse"])
    data = tmp_path / "jeunesse.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": m, "extra": 1}) + "\n"
                            for t, m in rows), encoding="utf-8")
    env = {**os.environ, **CHECKOUT, "RELAIS_SECRET_KEY": "k" * 40}
    done = subprocess.run([sys.executable, "-m", "bot", "nlp", "train", "--data", str(data),
                           "--model", str(tmp_path / "model")], capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "macro-F1" in done.stdout and "modèle final" in done.stdout
    done = subprocess.run([sys.executable, "-m", "bot", "nlp", "evaluate", "--data", str(data),
                           "--model", str(tmp_path / "model"), "--json"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, check=False, timeout=120)
    result = json.loads(done.stdout)
    assert {"macro_f1", "accuracy", "per_label", "texts_per_second"} <= set(result)
    assert result["macro_f1"] > 0.9  # its own training data
    done = subprocess.run([sys.executable, "-m", "bot", "nlp", "evaluate", "--data", str(data),
                           "--model", str(tmp_path / "absent")], capture_output=True,
                          text=True, env=env, cwd=tmp_path, check=False, timeout=120)
    assert done.returncode == 1 and done.stderr.startswith("relais: aucun modèle Relais")


@pytest.mark.skipif(not GRANDDEBAT.exists(),
                    reason="the Grand Débat answers are not next to the project "
                           "(shared/data/granddebat/train.jsonl)")
def test_on_real_answers_a_few_thousand_rows_already_score_well():
    texts, labels = read_jsonl(GRANDDEBAT)
    classifier = train(texts[:3000], labels[:3000], "granddebat")
    result = metrics.evaluate(classifier, texts[20000:22000], labels[20000:22000])
    assert result["macro_f1"] > 0.78


def test_train_missing_trains_only_consultations_without_an_active_model(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(FLOWS_DIR / "jeunesse.yaml", flows / "jeunesse.yaml")
    env = {**os.environ, **CHECKOUT, "RELAIS_SECRET_KEY": "k" * 40,
           "RELAIS_FLOWS_DIR": str(flows),
           "RELAIS_DEFAULT_CONSULTATION": "jeunesse",
           "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}"}
    command = [sys.executable, "-m", "bot", "nlp", "train", "--missing"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                           check=False, timeout=180)
    assert first.returncode == 0, first.stderr
    assert "actif pour « jeunesse »" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                           check=False, timeout=180)
    assert again.returncode == 0 and "actif pour" not in again.stdout
    assert len(list((tmp_path / "models" / "jeunesse").iterdir())) == 1
