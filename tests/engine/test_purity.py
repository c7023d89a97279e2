"""The engine imports nothing but the standard library and itself."""

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).parents[2] / "bot" / "engine"


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_engine_imports_only_the_standard_library():
    found = {name.split(".")[0]: path.name for path in ENGINE.glob("*.py")
             for name in _imports(path)}
    assert found, "no import found: the test reads the wrong folder"
    foreign = {name: where for name, where in found.items()
               if name not in sys.stdlib_module_names}
    assert foreign == {}
