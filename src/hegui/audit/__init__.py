"""The append-only, hash-chained exchange log (O15): writer queue, verification, export, purge."""

from hegui.audit.log import Exchange, VerifyResult, export, purge_content, verify
from hegui.audit.writer import AuditWriter, AuditWriterClosed

__all__ = ["AuditWriter", "AuditWriterClosed", "Exchange", "VerifyResult", "export", "purge_content", "verify"]
