-- `kassa_guard(passed)`: raises SQLSTATE KG001 unless `passed`. A conditional write sent as one
-- statement (`Db::write_statements_if`) ends with it, so that when its guard (an UPDATE of a
-- session that must still be open, say) changed no row the whole statement is undone.
CREATE FUNCTION kassa_guard(passed BOOLEAN) RETURNS INTEGER LANGUAGE plpgsql AS $$
BEGIN
    IF NOT passed THEN
        RAISE EXCEPTION 'the guard of a conditional write changed no row' USING ERRCODE = 'KG001';
    END IF;
    RETURN 1;
END
$$;
