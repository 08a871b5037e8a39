UPDATE dossiers SET facts = facts & ~2048;
