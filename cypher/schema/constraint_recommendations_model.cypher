// One Recommendations pointer node per model name.
CREATE CONSTRAINT recommendations_model IF NOT EXISTS FOR (n:Recommendations) REQUIRE n.model IS UNIQUE
