"""Outbound collection campaigns: AI reminder first, then a human; every dial asks policy first."""
