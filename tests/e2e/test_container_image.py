"""The runtime stage of the Dockerfile installs exactly the Debian packages whose shared
libraries the cairn binary loads.

The image itself is too slow to build in CI (scripts/build-image.sh builds and checks it);
this catches the mistake that breaks it at `docker run` time: a module that starts linking a
new library (libpq, libcurl, ...) without its runtime package in the image, or a package left
in the image that nothing loads any more. It reads `ldd` of the binary under test and asks
dpkg which package ships each library, so it runs on the Debian machines the project builds
on (scripts/install-deps.sh)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, cairn_binary

# Packages the debian:bookworm-slim base image already holds (its Priority: required set; see
# /var/lib/dpkg/status in the image): their libraries need no line in the Dockerfile.
IN_BASE_IMAGE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
# Runtime packages the image installs for something other than a library cairn loads.
NOT_LIBRARIES = {"tzdata", "ca-certificates"}


def runtime_packages(dockerfile: str) -> set[str]:
    """The packages of the apt-get install in the stage named `runtime`."""
    stage = re.split(r"^FROM\s+\S+\s+AS\s+runtime\s*$", dockerfile, flags=re.M | re.I)
    assert len(stage) == 2, "the Dockerfile has no stage `FROM ... AS runtime`"
    body = stage[1].split("\nFROM ")[0].replace("\\\n", " ")
    installs = re.findall(r"apt-get install ([^&\n]*)", body)
    assert installs, "the runtime stage installs no apt packages"
    return {w for cmd in installs for w in cmd.split() if not w.startswith("-")}


def owning_package(path: str) -> str | None:
    """The Debian package that ships a library path (merged /usr: dpkg may know either
    spelling)."""
    candidates = [path]
    resolved = str(Path(path).resolve())
    candidates.append(resolved)
    for p in list(candidates):
        candidates.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for p in candidates:
        out = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":", 1)[0].strip()
    return None


def linked_packages(binary: Path) -> dict[str, str]:
    """package -> one library of it that the binary loads."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    packages = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if not m:
            continue
        pkg = owning_package(m.group(2))
        assert pkg is not None, f"no Debian package ships {m.group(2)} ({m.group(1)})"
        packages.setdefault(pkg, m.group(1))
    return packages


@pytest.fixture(scope="module")
def linked():
    if shutil.which("dpkg") is None or shutil.which("ldd") is None:
        pytest.skip("needs dpkg and ldd (Debian)")
    binary = cairn_binary()
    packages = linked_packages(binary)
    if any(p.startswith(("libasan", "libubsan")) for p in packages):
        pytest.skip("sanitizer build: the image ships the release binary")
    return packages


def test_runtime_stage_installs_every_library_cairn_loads(linked):
    wanted = runtime_packages((REPO / "Dockerfile").read_text())
    missing = {p: lib for p, lib in linked.items() if p not in wanted | IN_BASE_IMAGE}
    assert not missing, (
        f"cairn loads libraries from packages the runtime image lacks: {missing}; add them to "
        "the runtime stage's apt-get install in the Dockerfile")


def test_runtime_stage_installs_nothing_cairn_does_not_load(linked):
    wanted = runtime_packages((REPO / "Dockerfile").read_text())
    stale = wanted - set(linked) - IN_BASE_IMAGE - NOT_LIBRARIES
    assert not stale, (
        f"the runtime image installs {sorted(stale)}, which cairn no longer loads; drop them "
        "from the Dockerfile")


def test_runtime_packages_parser_reads_the_install_line():
    dockerfile = (
        "FROM debian:bookworm AS build\nRUN apt-get install -y gcc\n"
        "FROM debian:bookworm-slim AS runtime\n"
        "RUN apt-get update \\\n && apt-get install -y --no-install-recommends \\\n"
        "      libfoo1 libbar2 \\\n && rm -rf /var/lib/apt/lists/*\nUSER 1\n")
    assert runtime_packages(dockerfile) == {"libfoo1", "libbar2"}
