"""Discrete-event simulation of the call centre on a virtual clock.

The SAME ``RoutingEngine`` that serves live calls runs on a ``ManualClock``; arrivals,
service ends, caller patience and the voicebot are simulated events. Nothing sleeps.
"""
