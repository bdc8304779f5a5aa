"""LocalStack Lambda hooks (import-light; the pollers are imported when a mapping is created):

* ``localstack.hooks.lambda_set_event_source_config_defaults`` -> ``esm_defaults``: AWS's defaults for a new mapping
  whose source is Amazon MSK, self-managed Kafka (service ``""``: no ``EventSourceArn``) or Amazon MQ;
* ``localstack.hooks.lambda_create_event_source_poller`` -> ``esm_poller``: the poller for such a mapping.
"""

from localstack.services.lambda_.hooks import create_event_source_poller, set_event_source_config_defaults


def _source(service: str, mapping: dict) -> str | None:
    if service == "kafka" or (not service and mapping.get("SelfManagedEventSource")):
        return "kafka"
    if service == "mq":
        return "mq"
    return None


@set_event_source_config_defaults(name="cmp-brokers")
def esm_defaults(defaults: dict, request: dict, service: str) -> None:
    source = _source(service, request)
    if source is None:
        return
    defaults["BatchSize"] = 100
    if source == "kafka":
        defaults["StartingPosition"] = "TRIM_HORIZON"  # AWS requires it; CDK always sets it
        defaults["MaximumRetryAttempts"] = -1
        defaults["MaximumRecordAgeInSeconds"] = -1
        defaults["BisectBatchOnFunctionError"] = False
        defaults["DestinationConfig"] = {"OnFailure": {}}


@create_event_source_poller(name="cmp-brokers")
def esm_poller(holder, service: str, esm_config: dict) -> None:
    source = _source(service, esm_config)
    if source is None:
        return

    def create(arn, client, processor):
        if source == "kafka":
            from .kafka import KafkaPoller

            return KafkaPoller(esm_config, arn, client, processor)
        try:
            engine = client.describe_broker(BrokerId=arn.rsplit(":", 1)[-1])["EngineType"].upper()
        except Exception as e:  # noqa: BLE001
            from localstack.aws.api.lambda_ import InvalidParameterValueException

            raise InvalidParameterValueException(f"Cannot read broker {arn}: {e}", Type="User") from e
        if engine == "RABBITMQ":
            from .rabbitmq import RabbitMqPoller

            return RabbitMqPoller(esm_config, arn, client, processor)
        from .activemq import ActiveMqPoller

        return ActiveMqPoller(esm_config, arn, client, processor)

    holder.create_poller_fn = create
