// A model's recommendation pointer: the published version and k, and the version being
// written. No row when nothing was ever materialised. params: model
MATCH (p:Recommendations {model: $model})
RETURN p.version AS version, p.k AS k, p.users AS users,
       p.pending_version AS pending_version, p.pending_k AS pending_k
