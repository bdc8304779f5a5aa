"""Shared by the resource providers: key renames between CloudFormation and the service APIs."""

from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent


def renamed(value, renames: dict[str, str]):
    """``value`` with dict keys renamed at any depth (CloudFormation ``EBSStorageInfo`` vs API ``EbsStorageInfo``)."""
    if isinstance(value, dict):
        return {renames.get(k, k): renamed(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed(v, renames) for v in value]
    return value


def picked(model: dict, keys: tuple[str, ...]) -> dict:
    return {k: model[k] for k in keys if model.get(k) is not None}


def success(model: dict) -> ProgressEvent:
    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)
