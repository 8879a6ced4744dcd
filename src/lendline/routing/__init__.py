"""Routing core: profile rules, skill queues, agent selection, EWT and the ACD engine.

Pure: no asyncio, no ``time``, no SQLAlchemy. The engine is handed a ``Clock`` and returns
domain events; ``lendline.calls.service`` wraps it with the store, the bus and a lock, and
``lendline.simulation`` drives the same engine on a ``ManualClock``.
"""
