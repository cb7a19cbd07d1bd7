"""The `tsunagi` command. Each group of subcommands lives in a module of bot/cli/; the tools
(`tsunagi demo`, `tsunagi bench`, in sandbox/) join through the `tsunagi.commands` entry points,
so the product never imports them."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from bot.cli import core, linknet, meetings, ops, outreach, reminders
from bot.settings import Settings

# Modules with a `register(subparsers)` function, in the order `tsunagi --help` lists them.
COMMAND_MODULES = [core, ops, reminders, linknet, outreach, meetings]
TOOLS = "tsunagi.commands"  # entry-point group of the tools' command groups (pyproject.toml)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tsunagi", description="辰野町 つなぎメモ bot")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    for tool in sorted(entry_points(group=TOOLS), key=lambda e: e.name):
        tool.load()(sub)
    args = parser.parse_args(argv)
    return args.func(args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
