"""Pulse notify service: escalations, orientations and bulletins over Zalo OA, SMS, email, webhooks."""
