# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execution and decision environment definitions: what ansible-builder makes of them, without building an image.

``ansible-builder create`` writes the build context (Containerfile plus _build/) and needs no container
engine. The image's Python requirements are only gathered during a build, by the context's own
introspect.py running over the installed collections; the last test runs that same script over our
collection as ``ansible-galaxy collection build`` packs it, which is what an image gets from Galaxy. The decision
environment (decision-environment.yml, for the EDA controller) is checked the same way: ansible-rulebook, Java 17
for its rules engine, the runtime requirements and the collection with its event source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
EE_FILE = REPO / "execution-environment.yml"
META_EE_FILE = REPO / "meta" / "execution-environment.yml"
DE_FILE = REPO / "decision-environment.yml"
# The ansible-rulebook the tests run the rulebooks with, and the first release of the collection with extensions/eda.
ANSIBLE_RULEBOOK = "ansible-rulebook==1.3.2"
EDA_RELEASE = "1.2.0"
EVENT_SOURCE = "extensions/eda/plugins/event_source/stage_events.py"
COLLECTION = "cloudops.apigw_tracing"
# Python packages the modules import at runtime; each must have a floor and no upper pin.
RUNTIME_PACKAGES = ("boto3", "botocore")
# Neither ansible-builder create nor introspection may need a network: any HTTP(S) client that honours
# the proxy settings fails at once against this closed port instead of reaching out.
NO_NETWORK = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}
# Each command finishes in a second or two; this only stops a hung one.
COMMAND_TIMEOUT = 120


def _tool(name):
    """The named console script: on PATH (as `make static` sets it) or next to this Python."""
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not path:
        pytest.fail(f"{name} not found on PATH or next to {sys.executable}; run `make deps` (test-requirements.txt)")
    return path


def _run(argv, cwd):
    env = dict(os.environ)
    for key in ("http_proxy", "https_proxy", "all_proxy", "ALL_PROXY"):
        env.pop(key, None)
    env.update(NO_NETWORK)
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def _load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _requirements(path):
    """{normalised name: Requirement} of a pip requirements file, comments and blank lines skipped."""
    found = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            found[req.name.lower()] = req
    return found


def _floors(reqs):
    """{name: floor version} for the runtime packages; fails unless each is a bare `>=` floor."""
    floors = {}
    for name in RUNTIME_PACKAGES:
        assert name in reqs, f"{name} missing from requirements: {sorted(reqs)}"
        specs = list(reqs[name].specifier)
        assert [spec.operator for spec in specs] == [">="], f"{name} must have exactly one '>=' floor, has {reqs[name]}"
        floors[name] = specs[0].version
    return floors


def _galaxy_floor(collections, name):
    """The '>=x.y.z' floor a galaxy requirements list or galaxy.yml dependencies give a collection."""
    if isinstance(collections, dict):
        version = collections.get(name)
    else:
        version = next((entry.get("version") for entry in collections if entry.get("name") == name), None)
    assert version, f"{name} has no version in {collections}"
    assert version.startswith(">="), f"{name} version must be a '>=' floor, is {version!r}"
    return version


def _create(definition, work):
    """`ansible-builder create` of ``definition`` into ``work``/context. Run from an unrelated directory so the files
    named in the definition are proven to be found relative to the definition, as they are when users build from
    anywhere."""
    context = work / "context"
    _run([_tool("ansible-builder"), "create", "-f", str(definition), "-c", str(context), "--output-filename", "Containerfile"], cwd=work)
    return context


@pytest.fixture(name="context", scope="module")
def fixture_context(tmp_path_factory):
    """The build context `ansible-builder create` writes for the root execution-environment.yml."""
    return _create(EE_FILE, tmp_path_factory.mktemp("ee"))


@pytest.fixture(name="de_context", scope="module")
def fixture_de_context(tmp_path_factory):
    """The build context `ansible-builder create` writes for the root decision-environment.yml."""
    return _create(DE_FILE, tmp_path_factory.mktemp("de"))


def test_collection_ee_metadata_names_runtime_requirements():
    meta = _load_yaml(META_EE_FILE)
    assert meta.get("version") == 3, f"{META_EE_FILE.name}: version must be 3, is {meta.get('version')!r}"
    deps = meta.get("dependencies") or {}
    assert set(deps) <= {"python", "system"}, f"unexpected dependencies keys: {sorted(deps)}"
    # introspect.py reads each entry as one file path relative to the collection root.
    for key, rel in deps.items():
        assert isinstance(rel, str) and not os.path.isabs(rel), f"dependencies.{key} must be a relative file path, is {rel!r}"
        assert (REPO / rel).is_file(), f"dependencies.{key} names {rel}, which does not exist"
    assert deps.get("python") == "requirements.txt", "the image must get the same runtime requirements as any other install"
    assert _floors(_requirements(REPO / deps["python"]))
    # A bindep.txt the metadata does not name would be silently ignored by ansible-builder.
    if (REPO / "bindep.txt").exists():
        assert deps.get("system") == "bindep.txt", "bindep.txt exists but meta/execution-environment.yml does not name it"


def test_builder_create_writes_context_with_our_requirements(context):
    definition = _load_yaml(EE_FILE)
    assert definition.get("version") == 3
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    base_image = definition["images"]["base_image"]["name"]
    assert f'ARG EE_BASE_IMAGE="{base_image}"' in containerfile
    install_refs = next(line for line in containerfile.splitlines() if line.startswith("ARG ANSIBLE_INSTALL_REFS="))
    assert definition["dependencies"]["ansible_core"]["package_pip"] in install_refs
    assert definition["dependencies"]["ansible_runner"]["package_pip"] in install_refs
    assert Requirement(definition["dependencies"]["ansible_runner"]["package_pip"]).name == "ansible-runner"

    build = context / "_build"
    assert _floors(_requirements(build / "requirements.txt")) == _floors(_requirements(REPO / "requirements.txt"))

    collections = _load_yaml(build / "requirements.yml")["collections"]
    names = [entry["name"] for entry in collections]
    assert sorted(names) == ["amazon.aws", COLLECTION], names
    galaxy = _load_yaml(REPO / "galaxy.yml")
    assert _galaxy_floor(collections, "amazon.aws") == _galaxy_floor(galaxy["dependencies"], "amazon.aws") == ">=10.0.0"
    assert _galaxy_floor(collections, COLLECTION) == f">={galaxy['version']}"
    # The builder stage gathers collection requirements with this command; the next test runs it.
    assert "introspect.py introspect --user-pip=requirements.txt" in containerfile


def test_image_build_picks_up_requirements_of_built_collection(context, tmp_path):
    built = tmp_path / "built"
    _run([_tool("ansible-galaxy"), "collection", "build", "--output-path", str(built), str(REPO)], cwd=tmp_path)
    tarballs = list(built.glob("cloudops-apigw_tracing-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    installed = tmp_path / "collections"
    target = installed / "ansible_collections" / "cloudops" / "apigw_tracing"
    with tarfile.open(tarballs[0]) as tar:
        members = set(tar.getnames())
        assert {"MANIFEST.json", "meta/execution-environment.yml", "requirements.txt"} <= members
        tar.extractall(target, filter="data")

    pip_out = tmp_path / "pip.txt"
    bindep_out = tmp_path / "bindep.txt"
    build = context / "_build"
    _run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect", "--user-pip=requirements.txt",
          f"--write-pip={pip_out}", f"--write-bindep={bindep_out}", str(installed)], cwd=build)

    ours = [line for line in pip_out.read_text(encoding="utf-8").splitlines() if line.endswith(f"# from collection {COLLECTION}")]
    assert _floors(_requirements_from_lines(ours)) == _floors(_requirements(REPO / "requirements.txt"))
    # introspect.py writes no bindep file when no collection needs a system package.
    system = bindep_out.read_text(encoding="utf-8") if bindep_out.exists() else ""
    assert COLLECTION not in system, f"the collection declares no system packages, but the image would get:\n{system}"


def _requirements_from_lines(lines):
    return {req.name.lower(): req for req in (Requirement(line.split("#", 1)[0].strip()) for line in lines)}


# ---- the decision environment ---------------------------------------------------------------------


def test_decision_environment_has_ansible_rulebook_and_java_17(de_context):
    definition = _load_yaml(DE_FILE)
    assert definition.get("version") == 3
    containerfile = (de_context / "Containerfile").read_text(encoding="utf-8")
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    # ansible-rulebook refuses to start without ansible-galaxy (ansible-core) on PATH; the same core as the EE.
    install_refs = next(line for line in containerfile.splitlines() if line.startswith("ARG ANSIBLE_INSTALL_REFS="))
    assert definition["dependencies"]["ansible_core"]["package_pip"] in install_refs
    assert definition["dependencies"]["ansible_core"] == _load_yaml(EE_FILE)["dependencies"]["ansible_core"]
    build = de_context / "_build"
    python = _requirements(build / "requirements.txt")
    assert str(python["ansible-rulebook"]) == ANSIBLE_RULEBOOK
    # The event source's boto3 and botocore, with the floors every other install gets.
    assert _floors(python) == _floors(_requirements(REPO / "requirements.txt"))
    # Drools (drools_jpy) runs in a Java 17 virtual machine, found through JAVA_HOME.
    system = (build / "bindep.txt").read_text(encoding="utf-8").splitlines()
    assert "java-17-openjdk-headless [platform:rpm]" in system
    assert "ENV JAVA_HOME=/usr/lib/jvm/jre-17-openjdk" in containerfile.splitlines()


def test_decision_environment_installs_the_collection_with_its_event_source(de_context):
    collections = _load_yaml(de_context / "_build" / "requirements.yml")["collections"]
    assert [entry["name"] for entry in collections] == [COLLECTION]
    assert _galaxy_floor(collections, COLLECTION) == f">={EDA_RELEASE}"
    galaxy = _load_yaml(REPO / "galaxy.yml")
    # The floor is the first release with extensions/eda, not older than the collection being developed.
    assert tuple(map(int, EDA_RELEASE.split("."))) >= tuple(map(int, galaxy["version"].split(".")))
    assert (REPO / EVENT_SOURCE).is_file()
    # The event source ships in the tarball (the DE gets it from Galaxy); the image definitions themselves do not.
    ignored = galaxy.get("build_ignore") or []
    assert not [pattern for pattern in ignored if pattern.startswith("extensions")], ignored
    assert {"decision-environment.yml", "de"} <= set(ignored)
