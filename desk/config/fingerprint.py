"""What an index was built with. A matter built one way is never searched or extended another way."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

CHUNKER_VERSION = 1


@dataclass(frozen=True)
class IndexFingerprint:
    embedder: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    chunker_version: int = CHUNKER_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IndexFingerprint:
        return cls(**json.loads(text))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def describe(self) -> str:
        return (f"embedder {self.embedder} ({self.dimension}-d), chunks of {self.chunk_size} "
                f"characters with {self.chunk_overlap} overlap, chunker v{self.chunker_version}")
