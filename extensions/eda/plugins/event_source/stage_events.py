# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# STUB, to be replaced: the event source cloudops.apigw_tracing.stage_events is being written on another branch.
# Until it lands, only its EVENT_NAMES (the CloudTrail event names the feature handles, the single source of truth
# for the EventBridge pattern of extensions/eda/cloudformation/) is here, for tests/static/test_eda_cloudformation.py.
EVENT_NAMES = ("CreateStage", "UpdateStage", "DeleteStage", "CreateDeployment", "TagResource", "UntagResource")
