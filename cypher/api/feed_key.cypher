// The change feed's key (api/create_feed_key.cypher makes it).
MATCH (f:ChangeFeed {id: 'api'})
RETURN f.key AS key
