"""A deploy from a clean runner installs exactly the reviewed dependencies (issue 10, item 8).

``Pulumi.yaml`` selects Pulumi's uv toolchain: ``pulumi install`` runs ``uv sync`` and every preview or up runs
``uv sync --inexact``, into the ``virtualenv`` option's directory, so a deploy installs what ``uv.lock`` pins,
transitive versions included; ``make setup`` and CI install the same lock with ``uv sync --locked``. A lock is
only as good as its match with ``pyproject.toml``: ``uv.lock`` records, for the project, the requirements it was
resolved from (``metadata.requires-dist``), and these tests hold them to pyproject's pins by reading the two
files, without uv or a network. The last test also asks the Makefile's pinned uv (``.venv-uv``, built by
``make setup``; 0.2 s, offline) and is skipped where make has not built it.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "uv.lock"
MAKEFILE = ROOT / "Makefile"
FIX = "run `uv lock` with the pinned uv (.venv-uv/bin/uv lock, after `make setup`) and commit uv.lock"

PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)")
DEV_EXTRA_MARKER = "extra == 'dev'"
# What the program that `pulumi up` runs imports: runtime dependencies, never only in the dev extra.
DEPLOY_PACKAGES = (
    "pulumi",
    "pulumi-aws",
    "pulumi-eks",
    "pulumi-kubernetes",
    "pulumi-random",
    "boto3",
    "pydantic",
    "pyyaml",
    "ruamel-yaml",
)


def normalize(name: str) -> str:
    """The PEP 503 form under which uv.lock records a name (``ruamel.yaml`` -> ``ruamel-yaml``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str], where: str) -> dict[str, str]:
    """``name==version`` requirements by normalised name; anything else fails (the project pins with ``==``)."""
    pinned: dict[str, str] = {}
    for requirement in requirements:
        match = PIN.fullmatch(requirement.strip())
        assert match, f"{where}: {requirement!r} is not pinned as name==version"
        pinned[normalize(match["name"])] = match["version"]
    return pinned


@cache
def pyproject() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(PYPROJECT.read_text())["project"]
    return project


def declared() -> dict[str, dict[str, str]]:
    """pyproject's pins: ``runtime`` ([project].dependencies) and ``dev`` (the dev extra)."""
    project = pyproject()
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})
    return {
        "runtime": pins(project["dependencies"], "[project].dependencies"),
        "dev": pins(extras.get("dev", []), "[project.optional-dependencies].dev"),
    }


@cache
def lock() -> dict[str, Any]:
    """uv.lock, parsed once (about 0.1 s each time); tests only read it."""
    parsed: dict[str, Any] = tomllib.loads(LOCK.read_text())
    return parsed


def root_package(locked: dict[str, Any]) -> dict[str, Any]:
    name = normalize(pyproject()["name"])
    roots = [package for package in locked["package"] if package["name"] == name]
    assert len(roots) == 1, f"uv.lock has {len(roots)} entries for the project {name}; {FIX}"
    root: dict[str, Any] = roots[0]
    return root


def recorded(root: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The requirements uv.lock was resolved from, as ``runtime`` and ``dev`` specifiers by name."""
    sections: dict[str, dict[str, str]] = {"runtime": {}, "dev": {}}
    for requirement in root["metadata"]["requires-dist"]:
        marker = requirement.get("marker")
        section = "runtime" if marker is None else "dev" if marker == DEV_EXTRA_MARKER else f"marker {marker}"
        assert section in sections, f"uv.lock records {requirement['name']} under {section}, which pyproject lacks"
        extras = f"[{','.join(requirement['extras'])}]" if requirement.get("extras") else ""
        sections[section][requirement["name"] + extras] = requirement.get("specifier", "")
    return sections


def locked_versions(locked: dict[str, Any]) -> dict[str, list[str]]:
    versions: dict[str, list[str]] = {}
    for package in locked["package"]:
        versions.setdefault(package["name"], []).append(package["version"])
    return versions


def test_lock_file_pins_exactly_what_pyproject_declares() -> None:
    """uv.lock was resolved from pyproject's current requirements: the same pins, extras and Python range."""
    want = declared()
    root = root_package(lock())
    have = recorded(root)
    problems: list[str] = []
    for section, where in (("runtime", "[project].dependencies"), ("dev", "the dev extra")):
        for name, version in sorted(want[section].items()):
            specifier = have[section].get(name)
            if specifier is None:
                problems.append(f"{name}: pyproject.toml pins =={version} in {where}, uv.lock does not record it")
            elif specifier != f"=={version}":
                problems.append(f"{name}: pyproject.toml pins =={version} in {where}, uv.lock records {specifier}")
        for name, specifier in sorted(have[section].items()):
            if name not in want[section]:
                problems.append(f"{name}: uv.lock records {specifier} in {where}, pyproject.toml no longer has it")
    extras = sorted(pyproject().get("optional-dependencies", {}))
    if sorted(root["metadata"].get("provides-extras", [])) != extras:
        problems.append(f"extras: pyproject.toml has {extras}, uv.lock {root['metadata'].get('provides-extras')}")
    if lock()["requires-python"] != pyproject()["requires-python"]:
        problems.append(
            f"requires-python: pyproject.toml {pyproject()['requires-python']}, uv.lock {lock()['requires-python']}"
        )
    assert not problems, "uv.lock does not match pyproject.toml:\n  " + "\n  ".join(problems) + f"\n{FIX}"


def test_lock_file_resolves_every_pin_to_the_pinned_version() -> None:
    """Each pinned requirement, runtime or dev, is installed at its pin: one locked version, the same."""
    versions = locked_versions(lock())
    problems = [
        f"{name}: pyproject.toml pins {version}, uv.lock resolves {versions.get(name, 'nothing')}"
        for section in declared().values()
        for name, version in sorted(section.items())
        if versions.get(name) != [version]
    ]
    assert not problems, "\n".join(problems) + f"\n{FIX}"


@pytest.mark.parametrize("package", DEPLOY_PACKAGES)
def test_deploy_dependency_is_a_locked_runtime_requirement_at_its_pin(package: str) -> None:
    """A package the program imports is installed by Pulumi's `uv sync`, which leaves out the dev extra."""
    want = declared()
    assert package not in want["dev"] or package in want["runtime"], (
        f"{package} is only in the dev extra: `pulumi install` (uv sync without extras) would not install it"
    )
    assert package in want["runtime"], f"{package} is not in pyproject's [project].dependencies"
    root = root_package(lock())
    assert package in {dependency["name"] for dependency in root["dependencies"]}, (
        f"uv.lock's project entry does not depend on {package}; {FIX}"
    )
    versions = locked_versions(lock()).get(package)
    assert versions == [want["runtime"][package]], (
        f"{package}: pyproject.toml pins {want['runtime'][package]}, uv.lock resolves {versions}; {FIX}"
    )


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name} :?= *(\S+) *$", MAKEFILE.read_text(), re.MULTILINE)
    assert match, f"the Makefile sets no {name}"
    return match[1]


def test_pulumi_installs_with_the_uv_toolchain_into_the_make_venv() -> None:
    """Pulumi.yaml asks for the uv toolchain (which installs from uv.lock) in the venv that make builds."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    runtime = project["runtime"]
    assert runtime["name"] == "python"
    options = runtime.get("options", {})
    assert options.get("toolchain") == "uv", (
        f"Pulumi.yaml's toolchain is {options.get('toolchain')!r}: only uv installs from uv.lock"
    )
    assert options.get("virtualenv") == makefile_variable("VENV"), (
        f"Pulumi.yaml's virtualenv {options.get('virtualenv')!r} is not the Makefile's VENV"
    )
    assert not (ROOT / "requirements.txt").exists(), "requirements.txt: the dependencies live in pyproject.toml"


def test_lock_file_is_current_for_the_pinned_uv() -> None:
    """The pinned uv itself finds uv.lock up to date (offline), as `uv sync --locked` in make and CI will."""
    uv = ROOT / ".venv-uv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("the pinned uv is not built here (make setup builds .venv-uv); the lock was checked above")
    env = {key: value for key, value in os.environ.items() if key not in {"UV_FROZEN", "UV_LOCKED"}}
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True, env=env).stdout
    assert version.split()[1] == makefile_variable("UV_VERSION"), (
        f".venv-uv has {version.strip()}, the Makefile pins UV_VERSION {makefile_variable('UV_VERSION')}: make setup"
    )
    check = subprocess.run(
        [uv, "lock", "--check", "--offline", "--no-python-downloads"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert check.returncode == 0, (
        f"uv lock --check --offline: uv.lock needs re-resolving for pyproject.toml (offline, uv may word it as"
        f" packages missing from its cache):\n{check.stderr}\n{FIX}"
    )
