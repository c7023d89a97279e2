"""How Relais logs: plain lines or JSON lines, third-party chatter kept out."""

import json
import logging
import sys
from datetime import UTC, datetime

# Libraries that log every request at INFO (the twilio client writes eleven lines per SMS,
# headers included; httpx's lines hold the Telegram bot token): warnings and errors only.
QUIET = ("twilio", "twilio.http_client", "httpx", "httpcore", "telegram", "aiohttp.access",
         "aiohttp.client", "alembic", "asyncio", "urllib3", "spacy", "aiosqlite",
         "sqlalchemy.engine")
FORMATS = ("plain", "json")
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER = "relais"


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and any extra fields."""

    STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message",
                                                                             "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {"at": datetime.fromtimestamp(record.created, UTC).isoformat(
                     timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        entry.update({key: value for key, value in vars(record).items()
                      if key not in self.STANDARD and not key.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(form: str = "plain", level: str = "INFO", stream=None) -> None:
    """Sends Relais's log to standard error (or `stream`) in the chosen form, third parties
    quietened."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines() if form == "json" else logging.Formatter(PLAIN))
    handler.set_name(HANDLER)
    root = logging.getLogger()
    # Replaces only what an earlier call installed: a test runner's handlers stay.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER] + [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
