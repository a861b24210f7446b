# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install the amazon.aws collection without Ansible Galaxy.

Galaxy is not reachable from the build machines, but PyPI is. The ``ansible``
community package on PyPI bundles amazon.aws, so this script downloads that one
wheel (``pip download --no-deps``) into a cache folder and extracts only
``ansible_collections/amazon/aws/`` from it into a collections tree.

Usage::

    python fetch_amazon_aws.py --python .venv/bin/python --ansible-version 12.3.0 \
        --cache .build/cache --dest .build/collections
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

NAMESPACE = "amazon"
NAME = "aws"


def download(python, version, cache):
    """Download the ansible package (wheel preferred) into cache and return its path."""
    os.makedirs(cache, exist_ok=True)
    patterns = [
        os.path.join(cache, "ansible-%s-*.whl" % version),
        os.path.join(cache, "ansible-%s.tar.gz" % version),
    ]
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
           "--dest", cache, "ansible==%s" % version]
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise SystemExit("pip download did not produce ansible %s in %s" % (version, cache))


def extract(archive, target):
    """Extract ansible_collections/amazon/aws/ from archive into target (a fresh folder)."""
    marker = "ansible_collections/%s/%s/" % (NAMESPACE, NAME)
    count = 0
    if archive.endswith(".whl"):
        with zipfile.ZipFile(archive) as zfile:
            for info in zfile.infolist():
                if not info.filename.startswith(marker) or info.is_dir():
                    continue
                rel = info.filename[len(marker):]
                dest = os.path.join(target, rel)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with zfile.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                count += 1
    else:
        with tarfile.open(archive) as tfile:
            for member in tfile.getmembers():
                idx = member.name.find(marker)
                if idx < 0 or not member.isfile():
                    continue
                rel = member.name[idx + len(marker):]
                dest = os.path.join(target, rel)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                src = tfile.extractfile(member)
                with src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                count += 1
    if not count:
        raise SystemExit("%s holds no %s" % (archive, marker))
    return count


def main():
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="python whose pip downloads the package")
    parser.add_argument("--ansible-version", required=True, help="version of the ansible package on PyPI")
    parser.add_argument("--cache", required=True, help="folder for the downloaded package")
    parser.add_argument("--dest", required=True, help="collections root (the folder that will hold ansible_collections/)")
    args = parser.parse_args()

    archive = download(args.python, args.ansible_version, os.path.abspath(args.cache))
    final = os.path.join(os.path.abspath(args.dest), "ansible_collections", NAMESPACE, NAME)
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".%s-" % NAME, dir=parent)
    try:
        count = extract(archive, staging)
        if os.path.islink(final) or os.path.isfile(final):
            os.unlink(final)
        elif os.path.isdir(final):
            shutil.rmtree(final)
        os.rename(staging, final)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging)

    with open(os.path.join(final, "MANIFEST.json"), encoding="utf-8") as manifest:
        version = json.load(manifest)["collection_info"]["version"]
    print("%s.%s %s: %d files from %s into %s" % (NAMESPACE, NAME, version, count, os.path.basename(archive), final))


if __name__ == "__main__":
    main()
