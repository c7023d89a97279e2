"""`relais serve` as a separate process: what it announces, and how it bounds slow clients."""

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_env(tmp_path: Path, **extra: str) -> dict:
    """The environment of a `relais serve` on a database of its own, reaching no provider."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("RELAIS_", "TELEGRAM_", "TWILIO_"))}
    return {**env, "PYTHONPATH": str(ROOT), "RELAIS_SECRET_KEY": "k" * 40,
            "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}", **extra}


async def started(env: dict, cwd: Path, port: int) -> tuple[asyncio.subprocess.Process, str]:
    """Starts `relais serve`; returns the process and the line announcing where it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", str(port), "--web-only", env=env,
        cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(120):
            while line := (await process.stderr.readline()).decode():
                if "écoute sur" in line:
                    return process, line
    except BaseException:
        process.kill()
        await process.wait()
        raise
    await process.wait()
    raise AssertionError("relais serve stopped before listening")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize(("extra", "announced"), [
    ({"RELAIS_ENV": "production"}, False),
    ({"RELAIS_ENV": "production", "RELAIS_SIMULATOR": "1"}, True),
    ({"RELAIS_ENV": "development"}, True),
])
async def test_the_simulator_address_is_announced_only_when_it_is_served(tmp_path, extra,
                                                                         announced):
    port = free_port()
    process, line = await started(serve_env(tmp_path, **extra), tmp_path, port)
    await stop(process)
    assert f"http://127.0.0.1:{port}" in line
    assert ("simulateur" in line) == announced, line
