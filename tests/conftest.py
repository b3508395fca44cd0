"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# Real market data (OANDA quotes, see its README) shared between checkouts; absent in a user's clone.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The shared real-data folder; tests that need it are skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real market data not found at {SHARED_DATA} (only present in the project's shared workspace)"
        )
    return SHARED_DATA
