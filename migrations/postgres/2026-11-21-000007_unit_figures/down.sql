DROP TABLE unit_figures;
