# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures shared by tests/static and tests/integration: the local AWS, its AWS-like proxy, the collections tree.

Each tier's conftest.py puts tools/ and tests/support/ on sys.path and imports the fixtures it uses from here, so
the two tiers reach the local AWS (tools/local_aws.py) and the proxy (tests/support/aws_proxy.py) the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aws_proxy import AwsProxy
from local_aws import LocalAws


def _collections_path():
    """ANSIBLE_COLLECTIONS_PATH, checked to hold this collection and amazon.aws; fails the test otherwise."""
    value = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    if not value:
        pytest.fail("ANSIBLE_COLLECTIONS_PATH is not set: point it at the tree with this collection and amazon.aws (make static and make integration set it)")
    roots = [Path(p).expanduser() for p in value.split(os.pathsep) if p]
    for name in ("cloudops/apigw_tracing", "amazon/aws"):
        if not any((root / "ansible_collections" / name).is_dir() for root in roots):
            pytest.fail("ANSIBLE_COLLECTIONS_PATH=%s holds no ansible_collections/%s" % (value, name))
    return value


@pytest.fixture(scope="session")
def collections_path():
    return _collections_path()


@pytest.fixture(scope="session")
def local_aws_server():
    """One server for the whole session; tests get it through the ``aws`` fixture, freshly reset."""
    server = LocalAws().start()
    yield server
    server.stop()


@pytest.fixture
def aws(local_aws_server):
    """The local AWS, emptied, with an empty request log and AWS-like GetRestApis paging."""
    local_aws_server.rest_apis_page_cap = None
    local_aws_server.reset()
    yield local_aws_server
    local_aws_server.rest_apis_page_cap = None


@pytest.fixture
def aws_proxy(aws):
    """An AwsProxy in front of the (reset) local AWS: paging like AWS, quota OFF and no faults unless the test sets them."""
    proxy = AwsProxy(aws.endpoint_url, quota=None, faults=None).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def apigw(aws):
    """A boto3 apigateway client on the local AWS (us-east-1)."""
    return aws.client("apigateway")
