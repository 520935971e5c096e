"""Personal-data protection: encryption at rest, retention, user rights, egress control, PII masking."""
