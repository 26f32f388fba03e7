"""The first hour at the command line: help with examples, grouped commands, a light entry
point, and no data folder made by accident."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from clearinghouse import cli_entry
from clearinghouse.cli import app as full_app
from clearinghouse.cli_help import EXAMPLES, TOP_LEVEL

runner = CliRunner()
HEAVY = ("inspect_ai", "jsonschema", "scipy", "csaf", "stix2", "cyclonedx", "spdx", "univers", "datasketch")


def _commands() -> dict[str, object]:
    out: dict[str, object] = {}

    def walk(cmd: object, path: list[str]) -> None:
        sub = getattr(cmd, "commands", None)
        if sub is not None:
            for name, child in sub.items():
                walk(child, [*path, name])
        else:
            out[" ".join(path)] = cmd

    walk(typer.main.get_command(full_app), [])
    return out


def test_every_command_has_an_example_that_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_MODEL_API_KEY", "not-a-real-key")  # models grant would ask
    monkeypatch.setenv("COLUMNS", "250")
    commands = _commands()
    assert set(commands) == set(EXAMPLES)
    for path, command in commands.items():
        words = path.split()
        result = runner.invoke(full_app, [*words, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Example: clearinghouse " + path in result.output, path
        # The example is a valid use of the command (its options exist, its arguments fit).
        args = shlex.split(EXAMPLES[path])[1 + len(words) :]
        command.make_context(words[-1], args)  # type: ignore[attr-defined]


def test_top_level_commands_are_grouped_and_listed_without_importing_them() -> None:
    names = set(typer.main.get_command(full_app).commands)  # type: ignore[attr-defined]
    assert names == set(TOP_LEVEL)
    result = runner.invoke(cli_entry.app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for panel in {p for p, _ in TOP_LEVEL.values()}:
        assert panel in result.output
    # The light entry point imports no heavy library (checked in a fresh interpreter).
    code = "import sys, clearinghouse.cli_entry; print(','.join(m for m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = set(loaded.strip().split(","))
    assert not [m for m in modules if m.split(".")[0] in HEAVY]
    assert "clearinghouse.cli" not in modules and "sqlalchemy" not in modules


def test_version_and_delegation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(cli_entry.app, ["version"])
    assert result.exit_code == 0 and result.output.strip() == cli_entry.__version__
    monkeypatch.setenv("COLUMNS", "250")
    result = runner.invoke(cli_entry.app, ["org", "add", "--help"])
    assert result.exit_code == 0 and "Example: clearinghouse org add" in result.output


def test_outside_a_data_folder_commands_refuse_and_create_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARINGHOUSE_")}
    done = subprocess.run(
        [sys.executable, "-m", "clearinghouse", "org", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "CLEARINGHOUSE_HOME" in done.stderr and "clearinghouse.toml" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_writes_the_settings_and_later_commands_find_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("CLEARINGHOUSE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        full_app,
        [
            "init",
            "--no-ask",
            "--publisher-name",
            "Example CERT",
            "--publisher-namespace",
            "https://cert.example.org",
        ],
    )
    assert result.exit_code == 0, result.output
    config = (tmp_path / "clearinghouse.toml").read_text()
    assert 'home = "var"' in config and 'name = "Example CERT"' in config
    assert (tmp_path / "var" / "keys").is_dir()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.delenv("CLEARINGHOUSE_PUBLISHER_NAME", raising=False)
    monkeypatch.delenv("CLEARINGHOUSE_PUBLISHER_NAMESPACE", raising=False)
    listed = runner.invoke(full_app, ["org", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Clearinghouse" in listed.output
    # A data folder that init never made is refused, not created.
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(tmp_path / "elsewhere"))
    refused = runner.invoke(full_app, ["org", "list"])
    assert refused.exit_code == 2 and "clearinghouse init" in refused.output
    assert not (tmp_path / "elsewhere").exists()
