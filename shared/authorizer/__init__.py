"""The REQUEST authorizer's decision: verify, check revocation, build the policy."""
