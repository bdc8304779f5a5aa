"""The ``on_infra_start`` hook applying the fix described in ``cmp_localstack.sns_batch_dlq``."""

from localstack.runtime import hooks

# the dict keys SqsBatchTopicPublisher._publish reads from a failed entry's SnsMessage -> its fields
_FIELDS = {"MessageGroupId": "message_group_id", "MessageDeduplicationId": "message_deduplication_id"}


def _get(self, key: str, default=None):
    field = _FIELDS.get(key)
    value = getattr(self, field) if field else None
    return default if value is None else value


def apply() -> None:
    from localstack.services.sns.models import SnsMessage

    from cmp_localstack import localstack_shapes

    localstack_shapes.require("sns_batch_dlq")
    if hasattr(SnsMessage, "get") and SnsMessage.get is not _get:
        raise RuntimeError("cmp_localstack.sns_batch_dlq: SnsMessage already has a get(); the fix is obsolete")
    SnsMessage.get = _get


@hooks.on_infra_start()
def cmp_sns_batch_dlq():
    apply()
