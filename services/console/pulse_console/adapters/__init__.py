"""HTTP clients of the four Pulse APIs, called on the signed-in person's behalf."""
