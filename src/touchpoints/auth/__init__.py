"""Users, roles, memberships, API tokens and the permission checks of the service layer."""
