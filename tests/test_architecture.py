"""The dependency rules of docs/architecture.md.

The import rules are contracts of import-linter in pyproject.toml ([tool.importlinter]); `make
lint` runs them, and so does the first test here, so that `make test` alone tells whoever broke
a rule which one. The second test checks what import-linter cannot see, since it is no import:
which module reads the environment.
"""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
OURS = ("bot", "nlp", "storage", "admin")
# In a child process: lint-imports configures logging for the whole process it runs in, which
# would silence the loggers other tests read.
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"
ENVIRONMENT = {"environ", "environb", "getenv", "getenvb"}


def test_the_import_contracts_hold():
    run = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def reads_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT:
            return True  # os.environ[…], os.getenv(…)
        if isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(alias.name in ENVIRONMENT for alias in node.names):
            return True  # from os import environ
    return False


def test_only_the_settings_module_reads_the_environment():
    # One reader: every setting is named, checked and documented in one place.
    readers = [path.relative_to(ROOT) for package in OURS
               for path in sorted((ROOT / package).rglob("*.py")) if reads_environment(path)]
    assert readers == [Path("bot/settings.py")]
