"""Terminal presentation shared by the CLI commands: Rich progress bars and logging setup.

Library code reports progress through a plain callback ``progress(step, done, total)``; this module turns
those calls into Rich progress bars, one bar per step, so no library module depends on the terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

console = Console()


QUIET_LIBRARIES = ("alembic", "py4j")  # their INFO lines (plugins, gateway chatter) say nothing to users


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
        force=True,
    )
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


class StepProgress:
    """A callback ``(step, done, total)`` that draws one Rich progress bar per step."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if step not in self._tasks:
            self._tasks[step] = self._progress.add_task(step, total=total or None)
        self._progress.update(self._tasks[step], completed=done, total=total or None)


@contextmanager
def step_progress() -> Iterator[StepProgress]:
    """Progress bars for the duration of a long command."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield StepProgress(progress)
