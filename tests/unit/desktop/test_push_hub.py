import asyncio
import json

from lendline.web.push import PushHub


async def test_live_messages_reach_only_subscribers_of_their_topic() -> None:
    hub = PushHub()
    hub.bind(asyncio.get_running_loop())
    a, _ = hub.subscribe(frozenset({"agent:a"}))
    b, _ = hub.subscribe(frozenset({"agent:b"}))
    hub.publish("agent:a", "screen_pop", {"call_id": "c1"})
    msg = a.queue.get_nowait()
    assert msg is not None and msg.data == {"call_id": "c1"}
    assert json.loads(msg.wire)["id"] == msg.id == 1
    assert b.queue.empty()


async def test_resume_replays_every_message_after_last_id_in_order() -> None:
    hub = PushHub()
    for i in range(5):
        hub.publish("agent:a", "t", {"i": i})
        hub.publish("agent:b", "t", {"i": i})  # interleaved other topic
    _, resume = hub.subscribe(frozenset({"agent:a"}), epoch=hub.epoch, last_id=3)
    assert not resume.resync
    assert [m.data["i"] for m in resume.backlog] == [2, 3, 4]
    assert [m.id for m in resume.backlog] == [5, 7, 9]
    assert resume.last_id == 10


async def test_resume_across_a_restart_or_past_the_buffer_asks_for_resync() -> None:
    hub = PushHub(buffer=3)
    for i in range(6):
        hub.publish("agent:a", "t", {"i": i})
    _, lost = hub.subscribe(frozenset({"agent:a"}), epoch=hub.epoch, last_id=1)
    assert lost.resync and lost.backlog == []
    _, ok = hub.subscribe(frozenset({"agent:a"}), epoch=hub.epoch, last_id=3)
    assert not ok.resync and [m.id for m in ok.backlog] == [4, 5, 6]
    _, other = hub.subscribe(frozenset({"agent:a"}), epoch="deadbeef", last_id=3)
    assert other.resync


async def test_a_slow_subscriber_is_told_to_resync_instead_of_blocking() -> None:
    hub = PushHub(queue_max=2)
    sub, _ = hub.subscribe(frozenset({"w"}))
    for i in range(4):
        hub.publish("w", "t", {"i": i})
    items = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    assert items[-1] is None and sub.overflowed


async def test_publish_threadsafe_from_another_thread_lands_on_the_loop() -> None:
    hub = PushHub()
    hub.bind(asyncio.get_running_loop())
    sub, _ = hub.subscribe(frozenset({"agent:a"}))
    await asyncio.to_thread(hub.publish_threadsafe, "agent:a", "t", {"x": 1})
    msg = await asyncio.wait_for(sub.queue.get(), 1.0)
    assert msg is not None and msg.data == {"x": 1}
    hub.unsubscribe(sub)
    assert hub.connections == 0
