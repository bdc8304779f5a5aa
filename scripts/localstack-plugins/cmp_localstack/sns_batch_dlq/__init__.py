"""SNS PublishBatch: only the entries SQS rejects go to the subscription's dead-letter queue (LocalStack 4.13.1).

LocalStack delivers a PublishBatch to an SQS subscriber with one ``SendMessageBatch``. When SQS fails some entries
(e.g. one message longer than the queue's ``MaximumMessageSize``), ``SqsBatchTopicPublisher._publish`` reads the
failed entry's ``MessageGroupId``/``MessageDeduplicationId`` with ``failure_data["context"].get(...)``, but the
context is an ``SnsMessage`` dataclass without ``get``: the AttributeError lands in the method's catch-all, which
sends *every* message of the batch to the dead-letter queue - the ones SQS delivered too. AWS sends the failed
entries only (each delivery is its own, as for Publish).

Fix: ``SnsMessage.get`` answering those two keys from the dataclass fields, applied by an ``on_infra_start`` hook
(entry point ``cmp_sns_batch_dlq`` in group ``localstack.hooks.on_infra_start``), after checking that the installed
LocalStack has the shapes it was written for (``cmp_localstack.localstack_shapes``).
"""
