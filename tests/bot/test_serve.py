"""`relais serve` as a separate process: what it announces, and how it bounds slow clients."""

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.app import BODY_SECONDS, HEADER_SECONDS, SERVER_OPTIONS

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
    """Starts `relais serve`; returns the process, once it accepts connections, and the line
    of its log announcing where it listens."""
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as output:  # a file, not a pipe nobody would read past start-up
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--port", str(port), "--web-only", env=env,
            cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=output)
    try:
        async with asyncio.timeout(120):
            while True:
                assert process.returncode is None, log.read_text()
                try:
                    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.1)
                    continue
                writer.close()
                break
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process, next(line for line in log.read_text().splitlines() if "écoute sur" in line)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize(("extra", "announced"), [
    ({"RELAIS_ENV": "production", "RELAIS_DPO_CONTACT": "dpo@hautsdefrance.fr"}, False),
    ({"RELAIS_ENV": "production", "RELAIS_DPO_CONTACT": "dpo@hautsdefrance.fr",
      "RELAIS_SIMULATOR": "1"}, True),
    ({"RELAIS_ENV": "development"}, True),
])
async def test_the_simulator_address_is_announced_only_when_it_is_served(tmp_path, extra,
                                                                         announced):
    port = free_port()
    process, line = await started(serve_env(tmp_path, **extra), tmp_path, port)
    await stop(process)
    assert f"http://127.0.0.1:{port}" in line
    assert ("simulateur" in line) == announced, line


async def trickle(port: int, start: bytes, every: float = 1.0) -> tuple[float, bytes]:
    """Sends `start`, then one more byte every `every` seconds, as a slow client would;
    returns how long Relais kept the connection open and what it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened = asyncio.get_running_loop().time()
    writer.write(start)

    async def drip() -> None:
        while True:
            await asyncio.sleep(every)
            writer.write(b"a")
            await writer.drain()

    dripping = asyncio.create_task(drip())
    try:
        answer = await asyncio.wait_for(reader.read(), 60)
    finally:
        dripping.cancel()
        writer.close()
    return asyncio.get_running_loop().time() - opened, answer


async def test_slow_clients_are_cut_off(tmp_path):
    port = free_port()
    process, _line = await started(serve_env(tmp_path), tmp_path, port)
    try:
        headers, body = await asyncio.gather(
            trickle(port, b"GET /healthz HTTP/1.1\r\nHost: relais\r\nX-Lent: "),
            trickle(port, b"POST /simulateur HTTP/1.1\r\nHost: relais\r\n"
                          b"Content-Type: application/x-www-form-urlencoded\r\n"
                          b"Content-Length: 1000\r\n\r\ntext="))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: relais\r\nConnection: close\r\n\r\n")
        healthy = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    finally:
        await stop(process)
    assert healthy.startswith(b"HTTP/1.1 200")  # meanwhile, others were served
    seconds, answer = headers
    assert HEADER_SECONDS - 1 < seconds < HEADER_SECONDS + 5, seconds
    assert answer == b""  # closed: no request was read
    seconds, answer = body  # answered, then what came after the answer read for 2 s
    lingering = SERVER_OPTIONS["lingering_time"]
    assert BODY_SECONDS + lingering - 1 < seconds < BODY_SECONDS + lingering + 5, seconds
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"trop lentement" in answer
