"""Sessions: start, list and end them, rotate their refresh tokens, name their devices."""
