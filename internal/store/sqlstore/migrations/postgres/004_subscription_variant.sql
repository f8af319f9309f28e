-- The permission variant of a subscription's resource (identity.Variant*), so that
-- get, update, delete and reauthorize re-check the permission the create checked.
ALTER TABLE subscriptions ADD COLUMN variant TEXT NOT NULL DEFAULT '';
-- Topic prefixes are selected by a range (topic >= p AND topic < p || U+FFFF), which
-- only means "starts with" under byte order, whatever the database's locale.
ALTER TABLE subscriptions ALTER COLUMN topic TYPE TEXT COLLATE "C";
