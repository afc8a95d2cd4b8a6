// How many GRAPHREC_SIMILAR links the peers wrote are still in the graph (0 after a run).
MATCH (:Item)-[s:GRAPHREC_SIMILAR]->(:Item)
RETURN count(s) AS n
