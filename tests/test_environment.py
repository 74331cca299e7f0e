"""environment.yml (conda users) and pyproject.toml/constraints.txt (pip set-up) must agree."""

import re
import tomllib

import yaml
from conftest import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_packages() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return {_norm(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in reqs}


def _conda_packages() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, _, ver = dep.partition("=")
            out[_norm(name)] = ver
    return out


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#") and "==" in line:
            name, ver = line.split("==")
            pins[_norm(name)] = ver.strip()
    return pins


def test_same_packages():
    conda = set(_conda_packages()) - {"python", "pip"}
    assert conda == _pyproject_packages()


def test_same_versions_as_constraints():
    pins = _constraints()
    conda = _conda_packages()
    mismatched = {k: (v, pins.get(k)) for k, v in conda.items() if k not in ("python", "pip") and pins.get(k) != v}
    assert mismatched == {}


def test_editable_install_last():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["dependencies"][-1] == {"pip": ["-e ."]}
