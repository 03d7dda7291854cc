"""Distribution: personal survey invitations by email, reminders, contact rules."""
