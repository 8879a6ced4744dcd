"""HTTP routes of the compliance feature, one module per topic; ``web.routes.compliance``
gathers them into one router."""
