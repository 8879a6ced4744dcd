"""Natural-language understanding: intent classification and slot extraction."""
