"""Telephony: SIP signalling (``sip/``, sans-I/O), RTP media, and their asyncio edges."""
