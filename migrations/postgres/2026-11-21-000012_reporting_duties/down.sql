DROP TABLE report_submissions;
DROP TABLE reporting_duties;
