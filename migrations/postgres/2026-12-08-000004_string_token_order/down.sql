DROP INDEX resource_string_token;
CREATE INDEX resource_string_token ON resource_string (resource_type, param, token text_pattern_ops, resource_id);
