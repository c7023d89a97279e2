"""Replays each consultation's conversation cases through the pure engine, and compares the events
of each turn with the snapshot kept beside the cases (<id>.events.yaml)."""

import dataclasses
import functools
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
UPDATE = "pytest tests/flows --update-snapshots"


def _plain(value):
    """Event fields as YAML data: tuples become lists."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def plain(event) -> object:
    """An event as its class name, with the fields that differ from their defaults."""
    fields = {field.name: _plain(getattr(event, field.name))
              for field in dataclasses.fields(event)
              if getattr(event, field.name) != field.default}
    return {type(event).__name__: fields} if fields else type(event).__name__


class _Dumper(yaml.SafeDumper):
    """Writes one line of YAML per line of a reply and per choice, so a change shows as the lines
    it changed."""

    def represent_str(self, text):
        return self.represent_scalar("tag:yaml.org,2002:str", text,
                                     style="|" if "\n" in text else None)

    def represent_list(self, items):
        flat = not any(isinstance(item, dict | list) for item in items)
        return self.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_Dumper.add_representer(str, _Dumper.represent_str)
_Dumper.add_representer(list, _Dumper.represent_list)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser, where installed


def dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)


def snapshot_path(consultation: str) -> Path:
    return CASES_DIR / f"{consultation}.events.yaml"


def case_names(consultation: str) -> list[str]:
    document = yaml.safe_load((CASES_DIR / f"{consultation}.cases.yaml").read_text("utf-8"))
    return [case["name"] for case in document["cases"]]


def read_snapshots(consultation: str) -> dict:
    path = snapshot_path(consultation)
    if not path.exists():
        return {}
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}


stored_snapshots = functools.cache(read_snapshots)  # read once a run when only compared


def write_snapshot(consultation: str, name: str, turns: list) -> None:
    """Stores one case's events, in the order of the cases file, dropping cases gone from it."""
    snapshots = {**read_snapshots(consultation), name: turns}
    ordered = {case: snapshots[case] for case in case_names(consultation) if case in snapshots}
    header = (f"# The events each case of {consultation}.cases.yaml makes the engine emit, turn "
              f"by turn.\n# Written by `{UPDATE}`: review the diff, never edit by hand.\n")
    snapshot_path(consultation).write_text(header + dump(ordered), encoding="utf-8")


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


def test_every_snapshot_belongs_to_a_case(update_snapshots):
    for path in sorted(CASES_DIR.glob("*.events.yaml")):
        consultation = path.name.removesuffix(".events.yaml")
        if not (CASES_DIR / f"{consultation}.cases.yaml").exists() and update_snapshots:
            path.unlink()
            continue
        assert (CASES_DIR / f"{consultation}.cases.yaml").exists(), f"{path.name}: run {UPDATE}"
        names = case_names(consultation)
        assert len(names) == len(set(names)), f"{consultation}: two cases have the same name"
        if not update_snapshots:  # an update drops what no case has any more
            assert set(read_snapshots(consultation)) <= set(names), f"{path.name}: run {UPDATE}"


@pytest.mark.parametrize(("consultation", "case"), list(_cases()))
def test_conversation_case(consultation, case, update_snapshots):
    flow = FLOWS[consultation]
    session, record, now, seen = None, Record(), START, []
    for number, step in enumerate(case["turns"], 1):
        now += timedelta(hours=step.get("after_hours", 0), seconds=30)
        turn = advance(flow, session, Inbound(str(step["send"]), now))
        session = turn.session
        seen.append({"send": str(step["send"]), "events": [plain(e) for e in turn.events]})
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
    if update_snapshots:
        write_snapshot(consultation, case["name"], seen)
        return
    expected = stored_snapshots(consultation).get(case["name"])
    assert expected is not None, f"no events recorded for this case: run {UPDATE}"
    # Compared as YAML text, so a failure shows the lines that changed.
    assert dump(seen) == dump(expected)
