DROP INDEX dossiers_open_unit;
