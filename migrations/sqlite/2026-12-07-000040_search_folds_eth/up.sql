-- The search fold now maps the Eth (`Ð`/`ð`, U+00D0/U+00F0), which text converted from legacy
-- Vietnamese encodings has for `Đ`/`đ`, to `d`. Stored folds are lowercase, so they hold `ð`
-- only; nothing else the fold writes differs.
UPDATE procedure_versions SET search_name = replace(search_name, char(240), 'd')
WHERE instr(search_name, char(240)) > 0;
