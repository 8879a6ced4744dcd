"""Analytics: KPIs and reports, script-phrase effectiveness, frequent-question mining."""
