"""Contact-centre KPIs and reports: ASA, AHT, FCR, abandonment, service level, bot
containment, by queue, agent, day and hour; CSV export."""
