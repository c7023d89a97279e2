"""What a test needs to run the `relais` command of this checkout in another process."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `python -m bot` imports from here, not from whatever Relais the environment has installed.
CHECKOUT = {"PYTHONPATH": str(ROOT)}
