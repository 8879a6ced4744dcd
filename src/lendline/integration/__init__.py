"""Connectors to the lender's systems (CRM, loan origination, risk engine) and webhooks.

``api`` holds the interfaces and the records they return; ``builtin`` answers from
lendline's own tables (the embedded default and the demo); ``http`` calls the lender's
services over HTTP with timeouts, retries, a circuit breaker and a short cache;
``screenpop`` assembles the agent's screen pop from all of them under a deadline;
``webhooks`` sends signed call events to the lender's CRM; ``sms`` is the SMS gateway.
"""
