"""The Japanese texts, looked up by code. Wording lives in handlers/locale/ja.toml only."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def _catalogue(lang: str = "ja") -> dict:
    with (LOCALE_DIR / f"{lang}.toml").open("rb") as fh:
        return tomllib.load(fh)


def _lookup(code: str) -> object:
    node: object = _catalogue()
    for part in code.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"no text for {code!r} in locale/ja.toml")
        node = node[part]
    return node


def t(code: str, **params: object) -> str:
    """The text for `code`, filled with `params`."""
    value = _lookup(code)
    if not isinstance(value, str):
        raise KeyError(f"{code!r} is a group of texts, not a text")
    return value.format(**params) if params else value


def label(group: str, key: str) -> str:
    """A label of a vocabulary key, e.g. label("concern", "hikikomori")."""
    return t(f"label.{group}.{key}")


def has(code: str) -> bool:
    try:
        return isinstance(_lookup(code), str)
    except KeyError:
        return False
