"""Turns per second of the pure conversation engine on the `mobilite` consultation, one core."""

import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this folder comes first on the path, where benchmarks/nlp.py would hide
# the nlp package: look in the project instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bot.consultations import load_flows  # noqa: E402
from bot.engine import Inbound, advance  # noqa: E402

# A whole conversation as a citizen would type it: words, numbers, a mistake, a keyword.
CONVERSATION = ["Bonjour", "oui", "59 000", "deux", "le train, le vélo", "bof", "4",
                "Le prix", "Les TER sont en retard tous les matins entre Amiens et Lille",
                "AIDE", "Plus de trains le soir et le week-end",
                "Des parkings vélo sécurisés dans les gares", "oui"]


def run(conversations: int) -> tuple[int, float]:
    """Plays `conversations` whole conversations; returns (turns, seconds)."""
    flow = load_flows()["mobilite"]
    start = datetime(2026, 3, 2, tzinfo=UTC)
    turns = 0
    began = time.perf_counter()
    for _ in range(conversations):
        session, at = None, start
        for text in CONVERSATION:
            at += timedelta(seconds=20)
            session = advance(flow, session, Inbound(text, at)).session
            turns += 1
        assert session.status == "completed", session
    return turns, time.perf_counter() - began


def main() -> None:
    """Prints the figure and the machine it was measured on."""
    run(200)  # warm-up
    best = max((lambda t, s: t / s)(*run(3000)) for _ in range(3))
    print(f"engine: {best:,.0f} turns/s on one core "
          f"(mobilite, {len(CONVERSATION)}-message conversations)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


if __name__ == "__main__":
    main()
