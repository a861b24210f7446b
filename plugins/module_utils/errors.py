# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""Turning API Gateway's errors into messages that tell the user what to do about them (the causes themselves,
error_code and describe_cause, are module_utils/_aws.py's)."""

from __future__ import annotations

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import credentials_hint
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import error_code
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import error_message

ACCESS_DENIED_CODES = ("AccessDeniedException", "AccessDenied", "UnauthorizedException")


def read_error_hint(code, arn):
    """The permission to grant, or what to do about the credentials, for a failed read of `arn`."""
    if code in ACCESS_DENIED_CODES:
        return f". The caller needs apigateway:GET on {arn}"
    return credentials_hint(code)


def describe_read_error(exception, what, arn):
    """(code, message) for a failed read of `what` (e.g. "the stages of API x"), whose resource is `arn`."""
    code = error_code(exception)
    message = f"Reading {what} failed: {code}: {error_message(exception)}{read_error_hint(code, arn)}"
    return code, message


def describe_update_error(exception, stage_label, arn, enable):
    """(code, message) for a failed UpdateStage of the stage's tracing flag."""
    code = error_code(exception)
    message = f"Turning tracing {'on' if enable else 'off'} for stage {stage_label} failed: {code}: {error_message(exception)}"
    if code in ACCESS_DENIED_CODES:
        message += f". The caller needs apigateway:PATCH on {arn}"
        if enable:
            message += (
                "; the first enablement of tracing in an account also needs iam:CreateServiceLinkedRole,"
                " because API Gateway then creates the service-linked role AWSServiceRoleForAPIGateway"
            )
    return code, message + credentials_hint(code)


# A task's message names this many failures; all of them are in its failures return value.
MESSAGE_FAILURES_SHOWN = 10


def failures_summary(failures):
    """The messages of the first failures, and how many more there are, for a task's msg."""
    details = "; ".join(failure["message"] for failure in failures[:MESSAGE_FAILURES_SHOWN])
    if len(failures) > MESSAGE_FAILURES_SHOWN:
        details += f"; and {len(failures) - MESSAGE_FAILURES_SHOWN} more, listed in failures"
    return details
