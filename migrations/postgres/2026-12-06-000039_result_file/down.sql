UPDATE dossiers SET facts = facts & ~8192;
