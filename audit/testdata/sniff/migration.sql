-- Move page properties to their own table (a migration: copies rows, holds none).
CREATE TABLE /*_*/page_props_new (
  pp_page int NOT NULL,
  pp_propname varbinary(60) NOT NULL,
  pp_value blob NOT NULL
) /*$wgDBTableOptions*/;

INSERT INTO /*_*/page_props_new (pp_page, pp_propname, pp_value)
  SELECT pp_page, pp_propname, pp_value FROM /*_*/page_props;

DROP TABLE /*_*/page_props;
ALTER TABLE /*_*/page_props_new RENAME TO /*_*/page_props;
-- A string with a semicolon; and a paren ( in it must not count: 'x;(' "y;(".
UPDATE /*_*/page SET page_touched = '20260101000000' WHERE page_id IN (1, 2, 3);
