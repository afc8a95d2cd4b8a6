// The switch: one transaction points readers at the new version's edges.
// params: model, version, k, users, published_at
MATCH (p:Recommendations {model: $model})
SET p.version = $version, p.k = $k, p.users = $users, p.published_at = $published_at,
    p.pending_version = null, p.pending_k = null
