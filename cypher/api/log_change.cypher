// One entry of the API processes' change feed (graphrec's api/replicas.py), written in the
// same transaction as the change it describes and stamped with the server's clock.
// params: id (unique), kind, origin (the writing process), users (ids an erasure must find:
// the users of an interactions change), payload (JSON)
CREATE (:Change {id: $id, at: timestamp(), kind: $kind, origin: $origin, users: $users,
                 payload: $payload})
