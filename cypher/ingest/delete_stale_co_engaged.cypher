// Before a derivation: drop the CO_ENGAGED links an erasure marked stale; the derivation
// that follows creates again those that still qualify, with fresh weights.
MATCH (:Item)-[r:CO_ENGAGED]->(:Item)
WHERE r.stale = true
WITH collect(r) AS stale
FOREACH (r IN stale | DELETE r)
RETURN size(stale) AS deleted
