"""Analytics: contact-centre KPIs and reports (ASA, AHT, FCR, abandonment, service level,
bot containment, by queue, agent, day and hour; CSV) in ``kpis``/``reports``, and
transcript analytics (script-phrase effectiveness, frequent questions) in ``transcripts``."""
