"""Pulse reporting service: Live statistics, Decree 09 reporting periods and the periodic briefing reports."""
