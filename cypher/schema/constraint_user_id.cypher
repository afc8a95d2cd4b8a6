// Business ids are unique per label; the constraint also backs MERGE lookups with an index.
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (n:User) REQUIRE n.id IS UNIQUE
