"""Dialogue: NLU (intents, slots), flow definitions and their interpreter, automated actions."""
