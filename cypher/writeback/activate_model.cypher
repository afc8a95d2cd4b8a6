// Make one version the active one for its model name, in one transaction:
// readers see either the old or the new version, never a mix.
MATCH (m:Model {name: $name})
SET m.active = (m.id = $id)
RETURN m.id AS id, m.active AS active
