from lendline.integration.webhooks import WebhookPolicy, sign, verify


def test_signature_verifies_and_rejects_tampering_and_staleness() -> None:
    body = b'{"event":"call.ended"}'
    header = sign("s3cret", 1_800_000_000, body)
    assert header.startswith("t=1800000000,v1=")
    assert verify("s3cret", header, body, now_s=1_800_000_010)
    assert not verify("s3cret", header, body + b" ", now_s=1_800_000_010)
    assert not verify("other", header, body, now_s=1_800_000_010)
    assert not verify("s3cret", header, body, now_s=1_800_001_000)
    assert not verify("s3cret", "garbage", body, now_s=1_800_000_000)


def test_backoff_doubles_then_dead_letters() -> None:
    p = WebhookPolicy(backoff_s=2.0, max_attempts=4, max_backoff_s=5.0)
    assert [p.retry_in_s(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 5.0, None]
