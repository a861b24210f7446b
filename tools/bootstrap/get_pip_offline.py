# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test bootstraps pip into every virtual environment it creates by running
``~/.ansible/test/cache/get_pip_<X>_<Y>.py`` and, when that file is missing,
downloading it from ci-files.testing.ansible.com, which the build machines
cannot reach. This file has two roles:

* seed mode (``python get_pip_offline.py --seed-dir DIR --versions 24.2 25.2``):
  download the pip wheel of each version from PyPI with ``pip download --no-deps``
  into DIR and copy this file there as ``get_pip_<X>_<Y>.py``;
* get-pip mode (when this file runs under such a name): install pip from the
  wheel beside it, passing the pip-install arguments given to it through and
  ignoring the get-pip-only ``--no-setuptools`` / ``--no-wheel`` options.
"""

from __future__ import annotations

import argparse
import filecmp
import glob
import os
import re
import shutil
import subprocess
import sys

MARKER = "cloudops-apigw-tracing-get-pip-offline"
GET_PIP_NAME = re.compile(r"^get_pip_(?P<version>\d+(?:_\d+)*)\.py$")
IGNORED_OPTIONS = ("--no-setuptools", "--no-wheel")


def find_wheel(directory, version):
    """Return the pip wheel of version in directory, or None."""
    found = sorted(glob.glob(os.path.join(directory, "pip-%s-*.whl" % version)))
    return found[0] if found else None


def get_pip(script):
    """Install pip from the wheel beside script (get-pip mode)."""
    directory = os.path.dirname(os.path.abspath(script))
    version = GET_PIP_NAME.match(os.path.basename(script)).group("version").replace("_", ".")
    wheel = find_wheel(directory, version)
    if not wheel:
        sys.stderr.write("get-pip (offline): no pip %s wheel in %s; run `make deps`\n" % (version, directory))
        return 1

    args = [arg for arg in sys.argv[1:] if arg not in IGNORED_OPTIONS]
    requirements = [arg for arg in args if not arg.startswith("-")]
    if not requirements:
        args.append("pip==%s" % version)
        requirements = args[-1:]
    install = ["install", "--find-links", directory]
    if all(re.match(r"^pip\b", req) for req in requirements):
        install.append("--no-index")  # everything needed lies beside this script
    sys.path.insert(0, wheel)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel,import-error

    return pip_main(install + args)


def seed(seed_dir, versions, python):
    """Fetch the pip wheels and write the get_pip_<X>_<Y>.py scripts (seed mode)."""
    os.makedirs(seed_dir, exist_ok=True)
    source = os.path.abspath(__file__)
    for version in versions:
        if not find_wheel(seed_dir, version):
            cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
                   "--only-binary", ":all:", "--dest", seed_dir, "pip==%s" % version]
            print("+ " + " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
        target = os.path.join(seed_dir, "get_pip_%s.py" % version.replace(".", "_"))
        if os.path.exists(target):
            with open(target, encoding="utf-8", errors="replace") as existing:
                ours = MARKER in existing.read()
            if not ours:
                print("keeping %s (not ours)" % target)
                continue
            if filecmp.cmp(source, target, shallow=False):
                continue
        shutil.copyfile(source, target)
        print("seeded %s (pip %s from %s)" % (target, version, os.path.basename(find_wheel(seed_dir, version))))


def main():
    """Entry point."""
    if GET_PIP_NAME.match(os.path.basename(__file__)):
        return get_pip(__file__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-dir", default=os.path.expanduser("~/.ansible/test/cache"))
    parser.add_argument("--versions", nargs="+", default=["24.2", "25.2"])
    parser.add_argument("--python", default=sys.executable, help="python whose pip downloads the wheels")
    args = parser.parse_args()
    seed(args.seed_dir, args.versions, args.python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
