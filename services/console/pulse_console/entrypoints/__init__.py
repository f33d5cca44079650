"""The console's routes: pages, partial panels and forms."""
