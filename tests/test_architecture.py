"""The dependency rules of DESIGN.md, checked on the imports of every module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
OURS = {"bot", "nlp", "storage", "admin"}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


RULES = [
    # (modules, forbidden import prefixes, why)
    ("bot/engine", {"bot.channels", "bot.app", "storage", "nlp", "admin", "aiohttp",
                    "sqlalchemy", "spacy", "twilio", "telegram", "yaml", "pydantic"},
     "the engine is pure"),
    ("bot/channels", {"storage", "nlp", "admin", "bot.app", "bot.processor", "bot.inbox"},
     "channels only translate a provider's HTTP"),
    ("storage", {"bot", "admin", "nlp"}, "storage imports nothing of ours"),
    ("nlp", {"bot", "admin", "storage"}, "nlp imports nothing of ours"),
    ("admin", {"bot"}, "admin reads through storage, never through the bot"),
]


@pytest.mark.parametrize(("folder", "forbidden", "why"), RULES, ids=[r[0] for r in RULES])
def test_dependency_rules(folder, forbidden, why):
    violations = []
    for path in modules(folder):
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert violations == [], why


def test_channels_never_import_each_other():
    channels = {p.stem for p in modules("bot/channels")} - {"__init__", "base"}
    for path in modules("bot/channels"):
        others = {f"bot.channels.{c}" for c in channels - {path.stem}}
        assert imports_of(path) & others == set(), path.name


def test_only_the_settings_module_reads_the_environment():
    readers = [p.relative_to(ROOT) for package in OURS for p in modules(package)
               if "os.environ" in p.read_text(encoding="utf-8")
               or "getenv" in p.read_text(encoding="utf-8")]
    assert readers == [Path("bot/settings.py")]
