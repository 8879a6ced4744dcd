"""Telephony: SIP signalling (sip/), sans-I/O RTP (rtp/) and asyncio media (media/)."""
