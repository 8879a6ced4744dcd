"""Per-feature wiring, called by the composition root in ``lendline.app``."""
