// Every recorded model version, newest first.
MATCH (m:Model)
RETURN m.id AS id, m.name AS name, m.version AS version, m.property AS property, m.dim AS dim,
       m.trained_at AS trained_at, m.params AS params, m.metrics AS metrics, m.history AS history,
       m.active AS active, m.labels AS labels, coalesce(m.retired, false) AS retired
ORDER BY m.name, m.version DESC
