"""Call control: the service every edge uses to move calls."""
