"""The web pages' routes: static HTML, CSS and JS under ``/web``, ECharts from npm, ``/`` leading to them.

The pages hold no data: they log in against ``/auth/token`` and call the JSON API with the bearer token, so
every rule about who sees what stays in the API's ``requires(...)`` declarations. These are plain Starlette
routes and a static mount, not API operations, so they are outside the OpenAPI document and the access
registry. ECharts is served from ``shuzhi/web/node_modules`` (``npm ci`` in ``shuzhi/web``) or from
``static/vendor`` (``npm run build`` copies it there for a wheel); never from a CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.requests import Request
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
STATIC = HERE / "static"
ECHARTS = (HERE / "node_modules/echarts/dist/echarts.min.js", STATIC / "vendor/echarts.min.js")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: "
        "blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate (ETag): a new release shows at once; offline: service worker
}


class Pages(StaticFiles):
    """Static files with the pages' security headers."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(SECURITY_HEADERS)
        return response


def echarts_file() -> Path | None:
    """Where ECharts is installed, if it is."""
    return next((path for path in ECHARTS if path.is_file()), None)


async def echarts(_request: Request) -> Response:
    path = echarts_file()
    if path is None:
        return PlainTextResponse("ECharts is not installed: run `npm ci` in shuzhi/web", status_code=404)
    return FileResponse(path, media_type="text/javascript", headers=SECURITY_HEADERS)


async def home(_request: Request) -> Response:
    return RedirectResponse("/web/")


def mount_pages(app: FastAPI) -> None:
    """Serve the pages under ``/web`` (dashboard, operations, resident, ...) and redirect ``/`` there."""
    app.add_route("/", home, include_in_schema=False)
    app.add_route("/web/vendor/echarts.min.js", echarts, include_in_schema=False)
    app.mount("/web", Pages(directory=STATIC, html=True), name="web")
