-- Key changes and event stream leases.
--
-- Every secret key created or revoked leaves a row in `key_changes`, written by a trigger in the
-- transaction that changes the key, so no path that changes a key can forget it. Servers follow
-- these changes (`store::key_changes`): an event stream ends when its key is revoked, and a cache
-- of keys stays current. On PostgreSQL the trigger also sends a NOTIFY on the channel
-- `kassa_key_changes` (payload `created key_...` or `revoked key_...`), which PostgreSQL delivers
-- to every listening server when the transaction commits; on SQLite servers read the table.
CREATE TABLE key_changes (
    seq     INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id  TEXT COLLATE "C" NOT NULL,
    -- created or revoked.
    kind    TEXT NOT NULL,
    changed BIGINT NOT NULL
);

CREATE FUNCTION kassa_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change_kind TEXT := CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'revoked' END;
BEGIN
    INSERT INTO key_changes (key_id, kind, changed)
    VALUES (NEW.id, change_kind, CASE WHEN TG_OP = 'INSERT' THEN NEW.created ELSE NEW.revoked END);
    PERFORM pg_notify('kassa_key_changes', change_kind || ' ' || NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_key_created AFTER INSERT ON api_keys
FOR EACH ROW EXECUTE FUNCTION kassa_key_changed();

CREATE TRIGGER api_key_revoked AFTER UPDATE OF revoked ON api_keys
FOR EACH ROW WHEN (OLD.revoked IS NULL AND NEW.revoked IS NOT NULL)
EXECUTE FUNCTION kassa_key_changed();

-- The event streams open with each key, across every server: a stream holds one of its key's
-- slots (at most 5) while it is open and renews the lease; the slot of a server that stopped
-- without closing its streams is free again once `expires` has passed.
CREATE TABLE event_stream_leases (
    key_id    TEXT COLLATE "C" NOT NULL REFERENCES api_keys (id),
    slot      BIGINT NOT NULL,
    -- The stream holding the slot, so that only it renews or frees the slot.
    stream_id TEXT NOT NULL,
    expires   BIGINT NOT NULL,
    PRIMARY KEY (key_id, slot)
);
