"""Runs a worker as a child process of `relais serve`: restarted when it dies, stopped with
the server, its log in the server's output."""

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 0.2  # citizens wait: a crash is usually a one-off
MAX_DELAY_SECONDS = 30.0
HEALTHY_SECONDS = 60.0  # a child that lived this long was fine: the next restart is quick
STOP_SECONDS = 10.0  # as long as requests in flight get on SIGTERM


class Supervisor:
    """Keeps one child process running until told to stop."""

    def __init__(self, command: Sequence[str], name: str = "worker") -> None:
        self.command = list(command)
        self.name = name
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._stopping = False
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        """Tells whether the child is alive now."""
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Starts the child and the loop that restarts it."""
        self._task = asyncio.create_task(self._keep_running())

    async def _keep_running(self) -> None:
        delay = FIRST_DELAY_SECONDS
        while not self._stopping:
            began = time.monotonic()
            # Standard output and error are the server's own: one log for both processes.
            self.process = await asyncio.create_subprocess_exec(*self.command)
            log.info("%s démarré (pid %s)", self.name, self.process.pid)
            code = await self.process.wait()
            if self._stopping:
                return
            lived = time.monotonic() - began
            delay = FIRST_DELAY_SECONDS if lived >= HEALTHY_SECONDS else \
                min(MAX_DELAY_SECONDS, delay * 2)
            self.restarts += 1
            log.error("%s arrêté (code %s) après %.0f s : redémarrage dans %.1f s", self.name,
                      code, lived, delay, extra={"exit_code": code, "restarts": self.restarts})
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        """Asks the child to stop (SIGTERM), kills it if it does not within STOP_SECONDS."""
        self._stopping = True
        if self._task is not None:  # no restart from now on, whatever the child does
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            log.error("%s ne s'arrête pas : tué", self.name)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
