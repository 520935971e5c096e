"""Every table's model. Import a domain's module here so migrations and tests see the whole schema."""

import hegui.store.models.assess  # noqa: F401  (assessment runs, filing builds)
import hegui.store.models.corpus  # noqa: F401  (corpus-audit tables)
import hegui.store.models.lexicon  # noqa: F401  (lexicon tables)
from hegui.store.models import audit, core, identity  # noqa: F401
from hegui.store.models.base import Base

__all__ = ["Base", "core"]
