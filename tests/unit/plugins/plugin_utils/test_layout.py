# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The layout of plugins/plugin_utils (docs/architecture.md): every module in a private package of one concern, each
package's __init__.py saying what it owns and what it may import, and no import that its "May import:" line does
not name, so that the packages import each other without a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[3].parent / "plugins"
PLUGIN_UTILS = PLUGINS / "plugin_utils"
PREFIX = "ansible_collections.cloudops.apigw_tracing.plugins."
PRIVATE = "# Private to this collection: not an API, may change in any release."
PACKAGES = sorted(path.name for path in PLUGIN_UTILS.iterdir() if path.is_dir() and path.name != "__pycache__")


def _may_import(package):
    docstring = ast.get_docstring(ast.parse((PLUGIN_UTILS / package / "__init__.py").read_text(encoding="utf-8"))) or ""
    found = re.search(r"May import: ([^.]*)\.", " ".join(docstring.split()))
    assert found, "%s/__init__.py: its docstring has no 'May import: ...' line" % package
    return {name.strip() for name in found.group(1).split(",")} - {"module_utils"}


def _imports(path):
    """(plugins folder, plugin_utils package or None) of every import of the collection's own code in one file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
            parts = node.module[len(PREFIX):].split(".")
            yield parts[0], (parts[1] if len(parts) > 1 else None)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX):
                    parts = alias.name[len(PREFIX):].split(".")
                    yield parts[0], (parts[1] if len(parts) > 1 else None)


def test_every_module_is_in_a_private_package():
    assert PACKAGES
    assert sorted(path.name for path in PLUGIN_UTILS.glob("*.py")) == []
    for package in PACKAGES:
        assert package.startswith("_"), package
        assert (PLUGIN_UTILS / package / "__init__.py").is_file(), package
        for path in sorted((PLUGIN_UTILS / package).glob("*.py")):
            assert PRIVATE in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_it_declares(package):
    allowed = _may_import(package)
    assert allowed <= set(PACKAGES), sorted(allowed - set(PACKAGES))
    for path in sorted((PLUGIN_UTILS / package).glob("*.py")):
        for folder, inner in _imports(path):
            assert folder in ("module_utils", "plugin_utils"), "%s/%s imports plugins/%s" % (package, path.name, folder)
            if folder == "plugin_utils":
                assert inner is not None, "%s/%s imports plugin_utils itself" % (package, path.name)
                assert inner == package or inner in allowed, "%s/%s imports %s" % (package, path.name, inner)


def test_the_packages_import_each_other_without_a_cycle():
    graph = {package: _may_import(package) for package in PACKAGES}
    done, path = set(), []

    def visit(package):
        assert package not in path, "cycle: " + " -> ".join(path[path.index(package):] + [package])
        if package in done:
            return
        path.append(package)
        for other in sorted(graph[package]):
            visit(other)
        path.pop()
        done.add(package)

    for package in PACKAGES:
        visit(package)


def test_code_that_finds_the_collection_from_its_own_file_still_does():
    # collection_version() reads galaxy.yml (or an installed copy's MANIFEST.json) in the collection's root, which it finds
    # from its own file's path.
    from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import collection_version  # pylint: disable=import-outside-toplevel

    galaxy = (PLUGINS.parent / "galaxy.yml").read_text(encoding="utf-8")
    assert collection_version() == re.search(r"^version:\s*['\"]?([^'\"\s#]+)", galaxy, re.M).group(1)
