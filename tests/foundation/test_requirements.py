"""A fresh install is reproducible: every package in the virtualenv, direct or
pulled in, is pinned in constraints.txt at the version installed, and every
requirement is pinned exactly."""

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.servers import ROOT

SET_UP_TOOLS = {"pip", "setuptools", "wheel"}


def pinned(path) -> dict[str, str]:
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier  # exactly one: ==
        assert specifier.operator == "==", line
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_every_requirement_is_pinned_exactly():
    assert pinned("requirements.txt")
    assert pinned("requirements-dev.txt")


def test_every_installed_package_is_in_the_constraints_at_its_version():
    constraints = pinned("constraints.txt")
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
    }
    missing = {
        name: version
        for name, version in installed.items()
        if name not in SET_UP_TOOLS and constraints.get(name) != version
    }
    assert not missing, (
        f"installed but not in constraints.txt at this version: {missing}"
    )
    direct = {**pinned("requirements.txt"), **pinned("requirements-dev.txt")}
    assert all(constraints[name] == version for name, version in direct.items())
