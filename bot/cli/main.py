"""The `tsunagi` command. Each group of subcommands lives in a module of bot/cli/; the tools
(`tsunagi demo`, `tsunagi bench`, in sandbox/) join through the `tsunagi.commands` entry points,
so the product never imports them.

argparse speaks English of its own ("usage:", "options", "show this help message and exit",
"the following arguments are required: …"); `Parser` says all of it in Japanese (texts under
cli.argparse), so `tsunagi --help` and every mistake on the command line read in one language.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib.metadata import PackageNotFoundError, entry_points, version

from bot.cli import (
    core,
    linknet,
    meetings,
    ops_audit,
    ops_backup,
    ops_check,
    ops_retention,
    outreach,
    partners,
    reminders,
)
from bot.cli.common import fail
from bot.settings import problem_line, read
from handlers.common.texts import t
from models.ops import migrate

# Modules with a `register(subparsers)` function, in the order `tsunagi --help` lists them.
# The IT officer's commands are the ops_* modules; exit codes there: 0 done / all well, 1 a problem
# was found (tamper, unhealthy), 2 usage or settings (bot/cli/common.py).
COMMAND_MODULES = [
    core,
    ops_backup,
    ops_retention,
    ops_audit,
    ops_check,
    reminders,
    linknet,
    outreach,
    meetings,
    partners,
]
TOOLS = "tsunagi.commands"  # entry-point group of the tools' command groups (pyproject.toml)

# argparse's own messages (Python 3.11+), each with the code of its Japanese text.
_ARGPARSE_MESSAGES = {
    "the following arguments are required: %s": "required",
    "unrecognized arguments: %s": "unrecognized",
    "argument %(argument_name)s: %(message)s": "argument",
    "invalid choice: %(value)r (choose from %(choices)s)": "invalid_choice",
    "invalid %(type)s value: %(value)r": "invalid_value",
    "expected one argument": "expected_one",
    "expected at least one argument": "expected_at_least_one",
    "expected at most one argument": "expected_at_most_one",
    "expected %s argument": "expected_n",
    "expected %s arguments": "expected_n",
    "not allowed with argument %s": "not_allowed_with",
    "one of the arguments %s is required": "one_required",
    "ambiguous option: %(option)s could match %(matches)s": "ambiguous",
    "ignored explicit argument %r": "ignored_value",
}


def _pattern(template: str) -> re.Pattern:
    """'invalid %(type)s value: %(value)r' -> a regex with one group per placeholder."""
    parts = re.split(r"%(?:\((\w+)\))?[sr]", template)
    regex, names = "", []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.escape(part)
        else:
            names.append(part or f"arg{len(names)}")
            regex += f"(?P<{names[-1]}>.+?)"
    return re.compile(f"^{regex}$", re.S)


_PATTERNS = [(_pattern(k), code) for k, code in _ARGPARSE_MESSAGES.items()]


def japanese(message: str) -> str:
    """argparse's English error message in Japanese (unknown ones are left as they are)."""
    for pattern, code in _PATTERNS:
        found = pattern.match(message)
        if found:
            params = found.groupdict()
            if "message" in params:
                params["message"] = japanese(params["message"])
            return t(f"cli.argparse.{code}", **params)
    return message


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        # prefix "" is argparse naming a subcommand's parser ("tsunagi org"): left as it is
        super().add_usage(
            usage, actions, groups, t("cli.argparse.usage") if prefix is None else prefix
        )


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that says everything in Japanese (its subcommands' parsers too)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = t("cli.argparse.positionals")
        self._optionals.title = t("cli.argparse.optionals")
        self.add_argument("-h", "--help", action="help", help=t("cli.argparse.help"))

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("title", t("cli.argparse.commands"))
        kwargs.setdefault("metavar", t("cli.argparse.command"))
        return super().add_subparsers(**kwargs)

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, t("cli.argparse.error", prog=self.prog, message=japanese(message)) + "\n")


def _version() -> str:
    try:
        number = version("tsunagi")
    except PackageNotFoundError:  # run from a checkout that was never installed
        number = "?"
    return t("cli.version", version=number, schema=migrate.head_revision("sqlite://"))


def build_parser() -> Parser:
    parser = Parser(prog="tsunagi", description=t("cli.description"))
    parser.add_argument(
        "--version", action="version", version=_version(), help=t("cli.argparse.version")
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    for tool in sorted(entry_points(group=TOOLS), key=lambda e: e.name):
        tool.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Every variable checked before any work: one line each, exit 2 (bot/settings.py). `check`
    # lists them among its findings instead; commands that need no settings go on.
    settings, problems = read()
    if problems and getattr(args, "settings_needed", True):
        return fail("\n".join([t("settings.heading"), *map(problem_line, problems)]))
    args.setting_problems = problems
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
