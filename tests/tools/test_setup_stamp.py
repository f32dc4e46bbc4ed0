"""tools/setup_stamp.sh, the rules by which tools/setup.sh decides what to install into
.venv (issue 7: `make run` after `make test` installed everything again). The functions
run in bash over a scratch project; nothing is installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / ".venv").mkdir()
        self.write("pyproject.toml", "[project]\nname = 'x'\n")
        self.write("requirements-dev.txt", "pytest\n")

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(text)

    def sh(self, script: str) -> str:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", f"source {ROOT / 'tools/setup_stamp.sh'}\n{script}"],
            cwd=self.root, capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def steps(self) -> tuple[str, str]:
        """What `make run` and `make test` would install now."""
        run, test = (self.sh(f"python_step .venv {mode}") for mode in ("run", "test"))
        return run, test

    def installed(self, mode: str) -> None:
        self.sh(f"stamp_write .venv {mode}")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_a_fresh_venv_needs_everything(project: Project) -> None:
    assert project.steps() == ("all", "all")


def test_after_test_run_needs_nothing(project: Project) -> None:
    project.installed("test")
    assert project.steps() == ("none", "none")


def test_after_run_test_needs_only_the_tools(project: Project) -> None:
    project.installed("run")
    assert project.steps() == ("none", "tools")


def test_a_changed_pyproject_installs_again(project: Project) -> None:
    project.installed("test")
    project.write("pyproject.toml", "[project]\nname = 'x'\ndependencies = ['aiohttp']\n")
    assert project.steps() == ("all", "all")


def test_changed_tools_install_the_tools_only(project: Project) -> None:
    project.installed("test")
    project.write("requirements-dev.txt", "pytest\nplaywright\n")
    assert project.steps() == ("none", "tools")


def test_a_touched_but_unchanged_file_installs_nothing(project: Project) -> None:
    project.installed("test")
    project.sh("sleep 0.01; touch pyproject.toml requirements-dev.txt")
    assert project.steps() == ("none", "none")


def test_a_stamp_from_the_old_setup_covers_nothing(project: Project) -> None:
    """The setup before these rules left empty stamps: install once more, then stamp."""
    project.sh("touch .venv/.minipbx-test .venv/.minipbx-run")
    assert project.steps() == ("all", "all")


def test_an_unknown_mode_is_refused(project: Project) -> None:
    result = subprocess.run(
        ["bash", "-c", f"source {ROOT / 'tools/setup_stamp.sh'}; python_step .venv lint"],
        cwd=project.root, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0 and "use run or test" in result.stderr
