"""Pulse triage service: classify, score urgency, find hot spots, escalate to the Standing Committee."""
