// How many users there are (the total of the export's progress bar). No params.
MATCH (u:User)
RETURN count(u) AS n
