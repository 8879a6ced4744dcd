"""Waiting in a queue: music on hold, wait announcements (position, EWT), and the
callback offer — key 1 asks routing for a call back, we confirm and hang up."""

from __future__ import annotations

import asyncio

import structlog

from lendline.errors import LendlineError
from lendline.telephony.call_leg import (
    CALLBACK_OFFER,
    CALLBACK_OK,
    CallLeg,
    ControllerBase,
    _number,
)
from lendline.telephony.media import DtmfReceived, PcmSource
from lendline.telephony.media.announce import format_wait_announcement
from lendline.telephony.media.hold import hold_with_announcements

log = structlog.get_logger(__name__)


class QueueWait(ControllerBase):
    def start_hold(self, leg: CallLeg) -> None:
        """Music, wait announcements, and the standing callback offer (key 1) while queued."""
        assert leg.media is not None
        leg.hold_task = asyncio.create_task(
            hold_with_announcements(
                leg.media,
                lambda: self._announcement(leg),
                interval_s=self.media.announce_every_s,
                first_after_s=1.0,
            )
        )
        if not leg.callback_listener:
            leg.callback_listener = True
            leg.media.subscribe(lambda ev: self._on_media(leg, ev))

    def _on_media(self, leg: CallLeg, ev: object) -> None:
        hold = leg.hold_task
        waiting = hold is not None and not hold.done() and not leg.connected
        if isinstance(ev, DtmfReceived) and ev.digit == "1" and waiting and self.center:
            assert hold is not None
            hold.cancel()
            self._spawn(self._callback(leg))

    async def _callback(self, leg: CallLeg) -> None:
        """The caller chose a call back: routing keeps its place, we say so and hang up."""
        assert self.center is not None and leg.media is not None
        try:
            await asyncio.to_thread(
                self.center.request_callback, leg.call_id, _number(leg.sip.caller) or None
            )
        except LendlineError as exc:
            log.info("callback_refused", call_id=leg.call_id, detail=exc.detail)
            self.start_hold(leg)
            return
        leg.callback = True
        text = CALLBACK_OK.get(self.media.lang, CALLBACK_OK["zh"])
        leg.media.stop_hold()
        await leg.media.play(PcmSource(await self.prompts.audio(text, self.media.lang)))
        if not leg.ended.is_set():
            self._ua_hangup(leg.sip, "callback requested")

    async def _announcement(self, leg: CallLeg) -> PcmSource | None:
        if self.center is None or leg.connected:
            return None
        try:
            position, ewt = self.center.position(leg.call_id)
        except LendlineError:
            return None
        text = queue_announcement(position, ewt, self.media.lang, self.media.callback_offer_ewt_s)
        return PcmSource(await self.prompts.audio(text, self.media.lang))


def queue_announcement(position: int, ewt_s: float, lang: str, callback_offer_ewt_s: float) -> str:
    """What a queued caller hears. ``position`` is routing's (``CallCenter.position``: 1 =
    next to be served), so the callers ahead are one fewer; the callback offer follows when
    the wait is long."""
    text = format_wait_announcement(max(0, position - 1), ewt_s, lang)
    if ewt_s >= callback_offer_ewt_s:
        text += CALLBACK_OFFER.get(lang, CALLBACK_OFFER["zh"])
    return text
