# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import describe_read_error
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import describe_update_error

ARN = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages"


def client_error(code, message="m"):
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetStages")


def test_access_denied_names_the_permission_and_the_resource():
    code, message = describe_read_error(client_error("AccessDeniedException"), "the stages of REST API a1b2c3d4e5", ARN)
    assert code == "AccessDeniedException"
    assert message.endswith(f"The caller needs apigateway:GET on {ARN}")


@pytest.mark.parametrize("code", ["ExpiredTokenException", "ExpiredToken"])
def test_expired_credentials_say_renew_not_permission(code):
    _code, message = describe_read_error(client_error(code, "The security token included in the request is expired"), "x", ARN)
    assert "have expired: renew the session" in message
    assert "apigateway:GET" not in message


@pytest.mark.parametrize("code", ["UnrecognizedClientException", "InvalidClientTokenId"])
def test_invalid_credentials_say_check_the_keys(code):
    _code, message = describe_update_error(client_error(code), "a1b2c3d4e5/prod", ARN + "/prod", True)
    assert "does not recognise the credentials" in message
    assert "apigateway:PATCH" not in message


def test_other_errors_get_no_hint():
    _code, message = describe_read_error(client_error("ServiceUnavailableException", "later"), "x", ARN)
    assert message == "Reading x failed: ServiceUnavailableException: later"
