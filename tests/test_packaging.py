"""The wheel ships every package and the migrations (as attune_packs.migrations)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import REPO


def _declared() -> tuple[list[str], dict[str, str]]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    st = data["tool"]["setuptools"]
    return st["packages"], st.get("package-dir", {})


def test_every_package_is_listed_in_pyproject() -> None:
    packages, package_dir = _declared()
    found = set()
    for dirpath, dirnames, filenames in os.walk(REPO / "attune_packs"):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if any(f.endswith(".py") for f in filenames):
            found.add(".".join(Path(dirpath).relative_to(REPO).parts))
    assert found <= set(packages), f"add to [tool.setuptools] packages: {found - set(packages)}"
    assert package_dir["attune_packs.migrations"] == "migrations"
    assert "attune_packs.migrations.versions" in packages


def test_build_ships_migrations_inside_the_package_and_they_run(tmp_path: Path) -> None:
    """setuptools lays the package out as the wheel will (build_py, offline)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "attune_packs", src / "attune_packs", ignore=ignore)
    shutil.copytree(REPO / "migrations", src / "migrations", ignore=ignore)
    site = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import setup; setup()",
            "-q",
            "build_py",
            "-d",
            str(site),
        ],
        capture_output=True,
        text=True,
        cwd=src,
    )
    assert build.returncode == 0, build.stderr
    for rel in ("env.py", "script.py.mako", "versions/0001_initial.py"):
        assert (site / "attune_packs" / "migrations" / rel).is_file(), rel
    assert (site / "attune_packs" / "db" / "database.py").is_file()
    assert not (site / "migrations").exists()
    # Run from the unpacked wheel (dependencies from this environment).
    code = (
        "import attune_packs, sys\n"
        "from attune_packs.config import load_settings\n"
        "from attune_packs.db import open_database, migrations_dir\n"
        "assert attune_packs.__file__.startswith(sys.argv[1]), attune_packs.__file__\n"
        "assert str(migrations_dir()).startswith(sys.argv[1]), migrations_dir()\n"
        "db = open_database(load_settings(home=sys.argv[2], env={}))\n"
        "print('PACKS', db.list_packs())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTUNE_", "PYTHON"))}
    env["PYTHONPATH"] = str(site)
    run = subprocess.run(
        [sys.executable, "-c", code, str(site), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "PACKS []" in run.stdout
    assert (tmp_path / "home" / "attune.db").exists()


def test_sdist_ships_the_package_and_no_tests(tmp_path: Path) -> None:
    """An sdist either runs its tests or ships none: it ships none (they need the
    checkout's packs-example/ and the Attune reference data beside it)."""
    import tarfile

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md", "MANIFEST.in"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("attune_packs", "migrations", "tests"):
        shutil.copytree(REPO / folder, src / folder, ignore=ignore)
    out = tmp_path / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import setuptools.build_meta as b; print(b.build_sdist({str(out)!r}))",
        ],
        capture_output=True,
        text=True,
        cwd=src,
    )
    assert build.returncode == 0, build.stderr
    with tarfile.open(out / build.stdout.strip().splitlines()[-1]) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    assert not [n for n in names if n.startswith("tests")], names
    assert "attune_packs/cli/app.py" in names
    assert "migrations/versions/0001_initial.py" in names
    assert "CHANGELOG.md" in names


def test_readme_module_tree_is_current() -> None:
    """The README's Development section lists every module with its docstring's summary."""
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "module_tree.py"),
            "--check",
            str(REPO / "README.md"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout
