"""Sans-I/O RTP: packets, RTCP, G.711, RFC 4733 DTMF, jitter buffer, pacing, resampling.

Nothing here opens a socket, sleeps or reads the clock; times are passed in as seconds.
"""
