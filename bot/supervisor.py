"""Runs a worker as a child process of `relais serve`: restarted when it dies, stopped with
the server, its log in the server's output."""

import asyncio
import contextlib
import logging
import os
import subprocess
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 0.2  # citizens wait: a crash is usually a one-off
MAX_DELAY_SECONDS = 30.0
HEALTHY_SECONDS = 60.0  # a child that lived this long was fine: the next restart is quick
STOP_SECONDS = 10.0  # as long as requests in flight get on SIGTERM
# The child yields the processor to the server: when both want it (a burst of webhooks), the
# acknowledgements go first and the processing catches up just after.
CHILD_NICENESS = 10


class Supervisor:
    """Keeps one child process running until told to stop.

    The first child can be launched before any event loop runs (`launch`), so that it boots
    while the server itself is still starting; `watch` then keeps it running.
    """

    def __init__(self, command: Sequence[str], name: str = "worker") -> None:
        self.command = list(command)
        self.name = name
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._began = 0.0
        self._stopping = False
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        """Tells whether the child is alive now."""
        return self.process is not None and self.process.poll() is None

    def launch(self) -> None:
        """Starts the child now; its standard output and error are the server's own."""
        self.process = subprocess.Popen(self.command)
        with contextlib.suppress(OSError):  # a platform without priorities runs it as it is
            os.setpriority(os.PRIO_PROCESS, self.process.pid, CHILD_NICENESS)
        self._began = time.monotonic()
        log.info("%s démarré (pid %s)", self.name, self.process.pid)

    async def watch(self) -> None:
        """Starts the loop that restarts the child whenever it dies (launching it first if
        that was not done yet)."""
        if self.process is None:
            self.launch()
        self._task = asyncio.create_task(self._keep_running())

    async def _keep_running(self) -> None:
        delay = FIRST_DELAY_SECONDS
        while True:
            # Waited for in a thread: the child was started without the event loop.
            await asyncio.to_thread(self.process.wait)
            if self._stopping:
                return
            lived = time.monotonic() - self._began
            delay = FIRST_DELAY_SECONDS if lived >= HEALTHY_SECONDS else \
                min(MAX_DELAY_SECONDS, delay * 2)
            self.restarts += 1
            log.error("%s arrêté (code %s) après %.0f s : redémarrage dans %.1f s", self.name,
                      self.process.returncode, lived, delay,
                      extra={"exit_code": self.process.returncode, "restarts": self.restarts})
            await asyncio.sleep(delay)
            if self._stopping:
                return
            self.launch()

    async def stop(self) -> None:
        """Asks the child to stop (SIGTERM), kills it if it does not within STOP_SECONDS."""
        self._stopping = True
        if self._task is not None:  # no restart from now on, whatever the child does
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not self.running:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(asyncio.to_thread(self.process.wait), STOP_SECONDS)
        except TimeoutError:
            log.error("%s ne s'arrête pas : tué", self.name)
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
