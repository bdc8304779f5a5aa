"""``AWS::Events::Archive`` as CloudFormation has it (user guide, aws-resource-events-archive):

* physical id (``Ref``) = ``ArchiveName``, generated when absent (at most 48 characters); ``Fn::GetAtt Arn``;
* ``SourceArn`` (the bus) and ``ArchiveName`` are create-only (a change replaces the archive);
  ``Description``, ``EventPattern``, ``RetentionDays`` and ``KmsKeyIdentifier`` update in place;
* ``EventPattern`` is a JSON object in the template, a JSON string in the EventBridge API (removing it from the
  template keeps the archive's pattern: LocalStack's UpdateArchive cannot clear one);
* ``KmsKeyIdentifier`` is accepted and passed on; LocalStack does not encrypt archives (nor report the key).
"""

from __future__ import annotations

import json
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


class EventsArchiveProperties(TypedDict, total=False):
    ArchiveName: str
    SourceArn: str
    Description: str
    EventPattern: dict | str
    RetentionDays: int
    KmsKeyIdentifier: str
    Arn: str


# optional properties, passed to CreateArchive/UpdateArchive under the same names
OPTIONAL = ("Description", "EventPattern", "RetentionDays", "KmsKeyIdentifier")
# what UpdateArchive sets when a property is removed from the template
REMOVED = {"Description": "", "RetentionDays": 0}


def _api_params(model: EventsArchiveProperties) -> dict:
    # CDK renders KmsKeyIdentifier "" when no key is given: an empty value is no value
    params = {key: model[key] for key in OPTIONAL if model.get(key) not in (None, "")}
    if isinstance(params.get("EventPattern"), dict):
        params["EventPattern"] = json.dumps(params["EventPattern"])
    if "RetentionDays" in params:
        params["RetentionDays"] = int(params["RetentionDays"])
    return params


def _default_name(stack_name: str, logical_id: str) -> str:
    suffix = uuid.uuid4().hex[:8]
    return f"{stack_name[:20]}-{logical_id[:18]}-{suffix}"  # <= 48, [.-_A-Za-z0-9] as stack names and logical ids


class EventsArchiveProvider(ResourceProvider[EventsArchiveProperties]):
    TYPE = "AWS::Events::Archive"
    SCHEMA = util.get_schema_path(Path(__file__))

    def create(self, request: ResourceRequest[EventsArchiveProperties]) -> ProgressEvent[EventsArchiveProperties]:
        model = request.desired_state
        model.setdefault("ArchiveName", _default_name(request.stack_name, request.logical_resource_id))
        response = request.aws_client_factory.events.create_archive(
            ArchiveName=model["ArchiveName"], EventSourceArn=model["SourceArn"], **_api_params(model)
        )
        model["Arn"] = response["ArchiveArn"]
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def read(self, request: ResourceRequest[EventsArchiveProperties]) -> ProgressEvent[EventsArchiveProperties]:
        archive = request.aws_client_factory.events.describe_archive(ArchiveName=request.desired_state["ArchiveName"])
        model = EventsArchiveProperties(
            ArchiveName=archive["ArchiveName"], Arn=archive["ArchiveArn"], SourceArn=archive["EventSourceArn"]
        )
        for key in ("Description", "RetentionDays", "KmsKeyIdentifier"):
            if archive.get(key) is not None:
                model[key] = archive[key]
        if archive.get("EventPattern"):
            model["EventPattern"] = json.loads(archive["EventPattern"])
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def update(self, request: ResourceRequest[EventsArchiveProperties]) -> ProgressEvent[EventsArchiveProperties]:
        model = request.desired_state
        previous = request.previous_state or {}
        model["ArchiveName"] = previous["ArchiveName"]
        params = _api_params(model)
        for key, cleared in REMOVED.items():
            if key not in params and previous.get(key) not in (None, ""):
                params[key] = cleared
        response = request.aws_client_factory.events.update_archive(ArchiveName=model["ArchiveName"], **params)
        model["Arn"] = response["ArchiveArn"]
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def delete(self, request: ResourceRequest[EventsArchiveProperties]) -> ProgressEvent[EventsArchiveProperties]:
        events = request.aws_client_factory.events
        try:
            events.delete_archive(ArchiveName=request.desired_state["ArchiveName"])
        except events.exceptions.ResourceNotFoundException:
            pass  # already gone: deleted is what was asked for
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=request.desired_state)

    def list(self, request: ResourceRequest[EventsArchiveProperties]) -> ProgressEvent[EventsArchiveProperties]:
        archives = request.aws_client_factory.events.list_archives()["Archives"]
        return ProgressEvent(
            status=OperationStatus.SUCCESS,
            resource_models=[EventsArchiveProperties(ArchiveName=a["ArchiveName"]) for a in archives],
        )
