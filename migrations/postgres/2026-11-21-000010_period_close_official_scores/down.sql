DROP TABLE official_scores;
DROP TABLE score_snapshots;
DROP TABLE closed_periods;
