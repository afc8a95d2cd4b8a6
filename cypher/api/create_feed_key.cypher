// The change feed's random key, created on first use: erasure entries hash user ids with it,
// so that no feed entry names an erased user (api/replicas.py).
MERGE (f:ChangeFeed {id: 'api'})
ON CREATE SET f.key = randomUUID()
