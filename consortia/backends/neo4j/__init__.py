"""The Neo4j backend: the registry in a shared Neo4j 5 database.

* :mod:`.settings` where the server is; driver failures as ``BackendError``;
* :mod:`.model` how tables map to nodes, relationships and typed properties;
* :mod:`.schema` constraints and indexes, created before data;
* :mod:`.push` batched, idempotent, resumable loading;
* :mod:`.pull` back to the interchange format (and to a loaded ``Registry``);
* :mod:`.members` the enforced ``add-member`` in one locked transaction;
* :mod:`.store` :class:`Neo4jStore`, one connection for all of it.

Every value reaches Cypher as a parameter; the statements are module
constants whose labels and relationship types are fixed.
"""

from .push import DEFAULT_BATCH_SIZE, PushReport
from .settings import Neo4jSettings
from .store import Neo4jStore

__all__ = ["DEFAULT_BATCH_SIZE", "Neo4jSettings", "Neo4jStore", "PushReport"]
