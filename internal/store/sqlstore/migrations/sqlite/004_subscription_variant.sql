-- The permission variant of a subscription's resource (identity.Variant*), so that
-- get, update, delete and reauthorize re-check the permission the create checked.
ALTER TABLE subscriptions ADD COLUMN variant TEXT NOT NULL DEFAULT '';
