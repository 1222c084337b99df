"""The web pages of shuzhi: the dashboard (一图一码一指数), the resident page and the checkpoint page.

Static HTML, CSS and JS (``static/``; ECharts from npm, see ``package.json``) served by the API app
(``routes.mount_pages``), talking to the JSON API with a bearer token. ``serve_dashboard(data_dir, host,
port)`` runs the app with this instance's signing key; ``demo_accounts(data_dir)`` creates a login per role.
Both are imported lazily: the API app imports ``shuzhi.web.routes`` and must not import itself back.
"""

from __future__ import annotations

from typing import Any

__all__ = ["demo_accounts", "serve_dashboard"]


def __getattr__(name: str) -> Any:
    if name == "serve_dashboard":
        from shuzhi.web.server import serve_dashboard

        return serve_dashboard
    if name == "demo_accounts":
        from shuzhi.web.demo import demo_accounts

        return demo_accounts
    raise AttributeError(f"module 'shuzhi.web' has no attribute {name!r}")
