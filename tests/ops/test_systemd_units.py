"""The shipped systemd units (bot/systemd/): `systemd-analyze verify` accepts them without a
warning where it is installed; everywhere, a parser reads them and checks what the README
promises (the service restarts after a failure but not after a settings problem, the secrets
come from /etc/tsunagi/tsunagi.env, the timer starts the nightly backup)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import NAMES

ROOT = Path(__file__).parents[2]
UNITS = ROOT / "bot" / "systemd"
INSTALLED = "/opt/tsunagi/.venv/bin/tsunagi"
FILES = ["tsunagi.service", "tsunagi-backup.service", "tsunagi-backup.timer"]
KNOWN = {
    "Unit": {"Description", "Documentation", "Wants", "After", "Requires"},
    "Service": {
        "Type", "User", "Group", "EnvironmentFile", "WorkingDirectory", "ExecStartPre",
        "ExecStart", "KillSignal", "TimeoutStopSec", "Restart", "RestartSec",
        "RestartPreventExitStatus", "UMask", "StateDirectory", "StateDirectoryMode",
        "ReadWritePaths", "NoNewPrivileges", "PrivateTmp", "ProtectSystem", "ProtectHome",
        "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups",
        "RestrictSUIDSGID", "LockPersonality",
    },
    "Timer": {"OnCalendar", "Persistent", "RandomizedDelaySec", "Unit"},
    "Install": {"WantedBy"},
}  # fmt: skip


def parse(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file as systemd reads it: [Section] headers, Key=Value lines (keys may repeat),
    `#`/`;` comments; anything else is an error."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert current is not None and sep and key.strip() and value.strip(), f"{path}:{number}"
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


@pytest.mark.parametrize("name", FILES)
def test_every_unit_parses_with_known_sections_and_keys(name):
    unit = parse(UNITS / name)
    for section, entries in unit.items():
        assert section in KNOWN, section
        unknown = {k for k, _ in entries} - KNOWN[section]
        assert unknown == set(), f"{name} [{section}] {unknown}"
    for key in ("ExecStart", "ExecStartPre"):
        for command in values(unit, "Service", key):
            assert command.startswith("/"), command  # systemd wants absolute paths


def test_the_service_runs_the_bot_and_restarts_unless_the_settings_are_wrong():
    unit = parse(UNITS / "tsunagi.service")
    assert values(unit, "Service", "ExecStart") == [f"{INSTALLED} run"]
    [pre] = values(unit, "Service", "ExecStartPre")
    assert pre.startswith(f"{INSTALLED} db upgrade --backup-dir ")  # backed up before
    assert values(unit, "Service", "Restart") == ["on-failure"]
    assert values(unit, "Service", "RestartPreventExitStatus") == ["2"]  # bot/cli/common.py
    assert values(unit, "Service", "EnvironmentFile") == ["/etc/tsunagi/tsunagi.env"]
    assert values(unit, "Service", "User") == ["tsunagi"]
    assert values(unit, "Service", "UMask") == ["0077"]
    assert values(unit, "Install", "WantedBy") == ["multi-user.target"]


def test_the_timer_starts_the_nightly_backup():
    timer = parse(UNITS / "tsunagi-backup.timer")
    assert values(timer, "Timer", "Unit") == ["tsunagi-backup.service"]
    assert values(timer, "Timer", "Persistent") == ["true"]
    backup = parse(UNITS / "tsunagi-backup.service")
    commands = values(backup, "Service", "ExecStart")
    assert commands[0] == f"{INSTALLED} backup /var/backups/tsunagi/"
    assert f"{INSTALLED} audit verify" in commands


def test_the_example_environment_file_names_only_known_variables():
    lines = (UNITS / "tsunagi.env.example").read_text(encoding="utf-8").splitlines()
    names = {
        line.lstrip("# ").split("=")[0]
        for line in lines
        if "=" in line and line.lstrip("# ")[:1].isupper()
    }
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "TSUNAGI_ENCRYPTION_KEY"} <= names
    assert names <= set(NAMES)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_analyze_verifies_the_units(tmp_path):
    # verify also checks that each command exists: point them at this checkout's tsunagi
    here = str(Path(sys.executable).parent / "tsunagi")
    for name in FILES:
        text = (UNITS / name).read_text(encoding="utf-8").replace(INSTALLED, here)
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in FILES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = [line for line in result.stderr.splitlines() if any(n in line for n in FILES)]
    assert result.returncode == 0 and said == [], result.stderr


def test_the_admin_wrapper_is_valid_sh_and_uses_the_services_user_and_settings():
    script = UNITS / "tsunagi.sh"
    assert subprocess.run(["sh", "-n", str(script)], timeout=30).returncode == 0
    text = script.read_text(encoding="utf-8")
    assert "/etc/tsunagi/tsunagi.env" in text and INSTALLED in text and "-u tsunagi" in text
