-- Key changes and event stream leases.
--
-- Every secret key created or revoked leaves a row in `key_changes`, written by a trigger in the
-- transaction that changes the key, so no path that changes a key can forget it. Servers follow
-- these changes (`store::key_changes`): an event stream ends when its key is revoked, and a cache
-- of keys stays current. On SQLite a server reads the rows after the last one it saw a few times
-- a second, which is how it hears of changes made by other processes (`kassa keys revoke`); on
-- PostgreSQL the trigger also sends a NOTIFY, delivered when the transaction commits.
CREATE TABLE key_changes (
    -- In commit order: SQLite has one writer at a time.
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id  TEXT NOT NULL,
    -- created or revoked.
    kind    TEXT NOT NULL,
    changed BIGINT NOT NULL
);

CREATE TRIGGER api_key_created AFTER INSERT ON api_keys
BEGIN
    INSERT INTO key_changes (key_id, kind, changed) VALUES (NEW.id, 'created', NEW.created);
END;

CREATE TRIGGER api_key_revoked AFTER UPDATE OF revoked ON api_keys
WHEN OLD.revoked IS NULL AND NEW.revoked IS NOT NULL
BEGIN
    INSERT INTO key_changes (key_id, kind, changed) VALUES (NEW.id, 'revoked', NEW.revoked);
END;

-- The event streams open with each key, across every server: a stream holds one of its key's
-- slots (at most 5) while it is open and renews the lease; the slot of a server that stopped
-- without closing its streams is free again once `expires` has passed.
CREATE TABLE event_stream_leases (
    key_id    TEXT NOT NULL REFERENCES api_keys (id),
    slot      BIGINT NOT NULL,
    -- The stream holding the slot, so that only it renews or frees the slot.
    stream_id TEXT NOT NULL,
    expires   BIGINT NOT NULL,
    PRIMARY KEY (key_id, slot)
);
