"""Property: a client that resumes from any id gets exactly what it missed, or a resync."""

from hypothesis import given, settings
from hypothesis import strategies as st

from lendline.web.push import PushHub

TOPICS = ["agent:a", "agent:b", "wallboard"]


@settings(max_examples=200, deadline=None)
@given(
    published=st.lists(st.sampled_from(TOPICS), max_size=60),
    mine=st.sets(st.sampled_from(TOPICS), min_size=1),
    resume_at=st.integers(min_value=0, max_value=70),
    buffer=st.integers(min_value=1, max_value=20),
)
def test_resume_is_exact_or_resync(
    published: list[str], mine: set[str], resume_at: int, buffer: int
) -> None:
    hub = PushHub(buffer=buffer)
    for i, topic in enumerate(published):
        hub.publish(topic, "t", {"i": i})
    _, resume = hub.subscribe(frozenset(mine), epoch=hub.epoch, last_id=resume_at)
    missed = [i + 1 for i, t in enumerate(published) if t in mine and i + 1 > resume_at]
    if resume.resync:
        # only when the server cannot prove completeness: a gap older than a buffer,
        # or an id it never issued
        evicted = any(
            len([t for t in published if t == topic]) > buffer for topic in mine
        ) or resume_at > len(published)
        assert evicted
    else:
        assert [m.id for m in resume.backlog] == missed
    assert resume.last_id == len(published)
