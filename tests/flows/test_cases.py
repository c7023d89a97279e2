"""Replays each consultation's conversation cases through the pure engine."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.consultations import FLOWS_DIR, default_paths, load_flows
from bot.engine import (
    AnswerRecorded,
    ConsentRefused,
    ErasureConfirmed,
    FlowRestarted,
    Inbound,
    QuestionSkipped,
    advance,
)

CASES_DIR = Path(__file__).parent
FLOWS = load_flows()
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _cases():
    for path in sorted(CASES_DIR.glob("*.cases.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            yield pytest.param(document["consultation"], case,
                               id=f"{document['consultation']}: {case['name']}")


class Record:
    """What storage would hold after the events, kept the way the inbox applies them."""

    def __init__(self) -> None:
        self.answers: dict[str, object] = {}
        self.invalid: set[str] = set()
        self.skipped: set[str] = set()

    def apply(self, event: object) -> None:
        if isinstance(event, AnswerRecorded):
            if event.valid:
                self.answers[event.question] = event.value
            else:
                self.invalid.add(event.question)
        elif isinstance(event, QuestionSkipped):
            self.skipped.add(event.question)
        elif isinstance(event, FlowRestarted | ErasureConfirmed | ConsentRefused):
            self.__init__()


def test_every_flow_has_cases_and_every_cases_file_a_flow():
    flows = {path.stem for path in default_paths(FLOWS_DIR)}
    cases = {path.name.removesuffix(".cases.yaml") for path in CASES_DIR.glob("*.cases.yaml")}
    assert flows, "no consultation file found"
    assert flows - cases == set(), "consultations without a cases file"
    assert cases - flows == set(), "cases files without a consultation"


@pytest.mark.parametrize(("consultation", "case"), list(_cases()))
def test_conversation_case(consultation, case):
    flow = FLOWS[consultation]
    session, record, now = None, Record(), START
    for number, step in enumerate(case["turns"], 1):
        now += timedelta(hours=step.get("after_hours", 0), seconds=30)
        turn = advance(flow, session, Inbound(str(step["send"]), now))
        session = turn.session
        for event in turn.events:
            record.apply(event)
        said = "\n".join(reply.text for reply in turn.replies).lower()
        for expected in step.get("reply_contains", []):
            assert expected.lower() in said, (
                f"turn {number} ({step['send']!r}): expected {expected!r} in:\n{said}")
        for unexpected in step.get("reply_excludes", []):
            assert unexpected.lower() not in said, f"turn {number}: {unexpected!r} in:\n{said}"
    for question, value in (case.get("answers") or {}).items():
        assert record.answers.get(question) == value, f"answer to {question}"
    for question in case.get("absent", []):
        assert question not in record.answers, f"{question} should not be answered"
    assert set(case.get("invalid", [])) <= record.invalid
    assert set(case.get("skipped", [])) <= record.skipped
    if "status" in case:
        assert session.status == case["status"]
