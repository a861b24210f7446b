# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy this collection into a real ansible_collections/<ns>/<name> tree for ansible-test.

ansible-test needs the collection in a real (not symlinked) directory named
``.../ansible_collections/<namespace>/<name>``, and it ignores
ANSIBLE_COLLECTIONS_PATH, so dependencies must sit beside it in the same tree.

The copy holds the files git knows (tracked, plus untracked files that are not
ignored; ``tests/output/`` excluded) and nothing else: the destination is wiped
first. A fresh ``git init`` inside the copy stops ansible-test from walking up to
an enclosing checkout (where the copy is git-ignored, so it would see no files).

Dependencies are linked beside the copy with ``--link NS.NAME=PATH``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess

SKIP_DIRS = {".git", ".venv", ".build", ".cache", ".ansible", "__pycache__", ".pytest_cache", ".tox"}


def list_files(src):
    """Return the relative paths of the files to copy from src."""
    try:
        out = subprocess.run(
            ["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True,
        ).stdout.decode("utf-8")
        paths = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for root, dirs, files in os.walk(src):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            paths.extend(os.path.relpath(os.path.join(root, f), src) for f in files)
    keep = []
    for path in paths:
        if path == "tests/output" or path.startswith("tests/output/"):
            continue
        full = os.path.join(src, path)
        if os.path.lexists(full) and not (os.path.isdir(full) and not os.path.islink(full)):
            keep.append(path)  # drops files deleted but not yet staged, and submodule dirs
    return sorted(set(keep))


def stage(src, dest):
    """Replace dest with a copy of the collection files in src; return the file count."""
    if os.path.islink(dest) or os.path.isfile(dest):
        os.unlink(dest)
    elif os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    files = list_files(src)
    for rel in files:
        source = os.path.join(src, rel)
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)
    subprocess.run(["git", "init", "-q", dest], check=True)
    return len(files)


def link(root, spec):
    """Create root/ansible_collections/NS/NAME -> PATH from spec NS.NAME=PATH."""
    fqcn, dummy, path = spec.partition("=")
    namespace, dummy, name = fqcn.partition(".")
    if not (namespace and name and path):
        raise SystemExit("bad --link %r, want NS.NAME=PATH" % spec)
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        raise SystemExit("--link %s: %s is not a directory (run `make deps`)" % (fqcn, path))
    target = os.path.join(root, "ansible_collections", namespace, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.islink(target):
        if os.readlink(target) == path:
            return
        os.unlink(target)
    elif os.path.isdir(target):
        shutil.rmtree(target)
    os.symlink(path, target)


def main():
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=".", help="collection checkout")
    parser.add_argument("--root", required=True, help="folder that will hold ansible_collections/")
    parser.add_argument("--name", required=True, help="NAMESPACE.NAME of the collection in --src")
    parser.add_argument("--link", action="append", default=[], help="NS.NAME=PATH of a dependency")
    args = parser.parse_args()

    src = os.path.abspath(args.src)
    root = os.path.abspath(args.root)
    namespace, dummy, name = args.name.partition(".")
    dest = os.path.join(root, "ansible_collections", namespace, name)
    if os.path.commonpath([src, dest]) == dest:
        raise SystemExit("refusing to stage %s into itself (%s)" % (src, dest))
    count = stage(src, dest)
    for spec in args.link:
        link(root, spec)
    print("staged %d files of %s into %s" % (count, args.name, dest))


if __name__ == "__main__":
    main()
