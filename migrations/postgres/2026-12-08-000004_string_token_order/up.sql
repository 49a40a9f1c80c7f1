-- The token column compares bytewise (COLLATE "C"), so the default operator class serves
-- `LIKE 'prefix%'` as text_pattern_ops did, and also `ORDER BY token`: a name search
-- without `_sort` walks this index in order and reads one page, not every match.
DROP INDEX resource_string_token;
CREATE INDEX resource_string_token ON resource_string (resource_type, param, token, resource_id);
