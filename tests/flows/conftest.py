"""Whether a run rewrites the events each conversation case is expected to emit."""

import os

import pytest


@pytest.fixture
def update_snapshots(request) -> bool:
    """Whether this run rewrites the snapshots instead of comparing with them."""
    return bool(request.config.getoption("update_snapshots", default=False)) or \
        os.environ.get("RELAIS_UPDATE_SNAPSHOTS") == "1"
