"""cmp_sns_batch_dlq (on_infra_start hook): a PublishBatch whose SQS delivery fails for some entries dead-letters
those entries only, as AWS does; LocalStack 4.13.1 sent the whole batch, delivered entries included. Against a live
LocalStack at LOCALSTACK_ENDPOINT started by scripts/localstack.sh. ~6 s.
"""

from __future__ import annotations

import json
import time

import pytest



@pytest.fixture
def make(aws_client, unique_name, endpoint):
    sns, sqs = aws_client("sns"), aws_client("sqs")

    def queue(suffix: str, fifo: bool, **attributes) -> tuple[str, str]:
        name = f"{unique_name[:60]}-{suffix}" + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def make_(fifo: bool):
        topic = sns.create_topic(
            Name=unique_name + (".fifo" if fifo else ""), Attributes={"FifoTopic": "true"} if fifo else {}
        )["TopicArn"]
        url, arn = queue("q", fifo, MaximumMessageSize=1024)  # SQS rejects longer messages, per entry
        dlq_url, dlq_arn = queue("dlq", fifo)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={
            "RawMessageDelivery": "true", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
        return topic, url, dlq_url

    return sns, sqs, make_


def test_only_the_entries_sqs_rejects_go_to_the_dlq(make, drain):
    sns, sqs, make_ = make
    topic, url, dlq_url = make_(fifo=False)
    res = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "small a"}, {"Id": "b", "Message": "B" * 1500}, {"Id": "c", "Message": "small c"}])
    assert len(res["Successful"]) == 3 and res["Failed"] == []  # SNS accepted all three
    assert sorted(m["Body"] for m in drain(sqs, url, expect=2)) == ["small a", "small c"]
    assert [m["Body"] for m in drain(sqs, dlq_url, wait=2)] == ["B" * 1500]


def test_fifo_dead_letters_keep_their_group_and_deduplication_ids(make, drain):
    sns, sqs, make_ = make
    topic, url, dlq_url = make_(fifo=True)
    sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "small a", "MessageGroupId": "g1", "MessageDeduplicationId": "d-a"},
        {"Id": "b", "Message": "B" * 1500, "MessageGroupId": "g2", "MessageDeduplicationId": "d-b"}])
    assert [m["Body"] for m in drain(sqs, url, expect=1)] == ["small a"]
    [dead] = drain(sqs, dlq_url, wait=2)
    assert dead["Body"] == "B" * 1500
    assert (dead["Attributes"]["MessageGroupId"], dead["Attributes"]["MessageDeduplicationId"]) == ("g2", "d-b")


def test_a_batch_that_fails_as_a_whole_still_goes_to_the_dlq_whole(make, drain):
    sns, sqs, make_ = make
    topic, url, dlq_url = make_(fifo=False)
    sqs.delete_queue(QueueUrl=url)
    sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": str(i), "Message": f"m{i}"} for i in range(3)])
    assert sorted(m["Body"] for m in drain(sqs, dlq_url, expect=3)) == ["m0", "m1", "m2"]
