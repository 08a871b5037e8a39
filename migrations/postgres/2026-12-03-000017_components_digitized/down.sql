UPDATE dossiers SET facts = facts & ~1024;
