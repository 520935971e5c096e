"""Cases: complaints with SLAs, PI-rights requests, incidents, the sanctions ladder, rectification."""
