"""The SMS journal: appends racing a drain that moves the file away lose nothing and never
fail; what waits while the database is down is kept until it is back."""

import threading
from datetime import UTC, datetime

import pytest

from bot.channels.base import IncomingMessage
from bot.spool import Spool, _read_locked

APPENDS = 400


def test_appends_while_the_file_is_moved_away_all_land_and_none_fails(tmp_path):
    spool = Spool(tmp_path)
    failures: list[BaseException] = []
    done = threading.Event()

    def append() -> None:
        try:
            for n in range(APPENDS):
                spool.append_lines([f"{n}\n"])
        except BaseException as error:  # what a webhook would have seen
            failures.append(error)
        finally:
            done.set()

    writer = threading.Thread(target=append)
    writer.start()
    claims = 0
    while not done.is_set():  # what the drain does, as often as it can
        spool._claim()
        claims += 1
    writer.join()
    assert failures == []
    lines = [line for path in tmp_path.glob("inbound.jsonl*") for line in _read_locked(path)]
    assert sorted(int(line) for line in lines) == list(range(APPENDS))
    assert claims > 10  # the file was indeed moved away many times meanwhile


def sms(n: int) -> IncomingMessage:
    return IncomingMessage("sms", "+33612345678", f"SM{n}", f"message {n}",
                           datetime(2027, 3, 15, 10, n, tzinfo=UTC))


async def test_what_failed_drains_left_is_drained_once_the_database_is_back(tmp_path):
    spool = Spool(tmp_path)
    received = []

    async def down(_message):
        raise OSError("base indisponible")

    async def up(message):
        received.append(message.provider_id)

    for n in range(3):  # a message spooled between each failed drain
        spool.append(sms(n))
        with pytest.raises(OSError):
            await spool.drain(down)
    assert await spool.drain(up) == 3
    assert received == ["SM0", "SM1", "SM2"] and not spool.pending()
