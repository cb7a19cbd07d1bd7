"""The Japanese texts, looked up by code. Wording lives in handlers/common/locale/ja/*.toml only.

One file per feature, merged into one catalogue; a code defined twice is an error.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"


def _merge(into: dict, new: dict, where: str, prefix: str = "") -> None:
    for key, value in new.items():
        code = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, where, code + ".")
        elif key in into:
            raise KeyError(f"text {code!r} is defined twice (again in {where})")
        else:
            into[key] = value


@cache
def _catalogue(lang: str = "ja") -> dict:
    catalogue: dict = {}
    for path in sorted((LOCALE_DIR / lang).glob("*.toml")):
        with path.open("rb") as fh:
            _merge(catalogue, tomllib.load(fh), path.name)
    return catalogue


def _lookup(code: str) -> object:
    node: object = _catalogue()
    for part in code.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"no text for {code!r} in handlers/common/locale/ja/")
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
