"""Local channels for trying Relais without a provider: the web simulator and the terminal."""

import itertools
from collections.abc import Callable

from bot.channels.base import OutgoingMessage

WEB = "web"
TERMINAL = "terminal"
LOCAL_CHANNELS = (WEB, TERMINAL)


class WebChannel:
    """The /simulateur page: a message is delivered once it is readable on the page."""

    name = WEB

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    async def send(self, address: str, message: OutgoingMessage) -> str:
        """Marks the message delivered; the page reads it from the transcript."""
        return f"web-{next(self._ids)}"


class TerminalChannel:
    """`relais chat`: messages are delivered by printing them."""

    name = TERMINAL

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self.write = write
        self._ids = itertools.count(1)

    async def send(self, address: str, message: OutgoingMessage) -> str:
        """Prints the message, as a phone would show it."""
        self.write(f"\nRelais > {message.text}")
        return f"terminal-{next(self._ids)}"
