"""``python -m shuzhi.web``: serve the API with the pages, or create the demo logins (passwords printed)."""

from __future__ import annotations

import argparse
from pathlib import Path

from shuzhi.api.issuer import DEFAULT_REGION
from shuzhi.api.server import DEFAULT_HOST, DEFAULT_PORT
from shuzhi.settings import DataDir


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    data = DataDir.resolve(args.data).root
    if args.command == "demo-accounts" or getattr(args, "demo", False):
        print_accounts(data)
    if args.command == "serve":
        from shuzhi.web.server import serve_dashboard

        print(f"pages: http://{args.host}:{args.port}/web/  API: http://{args.host}:{args.port}/docs")
        serve_dashboard(data, args.host, args.port, args.region)


def print_accounts(data: Path) -> None:
    from shuzhi.web.demo import demo_accounts

    for username, password, role in demo_accounts(data):
        print(f"{role:15} {username:22} {password}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shuzhi.web", description=__doc__)
    parser.add_argument("--data", type=Path, help="data directory (default: $SHUZHI_DATA or ./shuzhi-data)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the API and the pages (/web/) under uvicorn")
    run.add_argument("--host", default=DEFAULT_HOST)
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    run.add_argument("--region", default=DEFAULT_REGION, help="GB/T 2260 code whose key signs health codes")
    run.add_argument("--demo", action="store_true", help="create the demo logins first and print them")
    commands.add_parser("demo-accounts", help="create the demo logins (or new passwords) and print them")
    return parser


if __name__ == "__main__":
    main()
