"""Shared test set-up: headless matplotlib, a seeded rng, figures closed after each test."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def sample_ds():
    """The committed sample dataset, loaded once per test session."""
    from kpitools.io import load_dataset

    if not (SAMPLE / "dataset.yml").exists():
        pytest.skip("data/sample not generated yet")
    return load_dataset(SAMPLE)
