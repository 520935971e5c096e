"""Every table's model. Import a domain's module here so migrations and tests see the whole schema."""

from hegui.store.models import core
from hegui.store.models.base import Base

__all__ = ["Base", "core"]
