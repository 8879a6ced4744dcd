"""Recordings: search, play (streamed WAV), download, legal hold, purge.

Playback and download go only through here, by role and row scope, each audited with who,
when, which and why (``reason``). The recording is authenticated end to end before the
first byte is sent, so a tampered file gives 409 ``recording_tampered``, never bad audio.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from lendline.compliance.envelope import TamperedError
from lendline.compliance.principal import Principal
from lendline.compliance.scope import may_see_row
from lendline.errors import LendlineError, NotFound
from lendline.vault.service import RecordingVault, RecordingView
from lendline.web.auth import require
from lendline.web.compliance.deps import audit, row_scope, service

router = APIRouter(prefix="/api/v1/recordings", tags=["compliance: recordings"])


class RecordingOut(BaseModel):
    recording_id: str
    call_id: str
    kind: str
    customer_id: str | None
    agent_id: str | None
    team_id: str | None
    caller: str  # masked
    loan_id: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float
    state: str
    retain_until: datetime
    legal_hold: bool

    @classmethod
    def of(cls, v: RecordingView) -> RecordingOut:
        return cls(
            recording_id=v.recording_id,
            call_id=v.call_id,
            kind=v.kind,
            customer_id=v.customer_id,
            agent_id=v.agent_id,
            team_id=v.team_id,
            caller=v.caller_masked,
            loan_id=v.loan_id,
            started_at=v.started_at,
            ended_at=v.ended_at,
            duration_s=round(v.duration_s, 3),
            state=v.state,
            retain_until=v.retain_until,
            legal_hold=v.legal_hold,
        )


def _vault(request: Request) -> RecordingVault:
    return service(request, "vault")  # type: ignore[no-any-return]


def _visible(request: Request, p: Principal, recording_id: str) -> RecordingView:
    v = _vault(request).get(recording_id)
    if not may_see_row(row_scope(p), v.agent_id, v.team_id):
        # the same answer as a missing recording: do not confirm it exists
        raise NotFound(f"no recording {recording_id}", code="recording_not_found")
    return v


@router.get("", response_model=list[RecordingOut])
def search(
    request: Request,
    p: Annotated[Principal, Depends(require("recordings.search"))],
    call_id: str | None = None,
    customer_id: str | None = None,
    agent_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RecordingOut]:
    """Find recordings by call, customer, agent and/or start-time range (newest first)."""
    found = _vault(request).search(
        scope=row_scope(p),
        call_id=call_id,
        customer_id=customer_id,
        agent_id=agent_id,
        since=since,
        until=until,
        limit=limit,
    )
    return [RecordingOut.of(v) for v in found]


@router.get("/{recording_id}", response_model=RecordingOut)
def detail(
    recording_id: str,
    request: Request,
    p: Annotated[Principal, Depends(require("recordings.search"))],
) -> RecordingOut:
    return RecordingOut.of(_visible(request, p, recording_id))


def _wav_header(v: RecordingView, rate_hz: int, channels: int) -> bytes:
    data = v.audio_bytes
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVE"
        + b"fmt "
        + struct.pack(
            "<IHHIIHH", 16, 1, channels, rate_hz, rate_hz * channels * 2, channels * 2, 16
        )
        + b"data"
        + struct.pack("<I", data)
    )


_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str | None, total: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``Range: bytes=…`` request, None for the whole file;
    ``RangeNotSatisfiable`` when it lies outside."""
    if not header:
        return None
    m = _RANGE_RE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None  # several ranges or a form we do not serve: send the whole file
    if m.group(1):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else total - 1
    else:
        first, last = max(0, total - int(m.group(2))), total - 1
    if first >= total or first > last:
        raise RangeNotSatisfiable(f"bytes {header} of {total}")
    return first, min(last, total - 1)


class RangeNotSatisfiable(LendlineError):
    code = "range_not_satisfiable"
    http_status = 416


def _stream(
    request: Request, p: Principal, recording_id: str, reason: str, *, action: str
) -> StreamingResponse:
    v = _visible(request, p, recording_id)
    vault = _vault(request)
    header = _wav_header(v, v.sample_rate_hz, v.channels)
    total = len(header) + v.audio_bytes
    wanted = _byte_range(request.headers.get("range"), total)
    disposition = "attachment" if action == "recordings.download" else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{recording_id}.wav"',
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store",
    }
    if wanted is None:
        try:
            vault.verify(recording_id)  # authenticate everything before the first byte goes out
        except TamperedError as exc:
            audit(request, p, action, recording_id, outcome="tampered", detail=str(exc))
            raise
        audit(request, p, action, recording_id, detail=f"call {v.call_id}; reason: {reason}")

        def whole() -> Iterator[bytes]:
            yield header
            yield from vault.pcm_chunks(recording_id)

        headers["Content-Length"] = str(total)
        return StreamingResponse(whole(), media_type="audio/wav", headers=headers)

    first, last = wanted
    audit(
        request,
        p,
        action,
        recording_id,
        detail=f"call {v.call_id}; bytes {first}-{last}; reason: {reason}",
    )
    pcm_first = max(first - len(header), 0)
    pcm_last = last - len(header)
    head = header[first : last + 1] if first < len(header) else b""
    # authenticate the first chunk of the range now, so tampering is a 409, not a cut stream
    body_iter = vault.pcm_range(recording_id, pcm_first, pcm_last) if pcm_last >= 0 else iter(())
    try:
        first_piece = next(body_iter, b"")
    except TamperedError as exc:
        audit(request, p, action, recording_id, outcome="tampered", detail=str(exc))
        raise

    def part() -> Iterator[bytes]:
        yield head
        yield first_piece
        yield from body_iter

    headers["Content-Range"] = f"bytes {first}-{last}/{total}"
    headers["Content-Length"] = str(last - first + 1)
    return StreamingResponse(part(), status_code=206, media_type="audio/wav", headers=headers)


Reason = Annotated[str, Query(min_length=2, max_length=200, description="why (audited)")]


@router.get("/{recording_id}/audio")
def play(
    recording_id: str,
    reason: Reason,
    request: Request,
    p: Annotated[Principal, Depends(require("recordings.play"))],
) -> StreamingResponse:
    """Stream the recording as WAV for the browser's audio element (audited)."""
    return _stream(request, p, recording_id, reason, action="recordings.play")


@router.get("/{recording_id}/download")
def download(
    recording_id: str,
    reason: Reason,
    request: Request,
    p: Annotated[Principal, Depends(require("recordings.download"))],
) -> StreamingResponse:
    """One recording as a WAV attachment (audited); there is no bulk download."""
    return _stream(request, p, recording_id, reason, action="recordings.download")


class HoldIn(BaseModel):
    on: bool
    reason: str = Field(min_length=4, max_length=200)


@router.post("/{recording_id}/hold", response_model=RecordingOut)
def hold(
    recording_id: str,
    body: HoldIn,
    request: Request,
    p: Annotated[Principal, Depends(require("recordings.hold"))],
) -> RecordingOut:
    """Put a legal hold on (or take it off) a recording; held recordings are never purged."""
    service(request, "vault_lifecycle").set_hold(
        recording_id, on=body.on, reason=body.reason, actor=p.username
    )
    return RecordingOut.of(_vault(request).get(recording_id))


class PurgeIn(BaseModel):
    dry_run: bool = True


class PurgeOut(BaseModel):
    dry_run: bool
    purged: int
    kept_on_hold: int
    recording_ids: list[str]


@router.post("/purge", response_model=PurgeOut)
def purge(
    body: PurgeIn,
    request: Request,
    p: Annotated[Principal, Depends(require("recordings.purge"))],
) -> PurgeOut:
    """Delete recordings past retention and not on legal hold (dry run by default)."""
    r = service(request, "vault_lifecycle").purge(actor=p.username, dry_run=body.dry_run)
    return PurgeOut(
        dry_run=r.dry_run,
        purged=len(r.purged),
        kept_on_hold=r.held,
        recording_ids=r.purged[:1000],
    )
