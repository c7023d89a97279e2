"""The worker child of `relais serve`: restarted when it dies, stopped with the server, and
yielding the processor to it."""

import asyncio
import os
import sys

from bot import supervisor
from bot.supervisor import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


async def test_the_child_yields_the_processor_to_the_server():
    child = Supervisor(SLEEPER)
    child.launch()
    try:
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, child.process.pid) == \
            min(19, ours + supervisor.CHILD_NICENESS)
    finally:
        await child.stop()
    assert not child.running


async def test_a_child_that_dies_is_started_again_and_stops_with_the_server():
    child = Supervisor(SLEEPER)
    await child.watch()
    first = child.process.pid
    child.process.kill()
    for _ in range(100):
        if child.running and child.process.pid != first:
            break
        await asyncio.sleep(0.05)
    assert child.restarts == 1 and child.running and child.process.pid != first
    await child.stop()
    assert not child.running and child.process.returncode is not None
