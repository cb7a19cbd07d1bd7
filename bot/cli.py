"""The `tsunagi` command. Each group of subcommands lives in a module of bot/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys

from bot.settings import Settings

# Modules with a `register(subparsers)` function, in the order `tsunagi --help` lists them.
COMMAND_MODULES = [
    "bot.commands.core",
    "bot.commands.bench",
    "bot.commands.ops",
    "bot.commands.reminders",
    "bot.commands.linknet",
    "bot.commands.outreach",
    "bot.commands.meetings",
    "bot.commands.demo",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tsunagi", description="辰野町 つなぎメモ bot")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    args = parser.parse_args(argv)
    return args.func(args, Settings.from_env())


def fail(text: str, code: int = 2) -> int:
    print(text, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
