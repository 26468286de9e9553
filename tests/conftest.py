"""Shared fixtures: where the repository, the sample and the criteria live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project directory (holding app.py)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def sample_leads_path() -> Path:
    """The bundled sample history."""
    return REPO_ROOT / "sample_leads" / "leads.csv"


@pytest.fixture(scope="session")
def sample_profile_path() -> Path:
    """The profile of the bundled sample history."""
    return REPO_ROOT / "sample_leads" / "profile.yaml"


@pytest.fixture
def criteria_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's criteria, used by the app through
    ``LEADSIM_CRITERIA_ROOT`` so that tests never write into the repository."""
    root = tmp_path / "criteria"
    shutil.copytree(REPO_ROOT / "criteria", root)
    monkeypatch.setenv("LEADSIM_CRITERIA_ROOT", str(root))
    return root
