"""Every table's model. Import a domain's module here so migrations and tests see the whole schema."""

import hegui.store.models.assess
import hegui.store.models.cases
import hegui.store.models.console
import hegui.store.models.corpus
import hegui.store.models.lexicon
import hegui.store.models.privacy  # noqa: F401  (lexicon, privacy tables)
from hegui.store.models import audit, core, identity, usage, verification  # noqa: F401
from hegui.store.models.base import Base

__all__ = ["Base", "core"]
