"""Files Relais writes hold answers, addresses or keys: only their owner may read them."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from storage.database import owner_only

ROOT = Path(__file__).resolve().parents[1]
# The checkout, not whatever Relais is installed in the environment; no provider configured.
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RELAIS_ENV": "development",
       "TELEGRAM_BOT_TOKEN": "", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",
       "TWILIO_FROM": "", "RELAIS_PUBLIC_URL": "", "TELEGRAM_BOT_USERNAME": "relais_test_bot"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def relais(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**ENV, "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'relais.db'}"}
    env.pop("RELAIS_SECRET_KEY", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=180, check=False)


def test_the_database_secret_invitations_exports_and_models_are_for_the_owner_alone(tmp_path):
    old = os.umask(0o022)  # a usual umask: files would be world-readable by default
    try:
        assert relais(tmp_path, "db", "upgrade").returncode == 0
        added = relais(tmp_path, "association", "add", "Les Amis du Vélo")
        assert added.returncode == 0, added.stderr
        made = relais(tmp_path, "invite", "create", "--association", "Les Amis du Vélo",
                      "--consultation", "mobilite", "--out", "invitations")
        assert made.returncode == 0, made.stderr
        exported = relais(tmp_path, "export", "--consultation", "mobilite", "--out",
                          "reponses.csv")
        assert exported.returncode == 0, exported.stderr
        trained = relais(tmp_path, "nlp", "train", "--consultation", "mobilite")
        assert trained.returncode == 0, trained.stderr
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"relais.db", ".relais-secret", "reponses.csv"}
    assert any(p.parts[len(tmp_path.parts)] == "models" for p in files)
    assert any(p.suffix == ".png" for p in files) and any(p.suffix == ".svg" for p in files)
    for path in files:
        assert mode(path) & 0o077 == 0, f"{path.name}: {oct(mode(path))}"
    for folder in (p for p in tmp_path.rglob("*") if p.is_dir()):
        assert mode(folder) & 0o077 == 0, f"{folder.name}/: {oct(mode(folder))}"


def test_files_an_older_version_left_readable_are_mended(tmp_path):
    database = tmp_path / "relais.db"
    for name in ("relais.db", "relais.db-wal", "relais.db-shm"):
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o644)
    owner_only(str(database))
    for name in ("relais.db", "relais.db-wal", "relais.db-shm"):
        assert mode(tmp_path / name) == 0o600, name
    owner_only(str(tmp_path / "absent.db"))  # nothing to mend: no error
