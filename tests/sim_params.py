"""A copy of the simulator's params.yaml with some keys changed, for tests that simulate another world."""

from __future__ import annotations

from pathlib import Path

import yaml

from shuzhi.sim.world import default_params_path


def params_file(folder: Path, **changes: object) -> Path:
    """params.yaml with dotted keys changed (``**{"proximity.app_share": 0.3}``), written into ``folder``.

    Key order is kept: the simulator draws in the order of its sections, so a reordered copy is another world.
    """
    data = yaml.safe_load(default_params_path().read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split(".")
        for key in path:
            node = node[key]
        node[last] = value
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
