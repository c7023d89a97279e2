"""The short chaos run, on the suite's database kind: processes killed under whole
conversations by SMS and Telegram lose nothing, process nothing twice and leave nobody without
an answer; the first reply follows each restart within 10 s."""

import asyncio
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


async def scratch_postgresql(url: str) -> tuple[str, str]:
    """Creates an empty database beside the suite's (the run empties its schema); returns its
    SQLAlchemy URL and its name."""
    parsed = make_url(url)
    name = f"relais_chaos_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(user=parsed.username, host=parsed.host,
                                       port=parsed.port or 5432, database=parsed.database)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return parsed.set(database=name).render_as_string(hide_password=False), name


async def drop_postgresql(url: str, name: str) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(user=parsed.username, host=parsed.host,
                                       port=parsed.port or 5432, database=parsed.database)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def test_killed_processes_lose_nothing_and_answer_everyone(database_url):
    extra, name = [], None
    if database_url.startswith("postgresql"):
        url, name = await scratch_postgresql(database_url)
        extra = ["--url", url]
    try:
        run = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "benchmarks/chaos.py", "--short", "--json", "--senders", "24",
             "--kills", "3", *extra], cwd=ROOT, capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    finally:
        if name:
            await drop_postgresql(database_url, name)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.splitlines()[-1])
    assert report["messages_acknowledged"] == 24 * 10
    assert (report["lost"], report["processed_twice"], report["senders_unanswered"]) == \
        (0, 0, 0), report
    assert report["kills"] == ["web", "worker", "both"]
    first = report["first_reply_after_restart_s"]
    assert all(t is not None and t < 10 for t in first), f"first replies after restarts: {first}"
