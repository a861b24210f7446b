# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: `ansible-galaxy collection build`, then install the tarball offline.

The build runs on a copy of the files git knows, with the leftovers of a developer's tree added (a
venv, caches, ansible-test output, reports, an old tarball...), so galaxy.yml's build_ignore is tested
against each of them on every run, whatever the state of the checkout. The tarball is installed with
--offline --no-deps into an empty collections path, amazon.aws is placed beside it (the copy `make deps`
took from the PyPI `ansible` package, as Galaxy is not reachable), and the audit playbook then runs
from that path alone against the three-account estate of tools/sweep_world.py.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from sweep_run import Sweep
from sweep_world import AUDIT_TRUTH
from sweep_world import POLICY
from sweep_world import static_inventory
from sweep_world import write_yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "bootstrap"))

from stage_collection import list_files  # noqa: E402  pylint: disable=wrong-import-position

GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
NAMESPACE = GALAXY["namespace"]
NAME = GALAXY["name"]
TARBALL = "%s-%s-%s.tar.gz" % (NAMESPACE, NAME, GALAXY["version"])
# Building, installing and one audit take seconds; this only stops a hung command.
COMMAND_TIMEOUT = 300

# Each kind of file a working tree collects that must not be packed, at the places it turns up.
LEFTOVERS = [
    ".venv/bin/python",
    ".build/collections/ansible_collections/amazon/aws/MANIFEST.json",
    ".cache/pip/http/cached",
    ".ansible/collections/ansible_collections/.keep",
    ".pytest_cache/v/cache/lastfailed",
    "tests/unit/.pytest_cache/v/cache/lastfailed",
    "plugins/module_utils/__pycache__/stage.cpython-311.pyc",
    "tests/unit/plugins/filter/__pycache__/test_sweep_report.cpython-311-pytest-8.3.4.pyc",
    "plugins/filter/sweep_report.pyc",
    "tests/output/junit/python3.11-units.xml",
    "tests/output/.tmp/sanity/pylint/cache",
    "tracing-sweep-reports/report.json",
    "%s-0.9.0.tar.gz" % TARBALL.rsplit("-", 1)[0],
    "playbooks/audit.retry",
    ".git/HEAD",
]
# Never packed, as a path or as a path's first components: checkout tooling and test data (see galaxy.yml).
EXCLUDED = [
    ".venv", ".build", ".cache", ".ansible", ".git", ".pytest_cache", ".ci", ".gitignore", ".ansible-lint",
    "Makefile", "test-requirements.txt", "tools", "tracing-sweep-reports",
    "tests/output", "tests/integration", "tests/static", "tests/support", "tests/bench", "tests/requirements",
]
# Whatever the repository adds under these, the tarball must carry.
SHIPPED_TREES = ["plugins", "roles", "playbooks", "meta", "docs", "tests/unit"]
SHIPPED_FILES = [
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "requirements.txt", "tests/config.yml",
    "changelogs/changelog.yaml", "changelogs/config.yaml",
    "docs/report.schema.json", "docs/iam.md",
    "playbooks/audit.yml", "playbooks/enforce.yml",
    "plugins/modules/apigw_stage_tracing.py", "plugins/modules/apigw_stage_tracing_info.py",
    "plugins/inventory/accounts.py", "meta/runtime.yml", "roles/tracing_sweep/tasks/main.yml",
]
# One worker builds and installs once for every test here.
pytestmark = pytest.mark.xdist_group("built_collection")


def clean_env(collections, home):
    """An environment with no Ansible or AWS settings from the caller, and no way out to the network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    config = Path(home) / "ansible.cfg"
    config.write_text("[defaults]\n", encoding="utf-8")
    env.update({
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
        # Anything that tried Galaxy would meet a closed loopback port instead.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    })
    return env


def run(cmd, cwd, env):
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    assert proc.returncode == 0, "%s\nrc=%s\nSTDOUT:\n%s\nSTDERR:\n%s" % (" ".join(map(str, cmd)), proc.returncode, proc.stdout, proc.stderr)
    return proc


def excluded(member):
    parts = member.split("/")
    if "__pycache__" in parts or ".pytest_cache" in parts or member.endswith((".pyc", ".retry", ".tar.gz")):
        return True
    return any(member == path or member.startswith(path + "/") for path in EXCLUDED)


@pytest.fixture(scope="module")
def source_files():
    """The files of the collection in the repository: the ones git knows, as a fresh clone has them."""
    return list_files(str(REPO))


@pytest.fixture(scope="module")
def built(tmp_path_factory, ansible_playbook_cmd, source_files):
    """(tarball path, its member names): the collection built from a copy of the repository plus LEFTOVERS."""
    work = tmp_path_factory.mktemp("built")
    tree = work / "src"
    for rel in source_files:
        target = tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / rel).read_bytes())
    for rel in LEFTOVERS:
        target = tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("leftover\n", encoding="utf-8")
    dist = work / "dist"
    galaxy = Path(ansible_playbook_cmd).with_name("ansible-galaxy")
    proc = run([galaxy, "collection", "build", "--output-path", dist, tree], work, clean_env(work / "none", work))
    tarball = dist / TARBALL
    assert tarball.is_file(), proc.stdout
    with tarfile.open(tarball) as archive:
        members = [m.name for m in archive.getmembers()]
    return tarball, members


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory, ansible_playbook_cmd, collections_path):
    """A collections path holding only the installed tarball and amazon.aws; returns (path, install output)."""
    tarball = built[0]
    work = tmp_path_factory.mktemp("installed")
    collections = work / "collections"
    galaxy = Path(ansible_playbook_cmd).with_name("ansible-galaxy")
    proc = run([galaxy, "collection", "install", tarball, "-p", collections, "--no-deps", "--offline"], work, clean_env(collections, work))

    amazon_aws = [Path(root) / "ansible_collections" / "amazon" / "aws" for root in collections_path.split(os.pathsep) if root]
    amazon_aws = [path.resolve() for path in amazon_aws if path.is_dir()]
    (collections / "ansible_collections" / "amazon").mkdir()
    (collections / "ansible_collections" / "amazon" / "aws").symlink_to(amazon_aws[0], target_is_directory=True)
    return collections, proc.stdout + proc.stderr


def test_tarball_holds_the_collection_and_no_leftovers(built, source_files):
    members = built[1]
    files = set(members)

    assert [m for m in members if excluded(m)] == []
    assert [m for m in SHIPPED_FILES if m not in files] == []
    expected = [rel for rel in source_files if any(rel.startswith(tree + "/") for tree in SHIPPED_TREES)]
    assert [rel for rel in expected if not excluded(rel) and rel not in files] == []
    # Every packed file is one of the repository's: nothing generated or stray gets in.
    assert [m for m in members if m not in ("MANIFEST.json", "FILES.json") and m not in source_files and not any(
        rel.startswith(m + "/") for rel in source_files)] == []


def test_manifest_names_the_collection_and_its_dependency(built):
    with tarfile.open(built[0]) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        # FILES.json also lists the root directory, as ".".
        listed = {entry["name"] for entry in json.load(archive.extractfile("FILES.json"))["files"]} - {"."}

    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (NAMESPACE, NAME, GALAXY["version"])
    assert info["dependencies"] == GALAXY["dependencies"]
    assert "amazon.aws" in info["dependencies"]
    assert listed == set(built[1]) - {"MANIFEST.json", "FILES.json"}


def test_files_the_execution_environment_metadata_names_are_packed(built, source_files):
    """ansible-builder reads meta/execution-environment.yml from the INSTALLED collection: the files it names must be there."""
    if "meta/execution-environment.yml" not in source_files:
        pytest.skip("the collection has no meta/execution-environment.yml")
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    named = [value for value in (meta.get("dependencies") or {}).values() if isinstance(value, str)]

    assert named, meta
    assert [path for path in named if path not in built[1]] == []


def test_installed_collection_audits_the_estate(installed, run_playbook, estate, tmp_path):
    collections, install_output = installed
    root = collections / "ansible_collections" / NAMESPACE / NAME
    assert "%s.%s:%s was installed successfully" % (NAMESPACE, NAME, GALAXY["version"]) in install_output, install_output
    # A real copy, not a link back to the checkout.
    assert root.is_dir() and not root.is_symlink()
    assert not (root / "tools").exists() and not (root / "tests" / "integration").exists()

    report_dir = tmp_path / "reports"
    extra_vars = copy.deepcopy(POLICY)
    extra_vars["tracing_sweep_report_dir"] = str(report_dir)
    inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
    # The installed tree is the only collections path: the checkout and its .build link are not on it.
    # ANSIBLE_DEBUG names the file each action plugin is loaded from: the sweep's engine runs in the controller,
    # through the private action cloudops.apigw_tracing._sweep, not as a module file.
    result = run_playbook("cloudops.apigw_tracing.audit", extra_vars, diff=True, inventory=inventory, args=("-vvv",),
                          env={"ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_DEBUG": "1"})
    audit = Sweep(result, report_dir)

    assert result.rc == 0, result.describe()
    assert {key: (row["tracing_enabled_before"], row["action"]) for key, row in audit.rows().items()} == AUDIT_TRUTH
    assert audit.summary["noncompliant"] == sum(1 for dummy, action in AUDIT_TRUTH.values() if action == "would_enable")
    # The report says which collection wrote it: the installed copy's MANIFEST.json.
    assert audit.report["run"]["collection"] == "%s.%s" % (NAMESPACE, NAME)
    assert audit.report["run"]["collection_version"] == GALAXY["version"]

    # -vvv names the file of every task, ANSIBLE_DEBUG every plugin loaded: ours all come from the installed copy.
    output = result.stdout + result.stderr
    ours = "/ansible_collections/%s/%s/" % (NAMESPACE, NAME)
    task_paths = re.findall(r"^task path: (\S+?):\d+$", output, re.M)
    loaded = re.findall(r"Loading \w+ '[^']+' from (\S+)", output)
    sweep_action = re.findall(r"Loading ActionModule '[\w.]*\b_sweep' from (\S+)", output)
    assert any("/roles/tracing_sweep/tasks/" in path for path in task_paths), result.describe()
    assert sweep_action and set(sweep_action) == {str(root / "plugins" / "action" / "_sweep.py")}, sorted(set(sweep_action))
    from_ours = [path for path in task_paths + loaded if ours in path]
    assert from_ours and all(path.startswith(str(root) + "/") for path in from_ours), sorted(set(from_ours))
    assert str(REPO) + "/playbooks" not in output and str(REPO) + "/roles" not in output and str(REPO) + "/plugins" not in output
