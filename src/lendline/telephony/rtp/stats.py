"""Receiver statistics of one RTP source (RFC 3550 Appendix A.1, A.3, A.8).

Loss is counted from the extended highest sequence number; jitter is the interarrival
jitter estimate in RTP clock units (``jitter_ms`` converts). Arrival times are seconds from
any monotonic origin, handed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from lendline.telephony.rtp.packet import seq_delta

_MAX_DROPOUT = 3000
_MAX_MISORDER = 100


@dataclass(frozen=True, slots=True)
class ReceptionReport:
    """What an RR report block says about one source (RFC 3550 §6.4.1)."""

    ssrc: int
    fraction_lost: int  # 0..255, fixed point /256, since the previous report
    cumulative_lost: int
    highest_seq: int  # extended
    jitter: int  # RTP clock units
    last_sr: int = 0  # middle 32 bits of the NTP time of the last SR received
    delay_since_last_sr: int = 0  # 1/65536 s


class ReceptionStats:
    """Counts packets from one SSRC: received, expected, lost, jitter."""

    def __init__(self, ssrc: int, clock_rate_hz: int = 8000) -> None:
        self.ssrc = ssrc
        self.clock_rate_hz = clock_rate_hz
        self.received = 0
        self.duplicates_or_late = 0
        self._base_seq: int | None = None
        self._max_seq = 0
        self._cycles = 0
        self._jitter = 0.0
        self._transit: float | None = None
        self._expected_prior = 0
        self._received_prior = 0

    def update(
        self, sequence: int, timestamp: int, arrival_s: float, *, timing: bool = True
    ) -> None:
        """Account one packet of this source. ``timing=False`` for packets whose timestamp
        is not their sampling instant (RFC 4733 events keep the tone's start): they count
        for loss but not for jitter."""
        if self._base_seq is None:
            self._base_seq = sequence
            self._max_seq = sequence
        else:
            delta = seq_delta(sequence, self._max_seq)
            if 0 < delta < _MAX_DROPOUT:
                if sequence < self._max_seq:
                    self._cycles += 0x10000
                self._max_seq = sequence
            elif delta <= 0 and -delta <= _MAX_MISORDER:
                self.duplicates_or_late += 1 if delta == 0 else 0
            else:  # a big jump: the source restarted; resynchronise
                self._base_seq = sequence
                self._max_seq = sequence
                self._cycles = 0
                self._expected_prior = self._received_prior = self.received = 0
        self.received += 1
        if not timing:
            return
        transit = arrival_s * self.clock_rate_hz - timestamp
        if self._transit is not None:
            d = abs(transit - self._transit)
            if d < self.clock_rate_hz * 10:  # ignore timestamp jumps (new talk spurt)
                self._jitter += (d - self._jitter) / 16.0
        self._transit = transit

    @property
    def extended_max_seq(self) -> int:
        return self._cycles + self._max_seq

    @property
    def expected(self) -> int:
        if self._base_seq is None:
            return 0
        return self.extended_max_seq - self._base_seq + 1

    @property
    def lost(self) -> int:
        """Cumulative packets lost (may be negative with duplicates, per RFC 3550)."""
        return self.expected - self.received

    @property
    def jitter(self) -> float:
        """Interarrival jitter in RTP clock units."""
        return self._jitter

    @property
    def jitter_ms(self) -> float:
        return self._jitter * 1000.0 / self.clock_rate_hz

    def report(self, last_sr: int = 0, delay_since_last_sr: int = 0) -> ReceptionReport:
        """A report block; resets the interval used for ``fraction_lost``."""
        expected_interval = self.expected - self._expected_prior
        received_interval = self.received - self._received_prior
        self._expected_prior = self.expected
        self._received_prior = self.received
        lost_interval = expected_interval - received_interval
        fraction = (
            0
            if expected_interval <= 0 or lost_interval <= 0
            else ((lost_interval << 8) // expected_interval)
        )
        return ReceptionReport(
            ssrc=self.ssrc,
            fraction_lost=min(fraction, 255),
            cumulative_lost=max(min(self.lost, 0x7FFFFF), -0x800000),
            highest_seq=self.extended_max_seq & 0xFFFFFFFF,
            jitter=int(self._jitter),
            last_sr=last_sr,
            delay_since_last_sr=delay_since_last_sr,
        )
