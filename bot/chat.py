"""`relais chat`: a whole consultation in the terminal, through the real inbox path."""

import asyncio
import secrets
import sys

from bot.app import build
from bot.channels.base import IncomingMessage
from bot.channels.local import TERMINAL, TerminalChannel
from bot.settings import Settings
from storage.clock import utcnow

REPLY_WAIT_SECONDS = 10.0


async def chat(settings: Settings, consultation: str, name: str | None) -> None:
    """Reads the participant's lines from stdin and prints Relais's replies until EOF."""
    relais = build(settings, channels=[TerminalChannel()])
    if consultation not in relais.flows:
        raise ValueError(f"consultation inconnue « {consultation} » "
                         f"(connues : {', '.join(sorted(relais.flows))})")
    await relais.prepare()
    await relais.start()
    address = name or f"terminal-{secrets.token_hex(4)}"
    print(f"Consultation « {relais.flows[consultation].title} ». Écrivez vos messages ; "
          "Ctrl-D pour quitter.")
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, _read_line)
            if line is None:
                break
            if not line.strip():
                continue
            await relais.converse(IncomingMessage(
                channel=TERMINAL, address=address, provider_id=secrets.token_hex(12),
                text=line, received_at=utcnow(), payload={"consultation": consultation}),
                REPLY_WAIT_SECONDS)
    finally:
        await relais.stop()


def _read_line() -> str | None:
    try:
        return input("\nVous > ")
    except EOFError:
        print(file=sys.stderr)
        return None
