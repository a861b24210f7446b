# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running a module's main() in-process with given arguments, and reading its JSON result."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestStats


@pytest.fixture(name="run_module")
def run_module_fixture(capsys, monkeypatch):
    def run(module, args, client=None):
        """Run module.main(); returns the result dict. client=None: any attempt to reach AWS fails the test.

        run.client_args lists the (max_requests_per_second, concurrency) each client was created with.
        """

        def client_factory(_module, max_requests_per_second=None, concurrency=1):
            if client is None:
                pytest.fail("the module created an AWS client")
            run.client_args.append((max_requests_per_second, concurrency))
            return client, RequestStats()

        monkeypatch.setattr(module, "apigateway_client", client_factory)
        with patch_module_args(dict(args, region="us-east-1")):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(capsys.readouterr().out)

    run.client_args = []
    return run
