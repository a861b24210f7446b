# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The static tier: checks that run no ansible-playbook, ansible-runner, ansible-inventory nor ansible-test.

What lives here reads the checkout as it is (the IAM policies against the AWS calls derived from the code, the
files docs/awx.md tells AWX users to import, the execution environment definition) or checks the test harness's
own parts (the local AWS of tools/local_aws.py and the AWS-like proxy of tests/support/aws_proxy.py). It runs
with the venv's pytest on the checkout (`make static`), in seconds; the behaviour of the collection through real
Ansible runs is tests/integration's, the logic of its code tests/unit's.

Needs, from the environment, ANSIBLE_COLLECTIONS_PATH pointing at a tree that holds
ansible_collections/cloudops/apigw_tracing and ansible_collections/amazon/aws (`make static` provides it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# Where the guides of docs/ may live: beside the files they describe, or with the rendered docsite's pages.
GUIDE_DIRS = (REPO / "docs", REPO / "docs" / "docsite" / "rst")

sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests" / "support"))

# The local AWS, its proxy and the collections tree, as tests/integration has them too.
from local_aws_fixtures import aws  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import aws_proxy  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import apigw  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import collections_path  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import local_aws_server  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import


def guide(stem):
    """The path of the guide named ``stem`` (iam, awx): docs/<stem>.md, or its page under docs/docsite/rst/."""
    candidates = [folder / (stem + suffix) for folder in GUIDE_DIRS for suffix in (".md", ".rst")]
    found = [path for path in candidates if path.is_file()]
    if not found:
        pytest.fail("no guide %r: none of %s exists" % (stem, ", ".join(str(path.relative_to(REPO)) for path in candidates)))
    return found[0]
