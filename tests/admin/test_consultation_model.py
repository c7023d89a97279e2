"""One model of a consultation: what the admin view reads back from storage is the engine's
flow itself, and its errors say what is wrong without speaking HTTP."""

import json

import pytest
from multidict import MultiDict

from admin import filters
from admin.consultations import from_definition
from bot.consultations import describe, load_flows
from bot.engine.flow import Question, QuestionType, UnknownQuestion

FLOWS = load_flows()


@pytest.mark.parametrize("flow", FLOWS.values(), ids=list(FLOWS))
def test_a_published_consultation_reads_back_as_the_same_flow(flow):
    stored = json.loads(json.dumps(describe(flow)))  # as the catalog keeps it
    assert from_definition(stored, flow.retention_days) == flow


def test_what_an_older_or_newer_definition_lacks_or_adds_is_tolerated():
    stored = json.loads(json.dumps(describe(FLOWS["mobilite"])))
    stored["a_key_of_a_later_version"] = 1
    del stored["closings"]
    for question in stored["questions"]:
        question.pop("label")
    read = from_definition(stored, 30)
    assert read.retention_days == 30 and read.closings == ()
    assert [q.short_label for q in read.questions] == [q.text for q in read.questions]


@pytest.mark.parametrize(("kind", "minimum", "maximum", "labels"), [
    (QuestionType.YES_NO, None, None, {"true": "Oui", "false": "Non"}),
    (QuestionType.SCALE, 1, 3, {"1": "1", "2": "2", "3": "3"}),
])
def test_choice_labels_name_what_is_stored(kind, minimum, maximum, labels):
    question = Question("q", kind, "?", minimum=minimum, maximum=maximum)
    assert question.choice_labels == labels and question.closed


def test_an_unknown_question_and_a_bad_filter_are_errors_of_their_own():
    mobilite = FLOWS["mobilite"]
    with pytest.raises(UnknownQuestion):
        mobilite.question("nulle_part")
    with pytest.raises(filters.Invalid, match="Date invalide pour « du »"):
        filters.parse(MultiDict([("du", "hier")]), mobilite)
    assert mobilite.theme_labels["prix"] == "Prix et tarifs"
    assert mobilite.question("priorite").closed and not mobilite.question("probleme").closed
