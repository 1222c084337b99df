"""Where an instance keeps its data: one data directory holding feeds, the lake, secrets and reports.

The directory is ``--data`` on the command line, else ``$SHUZHI_DATA``, else ``./shuzhi-data``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "shuzhi-data"
DATA_ENV = "SHUZHI_DATA"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @classmethod
    def resolve(cls, given: Path | None = None) -> DataDir:
        return cls(Path(given or os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR).resolve())

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"
