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


# Hypothesis: "ci" (the default) runs >= 200 examples per property so CI stays under ten minutes;
# `nox -s props` (HYPOTHESIS_PROFILE=props) runs thousands. No deadlines: a numba compile or a busy
# machine must not turn into a flaky failure.
def _register_hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
    settings.register_profile("ci", max_examples=200, derandomize=True, **common)
    settings.register_profile("props", max_examples=5000, **common)
    settings.register_profile("dev", max_examples=30, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_register_hypothesis_profiles()
