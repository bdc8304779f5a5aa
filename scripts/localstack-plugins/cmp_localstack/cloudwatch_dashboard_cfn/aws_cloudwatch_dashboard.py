"""``AWS::CloudWatch::Dashboard`` as CloudFormation has it (user guide, aws-resource-cloudwatch-dashboard):

* physical id (``Ref``) = ``DashboardName``, generated when absent; no ``Fn::GetAtt`` attributes;
* ``DashboardName`` is create-only (a change replaces the dashboard); ``DashboardBody`` (a JSON string) updates
  in place through ``PutDashboard``, which CloudWatch uses for create and update alike.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TypedDict

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import (
    OperationStatus,
    ProgressEvent,
    ResourceProvider,
    ResourceRequest,
)


class CloudWatchDashboardProperties(TypedDict, total=False):
    DashboardName: str
    DashboardBody: str


def _default_name(stack_name: str, logical_id: str) -> str:
    return f"{stack_name[:100]}-{logical_id[:100]}-{uuid.uuid4().hex[:12]}"  # letters, digits, - and _ only


class CloudWatchDashboardProvider(ResourceProvider[CloudWatchDashboardProperties]):
    TYPE = "AWS::CloudWatch::Dashboard"
    SCHEMA = util.get_schema_path(Path(__file__))

    def create(self, request: ResourceRequest[CloudWatchDashboardProperties]) -> ProgressEvent[CloudWatchDashboardProperties]:
        model = request.desired_state
        model.setdefault("DashboardName", _default_name(request.stack_name, request.logical_resource_id))
        request.aws_client_factory.cloudwatch.put_dashboard(DashboardName=model["DashboardName"], DashboardBody=model["DashboardBody"])
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def read(self, request: ResourceRequest[CloudWatchDashboardProperties]) -> ProgressEvent[CloudWatchDashboardProperties]:
        name = request.desired_state["DashboardName"]
        dashboard = request.aws_client_factory.cloudwatch.get_dashboard(DashboardName=name)
        return ProgressEvent(
            status=OperationStatus.SUCCESS,
            resource_model=CloudWatchDashboardProperties(DashboardName=name, DashboardBody=dashboard["DashboardBody"]),
        )

    def update(self, request: ResourceRequest[CloudWatchDashboardProperties]) -> ProgressEvent[CloudWatchDashboardProperties]:
        model = request.desired_state
        model["DashboardName"] = (request.previous_state or {})["DashboardName"]
        request.aws_client_factory.cloudwatch.put_dashboard(DashboardName=model["DashboardName"], DashboardBody=model["DashboardBody"])
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def delete(self, request: ResourceRequest[CloudWatchDashboardProperties]) -> ProgressEvent[CloudWatchDashboardProperties]:
        # DeleteDashboards fails for a name that does not exist: deleted is what was asked for
        cloudwatch = request.aws_client_factory.cloudwatch
        names = {d["DashboardName"] for d in cloudwatch.list_dashboards().get("DashboardEntries", [])}
        if request.desired_state["DashboardName"] in names:
            cloudwatch.delete_dashboards(DashboardNames=[request.desired_state["DashboardName"]])
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=request.desired_state)

    def list(self, request: ResourceRequest[CloudWatchDashboardProperties]) -> ProgressEvent[CloudWatchDashboardProperties]:
        entries = request.aws_client_factory.cloudwatch.list_dashboards().get("DashboardEntries", [])
        return ProgressEvent(
            status=OperationStatus.SUCCESS,
            resource_models=[CloudWatchDashboardProperties(DashboardName=e["DashboardName"]) for e in entries],
        )
